#!/usr/bin/env bash
# Live migration by the VirtualDomain agent binary between two private libvirtd nodes (n1,
# n2) on one machine: a booted Linux guest migrated back and forth, then every failure the
# agent must survive — the target daemon down, the target refusing, the target daemon killed
# mid-migration, a migration that cannot converge. Each failure must end with rc 1 and a
# reason before the deadline, the VM running on the source and nothing left on the target.
# usage: libvirt_migration.sh <agent> <lab-subreaper> [round-trips]
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
need qemu-system-x86_64 qemu-system-x86
agent=$1
trips=${3:-20}
start_lab /tmp/vmha-test-migration "$2" 2
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"
uri1=$("$lab" uri 1)
uri2=$("$lab" uri 2)
"$lab" guest-xml vm-mig linux >"$work/vm-mig.xml"
mkdir -p "$work/rsctmp1" "$work/rsctmp2"

# on <node> <action> [VAR=value...]: the agent on node n1 or n2, as Pacemaker runs it there.
on() {
  local node=$1 action=$2
  shift 2
  local self=$uri1
  [ "$node" = n2 ] && self=$uri2
  env DRBDSIM_NODE="$node" OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-mig OCF_RESOURCE_TYPE=VirtualDomain \
    OCF_RESKEY_config="$work/vm-mig.xml" OCF_RESKEY_hypervisor="$self" HA_RSCTMP="$work/rsctmp${node#n}" \
    OCF_RESKEY_remoteuri="qemu+unix:///system?socket=$LAB_STATE/%n/run/libvirt-sock" \
    OCF_RESKEY_CRM_meta_timeout=30000 OCF_RESKEY_CRM_meta_interval=10000 \
    OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
    OCF_RESKEY_autoset_utilization_hv_memory=false HA_LOGFILE="$work/agent.log" "$@" \
    "$agent" "$action" >/dev/null 2>>"$work/stderr-$node.log"
}
rc_on() { on "$@"; echo $?; }
state_on() {  # state_on <node-number> <domain>: libvirt's own view, "" when not defined
  local u=$uri1
  [ "$1" = 2 ] && u=$uri2
  timeout 10 virsh -c "$u" domstate "$2" 2>/dev/null | head -n 1
}
absent_on() { [ -z "$(state_on "$1" vm-mig)" ]; }
millis() { date +%s%3N; }
# migrate <from> <to> [VAR=value...]: migrate_to on the source, migrate_from on the target,
# stop on the source — Pacemaker's sequence; true when all three return 0.
migrate() {
  local from=$1 to=$2
  shift 2
  on "$from" migrate_to OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to" "$@" &&
    on "$to" migrate_from OCF_RESKEY_CRM_meta_migrate_source="$from" OCF_RESKEY_CRM_meta_migrate_target="$to" &&
    on "$from" stop
}
last_reason_of() { sed -n 's/^ocf-exit-reason://p' "$work/stderr-$1.log" | tail -n 1; }
# failing <what> <max-ms> [VAR=value...]: migrate_to n1 → n2 must fail in time, the VM
# running on n1 and nothing of it on n2.
failing() {
  local what=$1 max=$2 t0 rc took
  shift 2
  t0=$(millis)
  rc=$(rc_on n1 migrate_to OCF_RESKEY_CRM_meta_migrate_source=n1 OCF_RESKEY_CRM_meta_migrate_target=n2 "$@")
  took=$(($(millis) - t0))
  echo "     $what: rc $rc in $took ms: $(last_reason_of n1)"
  check "$what: rc 1" test "$rc" = 1
  check "$what: returned in $took ms, before the deadline ($max ms)" test "$took" -lt "$max"
  check "$what: a reason is given" test -n "$(last_reason_of n1)"
  check "$what: the VM still runs on the source" test "$(state_on 1 vm-mig)" = running
  check "$what: the source agent agrees (monitor 0)" test "$(rc_on n1 monitor)" = 0
}

# --- a booted guest, back and forth -----------------------------------------------------
check "start on n1" test "$(rc_on n1 start)" = 0
check "the guest boots" "$lab" wait-booted 1 vm-mig 60
check "probe on n2: not running" test "$(rc_on n2 monitor OCF_RESKEY_CRM_meta_interval=0)" = 7
ok=0
times=()
node=n1
for ((i = 1; i <= trips; i++)); do
  other=n2
  [ "$node" = n2 ] && other=n1
  t0=$(millis)
  if on "$node" migrate_to OCF_RESKEY_CRM_meta_migrate_source="$node" OCF_RESKEY_CRM_meta_migrate_target="$other"; then
    times+=($(($(millis) - t0)))
    if on "$other" migrate_from OCF_RESKEY_CRM_meta_migrate_source="$node" \
      OCF_RESKEY_CRM_meta_migrate_target="$other" && on "$node" stop &&
      [ "$(rc_on "$node" monitor OCF_RESKEY_CRM_meta_interval=0)" = 7 ] && [ "$(rc_on "$other" monitor)" = 0 ]; then
      ok=$((ok + 1))
      node=$other
      continue
    fi
  fi
  echo "     migration $i ($node → $other) failed: $(last_reason_of "$node") $(last_reason_of "$other")"
  break
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "     migrate_to times (ms): min $(head -n 1 <<<"$sorted"), median $(sed -n "$(((${#times[@]} + 1) / 2))p" <<<"$sorted"), max $(tail -n 1 <<<"$sorted")"
check "$ok of $trips migrations (migrate_to, migrate_from, stop on the source) succeeded" test "$ok" = "$trips"
check "the guest runs after the round trips" test "$(state_on "${node#n}" vm-mig)" = running
if [ "$node" = n2 ]; then migrate n2 n1 || echo "     could not bring the guest home to n1"; fi
check "back on n1 for the failure cases" test "$(state_on 1 vm-mig)" = running
check "the source is stopped at once after a migration (stop on n2: 0)" test "$(rc_on n2 stop)" = 0

# --- failures ----------------------------------------------------------------------------
"$lab" stop-daemon 2 >/dev/null
failing "target libvirtd down" 3000
"$lab" start-daemon 2 >/dev/null
check "... nothing on the target" absent_on 2

# The target refuses: it already defines a different domain under the same name.
sed -e 's/<uuid>.*<\/uuid>/<uuid>0badcafe-0000-4000-8000-000000000001<\/uuid>/' "$work/vm-mig.xml" >"$work/clash.xml"
timeout 10 virsh -c "$uri2" define "$work/clash.xml" >/dev/null
failing "the target refuses (a different domain of that name)" 5000
check "... the target keeps only its own, shut-off definition" test "$(state_on 2 vm-mig)" = "shut off"
timeout 10 virsh -c "$uri2" undefine vm-mig >/dev/null

# Cannot converge: 1 MiB/s for a guest with tens of MiB in use, 10 s to do it.
failing "cannot converge in 10 s (bandwidth capped)" 10000 OCF_RESKEY_migration_speed=1 OCF_RESKEY_CRM_meta_timeout=10000
check "... nothing on the target" absent_on 2
check "... and the abort was logged with the progress" grep -qE 'has not finished after [0-9]+ ms \(.*MiB.*\): aborted it' "$work/agent.log"

# The target's libvirtd killed in the middle of a (slowed) migration.
t0=$(millis)
on n1 migrate_to OCF_RESKEY_CRM_meta_migrate_source=n1 OCF_RESKEY_CRM_meta_migrate_target=n2 \
  OCF_RESKEY_migration_speed=1 OCF_RESKEY_CRM_meta_timeout=20000 &
mover=$!
sleep 2
kill -9 "$("$lab" pid 2)"
wait "$mover"
rc=$?
took=$(($(millis) - t0))
echo "     target killed mid-migration: rc $rc in $took ms: $(last_reason_of n1)"
check "target killed mid-migration: rc 1" test "$rc" = 1
check "target killed mid-migration: returned before the deadline (20000 ms)" test "$took" -lt 20000
check "target killed mid-migration: the VM still runs on the source" test "$(state_on 1 vm-mig)" = running
"$lab" start-daemon 2 >/dev/null
wait_absent() {
  local i
  for ((i = 0; i < 50; i++)); do absent_on 2 && return 0; sleep 0.2; done
  echo "     n2 still shows vm-mig: $(state_on 2 vm-mig)"
  return 1
}
check "... the restarted target daemon holds nothing of it" wait_absent

# --- DRBD (simulated): the pre-flight refuses before libvirt, and lets a sound one through ----
sim=$(cd "$(dirname "$0")/../drbd-sim" && pwd)/drbdsim
"$sim" install "$work/bin" >/dev/null
export DRBDSIM_STATE=$work/drbd
mkdir -p "$DRBDSIM_STATE"
DRBDSIM_NODE=n1 "$sim" define r0 --nodes n1,n2 --allow-two-primaries --auto-promote yes >/dev/null
for n in n1 n2; do DRBDSIM_NODE=$n "$sim" drbdadm primary r0 >/dev/null; done  # promoted-max=2
DRBDSIM_NODE=n1 "$sim" set-disk r0 n2 Outdated >/dev/null
drbd=(PATH="$work/bin:$PATH" OCF_RESKEY_drbd_resources=r0)
failing "DRBD: the target's disk is Outdated" 3000 "${drbd[@]}"
check "... the reason names the target's disk" sh -c "grep -q \"n2's volume 0 is Outdated\" '$work/stderr-n1.log'"
DRBDSIM_NODE=n1 "$sim" set-disk r0 n2 UpToDate >/dev/null
check "DRBD UpToDate on both, both Primary: migration n1 → n2" migrate n1 n2 "${drbd[@]}"
check "... and back n2 → n1" migrate n2 n1 "${drbd[@]}"

# --- the end: the guest still obeys ACPI ---------------------------------------------------
t0=$(millis)
check "stop on n1 (graceful)" test "$(rc_on n1 stop)" = 0
took=$(($(millis) - t0))
check "... by ACPI shutdown, not destroy (${took} ms)" \
  sh -c "grep 'vm-mig' '$work/agent.log' | tail -n 3 | grep -q 'stopped (a graceful shutdown)'"
finish
