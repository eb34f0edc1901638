#!/usr/bin/env bash
# The cluster lab (lab/vmha-lab): a real 2-node Corosync + Pacemaker cluster on this machine, one
# libvirtd per node, fencing through lab/fence_lab. Brings it up, kills the node running a
# Dummy resource and checks that it is fenced and the resource fails over, brings the node back,
# then tears the lab down and checks that nothing is left behind.
# usage: cluster_lab.sh [lab-subreaper]
. "$(dirname "$0")/lib.sh"
# shellcheck source=../../lab/lib/clock.sh
. "$(dirname "$0")/../../lab/lib/clock.sh"
need_root
need corosync corosync
need pacemakerd pacemaker
need crm_mon pacemaker-cli-utils
need stonith_admin pacemaker-cli-utils
need libvirtd libvirt-daemon
need virsh libvirt-clients
need qemu-system-x86_64 qemu-system-x86
need nsenter util-linux
need ip iproute2
lab=$(cd "$(dirname "$0")/../.." && pwd)/lab/vmha-lab
if [ ! -x "$lab" ]; then
  echo "FAIL - $lab is missing or not executable"
  exit 1
fi
if [ ! -f /usr/lib/ocf/resource.d/pacemaker/Dummy ]; then
  echo "FAIL - ocf:pacemaker:Dummy is not installed (apt-get install pacemaker-resource-agents)"
  exit 1
fi
if [ -n "${1:-}" ]; then export LAB_SUBREAPER=$1; fi
export VMHA_LAB_STATE=${VMHA_LAB_STATE:-/tmp/vmha-test-cluster}
state=$VMHA_LAB_STATE
trap '"$lab" down >/dev/null 2>&1' EXIT
"$lab" down >/dev/null 2>&1 # a lab left over by an interrupted run

in_node() { "$lab" exec "$@"; }
quiet() { "$@" >/dev/null 2>&1; }
online_both() { in_node "$1" crm_mon -1 | grep -q 'Online: \[ node1 node2 \]'; }
located_on() { in_node 1 crm_resource --locate -r d1 2>/dev/null | grep -q "is running on: $1\$"; }
holder() { cut -d' ' -f1 "$state/node$1/holder.pid"; }
# dummy_runs K: d1's state file exists in node K's private /run (ocf:pacemaker:Dummy's proof).
dummy_runs() { [ -e "/proc/$(holder "$1")/root/run/Dummy-d1.state" ]; }

# --- up -------------------------------------------------------------------------------------
shared=$("$lab" shared)
shared_existed=''
if [ -e "$shared" ]; then shared_existed=1; fi
t0=$(lab_now_ms)
out=$("$lab" up 2 2>&1)
rc=$?
t_up=$(($(lab_now_ms) - t0))
echo "$out" | sed 's/^/     /'
check "vmha-lab up 2 succeeds" test "$rc" = 0
if [ "$rc" != 0 ]; then
  tail -n 20 "$state"/node*/log-pacemaker/pacemaker.log 2>/dev/null | sed 's/^/     /'
  finish
  exit 1
fi
echo "     up took $(lab_secs "$t_up") s"
check "both nodes are online, seen from node1" online_both 1
check "both nodes are online, seen from node2" online_both 2
check "stonith-enabled is true" test "$(in_node 1 crm_attribute -t crm_config -n stonith-enabled -G -q)" = true
check "fence-lab (stonith:fence_lab) is started" sh -c "'$lab' exec 1 crm_mon -1 | grep -q 'fence-lab.*stonith:fence_lab.*Started'"
check "node1's fencer knows fence_lab as /usr/sbin/fence_lab" sh -c "'$lab' exec 1 stonith_admin -I | grep -qx fence_lab"
check "fence-lab can fence node2" sh -c "'$lab' exec 1 stonith_admin -l node2 | grep -qx fence-lab"
check "the host's /usr/sbin has no fence_lab" test ! -e /usr/sbin/fence_lab
check "node2 is called node2 inside" test "$(in_node 2 uname -n)" = node2
check "node2 has its lab address" sh -c "'$lab' exec 2 ip -o -4 addr show dev eth0 | grep -q ' 10.77.0.12/24 '"
check "the nodes see the host's OCF agents" \
  test "$(in_node 1 ls /usr/lib/ocf/resource.d)" = "$(ls /usr/lib/ocf/resource.d)"
check "the nodes see the shared disk directory" in_node 2 test -d "$shared"
check "up on a running lab is a no-op" quiet "$lab" up 2
check "up with another N is refused" expect_rc 1 "$lab" up 3

# --- each node's own libvirtd -----------------------------------------------------------------
for k in 1 2; do
  check "node$k: virsh -c qemu:///system version" quiet in_node "$k" virsh -c qemu:///system version
done
uuid() { in_node "$1" virsh -c qemu:///system capabilities | grep -m1 -o '<uuid>[^<]*' | cut -d'>' -f2; }
u1=$(uuid 1)
u2=$(uuid 2)
check "the two libvirtds are distinct hosts (host UUIDs $u1, $u2)" test -n "$u1" -a -n "$u2" -a "$u1" != "$u2"

# --- failover with fencing --------------------------------------------------------------------
in_node 1 cibadmin -C -o resources -X '<primitive id="d1" class="ocf" provider="pacemaker" type="Dummy">
  <meta_attributes id="d1-meta"><nvpair id="d1-stickiness" name="resource-stickiness" value="100"/></meta_attributes>
  <operations><op id="d1-monitor" name="monitor" interval="2s" timeout="20s"/></operations></primitive>'
in_node 1 cibadmin -C -o constraints -X '<rsc_location id="d1-on-node2" rsc="d1" node="node2" score="100"/>'
check "Dummy d1 starts on node2" lab_until 30 dummy_runs 2
in_node 1 cibadmin -D -o constraints -X '<rsc_location id="d1-on-node2"/>'
check "... and stays there without the constraint (stickiness)" located_on node2

fence_lines=$(wc -l <"$state/fence.log")
t0=$(lab_now_ms)
"$lab" kill-node 2 | sed 's/^/     /'
check "kill-node 2 leaves no process of node2" test "$("$lab" power-state 2)" = off
lab_until 60 dummy_runs 1
rc=$?
t_failover=$(($(lab_now_ms) - t0))
check "d1 runs on node1 after node2's power cut" test "$rc" = 0
echo "     failover (kill-node 2 until d1's state file exists on node1): $(lab_secs "$t_failover") s"
check "crm_resource locates d1 on node1" lab_until 10 located_on node1
check "node2 was fenced through fence_lab" \
  sh -c "tail -n +$((fence_lines + 1)) '$state/fence.log' | grep -q 'on node1: reboot node2: powered off'"
check "node1's fence history shows node2 rebooted" \
  sh -c "'$lab' exec 1 stonith_admin --history node2 | grep -q 'reboot of node2 successful'"
tail -n +$((fence_lines + 1)) "$state/fence.log" | sed 's/^/     /'

# --- node2 comes back -----------------------------------------------------------------------
t0=$(lab_now_ms)
"$lab" start-node 2 | sed 's/^/     /'
check "node2 is back online" lab_until 60 online_both 1
echo "     node2 back online $(lab_secs $(($(lab_now_ms) - t0))) s after start-node (fence_lab's reboot had started it already)"
check "node2's libvirtd answers again" quiet in_node 2 virsh -c qemu:///system version
check "d1 stays on node1" located_on node1
"$lab" status | sed 's/^/     /'
check "status reports every daemon running" test "${PIPESTATUS[0]}" = 0

# --- down -----------------------------------------------------------------------------------
ids=$(cat "$state"/node[12]/ns "$state/switch.ns" | tr '\n' ' ')
pids=$(stat -L -c '%i %n' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null |
  awk -v ids="$ids" 'BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) w[a[i]] = 1 }
    ($1 in w) { split($2, p, "/"); print p[3] }' | sort -un | tr '\n' ' ')
for f in "$state"/subreaper-*.pid "$state"/node[12]/subreaper-*.pid; do
  [ -f "$f" ] && pids="$pids $(cut -d' ' -f1 "$f")"
done
t0=$(lab_now_ms)
"$lab" down | sed 's/^/     /'
rc=${PIPESTATUS[0]}
t_down=$(($(lab_now_ms) - t0))
check "vmha-lab down succeeds" test "$rc" = 0
echo "     down took $(lab_secs "$t_down") s"
no_lab_ns() {
  local i
  i=$(stat -L -c '%i' /proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt 2>/dev/null | sort -u)
  for id in $ids; do
    if grep -qx "$id" <<<"$i"; then return 1; fi
  done
}
check "no process is left in the lab's namespaces" no_lab_ns
gone() {
  local p
  for p in $pids; do
    if [ -e "/proc/$p" ]; then
      echo "     still in the process table: $(ps -o pid=,stat=,comm= -p "$p")"
      return 1
    fi
  done
}
check "every lab process is gone, none left as a zombie ($(wc -w <<<"$pids") processes)" gone
check "no mount of the lab in any mount namespace" sh -c '! grep -qs vmhalab /proc/[0-9]*/mountinfo'
check "/proc/mounts holds nothing of the lab" sh -c "! grep -q -e vmhalab -e '$state' /proc/mounts"
check "ip netns lists no lab namespace" sh -c '! ip netns list | grep -q vmhalab'
check "ip link shows no lab device" sh -c '! ip -o link | grep -q -e vmhalab -e swp'
if [ -z "$shared_existed" ]; then
  check "the shared directory the lab created is removed" test ! -e "$shared"
fi
check "down again is a no-op" quiet "$lab" down
echo "     times: up $(lab_secs "$t_up") s, failover $(lab_secs "$t_failover") s, down $(lab_secs "$t_down") s"
finish
