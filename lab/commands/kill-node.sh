# shellcheck shell=bash
# vmha-lab kill-node: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_kill_node() {
  local k d start h ids
  k=$(node_num "${1:-}")
  d=$(node_dir "$k")
  need_holder "$k"
  h=$HOLDER
  start=$(now_us)
  ids=$(live_ns "$h")
  [[ -n $ids ]] || die "node$k: cannot read its holder's namespaces"
  # The power counter tells a start-node under way that the node lost power meanwhile.
  local cuts=0
  { read -r cuts <"$d/power"; } 2>/dev/null || cuts=0
  echo $((cuts + 1)) >"$d/power"
  kill_ns_procs "$h" "$ids" "$LAB_TAG-node$k" || die "node$k: some processes survived SIGKILL"
  local killed=$KILLED
  # What a reboot loses: /run (pid files, sockets, libvirt's runtime state) and /dev/shm (libqb).
  nsenter -t "$h" -m -- /bin/sh -c 'find /run /dev/shm -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    mkdir -p /run/lock /run/resource-agents && chmod 1777 /run/lock' ||
    warn "node$k: could not wipe /run and /dev/shm"
  rm -f "$d"/{corosync,pacemakerd,libvirtd}.pid
  forget_dead_reapers "$d"
  # Nothing killed: the node was off already (fencing a crashed node), and the simulator knows.
  ((killed == 0)) || sim_power "$k" down
  echo "$PROG: node$k powered off: $killed processes killed in $(secs_since "$start") s"
}
