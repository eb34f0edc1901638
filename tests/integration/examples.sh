#!/usr/bin/env bash
# The examples users copy, loaded into offline CIBs with crmsh and pcs and verified.
# usage: examples.sh <examples-dir>
. "$(dirname "$0")/lib.sh"
examples=$1
need cibadmin pacemaker-cli-utils
need crm_verify pacemaker-cli-utils
need crm crmsh
need pcs pcs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

new_cib() {
  cibadmin --empty >"$1"
  CIB_file=$1 crm_attribute -t crm_config -n stonith-enabled -v false
}

for file in "$examples"/crm/*.crm; do
  name=$(basename "$file")
  new_cib "$tmp/crm.xml"
  check "crm configure load $name" env CIB_file="$tmp/crm.xml" crm configure load update "$file"
  check "crm_verify after $name" crm_verify -x "$tmp/crm.xml"
  check "$name defines a vmha resource" grep -q 'provider="vmha"' "$tmp/crm.xml"
done
for file in "$examples"/pcs/*.sh; do
  name=$(basename "$file")
  new_cib "$tmp/pcs.xml"
  check "pcs -f runs $name" sh "$file" -f "$tmp/pcs.xml"
  check "crm_verify after $name" crm_verify -x "$tmp/pcs.xml"
  check "$name got the advertised migrate_to timeout" grep -q 'name="migrate_to".*timeout="120s"' "$tmp/pcs.xml"
done
finish
