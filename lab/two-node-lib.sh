# shellcheck shell=bash
# lab/two-node-lib.sh: puts the company's two-node configuration, examples/crm/two-node.crm,
# into a running 2-node lab (lab/vmha-lab up 2), with tiny QEMU guests as the five VMs.
# Sourced by lab/demo and tests/integration/cluster_scenarios.sh. The caller exports
# VMHA_LAB_STATE (and VMHA_LAB_SHARED, LAB_SUBREAPER if wanted) before sourcing it.
#
# The example file is used as it is, apart from these substitutions (tn_lab_crm):
#   stonith:fence_ipmilan, ip/username/password/lanplus  ->  stonith:fence_lab, lab_state,
#       boot_delay (TN_BOOT_DELAY)
#       (the lab's nodes are powered by lab/fence_lab; the seed CIB's own fence-lab device is
#       deleted once these two run, so fencing goes through the example's devices, with
#       their pcmk_delay_base);
#   ocf:linbit:drbd  ->  ocf:linbit:drbdsim, the lab's stand-in (lab/ocf-drbdsim) that runs the
#       DRBD simulator instead of a DRBD kernel module, which linbit's agent needs and this
#       machine lacks; each DRBD resource is defined in the simulator first, dual-primary
#       capable and without auto-promote, as docs/drbd.md's deployment A prescribes;
#   /etc/libvirt/qemu/<vm>.xml  ->  the lab's shared directory (the same path on both nodes);
#   migration_transport=ssh  ->  tcp (the nodes' libvirtd listen on TCP without auth);
#   force_stop=true for the BIOS guests (they ignore ACPI; see tn_lab_crm for the exception);
#   with TN_PROVIDER=heartbeat, the VMs run under the stock ocf:heartbeat:VirtualDomain, without
#   the parameters only vmha has (the configuration a cluster has before switching to vmha).
# vm-web is the tiny Linux guest (it obeys ACPI), the others are BIOS guests (cheaper).

TN_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TN_LAB=$TN_TOP/lab/vmha-lab
TN_EXAMPLE=$TN_TOP/examples/crm/two-node.crm
TN_GUEST_TOOL=$TN_TOP/tests/lab/libvirt-lab
TN_VMS=(vm-resolver vm-radius1 vm-radius2 vm-web vm-telephony)
TN_LINUX='vm-web'
TN_STATE=${VMHA_LAB_STATE:-/tmp/vmha-cluster}
TN_SHARED=${VMHA_LAB_SHARED:-/var/lib/vmha-lab/shared}
export LAB_GUEST_DIR=${LAB_GUEST_DIR:-/tmp/vmha-guest}
TN_CTL=1 # the node that runs cluster commands (one that is up)
TN_PROVIDER=${TN_PROVIDER:-vmha} # the VMs' agent: ocf:$TN_PROVIDER:VirtualDomain
# A fenced node powers on again after this many seconds: a real server spends longer in its
# firmware, and a lab node booting at once takes the CPU the survivor needs to start the VMs.
TN_BOOT_DELAY=${TN_BOOT_DELAY:-10}

# shellcheck source=lib/clock.sh
. "$TN_TOP/lab/lib/clock.sh"
tn_in() { "$TN_LAB" exec "$@"; }
tn_ctl() { "$TN_LAB" exec "$TN_CTL" "$@"; }
tn_other() { echo $((3 - $1)); }
tn_holder() { cut -d' ' -f1 "$TN_STATE/node$1/holder.pid" 2>/dev/null; }
tn_log() { echo "$TN_STATE/node$1/log-pacemaker/pacemaker.log"; }
tn_console() { echo "$TN_STATE/node$1/libvirt/log/qemu/$2.console"; }

# tn_until SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
tn_until() { lab_until --every 0.2 "$@"; }

# tn_domstate K VM: libvirt's state of VM on node K ("running", "shut off", ...), empty if none.
tn_domstate() { tn_in "$1" timeout 10 virsh -q -c qemu:///system domstate "$2" 2>/dev/null | head -n 1; }
tn_runs_on() { [ "$(tn_domstate "$1" "$2")" = running ]; }
tn_absent_on() { [ -z "$(tn_domstate "$1" "$2")" ]; }

# tn_qemu_pid K VM: the PID of VM's QEMU on node K (libvirt's pid file in the node's own /run),
# checked against the process's command line.
tn_qemu_pid() {
  local h pid
  h=$(tn_holder "$1") || return 1
  pid=$(cat "/proc/$h/root/run/libvirt/qemu/$2.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "guest=$2," && echo "$pid"
}

# tn_located VM: the node numbers Pacemaker sees VM active on (crm_resource --locate).
tn_located() {
  tn_ctl crm_resource --locate -r "$1" 2>/dev/null | sed -n 's/.* is running on: node\([0-9]\).*/\1/p' | sort -u | paste -sd ' ' -
}
# tn_only_on K VM: Pacemaker sees VM on node K only, libvirt runs it there and not elsewhere.
tn_only_on() {
  [ "$(tn_located "$2")" = "$1" ] && tn_runs_on "$1" "$2" && tn_absent_on "$(tn_other "$1")" "$2"
}
# tn_node_of VM: the one node VM runs on (exit 1 when it is not exactly one).
tn_node_of() {
  local k
  k=$(tn_located "$1")
  [[ $k =~ ^[0-9]$ ]] && echo "$k"
}
# tn_booted K VM: the Linux guest printed its "booted" marker since its QEMU started there.
tn_booted() { grep -q 'VMHA-GUEST booted' "$(tn_console "$1" "$2")" 2>/dev/null; }

# tn_mark: remembers the current length of both nodes' pacemaker.log; tn_since K prints what
# node K logged after the mark.
tn_mark() {
  local k
  for k in 1 2; do TN_MARK[k]=$(stat -c %s "$(tn_log "$k")" 2>/dev/null || echo 0); done
}
tn_since() { tail -c +"$((${TN_MARK[$1]:-0} + 1))" "$(tn_log "$1")" 2>/dev/null; }

# tn_await_failover K SECONDS T0 FENCE_LINES VM...: after node K's power cut at T0 (lab_now_ms),
# polls every 0.2 s, for at most SECONDS, until lab/fence_lab has logged node K's reboot (in
# fence.log past its first FENCE_LINES lines) and every VM runs on the other node. Sets, in ms
# after T0 (empty for what did not happen): TN_FENCED, TN_VM[VM], TN_ALL (all of it done), and,
# when TN_SAY names a command that prints a line, TN_DECIDED (the survivor's log says it will
# fence node K); TN_SAY is then told of each event as it is seen. Fails when not all happened.
tn_await_failover() {
  local k=$1 secs=$2 t0=$3 lines=$4 s now left v deadline
  shift 4
  s=$(tn_other "$k")
  TN_DECIDED='' TN_FENCED='' TN_ALL=''
  declare -gA TN_VM=()
  deadline=$(($(lab_now_ms) + secs * 1000))
  while [ "$(lab_now_ms)" -lt "$deadline" ]; do
    now=$(($(lab_now_ms) - t0))
    if [ -n "${TN_SAY:-}" ] && [ -z "$TN_DECIDED" ] && tn_since "$s" | grep -q "node$k will be fenced"; then
      TN_DECIDED=$now
      "$TN_SAY" "$(lab_secs "$now") s: node$s noticed node$k is gone and decided to fence it"
    fi
    if [ -z "$TN_FENCED" ] && tail -n +$((lines + 1)) "$TN_STATE/fence.log" | grep -q "reboot node$k: powered off"; then
      TN_FENCED=$now
      if [ -n "${TN_SAY:-}" ]; then "$TN_SAY" "$(lab_secs "$now") s: node$k fenced (fence_lab: powered off, power-on started)"; fi
    fi
    left=0
    for v in "$@"; do
      [ -z "${TN_VM[$v]:-}" ] || continue
      if tn_runs_on "$s" "$v"; then
        TN_VM[$v]=$now
        if [ -n "${TN_SAY:-}" ]; then "$TN_SAY" "$(lab_secs "$now") s: $v runs on node$s"; fi
      else
        left=1
      fi
    done
    if [ "$left" = 0 ] && [ -n "$TN_FENCED" ]; then
      TN_ALL=$now
      break
    fi
    sleep 0.2
  done
  [ -n "$TN_ALL" ]
}
declare -a TN_MARK=()

# tn_lab_crm OUT [ACPI_VM STOP_TIMEOUT DESTROY_RESERVE]: writes the lab's version of the
# example to OUT (see the header). The optional ACPI_VM (a BIOS guest) gets no force_stop,
# the given stop timeout and destroy_reserve instead: the guest that ignores ACPI and must be
# destroyed by the agent within the stop timeout.
tn_lab_crm() {
  local out=$1 acpi=${2:-} stopt=${3:-} reserve=${4:-}
  sed -e 's/stonith:fence_ipmilan/stonith:fence_lab/' \
    -e "s|ip=[^ ]* username=[^ ]* password=[^ ]* lanplus=1|lab_state=$TN_STATE boot_delay=$TN_BOOT_DELAY|" \
    -e 's/ocf:linbit:drbd\( \|$\)/ocf:linbit:drbdsim\1/' \
    -e "s|/etc/libvirt/qemu/|$TN_SHARED/|" \
    -e 's/migration_transport=ssh/migration_transport=tcp/' "$TN_EXAMPLE" |
    awk -v linux="$TN_LINUX" -v acpi="$acpi" -v stopt="$stopt" -v reserve="$reserve" -v provider="$TN_PROVIDER" '
      /^primitive / { cur = $2 }
      /^[^ ]/ && !/^primitive / { cur = "" }
      cur ~ /^vm-/ && provider != "vmha" {
        sub(/ocf:vmha:VirtualDomain/, "ocf:" provider ":VirtualDomain")
        gsub(/ drbd_resources=[^ ]*| drbd_allow_two_primaries=[^ ]*/, "")
      }
      cur ~ /^vm-/ && /^ +params / {
        if (cur == acpi && provider == "vmha") sub(/params /, "params destroy_reserve=" reserve " ")
        else if (cur != linux && cur != acpi) sub(/params /, "params force_stop=true ")
      }
      cur == acpi && /op stop timeout=/ { sub(/op stop timeout=[0-9]+s/, "op stop timeout=" stopt) }
      { print }' >"$out"
}

# tn_setup [ACPI_VM STOP_TIMEOUT DESTROY_RESERVE]: the guests' XML files, the simulated DRBD
# resources, the configuration loaded, the seed's fence-lab replaced; waits until all five
# VMs run. Sets TN_SETUP_MS (load until all run). Returns 1 (saying why) on failure.
tn_setup() {
  local vm kind t0 minor=10
  "$TN_TOP/tests/lab/make-guest" "$LAB_GUEST_DIR" >/dev/null || {
    echo "     cannot build the tiny Linux guest (tests/lab/make-guest)"
    return 1
  }
  for vm in "${TN_VMS[@]}"; do
    kind=bios
    [ "$vm" = "$TN_LINUX" ] && kind=linux
    "$TN_GUEST_TOOL" guest-xml "$vm" "$kind" >"$TN_SHARED/$vm.xml" || return 1
    # A caller's changes to a VM's XML (tests/integration/cluster_check.sh adds a NIC, a CD-ROM).
    if declare -F tn_xml_hook >/dev/null; then tn_xml_hook "$vm" "$TN_SHARED/$vm.xml" || return 1; fi
    minor=$((minor + 1))
    "$TN_LAB" drbdsim define "$vm" --nodes node1,node2 --minor "$minor" --allow-two-primaries --auto-promote no >/dev/null || {
      echo "     cannot define the simulated DRBD resource $vm"
      return 1
    }
  done
  tn_lab_crm "$TN_STATE/two-node-lab.crm" "$@"
  t0=$(lab_now_ms)
  tn_ctl crm configure load update "$TN_STATE/two-node-lab.crm" || {
    echo "     crm configure load update $TN_STATE/two-node-lab.crm failed"
    return 1
  }
  # The example's devices replace the seed's fence-lab once they run.
  tn_until 60 tn_fence_devices_started || {
    echo "     fence-node1 and fence-node2 did not start"
    return 1
  }
  tn_ctl cibadmin -D -o resources -X '<primitive id="fence-lab"/>' >/dev/null || return 1
  tn_until 150 tn_all_running || {
    echo "     not all five VMs run after 150 s"
    return 1
  }
  # A VM may start after its DRBD's first promotion; the second follows.
  tn_until 60 tn_all_promoted || {
    echo "     not every DRBD clone is promoted on both nodes after 60 s"
    return 1
  }
  # shellcheck disable=SC2034 # for the caller
  TN_SETUP_MS=$(($(lab_now_ms) - t0))
}
tn_fence_devices_started() {
  local out
  out=$(tn_ctl crm_mon -1) || return 1
  grep -q 'fence-node1.*Started' <<<"$out" && grep -q 'fence-node2.*Started' <<<"$out"
}
# tn_promoted: the number of Promoted DRBD clone instances (crm_mon's XML: its text output
# splits a clone's line while an operation on an instance is pending).
tn_promoted() { tn_ctl crm_mon -1 --output-as=xml 2>/dev/null | grep -c '<resource id="drbd-vm-[^"]*" [^>]*role="Promoted" active="true"'; }
tn_all_promoted() { [ "$(tn_promoted)" = $((2 * ${#TN_VMS[@]})) ]; }
tn_all_running() {
  local vm k
  for vm in "${TN_VMS[@]}"; do
    k=$(tn_node_of "$vm") || return 1
    tn_runs_on "$k" "$vm" || return 1
  done
}

# tn_cleanup [--purge]: the lab down, and the guests' XML files gone (before, so that down can
# remove the shared directory it created). --purge: also the state directory with the logs.
tn_cleanup() {
  local vm
  for vm in "${TN_VMS[@]}"; do rm -f "$TN_SHARED/$vm.xml"; done
  rm -f "$TN_STATE/two-node-lab.crm"
  "$TN_LAB" down "$@"
}
