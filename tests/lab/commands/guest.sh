# shellcheck shell=bash
# libvirt-lab guest-xml, qemu-pid, serial, wait-booted: the guests. Sourced by
# tests/lab/libvirt-lab (usage: libvirt-lab help).

# The domain's UUID: the MD5 of its name, formatted as a UUID, so that tests can compute it
# (printf %s NAME | md5sum) and find the QEMU by its command line.
domain_uuid() {
  local h
  h=$(printf '%s' "$1" | md5sum)
  echo "${h:0:8}-${h:8:4}-${h:12:4}-${h:16:4}-${h:20:12}"
}

cmd_guest_xml() {
  local name kind mem os agent=
  name=$(domain_name "${1:-}")
  kind=${2:-}
  [[ -z ${3:-} ]] || node_num "$3" >/dev/null # accepted for symmetry; the XML is node-independent
  local type=${LAB_VIRT_TYPE:-qemu}
  [[ $type == qemu || $type == kvm ]] || die "LAB_VIRT_TYPE must be qemu or kvm, not '$type'"
  case $kind in
    bios)
      # SeaBIOS finds nothing to boot and waits forever (rebootTimeout -1: no reboot and POST
      # every 60 s); it ignores the ACPI power button.
      mem=64
      os="<boot dev='hd'/>
    <bios rebootTimeout='-1'/>"
      ;;
    linux)
      [[ -s $LAB_GUEST_DIR/vmlinuz && -s $LAB_GUEST_DIR/initrd.gz ]] ||
        die "no guest kernel in $LAB_GUEST_DIR (run tests/lab/make-guest)"
      mem=128
      # The guest runs qemu-guest-agent on this channel, and reports a panic through pvpanic.
      agent="
    <channel type='unix'>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
    <panic model='isa'/>"
      os="<kernel>$LAB_GUEST_DIR/vmlinuz</kernel>
    <initrd>$LAB_GUEST_DIR/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>"
      ;;
    *) die "guest-xml: KIND must be bios or linux, not '$kind'" ;;
  esac
  local disk=''
  if [[ -n ${LAB_DISK:-} ]]; then
    [[ $LAB_DISK == /* ]] || die "LAB_DISK must be an absolute path: $LAB_DISK"
    if [[ ! -e $LAB_DISK ]]; then
      mkdir -p "$(dirname "$LAB_DISK")"
      qemu-img create -q -f qcow2 "$LAB_DISK" "${LAB_DISK_SIZE:-64M}" || die "cannot create $LAB_DISK"
    fi
    disk="
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='$LAB_DISK'/>
      <target dev='vda' bus='virtio'/>
    </disk>"
  fi
  cat <<EOF
<domain type='$type'>
  <name>$name</name>
  <uuid>$(domain_uuid "$name")</uuid>
  <memory unit='MiB'>$mem</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    $os
  </os>
  <features>
    <acpi/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>$disk
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='/var/log/libvirt/qemu/$name.serial' append='on'/>
      <log file='/var/log/libvirt/qemu/$name.console' append='off'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>$agent
  </devices>
</domain>
EOF
}

# qemu_pid K NAME: prints the PID of domain NAME's QEMU on node K.
qemu_pid() {
  local f pid
  f=$(node_dir "$1")/run/qemu/$2.pid
  pid=; { read -r pid <"$f" || true; } 2>/dev/null # libvirt writes no newline
  is_qemu "$pid" "$2" && echo "$pid"
}

# The serial console goes to two files: NAME.serial collects the output of every run
# (append='on'), NAME.console only that of the current QEMU process (libvirt truncates it when
# it starts QEMU, also for an incoming migration).
serial_path() { echo "$(node_dir "$1")/log/qemu/$2.serial"; }
console_path() { echo "$(node_dir "$1")/log/qemu/$2.console"; }

# booted FILE: the guest printed its "booted" marker, and nothing it printed later says it is
# going down (its last VMHA-GUEST line is the "booted" one).
booted() {
  [[ -f $1 ]] && awk '/VMHA-GUEST / { last = $0 } END { exit !(last ~ /VMHA-GUEST booted/) }' "$1"
}

# wait_booted K NAME SECONDS: the guest's power-button watch is armed, i.e. its /init printed
# "VMHA-GUEST booted" since QEMU started. Reads NAME.console; for domains defined without it
# (not by guest-xml), falls back to the last marker in NAME.serial, which a run that was
# destroyed after it booted can fool.
cmd_wait_booted() {
  local k name secs f deadline started
  k=$(node_num "${1:-}")
  name=$(domain_name "${2:-}")
  secs=${3:-30}
  [[ $secs =~ ^[0-9]+$ ]] || die "wait-booted: SECONDS must be a whole number, not '$secs'"
  started=${EPOCHREALTIME/./}
  deadline=$((started + secs * 1000000))
  while :; do
    f=$(console_path "$k" "$name")
    [[ -f $f ]] || f=$(serial_path "$k" "$name")
    if booted "$f"; then return 0; fi
    # Fail early if the guest is not running at all (allowing a moment for a start under way).
    if ! qemu_pid "$k" "$name" >/dev/null && ((${EPOCHREALTIME/./} - started > 2000000)); then
      die "wait-booted: domain $name is not running on n$k"
    fi
    ((${EPOCHREALTIME/./} < deadline)) || die "wait-booted: $name on n$k did not boot within ${secs}s (see $f)"
    sleep 0.1
  done
}
