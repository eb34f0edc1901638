# shellcheck shell=bash
# vmha-lab nodes: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_nodes() {
  local n k
  n=$(lab_size) || die "the lab is down"
  for k in $(seq 1 "$n"); do echo "node$k"; done
}
