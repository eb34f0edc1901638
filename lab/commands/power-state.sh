# shellcheck shell=bash
# vmha-lab power-state: sourced by lab/vmha-lab (usage: vmha-lab help).

# power-state K (for fence_lab): "on" when any of the node's daemons runs, else "off".
cmd_power_state() {
  local k
  k=$(node_num "${1:-}")
  if node_powered "$k"; then echo on; else echo off; fi
}
