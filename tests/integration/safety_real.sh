#!/usr/bin/env bash
# The safety rules on real components, where the unit tier's fakes cannot reach: a private
# libvirtd with QEMU guests, a FUSE file system that stops answering (tests/lab/hung-fs), real
# processes that leave children behind or sit in the kernel ignoring SIGKILL, and the stock
# ocf:heartbeat:VirtualDomain starting a VM that vmha then has to find with a broken config.
# usage: safety_real.sh <agent> <lab-subreaper> <hung-fs>
. "$(dirname "$0")/lib.sh"
need_root
need virsh libvirt-clients
need libvirtd libvirt-daemon
need qemu-system-x86_64 qemu-system-x86
stock=/usr/lib/ocf/resource.d/heartbeat/VirtualDomain
[ -x "$stock" ] || { echo "FAIL - $stock is missing (apt-get install resource-agents)"; exit 1; }
[ -e /dev/fuse ] || { echo "FAIL - /dev/fuse is missing: no FUSE here"; exit 1; }
agent=$1
hung_fs=$3
start_lab /tmp/vmha-test-safety "$2"
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"

# A FUSE mount at $work/mnt showing $work/backing, stopped and started with signals.
mkdir -p "$work/mnt" "$work/backing"
"$hung_fs" "$work/mnt" "$work/backing" "$work/hung-fs.pid" >/dev/null &
for _ in $(seq 100); do [ -s "$work/hung-fs.pid" ] && break; sleep 0.05; done
[ -s "$work/hung-fs.pid" ] || { echo "FAIL - hung-fs did not mount"; exit 1; }
fs_pid=$(cat "$work/hung-fs.pid")
trap 'kill -TERM "$fs_pid" 2>/dev/null; sleep 0.2; umount -l "$work/mnt" 2>/dev/null; "$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
hang() { kill -USR1 "$fs_pid"; }
answer() { kill -USR2 "$fs_pid"; }

# run <instance> <config> <action> [VAR=value...]: the agent as Pacemaker calls it; its status.
run() {
  run_agent "$agent" "$@" 2>"$work/stderr.txt"
  local rc=$?
  cat "$work/stderr.txt" >>"$work/stderr-all.txt"
  return "$rc"
}
rc_of() { run "$@"; echo $?; }
reason() { sed -n 's/^ocf-exit-reason://p' "$work/stderr.txt" | tail -n 1; }
state_of() { timeout 10 virsh -c "$uri" domstate "$1" 2>/dev/null | head -n 1; }
gone() { case "$(state_of "$1")" in "" | "shut off") return 0 ;; *) return 1 ;; esac; }
millis() { date +%s%3N; }
no_process_with() { ! pgrep -f "$1" >/dev/null; }
# within <ms> <command...>: the command succeeds, and in less than <ms>.
within() {
  local limit=$1 t0 t1
  shift
  t0=$(millis)
  "$@" || return 1
  t1=$(millis)
  echo "     took $((t1 - t0)) ms (limit $limit)"
  [ $((t1 - t0)) -lt "$limit" ]
}
# expect <rc> <run arguments...>: the agent answers <rc>.
expect() {
  local want=$1 got
  shift
  got=$(rc_of "$@")
  [ "$got" = "$want" ] || { echo "     rc $got ($(reason)), want $want"; return 1; }
}

"$lab" guest-xml vm-kids bios 1 >"$work/vm-kids.xml"

# --- monitor scripts that leave children behind ---------------------------------------------
cat >"$work/leaves-a-child" <<'EOF'
#!/bin/sh
# A check that starts something in the background and returns at once (curl, ping, a probe).
sleep 313 &
setsid sleep 314 </dev/null >/dev/null 2>&1 &
exit 0
EOF
chmod +x "$work/leaves-a-child"
check "start a VM" expect 0 vm-kids "$work/vm-kids.xml" start
check "monitor with a script that leaves two children (one in a new session)" \
  expect 0 vm-kids "$work/vm-kids.xml" monitor OCF_RESKEY_monitor_scripts="$work/leaves-a-child"
check "... its background child died with its process group" no_process_with "sleep 313"
check "... the one that left its session was swept up at the end of the action" no_process_with "sleep 314"

# --- a child in the kernel that ignores SIGKILL for a while ----------------------------------
echo "ok" >"$work/backing/answer"
cat >"$work/reads-the-hung-fs" <<EOF
#!/bin/sh
exec cat "$work/mnt/answer"
EOF
chmod +x "$work/reads-the-hung-fs"
check "the monitor script passes while the file system answers" \
  expect 0 vm-kids "$work/vm-kids.xml" monitor OCF_RESKEY_monitor_scripts="$work/reads-the-hung-fs"
hang
check "the file system hangs: the monitor returns 1 at its 18 s budget, well before the 20 s timeout" \
  within 18300 expect 1 vm-kids "$work/vm-kids.xml" monitor OCF_RESKEY_monitor_scripts="$work/reads-the-hung-fs"
echo "     reason: $(reason)"
check "... saying that it could not end the script" sh -c "grep -q 'did not die of SIGKILL' '$work/stderr.txt'"
stuck=$(pgrep -f "cat $work/mnt/answer" | head -n 1)
check "... the script sits in the kernel (state D), killed but not dead" \
  sh -c "[ -n '$stuck' ] && [ \"\$(awk '{print \$3}' /proc/$stuck/stat)\" = D ]"
answer
sleep 0.5
check "the file system answers again: the stuck script is gone" no_process_with "cat $work/mnt/answer"
check "stop the VM" expect 0 vm-kids "$work/vm-kids.xml" stop OCF_RESKEY_force_stop=true

# --- the config on a file system that stops answering ----------------------------------------
"$lab" guest-xml vm-nfs bios 1 >"$work/backing/vm-nfs.xml"
config=$work/mnt/vm-nfs.xml
check "start a VM whose config is on the FUSE mount" expect 0 vm-nfs "$config" start
check "monitor while it answers: 0" expect 0 vm-nfs "$config" monitor
hang
check "the file system hangs: monitor answers 0 within its budget (found by its records)" \
  within 18000 expect 0 vm-nfs "$config" monitor
check "probe: 0 within its budget" within 18000 expect 0 vm-nfs "$config" monitor OCF_RESKEY_CRM_meta_interval=0
check "stop: 0 within its budget" within 18000 expect 0 vm-nfs "$config" stop OCF_RESKEY_force_stop=true
check "... and the VM is gone" gone vm-nfs
check "start with the config unreachable: 1 (it cannot be read) within its budget" \
  within 18000 expect 1 vm-nfs "$config" start
check "... and nothing was started" gone vm-nfs
answer
mkfifo "$work/fifo.xml"
check "a FIFO as config: a probe answers at once instead of blocking" \
  within 5000 expect 7 vm-fifo "$work/fifo.xml" monitor OCF_RESKEY_CRM_meta_interval=0

# --- the stock agent starts a VM; vmha finds it with a broken config --------------------------
stock_run() {
  env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$1" OCF_RESKEY_config="$2" OCF_RESKEY_hypervisor="$uri" \
    HA_RSCTMP="$work/rsctmp-stock" OCF_RESKEY_CRM_meta_timeout=30000 "$stock" "$3" >/dev/null 2>&1
}
mkdir -p "$work/rsctmp-stock"
for broken in cut directory; do
  name=vm-stock-$broken
  "$lab" guest-xml "$name" bios 1 >"$work/$name.xml"
  check "[$broken] the stock agent starts $name" stock_run "$name" "$work/$name.xml" start
  check "[$broken] vmha probes it once, as Pacemaker does when the resource is added: running" \
    expect 0 "$name" "$work/$name.xml" monitor OCF_RESKEY_CRM_meta_interval=0
  if [ "$broken" = cut ]; then
    head -c "$(($(grep -b -o '</uuid>' "$work/$name.xml" | cut -d: -f1) + 7))" "$work/$name.xml" >"$work/cut" &&
      mv "$work/cut" "$work/$name.xml"
  else
    rm "$work/$name.xml" && mkdir "$work/$name.xml"
  fi
  check "[$broken] the config is broken: the probe still says running, not 7" \
    expect 0 "$name" "$work/$name.xml" monitor OCF_RESKEY_CRM_meta_interval=0
  check "[$broken] stop stops it, and only then says 0" expect 0 "$name" "$work/$name.xml" stop OCF_RESKEY_force_stop=true
  check "[$broken] ... the VM is gone" gone "$name"
done
name=vm-stock-unseen
"$lab" guest-xml "$name" bios 1 >"$work/$name.xml"
check "the stock agent starts $name, which vmha has never seen" stock_run "$name" "$work/$name.xml" start
head -c "$(($(grep -b -o '</uuid>' "$work/$name.xml" | cut -d: -f1) + 7))" "$work/$name.xml" >"$work/cut" &&
  mv "$work/cut" "$work/$name.xml"
check "its config cut after <uuid>: a tolerant read names it, the probe says running" \
  expect 0 "$name" "$work/$name.xml" monitor OCF_RESKEY_CRM_meta_interval=0
check "... and stop stops it" expect 0 "$name" "$work/$name.xml" stop OCF_RESKEY_force_stop=true
check "... the VM is gone" gone "$name"

check "no libvirt output ever reached stderr before an exit reason" \
  sh -c "! grep -v -e '^ocf-exit-reason:' '$work/stderr-all.txt' | grep -q ."
finish
