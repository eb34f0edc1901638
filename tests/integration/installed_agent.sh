#!/usr/bin/env bash
# The installed agent, through Pacemaker's, crmsh's and pcs's own tools.
# usage: installed_agent.sh <ocf-root>
. "$(dirname "$0")/lib.sh"
root=$1
agent=$root/resource.d/vmha/VirtualDomain
stock=$root/resource.d/heartbeat/VirtualDomain
need crm_resource pacemaker-cli-utils
need crm crmsh
need pcs pcs
need xmllint libxml2-utils
need setpriv util-linux

check "the agent is installed with mode 0755" test "$(stat -c %a "$agent")" = 755
check "an unknown action exits 3 (OCF_ROOT set)" expect_rc 3 env OCF_ROOT="$root" "$agent" bogus
check "... with an exit reason" \
  test "$(last_reason env OCF_ROOT="$root" "$agent" bogus)" = "bogus: action not supported"
check "validate-all without config exits 6" expect_rc 6 env OCF_ROOT="$root" "$agent" validate-all
check "meta-data passes xmllint --valid as ocf-tester runs it" \
  sh -c "cd /usr/share/resource-agents && '$agent' meta-data | xmllint --noout --valid -"
check "meta-data works as nobody from the installed location" \
  expect_rc 0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$agent" meta-data

crm_validate() {
  crm_resource --validate --class ocf --provider vmha --agent VirtualDomain "$@"
}
config=$(mktemp --suffix=.xml)
echo "<domain type='qemu'><name>vm1</name></domain>" >"$config"
check "crm_resource --validate with a config returns 0" expect_rc 0 crm_validate --option config="$config"
check "crm_resource --validate with a config missing here returns 5" \
  expect_rc 5 crm_validate --option config=/nonexistent/vm1.xml
rm -f "$config"
check "crm_resource --validate with a bad boolean returns 6" \
  expect_rc 6 crm_validate --option config=/etc/vm1.xml --option force_stop=maybe
check "crm_resource --validate without config returns 6" expect_rc 6 crm_validate
check "crm_resource --show-metadata finds the agent" \
  sh -c "crm_resource --show-metadata ocf:vmha:VirtualDomain | grep -q 'resource-agent name=\"VirtualDomain\"'"

crm_info=$(crm ra info ocf:vmha:VirtualDomain 2>&1)
check "crm ra info shows config as required" grep -q 'config\*' <<<"$crm_info"
check "crm ra info shows the start timeout" grep -Eq 'start +timeout=90s?' <<<"$crm_info"

pcs_out=$(pcs resource describe ocf:vmha:VirtualDomain 2>&1)
# Every parameter of the stock agent, with its default, must be listed by pcs for ours.
params=$(OCF_ROOT=$root "$stock" meta-data | xmllint --xpath '//parameter/@name' - | sed 's/ name="\([^"]*\)"/\1\n/g')
count=0
for p in $params; do
  count=$((count + 1))
  check "pcs lists parameter $p" grep -Eq "^  $p( \(required\))?( \(unique\))?:" <<<"$pcs_out"
done
check "the stock agent has 27 parameters and pcs lists them all" test "$count" = 27
# pcs 0.11.5 prints no defaults for any agent; crmsh does ("name (type, [default])").
check "crm ra info shows the defaults (force_stop: false)" grep -q '^force_stop (boolean, \[false\])' <<<"$crm_info"
check "crm ra info shows the defaults (autoset_utilization_cpu: true)" \
  grep -q '^autoset_utilization_cpu (boolean, \[true\])' <<<"$crm_info"
check "pcs lists trace_ra" grep -q '^  trace_ra' <<<"$pcs_out"

# Parameter for parameter: the same types and defaults as the stock agent.
tmp=$(mktemp -d)
OCF_ROOT=$root "$stock" meta-data >"$tmp/stock.xml"
"$agent" meta-data >"$tmp/ours.xml"
check "types and defaults match ocf:heartbeat:VirtualDomain" "$(dirname "$0")/compare_metadata.py" "$tmp/stock.xml" "$tmp/ours.xml"
rm -rf "$tmp"
finish
