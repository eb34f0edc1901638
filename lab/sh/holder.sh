#!/bin/sh
# holder.sh STATE K TAG LINBIT_OCF: the "hardware" of vmha-lab's node K. Run by
# `unshare --net --mount --uts --propagation private`: sets up the node's hostname, its private
# /sys, /run and /dev/shm (tmpfs mounts named TAG-nodeK-run, ...), the bind mounts of its state
# under STATE/nodeK, the overlays on /usr/sbin and on LINBIT_OCF (when that directory exists),
# then records itself in STATE/nodeK/holder.pid and becomes `sleep infinity`.
# Layout: lab/README.md ("What a node is"); why: docs/lab-recipes.md.
set -e
S=$1
k=$2
T=$3-node$k
linbit=$4
D=$S/node$k
echo "node$k" >/proc/sys/kernel/hostname
# sysfs of this network namespace (as `ip netns exec` does)
mount -t sysfs -o nosuid,nodev,noexec "$T-sys" /sys
mount -t tmpfs -o mode=0755,size=256m,nosuid,nodev "$T-run" /run
mkdir -p /run/lock /run/resource-agents
chmod 1777 /run/lock
mount -t tmpfs -o mode=1777,size=1g,nosuid,nodev "$T-shm" /dev/shm
mount --bind "$D/etc-corosync" /etc/corosync
mount --bind "$D/var-lib-corosync" /var/lib/corosync
mount --bind "$D/var-lib-pacemaker" /var/lib/pacemaker
mount --bind "$D/log-pacemaker" /var/log/pacemaker
mount --bind "$D/libvirt/etc" /etc/libvirt
mount --bind "$D/libvirt/lib" /var/lib/libvirt
mount --bind "$S/cache-node$k" /var/cache/libvirt
mount --bind "$D/libvirt/log" /var/log/libvirt
mount --bind "$S/hosts" /etc/hosts
if [ -f "$S/passwd" ]; then
  mount --bind "$S/passwd" /etc/passwd
  mount --bind "$S/group" /etc/group
fi
mount -t overlay -o "lowerdir=$S/sbin:/usr/sbin" "$T-sbin" /usr/sbin
if [ -d "$linbit" ]; then
  mount -t overlay -o "lowerdir=$S/ocf-linbit:$linbit" "$T-ocf" "$linbit"
fi
ip link set lo up
exec /bin/sh "${0%/*}/record-pid.sh" "$D/holder.pid" sleep infinity
