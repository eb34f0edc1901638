#!/usr/bin/env bash
# The Debian package built by tools/package (test "package: build with tools/package"), as a new
# user gets it: installed with apt, every file it owns present, ocf-tester passing against the
# installed ocf:vmha:VirtualDomain on a private libvirtd with only config and hypervisor, the
# manual page and crm_resource's meta-data; upgraded to a later version that no longer ships one
# file; purged. Neither the upgrade nor the purge may leave a file behind.
# The cmake-installed agent (test "install: cmake --install") lives at some of the same paths:
# its files are removed first and put back at exit by cmake --install <build-dir>; every test of
# the installed agent holds the resource lock installed-agent, so none runs meanwhile.
# usage: package.sh <package-dir> <build-dir> <lab-subreaper>
. "$(dirname "$0")/lib.sh"
need_root
need apt-get apt
need dpkg-deb dpkg
need cmake cmake
need ocf-tester resource-agents
need crm_resource pacemaker-cli-utils
need man man-db
need readelf binutils
need virsh libvirt-clients
packages=$1 build=$2 subreaper=$3
export DEBIAN_FRONTEND=noninteractive

debs=("$packages"/vmha_*.deb)
dbgsyms=("$packages"/vmha-dbgsym_*.deb)
if [ "${#debs[@]}" != 1 ] || [ ! -f "${debs[0]}" ]; then
  echo "FAIL - expected one vmha_*.deb in $packages (test \"package: build with tools/package\"), found: ${debs[*]}"
  exit 1
fi
deb=$(realpath "${debs[0]}")
version=$(dpkg-deb -f "$deb" Version)
state() { dpkg-query -W -f='${db:Status-Status} ${Version}' vmha 2>/dev/null; }
absent() { case $(state) in "" | not-installed*) return 0 ;; *) return 1 ;; esac; }
if ! absent; then
  echo "FAIL - vmha is on this system already ($(state)); this test installs and purges it: purge it first"
  exit 1
fi

tmp=$(mktemp -d)
installed=0 # this test installed vmha: purge it at exit
removed=0   # this test removed cmake-installed files: put them back at exit
cleanup() {
  [ "$installed" = 0 ] || dpkg --purge vmha >/dev/null 2>&1 || echo "     cannot purge vmha"
  if [ "$removed" = 1 ]; then
    cmake --install "$build" >/dev/null || echo "     cannot restore the cmake-installed agent (cmake --install $build)"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# Files of the cmake install (its manifest), and any file outside dpkg at a path the package uses,
# go; then the directories of vmha's own they leave empty. (dpkg would overwrite a file it does
# not know without a word, and the purge would then take it away.)
remove_unowned() {
  [ -e "$1" ] || [ -L "$1" ] || return 0
  dpkg -S "$1" >/dev/null 2>&1 && return 0
  rm -f "$1"
  removed=1
  local dir=${1%/*}
  while [[ $dir == */vmha* ]] && rmdir "$dir" 2>/dev/null; do dir=${dir%/*}; done
}
if [ -s "$build/install_manifest.txt" ]; then
  while IFS= read -r f; do remove_unowned "$f"; done <"$build/install_manifest.txt"
fi
while IFS= read -r f; do remove_unowned "$f"; done < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./|/|; /[^/]$/p')
[ "$removed" = 0 ] || echo "     removed the cmake-installed files; they come back at exit"

# Where the package installs (vmha's directories, /usr/share/man, /etc and the directory of every
# file it ships, e.g. /usr/sbin): what is there without vmha.
mapfile -t areas < <({
  printf '%s\n' /usr/lib/ocf/resource.d/vmha /usr/libexec/vmha /usr/share/doc/vmha /usr/share/man /etc
  dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -n 's|^\./|/|; s|/[^/]*[^/]$||p'
} | sort -u)
snapshot() { find "${areas[@]}" -printf '%y %p\n' 2>/dev/null | sort -u; }
snapshot >"$tmp/before"

# 1. Install, dependencies resolved by apt.
installed=1
apt-get install -y "$deb" >"$tmp/apt-install.log" 2>&1
check "apt-get install $deb" test "$(state)" = "installed $version"
grep -E '^(E|W):' "$tmp/apt-install.log" | sed 's/^/     /'
all_owned_exist() {
  local missing=0 f
  while IFS= read -r f; do
    [ -e "$f" ] || [ -L "$f" ] || { echo "     missing: $f"; missing=1; }
  done < <(dpkg-query -L vmha)
  [ "$missing" = 0 ]
}
check "every file dpkg says vmha owns exists" all_owned_exist
check "dpkg --verify vmha: every file as packaged" test -z "$(dpkg --verify vmha)"
agent=/usr/lib/ocf/resource.d/vmha/VirtualDomain
full=/usr/libexec/vmha/VirtualDomain-full
owned() { dpkg-query -L vmha | grep -qxF "$1"; }
check "the agent is in the OCF root, mode 0755" sh -c "test \"\$(stat -c %a $agent)\" = 755"
check "... owned by vmha" owned "$agent"
check "the full agent is in /usr/libexec/vmha, owned by vmha" owned "$full"
check "the docs are in /usr/share/doc/vmha, .md uncompressed" owned /usr/share/doc/vmha/drbd.md
check "the examples are in /usr/share/doc/vmha/examples" owned /usr/share/doc/vmha/examples/crm/two-node.crm
check "man -w ocf_vmha_VirtualDomain finds the packaged page" \
  sh -c 'man -aw ocf_vmha_VirtualDomain | grep -qx /usr/share/man/man7/ocf_vmha_VirtualDomain.7.gz'
check "man 7 ocf_vmha_VirtualDomain renders" sh -c 'MANWIDTH=80 man 7 ocf_vmha_VirtualDomain 2>&1 | grep -q "migrate_from"'
crm_resource --show-metadata ocf:vmha:VirtualDomain >"$tmp/metadata.xml" 2>&1
check "crm_resource --show-metadata ocf:vmha:VirtualDomain" \
  grep -q "<resource-agent name=\"VirtualDomain\" version=\"${version%%[+~]*}\"" "$tmp/metadata.xml"
dpkg-deb -c "${dbgsyms[0]}" >"$tmp/dbgsym-files" 2>&1
has_debug() {
  local id
  id=$(readelf -n "$1" | sed -n 's/.*Build ID: //p')
  [ -n "$id" ] && grep -q "/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug$" "$tmp/dbgsym-files"
}
check "vmha-dbgsym has the debug symbols of the agent" has_debug "$agent"
check "... and of the full agent" has_debug "$full"

# 2. ocf-tester against the installed agent on a private libvirtd with a tiny guest, as a new
# user runs it: nothing but config and hypervisor. (A subshell: start_lab's trap tears the lab
# down when it ends.)
instance=vmha-package-test
(
  start_lab /tmp/vmha-test-package "$subreaper"
  # shellcheck disable=SC2154 # lab, uri and work come from start_lab (lib.sh)
  : "$lab" "$uri" "$work"
  "$lab" guest-xml "$instance" linux 1 >"$work/$instance.xml" || exit 1
  t0=$(date +%s)
  timeout 300 ocf-tester -n "$instance" -o config="$work/$instance.xml" -o hypervisor="$uri" \
    "$agent" >"$tmp/ocf-tester.log" 2>&1
  echo $? >"$tmp/ocf-tester.rc"
  echo "     ocf-tester took $(($(date +%s) - t0)) s"
  timeout 10 virsh -c "$uri" list --all --name >"$tmp/domains" 2>&1
)
sed 's/^/     /' "$tmp/ocf-tester.log"
check "ocf-tester passes all its tests with only config and hypervisor" \
  sh -c "test \"\$(cat $tmp/ocf-tester.rc 2>/dev/null)\" = 0 && grep -q 'passed all tests' $tmp/ocf-tester.log"
check "ocf-tester left no domain behind" sh -c "! grep -q $instance $tmp/domains"
rm -f /run/resource-agents/vmha-VirtualDomain-"$instance".* # the agent's records (emptied at boot)

# 3. Upgrade to a later build: the same package with a higher version that no longer ships
# lab-recipes.md (repacked: a second compile would test nothing more than the first).
next=$version+upgradetest1
dpkg-deb -R "$deb" "$tmp/next"
sed -i "s/^Version: .*/Version: $next/" "$tmp/next/DEBIAN/control"
check "the package ships lab-recipes.md (the file the upgrade drops)" test -f "$tmp/next/usr/share/doc/vmha/lab-recipes.md"
rm -f "$tmp/next/usr/share/doc/vmha/lab-recipes.md"
sed -i '\| usr/share/doc/vmha/lab-recipes.md$|d' "$tmp/next/DEBIAN/md5sums"
dpkg-deb -b "$tmp/next" "$tmp/vmha_${next}.deb" >/dev/null
dpkg-query -L vmha | sort >"$tmp/old-files"
apt-get install -y "$tmp/vmha_${next}.deb" >"$tmp/apt-upgrade.log" 2>&1
check "apt-get install of $next upgrades $version" test "$(state)" = "installed $next"
dpkg-query -L vmha | sort >"$tmp/new-files"
left_over() {
  local f stray=0
  while IFS= read -r f; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    [ -d "$f" ] && [ -n "$(ls -A "$f")" ] && continue # a directory still in use
    echo "     left over: $f"
    stray=1
  done < <(comm -23 "$tmp/old-files" "$tmp/new-files")
  [ "$stray" = 0 ]
}
check "the upgrade removed the file the new version dropped" test ! -e /usr/share/doc/vmha/lab-recipes.md
check "no file of $version is left that $next does not own" left_over
check "every file of $next exists" all_owned_exist
unowned_in_package_dirs() {
  local f stray=0
  while IFS= read -r f; do
    grep -qxF "$f" "$tmp/new-files" || { echo "     not owned by vmha: $f"; stray=1; }
  done < <(find /usr/lib/ocf/resource.d/vmha /usr/libexec/vmha /usr/share/doc/vmha 2>/dev/null)
  [ "$stray" = 0 ]
}
check "every file in vmha's directories belongs to $next" unowned_in_package_dirs
check "dpkg --verify vmha after the upgrade" test -z "$(dpkg --verify vmha)"

# 4. Purge: nothing of vmha left.
apt-get purge -y vmha >"$tmp/apt-purge.log" 2>&1
installed=0
check "apt-get purge vmha" absent
check "dpkg keeps no file about vmha" sh -c '! ls /var/lib/dpkg/info/vmha.* 2>/dev/null | grep -q .'
snapshot >"$tmp/after"
check "no stray file under the package's directories or /etc after the purge" \
  diff -u "$tmp/before" "$tmp/after"
finish
