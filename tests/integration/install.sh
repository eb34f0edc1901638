#!/usr/bin/env bash
# Installs the build into the system (CTest fixture for the tests that use Pacemaker's tools,
# which only find agents under the OCF root compiled into them).
# usage: install.sh <build-dir>
. "$(dirname "$0")/lib.sh"
need_root
check "cmake --install" cmake --install "$1"
finish
