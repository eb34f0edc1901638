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

finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [ "$failures" = 0 ]
}
