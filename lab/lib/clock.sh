# shellcheck shell=bash
# Clock and polling for the scripts that drive a lab and time it: lab/two-node-lib.sh (so
# lab/demo and tests/integration/cluster_scenarios.sh) and tests/integration/cluster_lab.sh.
# Sourced; plain functions, no settings changed.

# lab_now_ms: the wall clock in milliseconds (without a fork).
lab_now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# lab_secs MS: milliseconds as seconds with two decimals.
lab_secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

# lab_until [--every STEP] SECONDS COMMAND...: runs COMMAND (output discarded) every STEP
# seconds (default 0.1) until it succeeds; fails when SECONDS have passed.
lab_until() {
  local step=0.1 deadline
  if [ "$1" = --every ]; then
    step=$2
    shift 2
  fi
  deadline=$(($(lab_now_ms) + $1 * 1000))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(lab_now_ms)" -lt "$deadline" ] || return 1
    sleep "$step"
  done
}
