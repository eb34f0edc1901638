# shellcheck shell=bash
# Shared helpers for the integration scripts: counted checks, loud failures, no silent skips.
set -u
checks=0
failures=0

# check <description> <command...>: runs the command, counts a failure if it fails.
check() {
  local what=$1
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "ok   - $what"
  else
    echo "FAIL - $what"
    failures=$((failures + 1))
  fi
}

# need <program> <debian-package>: a missing real component is a failure, never a skip.
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "FAIL - $1 is not installed (apt-get install $2; the README's test command does)"
    exit 1
  fi
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "FAIL - this test installs into the system and must run as root (the README's test command does)"
    exit 1
  fi
}

# expect_rc <rc> <command...>: true when the command exits with rc.
expect_rc() {
  local want=$1
  shift
  "$@" >/dev/null 2>&1
  local got=$?
  [ "$got" = "$want" ] || { echo "     expected rc $want, got $got: $*"; return 1; }
}

# last_reason <command...>: prints the last ocf-exit-reason line's text.
last_reason() {
  "$@" 2>&1 >/dev/null | sed -n 's/^ocf-exit-reason://p' | tail -n 1
}

# start_lab <state-dir> <subreaper> [nodes]: private libvirtd nodes (tests/lab; one by default) with the tiny guest
# built, torn down with $work at exit; sets lab, uri and work. Fails loudly when it cannot.
start_lab() {
  lab=$(cd "$(dirname "${BASH_SOURCE[0]}")/../lab" && pwd)/libvirt-lab
  export LAB_STATE=${LAB_STATE:-$1} LAB_SUBREAPER=$2 LAB_GUEST_DIR=${LAB_GUEST_DIR:-/tmp/vmha-guest}
  work=$(mktemp -d)
  trap '"$lab" down >/dev/null 2>&1; rm -rf "$work"' EXIT
  "$(dirname "$lab")/make-guest" "$LAB_GUEST_DIR" || { echo "FAIL - cannot build the tiny Linux guest"; exit 1; }
  "$lab" up "${3:-1}" || { echo "FAIL - cannot start a private libvirtd"; exit 1; }
  # shellcheck disable=SC2034 # used by the sourcing script
  uri=$("$lab" uri 1)
}

# run_agent <agent> <instance> <config> <action> [VAR=value...]: the agent as Pacemaker calls it
# for a resource with a recurring monitor, on $uri with its records in $work/rsctmp (start_lab);
# output dropped, errors left to the caller; returns the agent's status.
run_agent() {
  local program=$1 instance=$2 config=$3 action=$4
  shift 4
  env OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE="$instance" OCF_RESOURCE_TYPE=VirtualDomain \
    OCF_RESKEY_config="$config" OCF_RESKEY_hypervisor="$uri" HA_RSCTMP="$work/rsctmp" \
    OCF_RESKEY_CRM_meta_timeout=20000 OCF_RESKEY_CRM_meta_interval=10000 \
    OCF_RESKEY_autoset_utilization_cpu=false OCF_RESKEY_autoset_utilization_host_memory=false \
    OCF_RESKEY_autoset_utilization_hv_memory=false HA_LOGFILE="$work/agent.log" "$@" \
    "$program" "$action" >/dev/null
}

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" = 0 ]
}
