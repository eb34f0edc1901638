# shellcheck shell=bash
# vmha-lab up [N]: a fresh lab (state, configuration, namespaces, daemons), or the missing
# daemons of a running one. Sourced by lab/vmha-lab.

# ---------------------------------------------------------------------------------------------
# Preparing a fresh lab

prepare_lab() {
  local n=$1 k d
  # A fresh lab: the previous run's node state (CIB, logs) goes; the QEMU capabilities caches
  # (cache-nodeK, 0.2 s instead of 1.5-8 s for a libvirtd start) and the created-paths record stay.
  rm -rf "$STATE"/node[1-9] "$STATE/sbin" "$STATE/ocf-linbit" "$STATE/drbd" "$STATE/cib-seed.xml" "$STATE/switch.pid" "$STATE/stopping"
  : >"$STATE/fence.log"
  touch "$STATE/.vmha-cluster" # marks the directory as ours, for down --purge

  {
    echo "127.0.0.1 localhost"
    echo "::1 localhost ip6-localhost ip6-loopback"
    for k in $(seq 1 "$n"); do echo "$(node_addr "$k") node$k"; done
  } >"$STATE/hosts"

  # The nodes' private /etc/passwd and /etc/group, with the libvirt-qemu account the QEMU
  # driver needs (when the host lacks it); the host's stay untouched. Fresh for a fresh lab.
  rm -f "$STATE/passwd" "$STATE/group"
  write_accounts "$STATE" "$PROG"

  # pacemaker-fenced runs fence agents only as /usr/sbin/fence_*: the nodes see /usr/sbin
  # overlaid with this directory. An absolute symlink, so that edits are seen at once.
  mkdir -p "$STATE/sbin"
  ln -sfn "$LAB_DIR/fence_lab" "$STATE/sbin/fence_lab"
  # The DRBD simulator in place of drbd-utils' drbdsetup and drbdadm (it takes its personality
  # from the name it is called by), with an empty simulated cluster: `vmha-lab drbdsim define`.
  mkdir -p "$STATE/drbd"
  if [[ -x $DRBDSIM ]]; then
    ln -sfn "$DRBDSIM" "$STATE/sbin/drbdsetup"
    ln -sfn "$DRBDSIM" "$STATE/sbin/drbdadm"
  else
    warn "$DRBDSIM is missing: the nodes have no simulated DRBD"
  fi
  # Overlaid on the nodes' /usr/lib/ocf/resource.d/linbit (when drbd-utils installed it).
  mkdir -p "$STATE/ocf-linbit"
  ln -sfn "$DRBD_STANDIN" "$STATE/ocf-linbit/drbdsim"

  local p
  for p in "${HOST_MOUNTPOINTS[@]}"; do mkdir_recorded "$STATE/created-paths" "$p"; done
  mkdir_recorded "$STATE/created-paths" "$SHARED"

  seed_cib "$n"
  for k in $(seq 1 "$n"); do prepare_node "$n" "$k"; done
}

# The CIB every node starts with: fencing on, through fence_lab; fast elections. The skeleton
# (schema and feature set) comes from cibadmin --empty.
# load-threshold: Pacemaker's controller throttles a node to one action at a time when the load
# average per core passes 2 x load-threshold (default 80%). Every lab node reads the same
# machine-wide /proc/loadavg and core count, so each is charged with all nodes' work plus the
# TCG emulation of every guest, and a failover's VM starts ran one after another. 400% leaves
# the throttle to real overload (a load of 8 per core).
seed_cib() {
  local n=$1 k hosts='' empty
  for k in $(seq 1 "$n"); do hosts+="${hosts:+ }node$k"; done
  empty=$(cibadmin --empty) || die "cibadmin --empty failed"
  [[ $empty == *'<crm_config/>'* && $empty == *'<resources/>'* ]] || die "unexpected output of cibadmin --empty: $empty"
  local props="<crm_config>
      <cluster_property_set id=\"cib-bootstrap-options\">
        <nvpair id=\"cib-bootstrap-options-stonith-enabled\" name=\"stonith-enabled\" value=\"true\"/>
        <nvpair id=\"cib-bootstrap-options-dc-deadtime\" name=\"dc-deadtime\" value=\"2s\"/>
        <nvpair id=\"cib-bootstrap-options-cluster-recheck-interval\" name=\"cluster-recheck-interval\" value=\"1min\"/>
        <nvpair id=\"cib-bootstrap-options-load-threshold\" name=\"load-threshold\" value=\"400%\"/>
      </cluster_property_set>
    </crm_config>"
  local rscs="<resources>
      <primitive id=\"fence-lab\" class=\"stonith\" type=\"fence_lab\">
        <instance_attributes id=\"fence-lab-ia\">
          <nvpair id=\"fence-lab-hosts\" name=\"pcmk_host_list\" value=\"$hosts\"/>
          <nvpair id=\"fence-lab-state\" name=\"lab_state\" value=\"$STATE\"/>
        </instance_attributes>
        <operations>
          <op id=\"fence-lab-monitor\" name=\"monitor\" interval=\"60s\"/>
        </operations>
      </primitive>
    </resources>"
  empty=${empty/'<crm_config/>'/$props}
  echo "${empty/'<resources/>'/$rscs}" >"$STATE/cib-seed.xml"
}

prepare_node() {
  local n=$1 k=$2 d addr j
  d=$(node_dir "$k")
  addr=$(node_addr "$k")
  mkdir -p "$d"/{etc-corosync,var-lib-corosync,var-lib-pacemaker/{cib,pengine,blackbox,cores},log-pacemaker/bundles}
  mkdir -p "$d"/libvirt/{etc/qemu/autostart,etc/nwfilter,etc/hooks,etc/storage,lib/qemu,lib/images,log/qemu}
  mkdir -p "$STATE/cache-node$k"
  if [[ -d /etc/corosync/uidgid.d ]]; then cp -a /etc/corosync/uidgid.d "$d/etc-corosync/"; fi

  {
    cat <<EOF
# Written by $PROG for node$k.
totem {
    version: 2
    cluster_name: $CLUSTER_NAME
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: 1000
}
logging {
    to_stderr: no
    to_logfile: yes
    logfile: $d/corosync.log
    to_syslog: no
    timestamp: hires
    fileline: off
}
quorum {
    provider: corosync_votequorum
EOF
    if ((n == 2)); then echo "    two_node: 1"; fi
    echo "}"
    echo "nodelist {"
    for j in $(seq 1 "$n"); do
      printf '    node {\n        name: node%d\n        nodeid: %d\n        ring0_addr: %s\n    }\n' "$j" "$j" "$(node_addr "$j")"
    done
    echo "}"
  } >"$d/etc-corosync/corosync.conf"

  cp "$STATE/cib-seed.xml" "$d/var-lib-pacemaker/cib/cib.xml"
  chown -R hacluster:haclient "$d/var-lib-pacemaker" "$d/log-pacemaker"
  chmod 750 "$d"/var-lib-pacemaker/{cib,pengine,blackbox,cores}
  chmod 600 "$d/var-lib-pacemaker/cib/cib.xml"
  chmod 770 "$d/log-pacemaker" "$d/log-pacemaker/bundles"

  # qemu:///system inside the node reaches this daemon. namespaces = [ ]: QEMU stays in the
  # node's mount namespace, so it dies with the node.
  write_libvirt_conf "$d/libvirt/etc" "$addr" "$(printf '1ab0cafe-0000-4000-8000-%012d' $((100 + k)))" \
    "# Written by $PROG for node$k." " qemu:///system inside the node reaches this daemon." 'namespaces = [ ]'
  echo 0 >"$d/power"
}

# ---------------------------------------------------------------------------------------------
# Commands

check_tools() {
  local p
  for p in corosync pacemakerd crm_mon cibadmin crm_attribute libvirtd virsh qemu-system-x86_64 nsenter unshare setsid flock ip; do
    command -v "$p" >/dev/null || die "$p is not installed (tools/install-deps installs everything)"
  done
  [[ -x $LAB_DIR/fence_lab ]] || die "$LAB_DIR/fence_lab is missing or not executable"
  getent passwd hacluster >/dev/null || die "the hacluster account is missing (package pacemaker)"
  [[ $(id -u) == 0 ]] || die "must run as root"
  [[ -n $(lab_subreaper) ]] ||
    warn "no lab_subreaper (set LAB_SUBREAPER): dead processes linger as zombies, virsh destroy and migrations are ~1.5 s slower"
}

cmd_up() {
  local n=${1:-2} start k have
  if ! [[ $n =~ ^[1-9]$ ]] || ((n > MAX_NODES)); then die "up: N must be 1..$MAX_NODES, not '$n'"; fi
  check_tools
  take_lock "$STATE"
  start=$(now_us)
  if [[ -f $STATE/nodes ]]; then
    have=$(<"$STATE/nodes")
    [[ $have == "$n" ]] || die "the lab runs with $have nodes, not $n: run '$PROG down' first"
    record_alive "$STATE/switch.pid" sleep || die "the lab's switch is gone: run '$PROG down' first"
    local -a boot=()
    for k in $(seq 1 "$n"); do
      holder_ok "$k" || die "node$k's holder is gone: run '$PROG down' first"
      if ! daemon_ok "$k" corosync || ! daemon_ok "$k" pacemakerd || ! daemon_ok "$k" libvirtd; then boot+=("$k"); fi
    done
    if ((${#boot[@]})); then boot_nodes "${boot[@]}"; fi
    wait_online "$ONLINE_TIMEOUT" 1 $(seq 1 "$n") || die "the cluster did not come up within ${ONLINE_TIMEOUT}s ($PROG status)"
    echo "$PROG: already up: $n nodes online (checked in $(secs_since "$start") s)"
    return 0
  fi
  # Leftovers of an interrupted run, if any (recorded processes only), then a fresh lab.
  teardown >/dev/null
  echo "$n" >"$STATE/nodes"
  prepare_lab "$n"
  start_switch
  for k in $(seq 1 "$n"); do launch_holder "$k"; done
  for k in $(seq 1 "$n"); do finish_holder "$k"; done
  local t_net
  t_net=$(secs_since "$start")
  boot_nodes --fresh $(seq 1 "$n")
  local t_daemons
  t_daemons=$(secs_since "$start")
  wait_online "$ONLINE_TIMEOUT" 1 $(seq 1 "$n") ||
    die "the cluster did not come up within ${ONLINE_TIMEOUT}s (see $STATE/node*/log-pacemaker/pacemaker.log; '$PROG down' cleans up)"
  echo "$PROG: $n nodes online after $(secs_since "$start") s (namespaces $t_net s, daemons $t_daemons s); stonith-enabled=true, fence-lab on $VIEW_FENCE"
  [[ -x $VMHA_AGENT ]] || warn "$VMHA_AGENT is not installed: the nodes cannot run ocf:vmha:VirtualDomain"
}
