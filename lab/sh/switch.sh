#!/bin/sh
# switch.sh PIDFILE BRIDGE: vmha-lab's network switch. Run by `unshare --net`: brings up the
# bridge BRIDGE in this new network namespace, records itself in PIDFILE and becomes
# `sleep infinity`. The nodes' veth ports are added to the bridge from outside.
set -e
ip link set lo up
ip link add "$2" type bridge
ip link set "$2" up
exec /bin/sh "${0%/*}/record-pid.sh" "$1" sleep infinity
