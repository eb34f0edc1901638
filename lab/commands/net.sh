# shellcheck shell=bash
# vmha-lab net: sourced by lab/vmha-lab (usage: vmha-lab help).

# net-cut K / net-restore K: unplugs / plugs node K's cable (its port on the lab bridge). The
# node's processes keep running: a network partition.
cmd_net() {
  local what=$1 k
  k=$(node_num "${2:-}")
  need_holder "$k"
  record_alive "$STATE/switch.pid" sleep || die "the lab's switch is gone"
  nsenter -t "$REC_PID" -n ip link set "swp$k" "$what" || die "cannot set node$k's link $what"
  echo "$PROG: node$k's link is $what"
}
