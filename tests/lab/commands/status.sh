# shellcheck shell=bash
# libvirt-lab status: sourced by tests/lab/libvirt-lab (usage: libvirt-lab help).

cmd_status() {
  local k pid state doms n=0
  echo "lab state: $LAB_STATE"
  for k in $(existing_nodes); do
    n=1
    if find_libvirtd "$k"; then
      pid=$LV_PID
      proc_stat "$pid" || true
      if [[ $PS_STATE == T ]]; then
        state="frozen (libvirtd pid $pid)"
        doms='?'
      else
        state="up (libvirtd pid $pid)"
        doms=$(timeout 3 virsh -q -c "$(node_uri "$k")" list --name 2>/dev/null | paste -sd ' ' -) || doms='?'
      fi
    else
      state="down"
      doms=''
      local q
      q=$(qemu_pids "$k" | paste -sd ' ' -)
      [[ -z $q ]] || doms="(QEMU pids without daemon: $q)"
    fi
    echo "n$k: $state, $(node_tcp_uri "$k"), domains: ${doms:-none}"
  done
  ((n)) || echo "no nodes"
  [[ ! -s $LAB_STATE/created-mountpoints ]] || echo "created mount points: $(paste -sd ' ' - <"$LAB_STATE/created-mountpoints")"
}
