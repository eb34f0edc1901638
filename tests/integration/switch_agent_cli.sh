#!/usr/bin/env bash
# admin/vmha-switch-agent as a program (the switch itself runs in cluster_scenarios.sh): its
# usage, its refusals of bad usage, and its manual page.
# usage: switch_agent_cli.sh <vmha-switch-agent> <vmha-switch-agent.8>
. "$(dirname "$0")/lib.sh"
helper=$1
man_page=$2
need groff groff-base

check "--help exits 0 and names the manual page" sh -c "'$helper' --help | grep -q 'man 8 vmha-switch-agent'"
check "no resource given exits 2" expect_rc 2 "$helper"
check "an unknown option exits 2" expect_rc 2 "$helper" --bogus
check "an unknown provider exits 2" expect_rc 2 "$helper" --to linbit --all
check "a bad --wait exits 2" expect_rc 2 "$helper" --wait 0 --all
check "--all with names exits 2" expect_rc 2 "$helper" --all vm1
check "... with a reason on stderr" sh -c "'$helper' --to linbit --all 2>&1 >/dev/null | grep -q 'must be vmha or heartbeat'"
check "the manual page renders without a warning" sh -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$man_page' 2>&1)\" ]"
page=$(groff -man -Tutf8 "$man_page" 2>/dev/null | sed 's/.\x08//g')
for option in --to --all --wait --dry-run; do
  check "the manual page explains $option" grep -q -- "$option" <<<"$page"
  check "--help explains $option" sh -c "'$helper' --help | grep -q -- '$option'"
done
finish
