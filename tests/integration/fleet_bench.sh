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
# How often libvirtd stopped accepting depends on how the probes overlap: reported, not checked
# (the held clients below make it certain).
echo "     libvirtd suspended its accepts during the storms (heartbeat, vmha): $(sed -n 's/^probe storm: libvirtd refusals *//p' "$out")"

# libvirtd at max_clients, held by two clients that stay (virsh event --loop): it accepts no one
# else. A probe cannot reach it; the running QEMU is the evidence: 190 (running, degraded) within
# the probe's deadline, never 7 and never a hang (the stock agent waits until it is killed).
lab=$top/tests/lab/libvirt-lab
export LAB_SUBREAPER=$build/tests/lab/lab_subreaper
export LAB_LIBVIRTD_CONF=$'max_clients = 2\nmax_anonymous_clients = 2'
work=$(mktemp -d)
holders=()
trap 'kill "${holders[@]}" 2>/dev/null; "$lab" down >/dev/null 2>&1; rm -rf "$work" "$out"' EXIT
"$lab" up 1 >/dev/null
uri=$("$lab" uri 1)
"$lab" guest-xml vm-full bios 1 >"$work/vm-full.xml"
export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_TYPE=VirtualDomain OCF_RESOURCE_INSTANCE=vm-full \
  OCF_RESKEY_config=$work/vm-full.xml OCF_RESKEY_hypervisor=$uri OCF_RESKEY_force_stop=true \
  OCF_RESKEY_CRM_meta_timeout=20000 HA_RSCTMP=$work
check "vm-full started" expect_rc 0 "$build/agents/VirtualDomain" start
# A monitor ends its libvirt session as libvirt's client does (CONNECT_CLOSE): libvirtd logs no
# "End of file while reading data" error for it. At 46 VMs every 10 s that was 4.6 lines a second.
daemon_log=$LAB_STATE/n1/log/libvirtd.log
eof_errors() { grep -c 'End of file while reading data' "$daemon_log" || true; }
check "libvirtd logs to $daemon_log" test -s "$daemon_log"
before=$(eof_errors)
for i in 1 2 3 4 5; do
  check "monitor $i answers 0" expect_rc 0 env OCF_RESKEY_CRM_meta_interval=10000 "$build/agents/VirtualDomain" monitor
done
check "5 monitors: no end-of-file error in libvirtd's log ($before before, $(eof_errors) after)" \
  test -n "$before" -a "$(eof_errors)" = "$before"
for _ in 1 2; do
  virsh -c "$uri" event --all --loop >/dev/null 2>&1 &
  holders+=($!)
done
# Both hold their connection once a third client gets no answer: it times out (124), neither
# answered nor refused.
full() {
  timeout 2 virsh -c "$uri" uri >/dev/null 2>&1
  [ "$?" = 124 ]
}
for _ in $(seq 1 10); do full && break || sleep 0.5; done
check "libvirtd accepts no third client" full
started=$(date +%s%N)
check "a probe while libvirtd accepts no one: 190, running degraded" \
  expect_rc 190 env OCF_RESKEY_CRM_meta_interval=0 "$build/agents/VirtualDomain" monitor
took=$((($(date +%s%N) - started) / 1000000))
check "within its 20 s timeout ($took ms)" test "$took" -lt 20000
kill "${holders[@]}" 2>/dev/null
wait 2>/dev/null
holders=()
check "vm-full stopped once libvirtd accepts again" expect_rc 0 "$build/agents/VirtualDomain" stop
finish
