#!/usr/bin/env bash
# The VirtualDomain agent binary against a real, private libvirtd with QEMU (TCG) guests:
# every action, and what happens when libvirtd stops, hangs, or QEMU dies under the agent.
# usage: libvirt_agent.sh <agent> <lab-subreaper>
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
need qemu-system-x86_64 qemu-system-x86
need strace strace
agent=$1
start_lab /tmp/vmha-test-libvirt "$2"
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"

"$lab" guest-xml vm-linux linux 1 >"$work/vm-linux.xml"
"$lab" guest-xml vm-bios bios 1 >"$work/vm-bios.xml"

# run <domain> <action> [VAR=value...]: the agent as Pacemaker calls it; prints nothing, sets rc.
cp "$work/vm-linux.xml" "$work/vm-absent.xml"
sed -i 's/vm-linux/vm-absent/; /<uuid>/d' "$work/vm-absent.xml"
run() {
  local domain=$1 action=$2
  shift 2
  run_agent "$agent" "$domain" "$work/$domain.xml" "$action" "$@" 2>>"$work/stderr.log"
}
rc_of() { run "$@"; echo $?; }
state_of() { timeout 10 virsh -c "$uri" domstate "$1" 2>/dev/null | head -n 1; }
# A transient domain disappears once libvirt has finished tearing it down; "shut off" may
# still show for a moment before that.
gone() { case "$(state_of "$1")" in "" | "shut off") return 0 ;; *) return 1 ;; esac; }
millis() { date +%s%3N; }

# --- lifecycle of a guest that honours ACPI ---------------------------------------------
check "validate-all" test "$(rc_of vm-linux validate-all)" = 0
check "probe before start: not running" test "$(rc_of vm-linux monitor OCF_RESKEY_CRM_meta_interval=0)" = 7
check "start" test "$(rc_of vm-linux start)" = 0
check "... the domain runs" test "$(state_of vm-linux)" = running
check "monitor: running" test "$(rc_of vm-linux monitor)" = 0
check "probe: running" test "$(rc_of vm-linux monitor OCF_RESKEY_CRM_meta_interval=0)" = 0
check "status: running" test "$(rc_of vm-linux status)" = 0
check "start again: 0, idempotent" test "$(rc_of vm-linux start)" = 0

# The monitor's fast path (libvirtd's wire protocol, no libvirt loaded) answers as libvirt does.
full=$(dirname "$agent")/VirtualDomain-full
both() {  # both <domain> <expected rc>: the front and the full agent agree
  local front_rc full_rc
  front_rc=$(rc_of "$1" monitor)
  full_rc=$(agent=$full rc_of "$1" monitor)
  [ "$front_rc" = "$2" ] && [ "$full_rc" = "$2" ] || { echo "     front $front_rc, full $full_rc, want $2"; return 1; }
}
execs() {  # the programs one monitor runs
  env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=vm-linux OCF_RESKEY_config="$work/vm-linux.xml" \
    OCF_RESKEY_hypervisor="$uri" HA_RSCTMP="$work/rsctmp" OCF_RESKEY_CRM_meta_interval=10000 \
    OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
    OCF_RESKEY_autoset_utilization_hv_memory=false \
    strace -f -qq -e trace=execve "$agent" monitor 2>&1 >/dev/null | grep -c 'execve(.*= 0$'
}
check "fast path and libvirt agree: running" both vm-linux 0
check "the monitor ran one program: no hand-over, no child" test "$(execs)" = 1
timeout 10 virsh -c "$uri" suspend vm-linux >/dev/null
check "fast path and libvirt agree: paused by an admin" both vm-linux 0
timeout 10 virsh -c "$uri" resume vm-linux >/dev/null
check "fast path and libvirt agree: absent" both vm-absent 7
check "the guest boots" "$lab" wait-booted 1 vm-linux 60
t0=$(millis)
check "stop: graceful" test "$(rc_of vm-linux stop OCF_RESKEY_shutdown_mode=acpi)" = 0
t1=$(millis)
echo "     graceful stop took $((t1 - t0)) ms"
check "... it powered itself off (no destroy)" grep -q 'VMHA-GUEST powering off' "$("$lab" serial 1 vm-linux)"
check "... the domain is gone" gone vm-linux
check "monitor after stop: not running" test "$(rc_of vm-linux monitor)" = 7
check "stop again: 0" test "$(rc_of vm-linux stop)" = 0

# --- a guest that ignores ACPI is destroyed before the timeout --------------------------
check "start the BIOS guest" test "$(rc_of vm-bios start)" = 0
t0=$(millis)
check "stop the BIOS guest within a 15 s timeout" test "$(rc_of vm-bios stop OCF_RESKEY_CRM_meta_timeout=15000)" = 0
t1=$(millis)
echo "     stop of a guest that ignores ACPI took $((t1 - t0)) ms (budget 13500)"
check "... before the agent's deadline" test $((t1 - t0)) -lt 13500
check "... the domain is gone" gone vm-bios

# --- libvirtd stopped while the VM runs --------------------------------------------------
check "start the BIOS guest" test "$(rc_of vm-bios start)" = 0
pid=$("$lab" qemu-pid 1 vm-bios)
"$lab" stop-daemon 1
check "libvirtd down, QEMU alive: monitor says degraded (190)" test "$(rc_of vm-bios monitor)" = 190
check "libvirtd down: a probe never says 'not running'" test "$(rc_of vm-bios monitor OCF_RESKEY_CRM_meta_interval=0)" = 190
check "libvirtd down: stop kills this node's QEMU" test "$(rc_of vm-bios stop)" = 0
check "... the QEMU process is gone" test ! -e "/proc/$pid/cmdline" -o "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z
"$lab" start-daemon 1
check "libvirtd back: not running" test "$(rc_of vm-bios monitor)" = 7

# --- libvirtd hung (SIGSTOP) during monitor and stop ------------------------------------
check "start the BIOS guest" test "$(rc_of vm-bios start)" = 0
"$lab" freeze 1
t0=$(millis)
check "libvirtd hung: monitor answers degraded" test "$(rc_of vm-bios monitor)" = 190
t1=$(millis)
echo "     monitor against a hung libvirtd took $((t1 - t0)) ms"
check "... within its 18 s budget" test $((t1 - t0)) -lt 18000
t0=$(millis)
check "libvirtd hung: stop still stops the VM" test "$(rc_of vm-bios stop)" = 0
t1=$(millis)
echo "     stop against a hung libvirtd took $((t1 - t0)) ms"
check "... within its 18 s budget" test $((t1 - t0)) -lt 18000
"$lab" thaw 1
# libvirtd learns of the QEMU it lost while frozen only once it runs again: give it a moment.
eventually_stopped() {
  local _
  for _ in $(seq 50); do
    [ "$(rc_of vm-bios monitor)" = 7 ] && return 0
    sleep 0.2
  done
  return 1
}
check "libvirtd thawed: the domain is shut off" eventually_stopped

# --- QEMU killed under the agent --------------------------------------------------------
check "start the BIOS guest" test "$(rc_of vm-bios start)" = 0
kill -9 "$("$lab" qemu-pid 1 vm-bios)"
sleep 1
check "QEMU killed: monitor says not running" test "$(rc_of vm-bios monitor)" = 7
check "... and stop returns 0" test "$(rc_of vm-bios stop)" = 0

# --- the config file missing on this node -----------------------------------------------
check "no config: probe says not running" \
  test "$(rc_of vm-gone monitor OCF_RESKEY_CRM_meta_interval=0)" = 7
check "no config: validate-all says not installed (5)" test "$(rc_of vm-gone validate-all)" = 5
check "no config: start says not installed (5)" test "$(rc_of vm-gone start)" = 5
check "no config: stop returns 0 (never started here)" test "$(rc_of vm-gone stop)" = 0
check "started, then the config vanishes: stop still stops the VM" sh -c "
  cp '$work/vm-bios.xml' '$work/vm-moved.xml' && sed -i 's/vm-bios/vm-moved/' '$work/vm-moved.xml' &&
  grep -q vm-moved '$work/vm-moved.xml'"
sed -i '/<uuid>/d' "$work/vm-moved.xml"
check "... start it" test "$(rc_of vm-moved start)" = 0
rm "$work/vm-moved.xml"
check "... monitor finds it by its record" test "$(rc_of vm-moved monitor)" = 0
check "... stop stops it" test "$(rc_of vm-moved stop OCF_RESKEY_force_stop=true)" = 0
check "... it is gone" gone vm-moved

check "no libvirt output ever reached stderr before an exit reason" \
  sh -c "! grep -v -e '^ocf-exit-reason:' '$work/stderr.log' | grep -q ."
finish
