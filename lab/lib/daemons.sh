# shellcheck shell=bash
# vmha-lab: starting the switch, the holders and the daemons; the cluster as the nodes see it.
# Sourced by lab/vmha-lab.

# wait_record FILE SECONDS WHAT: waits until FILE holds a live process record.
wait_record() {
  local f=$1 deadline=$(($(now_us) + $2 * 1000000))
  until record_alive "$f"; do
    (($(now_us) < deadline)) || die "$3 did not start (see ${f%.pid}.out)"
    sleep 0.02
  done
}

# spawn DIR TAG PIDFILE OUT CMD...: runs CMD detached (own session, clean environment, no
# inherited descriptors), recording "PID STARTTIME" in PIDFILE. CMD runs as the child of a
# host-side child subreaper (lab_subreaper, recorded as DIR/subreaper-TAG-*.pid) when there is
# one: CMD and the orphans it leaves behind (libvirt double-forks QEMU) are then reaped at once
# when they die, instead of lingering as zombies until PID 1 reaps them (every ~1.5 s here).
# The subreaper lives outside the node's namespaces, so a power cut does not kill it; it exits
# by itself once it has nothing left to reap.
spawn() {
  local dir=$1 tag=$2 pidfile=$3 out=$4 reaper
  shift 4
  reaper=$(lab_subreaper)
  local -a wrap=(/bin/sh "$LAB_DIR/sh/record-pid.sh" "$pidfile")
  if [[ -n $reaper ]]; then wrap=("$reaper" -s "$dir/subreaper-$tag-$(now_us).pid" "$pidfile"); fi
  rm -f "$pidfile"
  (
    close_fds
    exec "${DAEMON_ENV[@]}" setsid "${wrap[@]}" "$@" >>"$out" 2>&1 </dev/null
  ) &
}

start_switch() {
  local f=$STATE/switch.pid
  record_alive "$f" sleep && return 0
  rm -f "$f"
  spawn "$STATE" switch "$STATE/switch-spawn.pid" "$STATE/switch.out" unshare --net -- /bin/sh "$LAB_DIR/sh/switch.sh" "$f" "$BRIDGE"
  wait_record "$f" 10 "the switch namespace"
  stat -L -c %i "/proc/$REC_PID/ns/net" >"$STATE/switch.ns"
}

launch_holder() {
  local k=$1 d
  d=$(node_dir "$k")
  rm -f "$d/holder.pid"
  spawn "$d" holder "$d/holder-spawn.pid" "$d/holder.out" \
    unshare --net --mount --uts --propagation private -- /bin/sh "$LAB_DIR/sh/holder.sh" "$STATE" "$k" "$LAB_TAG" "$LINBIT_OCF"
}

# finish_holder K: waits for node K's holder, records its namespaces and wires its network.
finish_holder() {
  local k=$1 d sw h
  d=$(node_dir "$k")
  wait_record "$d/holder.pid" 10 "the holder of node$k"
  h=$REC_PID
  echo "$(stat -L -c %i "/proc/$h/ns/net") $(stat -L -c %i "/proc/$h/ns/mnt")" >"$d/ns"
  read_record "$STATE/switch.pid" || die "the switch is gone"
  sw=$REC_PID
  printf 'link add swp%s type veth peer name eth0 netns %s\nlink set swp%s master %s up\n' "$k" "$h" "$k" "$BRIDGE" |
    nsenter -t "$sw" -n ip -batch - || die "cannot wire node$k to the lab bridge"
  printf 'addr add %s/24 dev eth0\nlink set eth0 up\n' "$(node_addr "$k")" |
    nsenter -t "$h" -n ip -batch - || die "cannot configure node$k's eth0"
}

# ---------------------------------------------------------------------------------------------
# Daemons

# launch K NAME CMD...: starts daemon NAME in node K's namespaces (spawn), output appended to
# nodeK/NAME.out, "PID STARTTIME" in nodeK/NAME.pid.
launch() {
  local k=$1 name=$2 d
  shift 2
  d=$(node_dir "$k")
  holder_ok "$k" || die "node$k has no holder"
  forget_dead_reapers "$d"
  echo "=== $(date '+%F %T.%3N') $PROG: starting $name" >>"$d/$name.out"
  spawn "$d" "$name" "$d/$name.pid" "$d/$name.out" nsenter -t "$HOLDER" -n -m -u -- "$@"
}
launch_libvirtd() { launch "$1" libvirtd libvirtd --listen; }
launch_corosync() { launch "$1" corosync corosync -f; }
launch_pacemakerd() { launch "$1" pacemakerd pacemakerd; }

# forget_dead_reapers DIR: drops the records of subreapers that have exited.
forget_dead_reapers() {
  local f
  for f in "$1"/subreaper-*.pid; do
    record_alive "$f" || rm -f "$f"
  done
}

# last_lines K NAME: the last lines of a daemon's output, for error messages.
last_lines() { tail -n 3 "$(node_dir "$1")/$2.out" 2>/dev/null | paste -sd '|' - || true; }

# wait_daemon K NAME SECONDS CHECK...: polls CHECK (run inside node K) until it succeeds; fails
# early when the daemon has died.
wait_daemon() {
  local k=$1 name=$2 secs=$3 d start
  shift 3
  d=$(node_dir "$k")
  start=$(now_us)
  while :; do
    if in_node "$k" "$@" >/dev/null 2>&1; then return 0; fi
    if read_record "$d/$name.pid"; then
      alive "$REC_PID" "$REC_START" || die "node$k: $name exited during start-up: $(last_lines "$k" "$name")"
    elif (($(now_us) - start > 5000000)); then
      die "node$k: $name did not start: $(last_lines "$k" "$name")"
    fi
    (($(now_us) - start < secs * 1000000)) || die "node$k: $name did not answer within ${secs}s"
    sleep 0.1
  done
}

# boot_nodes [--fresh] K...: starts the daemons that do not run on the given nodes, in
# parallel across nodes: libvirtd and corosync first, pacemakerd once both answer (a
# VirtualDomain probe must never find libvirtd missing). With --fresh (a new cluster, whose CIB
# has no resource that needs libvirt) pacemakerd does not wait for libvirtd. A node powered off
# meanwhile (kill-node) is left alone.
boot_nodes() {
  local k fresh=0
  if [[ ${1:-} == --fresh ]]; then
    fresh=1
    shift
  fi
  local -A power=() launched=()
  local -a locks=()
  local fd
  # One start at a time per node (up, start-node, a fence_lab power-on may overlap).
  for k in "$@"; do
    exec {fd}>>"$(node_dir "$k")/lock"
    flock -w 120 "$fd" || die "node$k: timed out waiting for $(node_dir "$k")/lock"
    locks+=("$fd")
  done
  for k in "$@"; do
    power[$k]=$(cat "$(node_dir "$k")/power" 2>/dev/null || echo 0)
    if ! ((fresh)) && ! node_powered "$k"; then sim_power "$k" up; fi
    daemon_ok "$k" libvirtd || launch_libvirtd "$k"
    daemon_ok "$k" corosync || launch_corosync "$k"
  done
  for k in "$@"; do
    wait_daemon "$k" corosync "$COROSYNC_TIMEOUT" corosync-cmapctl -g totem.cluster_name
    ((fresh)) || wait_libvirtd "$k"
  done
  for k in "$@"; do
    [[ ! -e $STATE/stopping ]] || die "the lab is being torn down"
    [[ $(cat "$(node_dir "$k")/power" 2>/dev/null || echo 0) == "${power[$k]}" ]] || continue
    if ! daemon_ok "$k" pacemakerd; then
      launch_pacemakerd "$k"
      launched[$k]=1
    fi
  done
  if ((fresh)); then
    for k in "$@"; do wait_libvirtd "$k"; done
  fi
  for k in "${!launched[@]}"; do wait_record "$(node_dir "$k")/pacemakerd.pid" 10 "pacemakerd of node$k"; done
  for fd in "${locks[@]}"; do exec {fd}>&-; done
}
wait_libvirtd() { wait_daemon "$1" libvirtd "$LIBVIRTD_TIMEOUT" timeout 10 virsh -q -c qemu:///system version; }

# ---------------------------------------------------------------------------------------------
# The cluster as the nodes see it

# cluster_view K: sets VIEW_ONLINE (names of the online nodes), VIEW_DC (the DC's name or
# empty) and VIEW_FENCE (the node running fence-lab, or empty), from node K's crm_mon.
cluster_view() {
  local xml
  VIEW_ONLINE='' VIEW_DC='' VIEW_FENCE=''
  xml=$(in_node "$1" crm_mon -1 --output-as=xml 2>/dev/null) || return 1
  VIEW_ONLINE=$(grep -o '<node name="[^"]*" [^>]*online="true"' <<<"$xml" | sed 's/^<node name="\([^"]*\)".*/\1/' | paste -sd ' ' -)
  if grep -q '<current_dc present="true"' <<<"$xml"; then
    VIEW_DC=$(grep -o '<current_dc present="true"[^>]* name="[^"]*"' <<<"$xml" | sed 's/.* name="\([^"]*\)"$/\1/')
    [[ -n $VIEW_DC ]] || VIEW_DC=yes
  fi
  VIEW_FENCE=$(awk '/<resource id="fence-lab" / && /role="Started"/ && /active="true"/ { f = 1; next }
    f && /<node name="/ { sub(/.*<node name="/, ""); sub(/".*/, ""); print; exit }
    /<\/resource>/ { f = 0 }' <<<"$xml")
}

# wait_online SECONDS FENCE K...: waits until every given node sees all of them online and a
# DC (and, with FENCE=1, fence-lab started).
wait_online() {
  local secs=$1 fence=$2 start k j ok
  shift 2
  start=$(now_us)
  while :; do
    ok=1
    for k in "$@"; do
      if ! cluster_view "$k" || [[ -z $VIEW_DC ]] || { ((fence)) && [[ -z $VIEW_FENCE ]]; }; then
        ok=0
        break
      fi
      for j in "$@"; do
        [[ " $VIEW_ONLINE " == *" node$j "* ]] || ok=0
      done
      ((ok)) || break
    done
    ((ok)) && return 0
    (($(now_us) - start < secs * 1000000)) || return 1
    sleep 0.25
  done
}
