#!/bin/sh
# record-pid.sh FILE CMD [ARG...]: records "PID STARTTIME" of this shell in FILE (written to
# FILE.tmp, then renamed), then execs CMD, which keeps the PID and the start time. The labs'
# process records (lab/lib/common.sh); used when there is no lab_subreaper to write them.
f=$1
shift
read -r line </proc/$$/stat
rest=${line##*) }
i=0
st=
for w in $rest; do
  i=$((i + 1))
  if [ $i -eq 20 ]; then
    st=$w
    break
  fi
done
echo "$$ $st" >"$f.tmp" && mv -f "$f.tmp" "$f"
exec "$@"
