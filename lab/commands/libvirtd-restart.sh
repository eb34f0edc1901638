# shellcheck shell=bash
# vmha-lab libvirtd-restart: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_libvirtd_restart() {
  local k d start
  k=$(node_num "${1:-}")
  d=$(node_dir "$k")
  need_holder "$k"
  start=$(now_us)
  if read_record "$d/libvirtd.pid" && alive "$REC_PID" "$REC_START" libvirtd; then
    local pid=$REC_PID st=$REC_START
    stop_procs 10 "$pid:$st"
    ! alive "$pid" "$st" || die "node$k: libvirtd does not die"
  fi
  launch_libvirtd "$k"
  wait_libvirtd "$k"
  echo "$PROG: node$k: libvirtd restarted in $(secs_since "$start") s"
}
