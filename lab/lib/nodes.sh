# shellcheck shell=bash
# vmha-lab: nodes, their records and their processes; the teardown. Sourced by lab/vmha-lab.

check_env() {
  local v
  for v in "$STATE" "$SHARED"; do
    [[ $v == /* && $v != / && $v != *[[:space:],:]* ]] || die "invalid path '$v': it must be absolute, not /, and without spaces, commas or colons"
  done
  [[ $STATE != /run/* && $STATE != /dev/shm/* ]] || die "VMHA_LAB_STATE must not be under /run or /dev/shm (private in the nodes)"
}

node_num() { # K -> K, validated against the running lab (or MAX_NODES)
  local max=$MAX_NODES
  [[ -f $STATE/nodes ]] && max=$(<"$STATE/nodes")
  if ! [[ ${1:-} =~ ^[1-9]$ ]] || ((10#$1 > max)); then die "node number must be 1..$max, not '${1:-}'"; fi
  echo "$1"
}
node_dir() { echo "$STATE/node$1"; }
node_addr() { echo "$NET.$((10 + $1))"; }
lab_size() { [[ -f $STATE/nodes ]] && cat "$STATE/nodes"; }

# holder_ok K: node K's holder runs; sets HOLDER.
holder_ok() {
  HOLDER=''
  record_alive "$(node_dir "$1")/holder.pid" sleep || return 1
  HOLDER=$REC_PID
}
need_holder() { holder_ok "$1" || die "node$1 does not exist or its holder is gone (run '$PROG up')"; }

# daemon_ok K NAME: node K's daemon NAME (corosync, pacemakerd, libvirtd) runs.
daemon_ok() { record_alive "$(node_dir "$1")/$2.pid" "$2"; }
node_powered() { daemon_ok "$1" corosync || daemon_ok "$1" pacemakerd || daemon_ok "$1" libvirtd; }

# sim_power K down|up: tells the DRBD simulator that node K lost power (node-down --crash: its
# peers see it Connecting/Unknown, it is Secondary again) or got it back (node-up: it
# reconnects and resyncs). Silent, and nothing, when no simulated resource is defined.
sim_power() {
  local k=$1 what=$2
  local -a defined=("$STATE"/drbd/*.json)
  [[ -x $DRBDSIM && ${#defined[@]} -gt 0 ]] || return 0
  if [[ $what == down ]]; then
    DRBDSIM_STATE=$STATE/drbd "$DRBDSIM" node-down "node$k" --crash >/dev/null 2>&1 || true
  else
    DRBDSIM_STATE=$STATE/drbd "$DRBDSIM" node-up "node$k" >/dev/null 2>&1 || true
  fi
}

# lab_subreaper: the child-subreaper wrapper, LAB_SUBREAPER or else the repository's build of it.
lab_subreaper() { subreaper_path "${LAB_DIR%/*}/build/tests/lab/lab_subreaper"; }

# in_node K CMD...: runs CMD in node K's namespaces.
in_node() {
  holder_ok "$1" || return 1
  local h=$HOLDER
  shift
  nsenter -t "$h" -n -m -u -- "$@"
}

# ---------------------------------------------------------------------------------------------
# A node's processes

# ns_pids ID...: PIDs of the live processes whose network or mount namespace has one of the
# given namespace inode numbers. Zombies have no namespaces any more and are not listed.
ns_pids() {
  local -a files=(/proc/[0-9]*/ns/net /proc/[0-9]*/ns/mnt)
  { stat -L -c '%i %n' "${files[@]}" 2>/dev/null || true; } | awk -v ids="$*" '
    BEGIN { n = split(ids, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
    ($1 in want) { split($2, p, "/"); print p[3] }' | sort -un
}

# tagged_pids TAG...: PIDs of the live processes whose mount namespace has a mount named
# TAG-run (a node's /run). Unlike namespace inode numbers, which the kernel reuses once a
# namespace is gone, this cannot match a stranger's process.
tagged_pids() {
  local -a files=(/proc/[0-9]*/ns/mnt)
  { stat -L -c '%i %n' "${files[@]}" 2>/dev/null || true; } | awk -v tags="$*" '
    BEGIN { n = split(tags, t, " ") }
    {
      pid = $2; sub(/^\/proc\//, "", pid); sub(/\/.*/, "", pid)
      if (!($1 in checked)) {
        checked[$1] = 1; f = "/proc/" pid "/mountinfo"
        while ((getline line < f) > 0)
          for (i = 1; i <= n; i++) if (index(line, " " t[i] "-run ")) hit[$1] = 1
        close(f)
      }
      if ($1 in hit) print pid
    }' | sort -un
}

# live_ns PID: the net and mnt namespace inode numbers of a live process (a holder).
live_ns() {
  local -a inodes
  mapfile -t inodes < <(stat -L -c %i "/proc/$1/ns/net" "/proc/$1/ns/mnt" 2>/dev/null)
  echo "${inodes[*]}"
}

# node_pids IDS TAGS: the processes in the namespaces IDS (inode numbers read from live
# holders) or in a mount namespace tagged with one of TAGS.
node_pids() {
  local ids=$1 tags=$2
  {
    # shellcheck disable=SC2086  # lists
    if [[ -n $ids ]]; then ns_pids $ids; fi
    # shellcheck disable=SC2086
    if [[ -n $tags ]]; then tagged_pids $tags; fi
  } | sort -un
}

# kill_ns_procs EXCLUDE IDS TAGS: SIGKILLs every process node_pids finds except the PIDs in
# EXCLUDE and this script, all at once, repeating until none is left (a dying pacemakerd may
# still spawn a child). Sets KILLED to the number of processes signalled, KILL_LIST to them.
kill_ns_procs() {
  local exclude=" $1 " ids=$2 tags=$3 round p
  local -a pids
  KILLED=0
  KILL_LIST=()
  for ((round = 1; round <= 40; round++)); do
    pids=()
    for p in $(node_pids "$ids" "$tags"); do
      [[ $exclude == *" $p "* || $p == "$$" || $p == "$BASHPID" ]] || pids+=("$p")
    done
    ((${#pids[@]})) || return 0
    kill -KILL "${pids[@]}" 2>/dev/null || true
    KILLED=$((KILLED + ${#pids[@]}))
    KILL_LIST+=("${pids[@]}")
    ((round < 40)) && sleep 0.05
  done
  warn "processes still alive in the lab namespaces after SIGKILL: ${pids[*]}"
  return 1
}

# teardown: kills every process of the lab (all nodes at once, as a power cut), then the
# holders and the switch, then waits until the subreapers have reaped them all and exited.
# Prints what it did. Safe on a lab that is down.
teardown() {
  local d f p k ids='' tags='' exclude=''
  local -a holders=() reapers=() all_killed=()
  # A live holder's namespaces by their inode numbers, read now; a node whose holder is gone
  # by its mount tag only (its inode numbers may belong to someone else by now).
  for d in "$STATE"/node[1-9]; do
    k=${d##*/node}
    if record_alive "$d/holder.pid" sleep; then
      holders+=("$REC_PID:$REC_START")
      exclude+=" $REC_PID"
      ids+=" $(live_ns "$REC_PID")"
    fi
    tags+=" $LAB_TAG-node$k"
  done
  if record_alive "$STATE/switch.pid" sleep; then
    holders+=("$REC_PID:$REC_START")
    exclude+=" $REC_PID"
    ids+=" $(stat -L -c %i "/proc/$REC_PID/ns/net" 2>/dev/null)"
  fi
  # The subreapers, alive or already exited but not yet reaped by PID 1.
  for f in "$STATE"/subreaper-*.pid "$STATE"/node[1-9]/subreaper-*.pid; do
    if read_record "$f" && proc_stat "$REC_PID" && [[ $PS_START == "$REC_START" ]]; then
      reapers+=("$REC_PID:$REC_START")
    fi
  done
  # Everything but the holders first, so that no daemon outlives its namespace's holder.
  kill_ns_procs "$exclude" "$ids" "$tags" || true
  local killed=$KILLED
  all_killed+=("${KILL_LIST[@]}")
  for f in "${holders[@]}"; do
    kill -KILL "${f%:*}" 2>/dev/null || true
    all_killed+=("${f%:*}")
  done
  wait_gone 5 "${holders[@]}" || warn "holders still alive: ${holders[*]}"
  # Stragglers, by mount tag only: the holders' namespace inode numbers may be reused now.
  kill_ns_procs "" "" "$tags" || true
  killed=$((killed + KILLED))
  all_killed+=("${KILL_LIST[@]}")
  # The subreapers exit by themselves once their children are gone and reaped.
  for f in "${reapers[@]}"; do all_killed+=("${f%:*}"); done
  if ((${#reapers[@]})) && ! wait_gone 3 "${reapers[@]}"; then
    for f in "${reapers[@]}"; do
      if alive "${f%:*}" "${f#*:}"; then kill -TERM "${f%:*}" 2>/dev/null || true; fi
    done
    wait_gone 2 "${reapers[@]}" || warn "subreapers still alive: ${reapers[*]}"
  fi
  # PID 1 reaps the lab's top-level processes (the subreapers, or without them all of the
  # lab's processes) only lazily, every ~1.5 s here: wait for it, so that no <defunct> entry
  # of the lab is left in the process table.
  local deadline=$(($(now_us) + 3000000)) zombies
  while :; do
    zombies=0
    for p in "${all_killed[@]}"; do
      if proc_stat "$p" && [[ $PS_STATE == [ZXx] ]]; then zombies=$((zombies + 1)); fi
    done
    ((zombies && $(now_us) < deadline)) || break
    sleep 0.1
  done
  for d in "$STATE"/node[1-9]; do
    rm -f "$d"/{holder,holder-spawn,corosync,pacemakerd,libvirtd}.pid "$d"/subreaper-*.pid
    if [[ -f $d/ns ]]; then mv -f "$d/ns" "$d/ns.last"; fi
  done
  if [[ -f $STATE/switch.ns ]]; then mv -f "$STATE/switch.ns" "$STATE/switch.ns.last"; fi
  rm -f "$STATE/switch.pid" "$STATE/switch-spawn.pid" "$STATE"/subreaper-*.pid "$STATE/nodes"
  local note=''
  if ((zombies)); then note=", $zombies not reaped yet by PID 1"; fi
  echo "$killed processes and ${#holders[@]} namespace holders killed$note"
}
