# shellcheck shell=bash
# vmha-lab status: sourced by lab/vmha-lab (usage: vmha-lab help).

cmd_status() {
  local n k state rc=0 viewer=''
  echo "$PROG: state $STATE, shared disks $SHARED"
  if ! n=$(lab_size); then
    echo "lab: down"
    return 3
  fi
  echo "lab: $n nodes on bridge $BRIDGE ($NET.0/24)"
  for k in $(seq 1 "$n"); do
    if ! holder_ok "$k"; then
      echo "node$k $(node_addr "$k"): holder gone"
      rc=1
      continue
    fi
    state=''
    local name
    for name in corosync pacemakerd libvirtd; do
      if daemon_ok "$k" "$name"; then state+=" $name $REC_PID"; else
        state+=" $name DOWN"
        rc=1
      fi
    done
    echo "node$k $(node_addr "$k"): holder $HOLDER,$state"
    if [[ -z $viewer ]] && daemon_ok "$k" pacemakerd; then viewer=$k; fi
  done
  if [[ -n $viewer ]] && cluster_view "$viewer"; then
    local stonith
    stonith=$(in_node "$viewer" crm_attribute -t crm_config -n stonith-enabled -G -q 2>/dev/null || echo '?')
    echo "cluster (seen from node$viewer): online [${VIEW_ONLINE}], DC ${VIEW_DC:-none}, stonith-enabled=$stonith, fence-lab ${VIEW_FENCE:-not started}"
  else
    echo "cluster: no node answers"
    rc=1
  fi
  local f names=''
  for f in "$STATE"/drbd/*.json; do
    f=${f##*/}
    names+=" ${f%.json}"
  done
  echo "simulated DRBD resources:${names:- none}"
  if [[ -x $VMHA_AGENT ]]; then echo "vmha agent: $VMHA_AGENT"; else echo "vmha agent: NOT installed ($VMHA_AGENT missing)"; fi
  return $rc
}
