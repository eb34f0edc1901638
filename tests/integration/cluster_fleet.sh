#!/usr/bin/env bash
# The reduced fleet: lab/fleet-scenario with 8 VMs on a real three-node cluster: drains with
# crm and pcs (every VM live-migrates, none restarts), a node loss (fenced, its VMs started once
# on the survivors) and the rejoined node's probes (all "not running"). The time targets (a
# drain within 10 % of its bound, a node loss within its formula) are reported here, not checked:
# this is a busy CI machine. The heavy run, 30 VMs, checks them: the same command by hand
# (docs/scale.md).
# usage: cluster_fleet.sh [results-file] [lab-subreaper]
. "$(dirname "$0")/lib.sh"
need_root
top=$(cd "$(dirname "$0")/../.." && pwd)
export VMHA_LAB_STATE=${VMHA_LAB_STATE:-/tmp/vmha-test-fleet}
FLEET_TARGETS=report exec "$top/lab/fleet-scenario" 8 "${1:-/tmp/vmha-fleet-results.txt}" "${2:-}"
