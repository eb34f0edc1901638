#!/usr/bin/env bash
# The examples users copy, loaded into offline CIBs with crmsh and pcs and verified.
# usage: examples.sh <examples-dir>
. "$(dirname "$0")/lib.sh"
examples=$1
need cibadmin pacemaker-cli-utils
need crm_verify pacemaker-cli-utils
need crm crmsh
need pcs pcs
need xmllint libxml2-utils
# The two-node examples fence with fence_ipmilan: crmsh and pcs read its metadata.
need fence_ipmilan fence-agents
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

new_cib() {
  cibadmin --empty >"$1"
  CIB_file=$1 crm_attribute -t crm_config -n stonith-enabled -v false
}

# count XPATH CIB: the number of nodes XPATH selects in CIB.
count() { xmllint --xpath "count($1)" "$2" 2>/dev/null; }
is() { # is <expected> <xpath> <cib>
  local got
  got=$(count "$2" "$3")
  [ "$got" = "$1" ] || { echo "     expected $1, got $got: $2"; return 1; }
}
# two_node_checks <label> <cib>: the company's two-node setup (two-node.crm, two-node.sh).
two_node_checks() {
  local l=$1 cib=$2 vm
  check "$l: stonith-enabled=true" is 1 "//cluster_property_set/nvpair[@name='stonith-enabled'][@value='true']" "$cib"
  check "$l: two fence_ipmilan devices, one per node" is 2 "//primitive[@class='stonith'][@type='fence_ipmilan']" "$cib"
  check "$l: resource-stickiness=100 by default" is 1 "//rsc_defaults//nvpair[@name='resource-stickiness'][@value='100']" "$cib"
  for vm in vm-resolver vm-radius1 vm-radius2 vm-web vm-telephony; do
    local p="//primitive[@id='$vm'][@class='ocf'][@provider='vmha'][@type='VirtualDomain']"
    local c="//clone[@id='drbd-$vm-clone'][primitive[@class='ocf'][@provider='linbit'][@type='drbd']]"
    check "$l: $vm is ocf:vmha:VirtualDomain with allow-migrate=true" \
      is 1 "${p}[meta_attributes/nvpair[@name='allow-migrate'][@value='true']]" "$cib"
    check "$l: $vm: drbd_resources=$vm drbd_allow_two_primaries=true" \
      is 2 "$p/instance_attributes/nvpair[(@name='drbd_resources' and @value='$vm') or (@name='drbd_allow_two_primaries' and @value='true')]" "$cib"
    check "$l: $vm: start/stop 90s, monitor 10s/30s, migrate_to 120s, migrate_from 60s" \
      is 5 "$p/operations/op[(@name='start' and @timeout='90s') or (@name='stop' and @timeout='90s') or (@name='monitor' and @interval='10s' and @timeout='30s') or (@name='migrate_to' and @timeout='120s') or (@name='migrate_from' and @timeout='60s')]" "$cib"
    check "$l: drbd-$vm-clone is promotable, promoted-max=2, notify=true" \
      is 3 "$c/meta_attributes/nvpair[(@name='promotable' and @value='true') or (@name='promoted-max' and @value='2') or (@name='notify' and @value='true')]" "$cib"
    check "$l: $vm colocated with drbd-$vm-clone Promoted (INFINITY)" \
      is 1 "//rsc_colocation[@rsc='$vm'][@with-rsc='drbd-$vm-clone'][@with-rsc-role='Promoted' or @with-rsc-role='Master'][@score='INFINITY']" "$cib"
    check "$l: $vm started after drbd-$vm-clone is promoted" \
      is 1 "//rsc_order[@first='drbd-$vm-clone'][@first-action='promote'][@then='$vm'][@then-action='start']" "$cib"
  done
  check "$l: vm-radius1 and vm-radius2 kept apart (negative colocation)" \
    is 1 "//rsc_colocation[(@rsc='vm-radius2' and @with-rsc='vm-radius1') or (@rsc='vm-radius1' and @with-rsc='vm-radius2')][number(@score) < 0]" "$cib"
}

for file in "$examples"/crm/*.crm; do
  name=$(basename "$file")
  new_cib "$tmp/crm.xml"
  check "crm configure load $name" env CIB_file="$tmp/crm.xml" crm configure load update "$file"
  check "crm_verify after $name" crm_verify -x "$tmp/crm.xml"
  check "$name defines a vmha resource" grep -q 'provider="vmha"' "$tmp/crm.xml"
  if [ "$name" = two-node.crm ]; then
    two_node_checks "$name" "$tmp/crm.xml"
    cp "$tmp/crm.xml" "$tmp/two-node-crm.xml"
  fi
done
for file in "$examples"/pcs/*.sh; do
  name=$(basename "$file")
  new_cib "$tmp/pcs.xml"
  check "pcs -f runs $name" sh "$file" -f "$tmp/pcs.xml"
  check "crm_verify after $name" crm_verify -x "$tmp/pcs.xml"
  check "$name got the advertised migrate_to timeout" grep -q 'name="migrate_to".*timeout="120s"' "$tmp/pcs.xml"
  if [ "$name" = two-node.sh ]; then
    two_node_checks "$name" "$tmp/pcs.xml"
    cp "$tmp/pcs.xml" "$tmp/two-node-pcs.xml"
  fi
done
# The two versions of the two-node setup configure the same resources and constraints.
summary() { # the ids of primitives, clones and constraints, and the VMs' parameters
  xmllint --xpath '//primitive/@id | //clone/@id | //rsc_colocation/@rsc | //rsc_order/@then | //primitive[@provider="vmha"]/instance_attributes/nvpair/@value' "$1" |
    tr ' ' '\n' | sed '/^$/d' | sort
}
same() { [ -f "$1" ] && [ -f "$2" ] && [ "$(summary "$1")" = "$(summary "$2")" ]; }
check "two-node.crm and two-node.sh configure the same resources, parameters and constraints" \
  same "$tmp/two-node-crm.xml" "$tmp/two-node-pcs.xml"
finish
