# shellcheck shell=bash
# Helpers shared by the two labs, lab/vmha-lab and tests/lab/libvirt-lab: messages, time,
# process records, locking, and the host paths a lab creates. Sourced; the caller sets PROG
# (the name in messages) and runs under `set -euo pipefail` and `shopt -s nullglob`.
# Details: docs/lab-recipes.md ("Processes", "Host side effects").

die() {
  echo "$PROG: $*" >&2
  exit 1
}
warn() { echo "$PROG: warning: $*" >&2; }

# ---------------------------------------------------------------------------------------------
# Time

now_us() { echo "${EPOCHREALTIME/./}"; }
# secs_since START_US: elapsed seconds, two decimals.
secs_since() {
  local d=$((${EPOCHREALTIME/./} - $1))
  printf '%d.%02d' $((d / 1000000)) $(((d % 1000000) / 10000))
}

# ---------------------------------------------------------------------------------------------
# Processes. A record is "PID STARTTIME" (field 22 of /proc/PID/stat), which tells a reused PID
# apart. A zombie counts as dead: this machine's PID 1 reaps orphans only every ~1.5 s.
# lab/sh/record-pid.sh writes such a record for a command it then becomes.

# proc_stat PID: sets PS_STATE and PS_START; fails if there is no such process.
proc_stat() {
  local line
  local -a f
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
  read -ra f <<<"${line##*) }" # the fields after the command name, which may hold spaces
  PS_STATE=${f[0]}
  PS_START=${f[19]}
}

# alive PID START [COMM]: that very process exists, is not a zombie, and has that command name.
alive() {
  local pid=$1 start=$2 comm=${3:-} c
  [[ $pid =~ ^[1-9][0-9]*$ ]] || return 1
  proc_stat "$pid" || return 1
  [[ $PS_START == "$start" && $PS_STATE != [ZXx] ]] || return 1
  if [[ -n $comm ]]; then
    { read -r c <"/proc/$pid/comm"; } 2>/dev/null || return 1
    [[ $c == "$comm" ]] || return 1
  fi
}

# read_record FILE: sets REC_PID and REC_START from a "PID STARTTIME" file.
read_record() {
  REC_PID='' REC_START=''
  { read -r REC_PID REC_START <"$1"; } 2>/dev/null || return 1
  [[ $REC_PID =~ ^[1-9][0-9]*$ && $REC_START =~ ^[0-9]+$ ]]
}

# record_alive FILE [COMM]: the process recorded in FILE runs.
record_alive() { read_record "$1" && alive "$REC_PID" "$REC_START" "${2:-}"; }

# wait_gone SECONDS PID:START...: waits until none of the processes is alive; fails on timeout.
# Reads the clock without forking (it polls every 50 ms).
wait_gone() {
  local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000)) p left
  shift
  while :; do
    left=0
    for p in "$@"; do
      if alive "${p%:*}" "${p#*:}"; then left=1; fi
    done
    ((left)) || return 0
    ((${EPOCHREALTIME/./} < deadline)) || return 1
    sleep 0.05
  done
}

# stop_procs TIMEOUT PID:START...: SIGTERM (and SIGCONT, in case one is frozen), wait, SIGKILL;
# warns about those still alive 5 s after the SIGKILL.
stop_procs() {
  local timeout=$1 p
  shift
  (($#)) || return 0
  for p in "$@"; do
    if alive "${p%:*}" "${p#*:}"; then kill -TERM -- "${p%:*}" 2>/dev/null || true; fi
    if alive "${p%:*}" "${p#*:}"; then kill -CONT -- "${p%:*}" 2>/dev/null || true; fi
  done
  wait_gone "$timeout" "$@" && return 0
  for p in "$@"; do
    if alive "${p%:*}" "${p#*:}"; then kill -KILL "${p%:*}" 2>/dev/null || true; fi
  done
  wait_gone 5 "$@" || warn "processes still alive after SIGKILL: $*"
}

# Closes every inherited file descriptor above 2 (the lock, a caller's pipes), in a subshell
# that is about to exec a daemon.
close_fds() {
  local f fd
  for f in /proc/"$BASHPID"/fd/*; do
    fd=${f##*/}
    if ((fd > 2)); then exec {fd}>&-; fi
  done 2>/dev/null
}

# subreaper_path [DEFAULT]: the absolute path of the child-subreaper wrapper, $LAB_SUBREAPER
# or else DEFAULT when that is an executable file; nothing when there is none. A LAB_SUBREAPER
# that is not an executable file is an error.
subreaper_path() {
  local s=${LAB_SUBREAPER:-${1:-}}
  if [[ -n $s && -f $s && -x $s ]]; then
    realpath -e "$s"
  elif [[ -n ${LAB_SUBREAPER:-} ]]; then
    die "LAB_SUBREAPER is not an executable file: $LAB_SUBREAPER"
  fi
}

# ---------------------------------------------------------------------------------------------
# Locking and the state directory

# take_lock DIR: holds DIR/lock (on descriptor 9, which close_fds keeps from the daemons), so
# that concurrent callers do not race; creates DIR.
take_lock() {
  mkdir -p "$1"
  exec 9>>"$1/lock"
  flock -w 300 9 || die "timed out waiting for $1/lock"
}

# wants_purge [ARG]: the one option of `down`: true for --purge, false for none; dies on
# anything else.
wants_purge() {
  case ${1:-} in
    '') return 1 ;;
    --purge) return 0 ;;
    *) die "down: unknown option '$1'" ;;
  esac
}

# state_is_ours DIR MARKER: DIR has the lab's marker file, or holds nothing but its lock and the
# record of created paths (what a lab that never came up leaves): down --purge may delete it.
state_is_ours() {
  [[ -f $1/$2 ]] && return 0
  [[ -z $(find "$1" -mindepth 1 -maxdepth 1 ! -name lock ! -name 'created-*' ! -name "$2") ]]
}

# ---------------------------------------------------------------------------------------------
# Host paths. A lab creates the missing host directories it mounts over (and the shared
# directory), records them in a file, and removes only those, only when empty and not a mount
# point in any namespace (another lab may still use them).

# mkdir_recorded RECORD DIR: creates DIR and its missing parents, recording each one it created.
mkdir_recorded() {
  local rec=$1 p=$2
  local -a missing=()
  while [[ ! -d $p ]]; do
    missing=("$p" "${missing[@]}")
    p=$(dirname "$p")
  done
  for p in "${missing[@]}"; do
    mkdir "$p"
    grep -qxF "$p" "$rec" 2>/dev/null || echo "$p" >>"$rec"
  done
}

# mounted_anywhere PATH: PATH is a mount point in some process's mount namespace. Removing a
# directory that is a mount point in another namespace would detach that mount there.
mounted_anywhere() {
  local -a files=(/proc/[0-9]*/ns/mnt)
  # One process per mount namespace, then that process's mountinfo (field 5 = mount point).
  # stat fails for processes that are gone, or whose namespace is not ours to see (PID 1 here).
  { stat -L -c '%i %n' "${files[@]}" 2>/dev/null || true; } | awk -v path="$1" '
    !seen[$1]++ {
      f = $2; sub(/ns\/mnt$/, "mountinfo", f)
      while ((getline line < f) > 0) { split(line, a, " "); if (a[5] == path) { found = 1; break } }
      close(f)
      if (found) exit
    }
    END { exit !found }'
}

# remove_recorded RECORD [PURGE_DIR]: removes the recorded paths, deepest first, each only when
# empty and not mounted anywhere; PURGE_DIR and what is below it even when not empty. Rewrites
# RECORD with the paths it kept (deletes it when none), and sets KEPT to them and KEPT_WHY to
# the reasons ("mounted" or "not empty").
remove_recorded() {
  local rec=$1 purge=${2:-} p
  local -a paths=()
  KEPT=() KEPT_WHY=()
  [[ -f $rec ]] || return 0
  mapfile -t paths < <(awk '{ print length($0) " " $0 }' "$rec" | sort -rn | cut -d' ' -f2-)
  for p in "${paths[@]}"; do
    [[ $p == /* && $p != / ]] || continue
    [[ -d $p ]] || continue
    if mounted_anywhere "$p"; then
      KEPT+=("$p") KEPT_WHY+=(mounted)
      continue
    fi
    if [[ -n $purge && ($p == "$purge" || $p == "$purge"/*) ]]; then
      rm -rf -- "$p" && continue
    fi
    if ! rmdir -- "$p" 2>/dev/null; then KEPT+=("$p") KEPT_WHY+=("not empty"); fi
  done
  if ((${#KEPT[@]})); then printf '%s\n' "${KEPT[@]}" >"$rec"; else rm -f "$rec"; fi
}

# ---------------------------------------------------------------------------------------------
# libvirt's fixed requirements

# write_accounts DIR WHO: the privileged QEMU driver refuses to start when its built-in default
# user and group (libvirt-qemu; made by libvirt-daemon-system, which is not installed) do not
# exist, even though qemu.conf says root. Rather than add an account to the host, the nodes get
# private copies of /etc/passwd and /etc/group (DIR/passwd, DIR/group) that have it. Existing
# copies are kept: they may still be mounted in some namespace, and replacing a file that is a
# mount point elsewhere detaches that mount. Nothing is written when the host has the account.
write_accounts() {
  local d=$1 who=$2 uid=64055
  [[ -f $d/passwd && -f $d/group ]] && return 0
  getent passwd libvirt-qemu >/dev/null && getent group libvirt-qemu >/dev/null && return 0
  while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do uid=$((uid + 1)); done
  cp /etc/passwd "$d/passwd"
  cp /etc/group "$d/group"
  if ! getent passwd libvirt-qemu >/dev/null; then
    echo "libvirt-qemu:x:$uid:$uid:Libvirt Qemu ($who):/var/lib/libvirt:/usr/sbin/nologin" >>"$d/passwd"
  fi
  if ! getent group libvirt-qemu >/dev/null; then echo "libvirt-qemu:x:$uid:" >>"$d/group"; fi
}

# write_libvirt_conf ETC ADDR UUID COMMENT NOTE [QEMU_LINE...]: a node's libvirtd.conf and
# qemu.conf in ETC, both headed by COMMENT (libvirtd.conf's followed by NOTE). libvirtd: TCP on
# ADDR:16509 without auth, a host_uuid of its own (libvirt refuses to migrate "to the same host"
# otherwise), a log file (warnings and errors; info too from the modules a log_filters names). QEMU: runs as root, stdio_handler "file" (no virtlogd),
# cgroup_controllers [ ] (all nodes would share one cgroup tree), migrations on ADDR (127.0.0.1
# itself is refused); the QEMU_LINEs go before the migration settings.
write_libvirt_conf() {
  local etc=$1 addr=$2 uuid=$3 comment=$4 note=$5
  shift 5
  printf '%s\n' "$comment$note" 'listen_tls = 0' 'listen_tcp = 1' "listen_addr = \"$addr\"" 'tcp_port = "16509"' \
    'auth_tcp = "none"' "host_uuid = \"$uuid\"" 'log_outputs = "2:file:/var/log/libvirt/libvirtd.log"' >"$etc/libvirtd.conf"
  printf '%s\n' "$comment" 'user = "root"' 'group = "root"' 'stdio_handler = "file"' 'cgroup_controllers = [ ]' \
    'remember_owner = 0' "$@" "migration_address = \"$addr\"" "migration_host = \"$addr\"" \
    'migration_port_min = 49152' 'migration_port_max = 49215' >"$etc/qemu.conf"
}
