# shellcheck shell=bash
# vmha-lab exec: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_exec() {
  local k
  k=$(node_num "${1:-}")
  shift
  (($#)) || die "exec: no command given"
  need_holder "$k"
  local -a wd=()
  # Keep the working directory when the node sees it (everything but /run and /dev/shm).
  if [[ $PWD == /* && $PWD != /run* && $PWD != /dev/shm* && -d $PWD ]]; then wd=(--wd="$PWD"); fi
  export DRBDSIM_STATE=${DRBDSIM_STATE:-$STATE/drbd}
  exec nsenter -t "$HOLDER" -n -m -u "${wd[@]}" -- "$@"
}
