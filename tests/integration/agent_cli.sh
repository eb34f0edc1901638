#!/usr/bin/env bash
# The built agent binary, run as Pacemaker and admins run it, and its manual page.
# usage: agent_cli.sh <path-to-VirtualDomain> <path-to-ocf_vmha_VirtualDomain.7>
. "$(dirname "$0")/lib.sh"
agent=$1
man_page=$2
need xmllint libxml2-utils
need setpriv util-linux
need groff groff-base

check "an unknown action exits 3" expect_rc 3 "$agent" bogus
check "... with an exit reason" test "$(last_reason "$agent" bogus)" = "bogus: action not supported"
check "no action exits 3" expect_rc 3 "$agent"
check "meta-data with an empty environment exits 0" expect_rc 0 env -i "$agent" meta-data
check "meta-data ignores further arguments" expect_rc 0 env -i "$agent" meta-data x y --z
check "meta-data is valid against ra-api-1.dtd" \
  sh -c "env -i '$agent' meta-data | xmllint --noout --valid --path /usr/share/resource-agents -"
check "meta-data works as nobody" \
  expect_rc 0 setpriv --reuid=nobody --regid=nogroup --clear-groups "$agent" meta-data
check "validate-all without config exits 6" expect_rc 6 env -i "$agent" validate-all
check "... naming the parameter" \
  test "$(last_reason env -i "$agent" validate-all)" = "required parameter 'config' is not set"
config=$(mktemp --suffix=.xml)
echo "<domain type='qemu'><name>vm1</name></domain>" >"$config"
check "validate-all with a config exits 0" expect_rc 0 env -i OCF_RESKEY_config="$config" "$agent" validate-all
check "validate-all with a config missing here exits 5" \
  expect_rc 5 env -i OCF_RESKEY_config=/nonexistent/vm1.xml "$agent" validate-all
rm -f "$config"
check "the front loads no libvirt and no libxml2" sh -c "! ldd '$agent' 2>/dev/null | grep -Eq 'libvirt|libxml2'"
check "usage exits 0" expect_rc 0 "$agent" usage
check "--version names vmha" sh -c "'$agent' --version | grep -q '(vmha)'"
params=$(env -i "$agent" meta-data | xmllint --xpath '//parameter/@name' - | sed 's/ name="\([^"]*\)"/\1\n/g')
help=$("$agent" --help)
check "the meta-data names the parameters to look for" test "$(wc -w <<<"$params")" -gt 30
check "--help lists every action with its timeout" sh -c "echo \"\$1\" | grep -Eq '^  migrate_to +120s'" _ "$help"
every_param_in() { local p; for p in $params; do grep -q "$p" <<<"$1" || { echo "     missing: $p"; return 1; }; done; }
check "--help lists every parameter of the meta-data" every_param_in "$help"
check "--help names the manual page" grep -q "man 7 ocf_vmha_VirtualDomain" <<<"$help"
check "the manual page renders without a warning" sh -c "[ -z \"\$(groff -man -Tutf8 -ww -z '$man_page' 2>&1)\" ]"
page=$(groff -man -Tutf8 "$man_page" 2>/dev/null | sed 's/\x1b\[[0-9;]*m//g; s/.\x08//g')
check "the manual page describes every parameter" every_param_in "$page"
check "... and has the crm and pcs examples" sh -c "echo \"\$1\" | grep -q 'primitive p_vm ocf:vmha:VirtualDomain' && echo \"\$1\" | grep -q 'pcs resource create p_vm'" _ "$page"
check "stderr holds nothing after the exit reason" \
  sh -c "'$agent' bogus 2>&1 >/dev/null | tail -n 1 | grep -q '^ocf-exit-reason:'"
finish
