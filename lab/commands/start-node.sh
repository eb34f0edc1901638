# shellcheck shell=bash
# vmha-lab start-node: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_start_node() {
  local k wait=1 delay=0 start detach=0
  k=$(node_num "${1:-}")
  shift
  while (($#)); do
    case $1 in
      --no-wait) wait=0 ;;
      --detach) detach=1 ;;
      --boot-delay)
        delay=${2:-}
        [[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--boot-delay needs seconds"
        shift
        ;;
      *) die "start-node: unknown option '$1'" ;;
    esac
    shift
  done
  [[ -f $STATE/nodes ]] || die "the lab is down (run '$PROG up')"
  need_holder "$k"
  if ((detach)); then
    # fence_lab's power-on: the start runs in the background, outside every node (in the
    # host's mount namespace, entered through the switch's holder), so that it survives
    # whatever happens to the node that ran the fence agent, like a real power switch.
    record_alive "$STATE/switch.pid" sleep || die "the lab's switch is gone"
    local sw=$REC_PID
    (
      close_fds
      exec setsid nsenter -t "$sw" -m -n -u -- "${DAEMON_ENV[@]}" VMHA_LAB_STATE="$STATE" VMHA_LAB_SHARED="$SHARED" \
        LAB_SUBREAPER="$(lab_subreaper)" "$LAB_DIR/$PROG" start-node "$k" --no-wait --boot-delay "$delay" \
        >>"$(node_dir "$k")/start-node.out" 2>&1 </dev/null
    ) &
    echo "$PROG: node$k: power-on started in the background (log: $(node_dir "$k")/start-node.out)"
    return 0
  fi
  if [[ $delay != 0 ]]; then sleep "$delay"; fi
  [[ ! -e $STATE/stopping ]] || die "the lab is being torn down"
  start=$(now_us)
  boot_nodes "$k"
  ((wait)) || {
    echo "$PROG: node$k started (not waiting for it to join)"
    return 0
  }
  local -a up=()
  local j
  for j in $(seq 1 "$(lab_size)"); do
    if daemon_ok "$j" pacemakerd; then up+=("$j"); fi
  done
  wait_online "$ONLINE_TIMEOUT" 0 "${up[@]}" || die "node$k did not come online within ${ONLINE_TIMEOUT}s"
  echo "$PROG: node$k online after $(secs_since "$start") s"
}
