#!/usr/bin/env bash
# The installed VirtualDomain under Pacemaker's own tools, against a real private libvirtd:
# ocf-tester runs all its steps (bounded: the stock agent hangs it in migrate_from), and
# crm_resource --force-* on an offline CIB gives the right codes.
# usage: pacemaker_libvirt.sh <ocf-root> <lab-subreaper>
. "$(dirname "$0")/lib.sh"
need_root
need ocf-tester resource-agents
need crm_resource pacemaker-cli-utils
need cibadmin pacemaker-cli-utils
need virsh libvirt-clients
root=$1
agent=$root/resource.d/vmha/VirtualDomain
start_lab /tmp/vmha-test-pacemaker "$2"
# shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
: "$lab" "$uri" "$work"
"$lab" guest-xml vm-tester linux 1 >"$work/vm-tester.xml"
"$lab" guest-xml vm-crm bios 1 >"$work/vm-crm.xml"

t0=$(date +%s)
timeout 300 ocf-tester -n vm-tester -o config="$work/vm-tester.xml" -o hypervisor="$uri" \
  -o autoset_utilization_cpu=false -o autoset_utilization_host_memory=false \
  -o autoset_utilization_hv_memory=false "$agent" >"$work/ocf-tester.log" 2>&1
rc=$?
t1=$(date +%s)
sed 's/^/     /' "$work/ocf-tester.log"
echo "     ocf-tester took $((t1 - t0)) s"
check "ocf-tester passes all its tests" test "$rc" = 0
check "ocf-tester reports no failure" grep -q 'passed all tests' "$work/ocf-tester.log"
check "ocf-tester left no domain behind" test -z "$(timeout 10 virsh -c "$uri" list --name | grep vm-tester)"

# An offline CIB with the resource defined, driven through Pacemaker's executor code.
export CIB_file=$work/cib.xml
cibadmin --empty >"$CIB_file"
cibadmin -C -o resources --xml-text "<primitive id='vm-crm' class='ocf' provider='vmha' type='VirtualDomain'>
  <instance_attributes id='vm-crm-params'>
    <nvpair id='vm-crm-config' name='config' value='$work/vm-crm.xml'/>
    <nvpair id='vm-crm-hypervisor' name='hypervisor' value='$uri'/>
    <nvpair id='vm-crm-cpu' name='autoset_utilization_cpu' value='false'/>
    <nvpair id='vm-crm-hm' name='autoset_utilization_host_memory' value='false'/>
    <nvpair id='vm-crm-hv' name='autoset_utilization_hv_memory' value='false'/>
  </instance_attributes></primitive>"
force() { crm_resource "--force-$1" -r vm-crm >>"$work/crm_resource.log" 2>&1; echo $?; }
check "crm_resource --force-check before start: 7" test "$(force check)" = 7
check "crm_resource --force-start: 0" test "$(force start)" = 0
check "crm_resource --force-check: 0" test "$(force check)" = 0
check "crm_resource --force-stop: 0 (a guest that ignores ACPI)" test "$(force stop)" = 0
check "crm_resource --force-check after stop: 7" test "$(force check)" = 7
check "crm_resource --force-stop again: 0" test "$(force stop)" = 0
sed 's/^/     /' "$work/crm_resource.log"
finish
