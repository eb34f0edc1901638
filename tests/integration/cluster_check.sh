#!/usr/bin/env bash
# vmha check and vmha status on a real 2-node cluster (lab/vmha-lab up 2) running the five VMs
# of examples/crm/two-node.crm under ocf:vmha:VirtualDomain (DRBD simulated). vm-telephony gets
# a NIC on the bridge br-lab (made in each node's network namespace) and a CD-ROM image from
# the shared directory. vmha check must say ready on both nodes, then each kind of drift is
# seeded on the node that does not run the VM, and must be reported with the resource's name:
# config differs, config missing, disk missing, DRBD Outdated, a DRBD resource missing (an
# offline CIB, CIB_file), bridge missing, CPU model not offered, memory short. vmha status shows
# every VM, and the guest agent's answer to a depth-10 monitor. Results: one line per seed.
# usage: cluster_check.sh [results-file] [lab-subreaper]
. "$(dirname "$0")/lib.sh"
need_root
need corosync corosync
need pacemakerd pacemaker
need crm_mon pacemaker-cli-utils
need crm crmsh
need pcs pcs
need libvirtd libvirt-daemon
need virsh libvirt-clients
need qemu-system-x86_64 qemu-system-x86
need python3 python3
need nsenter util-linux
need ip iproute2
need vmha "vmha (cmake --install)"
quiet() { "$@" >/dev/null 2>&1; }
results=${1:-/tmp/vmha-cluster-check.txt}
if [ -n "${2:-}" ]; then export LAB_SUBREAPER=$2; fi
export VMHA_LAB_STATE=${VMHA_LAB_STATE:-/tmp/vmha-test-check}
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../../lab/two-node-lib.sh
. "$top/lab/two-node-lib.sh"
work=$(mktemp -d)
trap 'tn_cleanup >/dev/null 2>&1; rm -rf "$work"' EXIT
"$TN_LAB" down >/dev/null 2>&1 # a lab left over by an interrupted run
mkdir -p "$(dirname "$results")"
echo "# cluster_check.sh $(date '+%F %T') on $(uname -n)" >>"$results"

vm_nic='vm-telephony'
media=$TN_SHARED/media
# tn_xml_hook VM FILE: vm-telephony gets a NIC on br-lab and a CD-ROM from $media.
tn_xml_hook() {
  [ "$1" = "$vm_nic" ] || return 0
  python3 - "$2" "$media/$1.iso" <<'PY'
import sys
path, iso = sys.argv[1], sys.argv[2]
text = open(path).read()
extra = f"""    <interface type='bridge'>
      <source bridge='br-lab'/>
      <model type='e1000'/>
    </interface>
    <disk type='file' device='cdrom'>
      <source file='{iso}'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>
  </devices>"""
open(path, "w").write(text.replace("  </devices>", extra, 1))
PY
}

# --- the lab ------------------------------------------------------------------------------------
echo "--- lab up, br-lab on both nodes, the five VMs"
"$TN_LAB" up 2 2>&1 | sed 's/^/     /'
check "vmha-lab up 2" test "${PIPESTATUS[0]}" = 0
for k in 1 2; do
  check "node$k: bridge br-lab" tn_in "$k" sh -c 'ip link add br-lab type bridge && ip link set br-lab up'
done
mkdir -p "$media"
head -c 1048576 /dev/zero >"$media/$vm_nic.iso"
if ! tn_setup; then
  check "the two-node configuration loads and its five VMs run" false
  tail -n 30 "$(tn_log 1)" | sed 's/^/     /'
  finish
  exit 1
fi
check "the two-node configuration loads and its five VMs run" true

# vmha_check K [ARGS...]: vmha check on node K (5 vCPUs on the lab's 2 CPUs: --vcpu-ratio 4);
# its output in $work/out, its exit status printed.
check_env=()
vmha_check() {
  local k=$1
  shift
  tn_in "$k" env "${check_env[@]}" vmha check --vcpu-ratio 4 "$@" >"$work/out" 2>"$work/err"
  echo $?
}
says() { grep -qE -- "$1" "$work/out" || { sed 's/^/     | /' "$work/out"; return 1; }; }
# seed NAME PATTERN: vmha check on node $o says NOT READY with a line matching PATTERN.
seed() {
  local name=$1 pattern=$2 rc
  shift 2
  rc=$(vmha_check "$o" "$@")
  check "$name: vmha check on node$o exits 1" test "$rc" = 1
  check "... and names it: $pattern" says "$pattern"
  echo -e "$name\t$rc\t$(grep -E -- "$pattern" "$work/out" | head -n 1 | sed 's/^ *//')" >>"$results"
}
# Both nodes' agents publish their config digests at the probes; wait for the running nodes'.
published() {
  local vm k
  for vm in "${TN_VMS[@]}"; do
    k=$(tn_node_of "$vm") || return 1
    tn_ctl crm_attribute --node "node$k" --name "vmha-config-$vm" --lifetime reboot --query >/dev/null 2>&1 || return 1
  done
}
check "every running node published its VMs' config digests" tn_until 60 published

# --- healthy -------------------------------------------------------------------------------------
echo "--- a healthy cluster is ready on both nodes"
for k in 1 2; do
  t0=$(lab_now_ms)
  rc=$(vmha_check "$k")
  took=$(($(lab_now_ms) - t0))
  check "node$k: vmha check exits 0 (READY) in $(lab_secs "$took") s" test "$rc" = 0
  check "... under 2 s" test "$took" -lt 2000
  says "READY" >/dev/null || true
  sed 's/^/     | /' "$work/out"
  echo -e "healthy_node$k\t$rc\t$(lab_secs "$took") s" >>"$results"
done
tn_in 1 vmha check --vcpu-ratio 4 --json >"$work/json"
check "--json: one object that says ready, with five resources" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "ready" and d["exit_code"] == 0 and len(d["resources"]) == 5, d' "$work/json"

# --- each drift, on the node that does not run the VM ----------------------------------------------
echo "--- each kind of drift, seeded on one node"
vm='vm-resolver'
o=$(tn_other "$(tn_node_of "$vm")")
cfg=$TN_SHARED/$vm.xml
# Config differs: node$o's copy (a bind mount in its mount namespace) has more memory.
sed 's|<memory unit=.MiB.>64</memory>|<memory unit="MiB">96</memory>|' "$cfg" >"$work/differs.xml"
tn_in "$o" mount --bind "$work/differs.xml" "$cfg"
seed config_differs "$vm +drift +config .* differs from the copy on node"
# CPU model not offered: node$o's copy asks for Icelake-Server, which TCG does not provide.
sed "s|<vcpu>1</vcpu>|<vcpu>1</vcpu><cpu mode='custom' match='exact'><model fallback='forbid'>Icelake-Server</model></cpu>|" \
  "$cfg" >"$work/cpu.xml"
tn_in "$o" mount --bind "$work/cpu.xml" "$cfg"
seed cpu_not_offered "$vm +cpu +guest CPU model Icelake-Server is not offered by this host"
tn_in "$o" umount "$cfg"
tn_in "$o" umount "$cfg"
# Config missing: node$o sees the shared directory without this VM's file (a tmpfs over it,
# holding copies of everything else, so the VMs running there keep their configs).
mkdir -p "$work/shared"
cp -a "$TN_SHARED/." "$work/shared/"
rm -f "$work/shared/$vm.xml"
tn_in "$o" sh -c 'mount -t tmpfs none "$1" && cp -a "$2/." "$1/"' sh "$TN_SHARED" "$work/shared"
seed config_missing "$vm +config +config .* is missing on this node"
tn_in "$o" umount "$TN_SHARED"
check "node$o: ready again once the seeds are gone" test "$(vmha_check "$o")" = 0

vm=$vm_nic
o=$(tn_other "$(tn_node_of "$vm")")
# Disk missing: node$o's view of the media directory is empty.
tn_in "$o" mount -t tmpfs none "$media"
seed disk_missing "$vm +disk +disk $media/$vm.iso \(hdc\) is missing on this node"
tn_in "$o" umount "$media"
# Bridge missing: br-lab deleted in node$o's network namespace.
tn_in "$o" ip link del br-lab
seed bridge_missing "$vm +bridge +bridge br-lab does not exist on this node"
tn_in "$o" sh -c 'ip link add br-lab type bridge && ip link set br-lab up'
# DRBD Outdated on node$o.
"$TN_LAB" drbdsim set-disk "$vm" "node$o" Outdated >/dev/null
seed drbd_outdated "$vm +drbd +DRBD $vm: .*Outdated"
"$TN_LAB" drbdsim set-disk "$vm" "node$o" UpToDate >/dev/null
# A DRBD resource missing on this node: an offline CIB (CIB_file) whose vm-telephony names a
# DRBD resource that was never created here.
tn_ctl cibadmin --query >"$work/cib.xml"
python3 - "$work/cib.xml" "$vm" <<'PY'
import sys, xml.etree.ElementTree as ET
path, vm = sys.argv[1], sys.argv[2]
tree = ET.parse(path)
for p in tree.iter("primitive"):
    if p.get("id") == vm:
        for nv in p.iter("nvpair"):
            if nv.get("name") == "drbd_resources":
                nv.set("value", vm + "-data")
tree.write(path)
PY
check_env=("CIB_file=$work/cib.xml")
seed drbd_missing "$vm +drbd +DRBD $vm-data: .*" --node "node$o"
check "... with --json too: not-ready" test "$(vmha_check "$o" --node "node$o" --json)" = 1
check "... one object that names the resource's drbd finding" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
found = [f for r in d["resources"] if r["id"] == sys.argv[2] for f in r["findings"] if f["check"] == "drbd"]
assert d["status"] == "not-ready" and found, d' "$work/out" "$vm"
check_env=()
check "node$o: ready again once the seeds are gone" test "$(vmha_check "$o")" = 0
# Memory short: the host must keep all but 100 MiB of its memory for itself.
total_mib=$(($(tn_in "$o" virsh -q -c qemu:///system nodeinfo | awk '/Memory size/ { print $3 }') / 1024))
seed memory_short "capacity +memory +memory short: 5 VMs need" --memory-reserve "$((total_mib - 100))"
check "... and READY without the reserve" test "$(vmha_check "$o")" = 0

# --- vmha status -----------------------------------------------------------------------------------
echo "--- vmha status"
vm=$TN_LINUX
k=$(tn_node_of "$vm")
check "a depth-10 monitor on $vm (pcs)" quiet tn_ctl pcs resource op add "$vm" monitor interval=5s timeout=20s OCF_CHECK_LEVEL=10
answered() { tn_in "$k" vmha status >"$work/status" 2>&1 && grep -A6 "^$vm " "$work/status" | grep -q "guest agent: *answered"; }
check "vmha status on node$k shows $vm's guest agent answering" tn_until 90 answered
sed 's/^/     | /' "$work/status"
for v in "${TN_VMS[@]}"; do
  check "... lists $v with the node it runs on" grep -qE "^$v \(Started\) on node[12]" "$work/status"
done
check "... libvirt's state of $vm here: running" grep -A2 "^$vm " "$work/status" | grep -q "libvirt here: *$vm: running"
check "... its DRBD resource on both nodes" grep -A3 "^$vm " "$work/status" | grep -qE "drbd: *$vm: node$k Primary/UpToDate, node[12] Primary/UpToDate"
check "... its last start" grep -A7 "^$vm " "$work/status" | grep -qE "last start: *started on node[12] at .* in [0-9.]+ s"
tn_in "$k" vmha status --json >"$work/status.json"
check "vmha status --json: five VMs" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["vms"]) == 5 and all(v["nodes"] for v in d["vms"]), d' "$work/status.json"
finish
