#!/usr/bin/env bash
# Guest liveness (a monitor with OCF_CHECK_LEVEL=10 pings the guest agent) and a guest panic,
# against a real, private libvirtd and the lab guest running Debian's qemu-guest-agent.
# usage: guest_agent.sh <agent> <lab-subreaper>
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
need qemu-system-x86_64 qemu-system-x86
agent=$1
start_lab /tmp/vmha-test-guest-agent "$2"
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"

"$lab" guest-xml vm-ga linux 1 >"$work/vm-ga.xml"
"$lab" guest-xml vm-bios bios 1 >"$work/vm-bios.xml" # no agent channel
# vm-panic: the same guest, kept in libvirt's "crashed" state when it panics.
sed 's/vm-ga/vm-panic/; /<uuid>/d; s|<on_crash>destroy</on_crash>|<on_crash>preserve</on_crash>|' \
  "$work/vm-ga.xml" >"$work/vm-panic.xml"

# run <domain> <action> [VAR=value...]: the agent as Pacemaker calls it; the exit reason goes
# to $work/reason, the status is printed.
run() {
  local domain=$1 action=$2
  shift 2
  run_agent "$agent" "$domain" "$work/$domain.xml" "$action" "$@" 2>"$work/stderr"
  local rc=$?
  sed -n 's/^ocf-exit-reason://p' "$work/stderr" >"$work/reason"
  cat "$work/stderr" >>"$work/stderr.log"
  echo "$rc"
}
deep() { run "$1" monitor OCF_CHECK_LEVEL=10 OCF_RESKEY_guest_agent_timeout=2 "${@:2}"; }
agent_command() { timeout 30 virsh -c "$uri" qemu-agent-command "$1" "$2" >/dev/null 2>&1; }
state_of() { timeout 10 virsh -c "$uri" domstate "$1" 2>/dev/null | head -n 1; }
reason_has() { grep -q "$1" "$work/reason" || { echo "     reason: $(cat "$work/reason")"; return 1; }; }
millis() { date +%s%3N; }
# wait_agent <domain>: the guest agent answers a ping (it starts a moment after the kernel).
wait_agent() {
  for _ in $(seq 1 60); do
    agent_command "$1" '{"execute":"guest-ping"}' && return 0
    sleep 1
  done
  return 1
}

# --- validate-all: depth 10 needs the agent channel --------------------------------------
check "validate-all at depth 10, with the channel: 0" test "$(run vm-ga validate-all OCF_CHECK_LEVEL=10)" = 0
check "validate-all at depth 10, without a channel: 6" test "$(run vm-bios validate-all OCF_CHECK_LEVEL=10)" = 6
check "... the reason names the channel" reason_has "org.qemu.guest_agent.0"
check "validate-all at depth 0, without a channel: 0" test "$(run vm-bios validate-all)" = 0

# --- a guest without the channel: degraded at depth 10, never failed -----------------------
check "start the BIOS guest (no channel)" test "$(run vm-bios start)" = 0
check "depth 10 without a channel: 190 (degraded), no recovery" test "$(deep vm-bios)" = 190
check "stop the BIOS guest" test "$(run vm-bios stop OCF_RESKEY_force_stop=true)" = 0

# --- an answering guest passes; a frozen agent fails after the threshold ------------------
check "start" test "$(run vm-ga start)" = 0
check "the guest boots" "$lab" wait-booted 1 vm-ga 90
check "... its console says the agent runs" grep -q 'VMHA-GUEST agent [0-9]* on /dev/vport' "$("$lab" serial 1 vm-ga)"
check "the guest agent answers libvirt" wait_agent vm-ga
t0=$(millis)
check "depth 10, answering guest: 0" test "$(deep vm-ga)" = 0
t1=$(millis)
echo "     a depth-10 monitor of an answering guest took $((t1 - t0)) ms"
check "depth 10 again: 0" test "$(deep vm-ga)" = 0
# Freeze the agent from inside: guest-exec runs a shell that stops its own parent, qemu-ga.
agent_command vm-ga '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","kill -STOP $PPID"]}}'
sleep 1
check "the frozen agent no longer answers libvirt" test "$(
  timeout 30 virsh -c "$uri" qemu-agent-command --timeout 2 vm-ga '{"execute":"guest-ping"}' >/dev/null 2>&1
  echo $?
)" != 0
t0=$(millis)
check "frozen, miss 1 of 3: 0" test "$(deep vm-ga)" = 0
check "frozen, miss 2 of 3: 0" test "$(deep vm-ga)" = 0
check "frozen, miss 3 of 3: 1" test "$(deep vm-ga)" = 1
t1=$(millis)
echo "     three depth-10 monitors of the frozen guest took $((t1 - t0)) ms (guest_agent_timeout=2)"
check "... the reason says how long the guest has been silent" reason_has "has not answered its agent for [0-9]* s (3 pings in a row"
check "... while libvirt still calls it running" test "$(state_of vm-ga)" = running
check "depth 0 still says running: 0" test "$(run vm-ga monitor)" = 0
check "stop the frozen guest" test "$(run vm-ga stop OCF_RESKEY_CRM_meta_timeout=30000)" = 0
check "start it again" test "$(run vm-ga start)" = 0
check "... a new run: depth 10 counts anew (booting, not a miss): 0" test "$(deep vm-ga)" = 0
check "... the guest boots and its agent answers" wait_agent vm-ga
check "... depth 10: 0" test "$(deep vm-ga)" = 0
# A reboot from inside closes the agent's port ("not connected"): never counted as a miss.
log_before=$(wc -c <"$work/agent.log")
check "reboot the guest from inside (guest-exec)" agent_command vm-ga \
  '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","sleep 1; reboot -f"]}}'
rebooting() { [ "$(deep vm-ga OCF_RESKEY_guest_agent_misses=1)" = 0 ]; }
sleep 2
check "the guest reboots: depth 10 with guest_agent_misses=1 still 0" rebooting
check "... again 0" rebooting
check "... it comes back and its agent answers" wait_agent vm-ga
check "... depth 10: 0" test "$(deep vm-ga OCF_RESKEY_guest_agent_misses=1)" = 0
logged_disconnect() { tail -c +"$((log_before + 1))" "$work/agent.log" | grep -q "disconnected ("; }
check "... the disconnect was logged, not counted" logged_disconnect
check "stop" test "$(run vm-ga stop)" = 0

# --- a guest panic (pvpanic) is reported crashed at once ------------------------------------
check "start vm-panic (on_crash preserve)" test "$(run vm-panic start)" = 0
check "... its guest agent answers" wait_agent vm-panic
agent_command vm-panic '{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","echo c >/proc/sysrq-trigger"]}}'
crashed() {
  for _ in $(seq 1 100); do
    [[ $(state_of vm-panic) == crashed ]] && return 0
    sleep 0.1
  done
  echo "     state: $(state_of vm-panic)"
  return 1
}
check "the panic reaches libvirt through pvpanic: crashed" crashed
check "monitor (depth 0): 1" test "$(run vm-panic monitor)" = 1
check "... the reason says crashed" reason_has "crashed"
check "stop the crashed guest: 0" test "$(run vm-panic stop)" = 0
check "... gone" test "$(state_of vm-panic)" != crashed

finish
