#!/usr/bin/env bash
# bench/run-fleet-bench, reduced: 8 VMs, one round of monitors (10 s) by the stock agent and by
# vmha, then the probe storms, on a private libvirtd whose limits are lowered so that it stops
# accepting during the storm (max_anonymous_clients = 2): every probe must still say "running",
# within its deadline. Checks that the bench runs and what it answers, never its times.
# usage: fleet_bench.sh <build-dir>
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
out=$(mktemp)
trap 'rm -f "$out"' EXIT
export LAB_STATE=/tmp/vmha-test-fleet-bench
FLEET_LIBVIRTD_CONF=$'max_clients = 4\nmax_anonymous_clients = 2' "$top/bench/run-fleet-bench" 8 10 "$build" >"$out" 2>&1
rc=$?
sed 's/^/     /' "$out"
check "bench/run-fleet-bench 8 10 ran" test "$rc" = 0
monitor=$(grep '^monitor-cpu ' "$out")
storm=$(grep '^probe-storm ' "$out")
check "it ends with the monitor-cpu line ($monitor)" \
  grep -Eq '^monitor-cpu vms=8 interval_s=10 vmha=[0-9.]+ heartbeat=[0-9.]+$' <<<"$monitor"
check "and the probe-storm line ($storm)" \
  grep -Eq '^probe-storm vms=8 correct=[0-9]+ slowest_ms=[0-9.]+ refusals=[0-9]+$' <<<"$storm"
check "every monitor of both agents answered 0" grep -Eq '^monitors run.* [0-9]+ \(0:[0-9]+\) +[0-9]+ \(0:[0-9]+\)$' "$out"
check "vmha's storm: 8 of 8 probes said running" grep -q ' correct=8 ' <<<"$storm"
check "the stock agent's storm: 8 of 8 too" grep -Eq '^probe storm: right answers +8/8 +8/8$' "$out"
suspended() { sed -n 's/^probe storm: libvirtd refusals *\([0-9]*\) *\([0-9]*\)$/\1 + \2/p' "$out"; }
check "libvirtd stopped accepting during the storms, its limits reached ($(suspended))" \
  test "$(($(suspended)))" -gt 0
finish
