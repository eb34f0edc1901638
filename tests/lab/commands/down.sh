# shellcheck shell=bash
# libvirt-lab down [--purge]: sourced by tests/lab/libvirt-lab (usage: libvirt-lab help).

# destroy_domains K: `virsh destroy` every running domain of node K, in parallel, each under a
# timeout. Failures are left to the pid-file based kill that follows.
destroy_domains() {
  local uri name
  uri=$(node_uri "$1")
  local names
  names=$(timeout "$VIRSH_TIMEOUT" virsh -q -c "$uri" list --name 2>/dev/null) || return 0
  for name in $names; do
    timeout "$VIRSH_TIMEOUT" virsh -q -c "$uri" destroy "$name" >/dev/null 2>&1 &
  done
  wait
}

cmd_down() {
  local purge=0
  if wants_purge "$@"; then purge=1; fi
  [[ -d $LAB_STATE ]] || return 0
  take_lock "$LAB_STATE"
  local k f pid
  local -a nodes daemons=() qemus=() reapers=()
  mapfile -t nodes < <(existing_nodes)

  # 1. Destroy the domains through libvirt, all nodes at once (a frozen daemon is thawed).
  for k in "${nodes[@]}"; do
    if find_libvirtd "$k"; then
      kill -CONT "$LV_PID" 2>/dev/null || true
      daemons+=("$LV_PID:$LV_START")
      destroy_domains "$k" &
    fi
  done
  wait
  # 2. Stop the daemons.
  stop_procs "$TERM_TIMEOUT" "${daemons[@]}"
  # 3. Kill QEMUs that are left (destroy failed, or the daemon was already gone).
  for k in "${nodes[@]}"; do
    for pid in $(qemu_pids "$k"); do
      if proc_stat "$pid"; then qemus+=("$pid:$PS_START"); fi
    done
  done
  stop_procs 3 "${qemus[@]}"
  # 4. The subreapers exit by themselves once they have no children left.
  for k in "${nodes[@]}"; do
    for f in "$(node_dir "$k")"/subreaper-*.pid; do
      if read_record "$f" && alive "$REC_PID" "$REC_START"; then reapers+=("$REC_PID:$REC_START"); fi
    done
  done
  if ((${#reapers[@]})) && ! wait_gone 3 "${reapers[@]}"; then stop_procs 2 "${reapers[@]}"; fi
  # 5. The state, then the mount points (nothing of the lab is mounted any more).
  for k in "${nodes[@]}"; do rm -rf "$(node_dir "$k")"; done
  remove_mountpoints
  if ((purge)); then
    state_is_ours "$LAB_STATE" .vmha-lab || die "not removing $LAB_STATE: it has no .vmha-lab marker"
    if [[ -s $LAB_STATE/created-mountpoints ]]; then
      rm -rf "$LAB_STATE"/cache-n[0-9] # keep the record of the mount points still to remove
    else
      rm -rf "$LAB_STATE"
    fi
  fi
  return 0
}
