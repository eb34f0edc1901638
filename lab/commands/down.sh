# shellcheck shell=bash
# vmha-lab down: sourced by lab/vmha-lab (usage: vmha-lab help).

# remove_created [--purge]: removes the host paths up created (the record STATE/created-paths),
# deepest first: mount points only when empty and not mounted anywhere; the shared directory
# only when empty (or with --purge).
remove_created() {
  local purge=''
  if [[ ${1:-} == --purge ]]; then purge=$SHARED; fi
  remove_recorded "$STATE/created-paths" "$purge"
  if ((${#KEPT[@]})); then
    echo "$PROG: kept ${KEPT[*]} (not empty, or still a mount point elsewhere; down --purge removes the shared directory)" >&2
  fi
}

cmd_down() {
  local purge=0 start what
  if wants_purge "$@"; then purge=1; fi
  [[ -d $STATE ]] || return 0
  take_lock "$STATE"
  start=$(now_us)
  touch "$STATE/stopping" # a node restart under way (fence_lab reboot) gives up
  what=$(teardown)
  if ((purge)); then remove_created --purge; else remove_created; fi
  rm -f "$STATE/stopping"
  if ((purge)); then
    state_is_ours "$STATE" .vmha-cluster || die "not removing $STATE: it has no .vmha-cluster marker"
    if [[ -s $STATE/created-paths ]]; then
      warn "kept $STATE/created-paths: $(paste -sd ' ' - <"$STATE/created-paths") could not be removed yet"
      find "$STATE" -mindepth 1 -maxdepth 1 ! -name created-paths ! -name lock ! -name .vmha-cluster -exec rm -rf -- {} +
    else
      rm -rf -- "$STATE"
    fi
  fi
  echo "$PROG: down in $(secs_since "$start") s ($what)"
}
