#!/usr/bin/env bash
# The VirtualDomain agent binary with DRBD: the start guard and validate-all against the DRBD
# simulator (tests/drbd-sim) on PATH, a real private libvirtd and a QEMU guest; and the real
# drbdsetup of drbd-utils on a machine without the DRBD kernel module.
# usage: drbd_agent.sh <agent> <lab-subreaper>
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
need python3 python3
need strace strace
agent=$1
start_lab /tmp/vmha-test-drbd "$2"
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"
sim=$(cd "$(dirname "$0")/../drbd-sim" && pwd)/drbdsim
"$sim" install "$work/bin" >/dev/null
export DRBDSIM_STATE=$work/drbd DRBDSIM_NODE=n1
mkdir -p "$DRBDSIM_STATE"
"$sim" define r0 --nodes n1,n2 --auto-promote yes >/dev/null
"$lab" guest-xml vm-drbd bios 1 >"$work/vm-drbd.xml"

run() {  # run <action> [VAR=value...]: the agent on n1 with the simulator first on PATH
  local action=$1
  shift
  env PATH="$work/bin:$PATH" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-drbd OCF_RESOURCE_TYPE=VirtualDomain \
    OCF_RESKEY_config="$work/vm-drbd.xml" OCF_RESKEY_hypervisor="$uri" HA_RSCTMP="$work/rsctmp" \
    OCF_RESKEY_drbd_resources=r0 OCF_RESKEY_force_stop=true OCF_RESKEY_CRM_meta_timeout=20000 \
    OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
    OCF_RESKEY_autoset_utilization_hv_memory=false HA_LOGFILE="$work/agent.log" "$@" \
    "$agent" "$action" >/dev/null 2>"$work/stderr.txt"
}
rc_of() { run "$@"; echo $?; }
reason() { sed -n 's/^ocf-exit-reason://p' "$work/stderr.txt" | tail -n 1; }
refused() {  # refused <what> <text>: start gives 1, names r0 and <text>, and the VM stays off
  local rc
  rc=$(rc_of start)
  echo "     $1: rc $rc: $(reason)"
  check "$1: start refused (1)" test "$rc" = 1
  check "$1: the reason names r0 and '$2'" sh -c "grep -q 'r0 (' '$work/stderr.txt' && grep -q -- '$2' '$work/stderr.txt'"
  check "$1: the VM did not start" sh -c "! virsh -c '$uri' domstate vm-drbd >/dev/null 2>&1"
}
sim_on() { DRBDSIM_NODE=$1 "$sim" "${@:2}" >/dev/null 2>&1; }

check "validate-all with DRBD UpToDate here: 0" test "$(rc_of validate-all)" = 0
sim_on n1 set-disk r0 n1 Outdated
refused "local disk Outdated" Outdated
sim_on n1 set-disk r0 n1 UpToDate
sim_on n2 drbdadm primary r0
refused "peer Primary" "n2 is Primary"
check "... validate-all warns but returns 0" test "$(rc_of validate-all)" = 0
check "... and the warning names the peer" grep -q 'n2 is Primary' "$work/agent.log"
sim_on n2 drbdadm secondary r0
sim_on n1 sync r0 --source n2 --target n1 --done 37.5
refused "resync target" Inconsistent
sim_on n1 sync-finish r0
check "UpToDate, no peer Primary, auto-promote: start 0" test "$(rc_of start)" = 0
check "... monitor 0" test "$(rc_of monitor OCF_RESKEY_CRM_meta_interval=10000)" = 0
check "... stop 0" test "$(rc_of stop)" = 0
strace -f -qq -e trace=execve -o "$work/execs.txt" env PATH="$work/bin:$PATH" OCF_ROOT=/usr/lib/ocf \
  OCF_RESOURCE_INSTANCE=vm-drbd OCF_RESKEY_config="$work/vm-drbd.xml" OCF_RESKEY_hypervisor="$uri" \
  HA_RSCTMP="$work/rsctmp" OCF_RESKEY_drbd_resources=r0 OCF_RESKEY_force_stop=true \
  OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
  OCF_RESKEY_autoset_utilization_hv_memory=false "$agent" start >/dev/null 2>&1
calls=$(grep -c 'execve("[^"]*/drbdsetup"' "$work/execs.txt")
check "a start reads DRBD once ($calls drbdsetup call)" test "$calls" = 1
run stop
check "disks not on DRBD and drbd_resources=none: no drbdsetup at all" sh -c "
  strace -f -qq -e trace=execve -o '$work/execs2.txt' env PATH='$work/bin:$PATH' OCF_ROOT=/usr/lib/ocf \
    OCF_RESOURCE_INSTANCE=vm-drbd OCF_RESKEY_config='$work/vm-drbd.xml' OCF_RESKEY_hypervisor='$uri' \
    HA_RSCTMP='$work/rsctmp' OCF_RESKEY_drbd_resources=none OCF_RESKEY_force_stop=true \
    OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
    OCF_RESKEY_autoset_utilization_hv_memory=false '$agent' start >/dev/null 2>&1 &&
  ! grep -q 'drbdsetup' '$work/execs2.txt'"
run stop

# drbd-utils' real drbdsetup, without the DRBD kernel module (this machine has none).
if command -v drbdsetup >/dev/null && [ ! -e /proc/drbd ]; then
  rc=$(env PATH=/usr/sbin:/usr/bin:/sbin:/bin OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-drbd \
    OCF_RESKEY_config="$work/vm-drbd.xml" OCF_RESKEY_hypervisor="$uri" HA_RSCTMP="$work/rsctmp" \
    OCF_RESKEY_drbd_resources=r0 OCF_RESKEY_CRM_meta_timeout=20000 "$agent" start 2>"$work/stderr.txt" >/dev/null
    echo $?)
  echo "     real drbdsetup, no kernel module: rc $rc: $(reason)"
  check "real drbdsetup without the kernel module: start fails (1)" test "$rc" = 1
  check "... saying DRBD's state cannot be read" grep -q "cannot read DRBD's state" "$work/stderr.txt"
else
  echo "FAIL - drbd-utils is not installed (apt-get install drbd-utils; the README's test command does)"
  failures=$((failures + 1))
fi
check "the VM never ran after a refusal" sh -c "! virsh -c '$uri' domstate vm-drbd >/dev/null 2>&1"
finish
