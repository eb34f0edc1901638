# shellcheck shell=bash
# vmha-lab drbdsim: sourced by lab/vmha-lab (usage: vmha-lab help).

# drbdsim VERB ARGS: the simulator's scenario verbs on the lab's simulated DRBD.
cmd_drbdsim() {
  [[ -f $STATE/nodes ]] || die "the lab is down (run '$PROG up')"
  [[ -x $DRBDSIM ]] || die "$DRBDSIM is missing"
  DRBDSIM_STATE=$STATE/drbd exec "$DRBDSIM" "$@"
}
