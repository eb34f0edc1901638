#!/usr/bin/env python3
"""The cluster lab's timelines, read from the nodes' pacemaker.log files (lab/fleet-scenario).

usage: timeline.py --t0 MS [--jobs N] LOG... -- drain VM...
       timeline.py --t0 MS [--jobs N] LOG... -- loss NODE VM...
       timeline.py --t0 MS LOG... -- probes NODE [RESOURCE-PREFIX]
Times are milliseconds after T0 (the wall clock in ms when the step began). An operation runs
from the DC's "Initiating <task> operation <rsc>_<task>_<interval> ... on <node>" to the
executing node's "Result of <task> operation for <rsc> on <node>: <result>" (Pacemaker 2.1's
notice lines; its file log has milliseconds). Prints one line of key=value pairs, then details
indented by five spaces.
"""

import re
import statistics
import sys
import time
from dataclasses import dataclass

STAMP = re.compile(r"^(\w{3} \d{2} \d{2}:\d{2}:\d{2}\.\d{3}) ")
INITIATING = re.compile(r"notice: Initiating (\w+) operation (\S+) (?:locally )?on (\S+)")
RESULT = re.compile(r"notice: Result of (\w+) operation for (\S+) on (\S+): ([^|]*?) \|")
LOST = re.compile(r"Cluster node (\S+) is now lost")
FENCE_DECIDED = re.compile(r"Cluster node (\S+) will be fenced")
FENCED = re.compile(r"Operation 'reboot' .*targeting (\S+) .*returned 0")
THROTTLE = re.compile(r"(?:Extreme|High|Moderate) .* detected: ")


@dataclass
class Op:
    task: str
    rsc: str
    node: str
    begin: int | None
    end: int | None = None
    result: str = ""


def stamp_ms(text, year):
    seconds = time.mktime(time.strptime(f"{year} {text[:15]}", "%Y %b %d %H:%M:%S"))
    return int(seconds * 1000) + int(text[16:19])


def read_logs(paths, t0):
    """(ms after t0, line) of every line logged at or after t0, all logs merged in time order."""
    year = time.localtime(t0 / 1000).tm_year
    lines = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                m = STAMP.match(line)
                if m:
                    at = stamp_ms(m.group(1), year) - t0
                    if at >= 0:
                        lines.append((at, line))
    lines.sort(key=lambda pair: pair[0])
    return lines


def operations(lines):
    ops, pending = [], {}
    for at, line in lines:
        m = INITIATING.search(line)
        if m:
            task, key, node = m.groups()
            interval = key.rsplit("_", 1)[-1]
            rsc = key[: -(len(task) + len(interval) + 2)]
            if task == "monitor" and interval == "0":
                task = "probe"
            op = Op(task, rsc, node, at)
            ops.append(op)
            pending[(task, rsc, node)] = op
            continue
        m = RESULT.search(line)
        if m:
            task, rsc, node, result = m.groups()
            op = pending.pop((task, rsc, node), None)
            if op is None:  # initiated before t0, or by a DC whose log is not given
                op = Op(task, rsc, node, None)
                ops.append(op)
            op.end, op.result = at, result.strip()
    return ops


def first(lines, pattern, group_value=None):
    for at, line in lines:
        m = pattern.search(line)
        if m and (group_value is None or m.group(1) == group_value):
            return at
    return None


def most_at_once(intervals):
    """The most intervals (begin, end) that overlap at one moment."""
    edges = sorted([(b, 1) for b, _ in intervals] + [(e, -1) for _, e in intervals])
    now = best = 0
    for _, step in edges:
        now += step
        best = max(best, now)
    return best


def secs(ms):
    return f"{ms / 1000:.2f}" if ms is not None else "?"


def drain(ops, vms, jobs):
    moves, restarts, problems = [], 0, []
    for vm in vms:
        mine = [op for op in ops if op.rsc == vm]
        restarts += sum(1 for op in mine if op.task == "start")
        to = next((op for op in mine if op.task == "migrate_to" and op.result == "ok"), None)
        frm = next((op for op in mine if op.task == "migrate_from" and op.result == "ok"), None)
        stop = next((op for op in mine if op.task == "stop" and op.result == "ok" and to and op.node == to.node), None)
        if not (to and frm and stop) or to.begin is None:
            problems.append(f"{vm}: no migrate_to, migrate_from and stop")
            continue
        moves.append((vm, to.node, frm.node, to.begin, stop.end))
    first_begin = min((begin for *_, begin, _ in moves), default=0)
    total = max((end for *_, end in moves), default=0) - first_begin
    durations = [end - begin for *_, begin, end in moves]
    parallel = most_at_once([(b, e) for *_, b, e in moves]) if moves else 0
    limit = min(jobs, len(moves)) if jobs else parallel
    median = int(statistics.median(durations)) if durations else 0
    # The yardstick: the sum of the moves over the moves run at once. A scheduler that starts the
    # next move whenever a slot frees (Pacemaker does) finishes by sum/limit + (1 - 1/limit) x the
    # longest move (Graham's bound for list scheduling): the last moves leave slots idle.
    longest = max(durations, default=0)
    ideal = sum(durations) / limit if limit else 0
    bound = ideal + (1 - 1 / limit) * longest if limit else 0
    print(
        f"migrated={len(moves)} restarts={restarts} sum_ms={sum(durations)} parallel={parallel} limit={limit} "
        f"command_ms={first_begin} total_ms={total} ideal_ms={int(ideal)} bound_ms={int(bound)} "
        f"ratio={total / ideal if ideal else 0:.2f} of_bound={total / bound if bound else 0:.2f} "
        f"median_ms={median} longest_ms={longest}"
    )
    for vm, src, dst, begin, end in sorted(moves, key=lambda m: m[3]):
        print(f"     {secs(begin)}-{secs(end)} s: {vm} {src} -> {dst} ({secs(end - begin)} s)")
    for p in problems:
        print(f"     PROBLEM {p}")


def loss(lines, ops, node, vms, jobs):
    lost = first(lines, LOST, node)
    decided = first(lines, FENCE_DECIDED, node)
    fenced = first(lines, FENCED, node)
    missing_ms = -1  # printed for what the logs do not have
    starts = [op for op in ops if op.task == "start" and op.rsc in vms and op.result == "ok"]
    per_vm = {vm: sum(1 for op in starts if op.rsc == vm) for vm in vms}
    timed = [op for op in starts if op.begin is not None and op.end is not None]
    durations = [op.end - op.begin for op in timed]
    survivors = sorted({op.node for op in timed})
    at_once = {n: most_at_once([(op.begin, op.end) for op in timed if op.node == n]) for n in survivors}
    last = max((op.end for op in timed), default=missing_ms)
    slowest = max(durations, default=0)
    per_node = jobs or max(at_once.values(), default=1)
    waves = -(-len(vms) // (max(len(survivors), 1) * per_node))
    target = (fenced if fenced is not None else 0) + waves * slowest + 1000
    twice = [vm for vm, n in per_vm.items() if n > 1]
    missing = [vm for vm, n in per_vm.items() if n == 0]
    print(
        f"lost_ms={missing_ms if lost is None else lost} decided_ms={missing_ms if decided is None else decided} "
        f"fenced_ms={missing_ms if fenced is None else fenced} started={len(vms) - len(missing)} "
        f"twice={len(twice)} last_ms={last} slowest_ms={slowest} "
        f"median_ms={int(statistics.median(durations)) if durations else 0} waves={waves} per_node={per_node} "
        f"at_once={'/'.join(str(at_once[n]) for n in survivors)} target_ms={target} "
        f"throttle={sum(1 for _, line in lines if THROTTLE.search(line))}"
    )
    for op in sorted(timed, key=lambda o: o.begin):
        print(f"     {secs(op.begin)}-{secs(op.end)} s: start {op.rsc} on {op.node} ({secs(op.end - op.begin)} s)")
    for vm in twice:
        print(f"     PROBLEM {vm} started {per_vm[vm]} times")
    for vm in missing:
        print(f"     PROBLEM {vm} not started")


def probes(ops, node, prefix):
    mine = [
        op
        for op in ops
        if op.task == "probe" and op.node == node and op.rsc.startswith(prefix) and op.end is not None
    ]
    results = {}
    for op in mine:
        results[op.result] = results.get(op.result, 0) + 1
    # (a result other than ok may carry the agent's exit reason in parentheses)
    not_running = sum(1 for op in mine if op.result.startswith("not running"))
    timed = [op.end - op.begin for op in mine if op.begin is not None]
    print(
        f"probes={len(mine)} not_running={not_running} "
        f"first_ms={min((op.end for op in mine), default=0)} last_ms={max((op.end for op in mine), default=0)} "
        f"slowest_ms={max(timed, default=0)} at_once={most_at_once([(op.begin, op.end) for op in mine if op.begin is not None])}"
    )
    for result, n in sorted(results.items()):
        print(f"     {n} x {result}")


def main(argv):
    if "--" not in argv or "--t0" not in argv:
        sys.exit(__doc__)
    split = argv.index("--")
    head, rest = argv[:split], argv[split + 1 :]
    t0 = int(head[head.index("--t0") + 1])
    jobs = int(head[head.index("--jobs") + 1]) if "--jobs" in head else 0
    logs = [a for i, a in enumerate(head) if not a.startswith("--") and head[i - 1] not in ("--t0", "--jobs")]
    lines = read_logs(logs, t0)
    ops = operations(lines)
    if rest[:1] == ["drain"]:
        drain(ops, rest[1:], jobs)
    elif rest[:1] == ["loss"] and len(rest) >= 2:
        loss(lines, ops, rest[1], rest[2:], jobs)
    elif rest[:1] == ["probes"] and len(rest) in (2, 3):
        probes(ops, rest[1], rest[2] if len(rest) == 3 else "")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
