"""drbdsim: the scenario verbs (`drbdsim VERB …`) and main(), which picks the personality.

Why a module of its own: tests script the world around the cluster (a node dies, a resync
runs, an application opens the device) with these verbs; their options, checks and messages
(all errors exit 20) are the simulator's own interface, not DRBD's.  main() runs drbdsetup,
drbdadm or drbdsim by the name the program is called as (basename of argv[0]).  The launcher
`drbdsim` next to this file calls main().  README.md lists what is simulated and what is not.
"""

import json
import os
import signal
import sys
from functools import partial

from drbdsim_codes import RC_OTHER, RC_STATE, SS_MESSAGES, Fail, err, ss_exit_code
from drbdsim_model import (DEFAULT_PORT, DEFAULT_SIZE_KIB, DISK_STATES, NODE_NAME,
                           OPEN_IO_FAILURES, OPEN_NO_AUTO_PROMOTE, UP_TO_DATE, close_device,
                           connect, connected, crash, disconnect, finish_syncs, new_resource,
                           open_device, peers, reconcile, set_disk, start_sync, volumes)
from drbdsim_store import RES_NAME, Store
from drbdsim_tools import drbdadm_main, drbdsetup_main


# ------------------------------------------------------------------------------------------
# drbdsim: scenario control

def sim_usage():
    return """usage: drbdsim VERB ...   (state directory: $DRBDSIM_STATE)
  install DIR                         symlink DIR/drbdsetup and DIR/drbdadm to this program
  define RES --nodes N1,N2[,...] [--minor 0] [--volumes 1] [--allow-two-primaries]
         [--auto-promote yes|no] [--quorum majority|off] [--on-no-quorum suspend-io|io-error]
         [--diskless N3,...] [--size-kib 1048576] [--port 7788] [--down]
  undefine RES
  set-disk RES NODE STATE [--volume N]
  node-down NODE [--crash]  |  node-up NODE
  disconnect RES NODE [--peer P]  |  connect RES NODE [--peer P] [--discard-my-data]
  sync RES --source N1 --target N2 --done PERCENT [--volume N]  |  sync-finish RES [--target N]
  open RES NODE  |  close RES NODE
  quorum-lost RES NODE  |  quorum-regained RES NODE
  show [RES]
"""


def sim_parse(args, spec):
    """spec: option → takes_value.  Returns ({option: value|True}, positionals)."""
    opts, pos = {}, []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name not in spec:
                raise Fail(RC_OTHER, f"drbdsim: unknown option '{a}'\n{sim_usage()}")
            if spec[name]:
                if not eq:
                    i += 1
                    if i >= len(args):
                        raise Fail(RC_OTHER, f"drbdsim: option --{name} needs a value")
                    value = args[i]
                opts[name] = value
            else:
                opts[name] = True
        else:
            pos.append(a)
        i += 1
    return opts, pos


def need_positionals(verb, pos, names):
    if len(pos) != len(names):
        raise Fail(RC_OTHER, f"drbdsim {verb}: expected {' '.join(names)}\n{sim_usage()}")


def to_int(text, what, low=0):
    try:
        value = int(text)
    except ValueError:
        raise Fail(RC_OTHER, f"drbdsim: {what} '{text}' is not a number") from None
    if value < low:
        raise Fail(RC_OTHER, f"drbdsim: {what} must be at least {low}")
    return value


def choice(text, allowed, what):
    if text not in allowed:
        raise Fail(RC_OTHER, f"drbdsim: {what} must be one of {', '.join(allowed)}, not '{text}'")
    return text


class Scenario:
    """A locked, loaded resource that is saved on success."""

    def __init__(self, name, node=None):
        self.name = name
        self.node = node
        self.store = Store(exclusive=True)

    def __enter__(self):
        self.store.__enter__()
        res = self.store.load(self.name)
        if res is None:
            self.store.__exit__(None, None, None)
            raise Fail(RC_OTHER, f"drbdsim: no resource '{self.name}' is defined")
        if self.node is not None and self.node not in res["order"]:
            self.store.__exit__(None, None, None)
            raise Fail(RC_OTHER, f"drbdsim: {self.node} is not a node of {self.name} "
                                 f"({', '.join(res['order'])})")
        self.res = res
        self.down = self.store.down_nodes()
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.store.save(self.res)
        finally:
            self.store.__exit__(exc_type, exc, tb)
        return False


def sim_install(args):
    need_positionals("install", args, ["DIR"])
    target = os.path.realpath(sys.argv[0])  # the drbdsim command, not this module
    os.makedirs(args[0], exist_ok=True)
    for tool in ("drbdsetup", "drbdadm"):
        link = os.path.join(args[0], tool)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(target, link)
    return 0


def sim_define(args):
    opts, pos = sim_parse(args, {
        "nodes": True, "minor": True, "volumes": True, "allow-two-primaries": False,
        "auto-promote": True, "quorum": True, "on-no-quorum": True, "diskless": True,
        "size-kib": True, "port": True, "down": False})
    need_positionals("define", pos, ["RES"])
    name = pos[0]
    if not RES_NAME.match(name):
        raise Fail(RC_OTHER, f"drbdsim: '{name}' is not a valid resource name")
    if "nodes" not in opts:
        raise Fail(RC_OTHER, "drbdsim define: --nodes N1,N2 is required")
    nodes = [n for n in opts["nodes"].split(",") if n]
    if len(nodes) < 1 or len(set(nodes)) != len(nodes) or not all(NODE_NAME.match(n) for n in nodes):
        raise Fail(RC_OTHER, f"drbdsim define: bad --nodes '{opts['nodes']}'")
    if len(nodes) > 32:
        raise Fail(RC_OTHER, "drbdsim define: DRBD 9 allows at most 32 nodes")
    diskless = [n for n in opts.get("diskless", "").split(",") if n]
    for n in diskless:
        if n not in nodes:
            raise Fail(RC_OTHER, f"drbdsim define: --diskless {n} is not in --nodes")
    minor = to_int(opts.get("minor", "0"), "--minor")
    nvol = to_int(opts.get("volumes", "1"), "--volumes", 1)
    res = new_resource(
        name, nodes, minor, nvol, bool(opts.get("allow-two-primaries")),
        choice(opts.get("auto-promote", "yes"), ("yes", "no"), "--auto-promote") == "yes",
        choice(opts.get("quorum", "off"), ("majority", "off"), "--quorum"),
        choice(opts.get("on-no-quorum", "suspend-io"), ("suspend-io", "io-error"), "--on-no-quorum"),
        diskless, to_int(opts.get("size-kib", str(DEFAULT_SIZE_KIB)), "--size-kib", 1),
        to_int(opts.get("port", str(DEFAULT_PORT + minor)), "--port", 1), not opts.get("down"))
    with Store(exclusive=True, create=True) as store:
        if store.load(name) is not None:
            raise Fail(RC_OTHER, f"drbdsim: resource '{name}' is already defined "
                                 f"(drbdsim undefine {name} first)")
        mine = set(range(minor, minor + nvol))
        for other in store.all():
            theirs = set(range(other["minor"], other["minor"] + other["volumes"]))
            if mine & theirs and set(other["order"]) & set(nodes):
                raise Fail(RC_OTHER, f"drbdsim: minor {min(mine & theirs)} is already used by "
                                     f"{other['name']}")
        reconcile(res, store.down_nodes())
        store.save(res)
    return 0


def sim_undefine(args):
    need_positionals("undefine", args, ["RES"])
    with Store(exclusive=True) as store:
        if store.load(args[0]) is None:
            raise Fail(RC_OTHER, f"drbdsim: no resource '{args[0]}' is defined")
        store.delete(args[0])
    return 0


def volume_list(res, opts):
    if "volume" not in opts:
        return list(volumes(res))
    vol = to_int(opts["volume"], "--volume")
    if vol >= res["volumes"]:
        raise Fail(RC_OTHER, f"drbdsim: {res['name']} has no volume {vol}")
    return [vol]


def sim_set_disk(args):
    opts, pos = sim_parse(args, {"volume": True})
    need_positionals("set-disk", pos, ["RES", "NODE", "STATE"])
    state = choice(pos[2], DISK_STATES, "the disk state")
    with Scenario(pos[0], pos[1]) as s:
        n = s.res["nodes"][pos[1]]
        if n["client"] and state != "Diskless":
            raise Fail(RC_OTHER, f"drbdsim: {pos[1]} is an intentional diskless client of {pos[0]}")
        set_disk(s.res, s.down, pos[1], volume_list(s.res, opts), state)
    return 0


def sim_node_updown(verb, args):
    opts, pos = sim_parse(args, {"crash": False} if verb == "node-down" else {})
    need_positionals(verb, pos, ["NODE"])
    node = pos[0]
    if not NODE_NAME.match(node):
        raise Fail(RC_OTHER, f"drbdsim: '{node}' is not a valid node name")
    with Store(exclusive=True) as store:
        known = [r for r in store.all() if node in r["order"]]
        if not known:
            raise Fail(RC_OTHER, f"drbdsim: no defined resource has a node '{node}'")
        down = store.down_nodes()
        if verb == "node-down":
            down.add(node)
        else:
            down.discard(node)
        store.save_down_nodes(down)
        for res in known:
            if opts.get("crash"):
                crash(res, node)
            reconcile(res, down)
            store.save(res)
    return 0


def sim_connection(verb, args):
    opts, pos = sim_parse(args, {"peer": True, "discard-my-data": False})
    need_positionals(verb, pos, ["RES", "NODE"])
    node = pos[1]
    with Scenario(pos[0], node) as s:
        targets = peers(s.res, node)
        if "peer" in opts:
            if opts["peer"] not in targets:
                raise Fail(RC_OTHER, f"drbdsim: {opts['peer']} is not a peer of {node} in {pos[0]}")
            targets = [opts["peer"]]
        if not s.res["nodes"][node]["up"]:
            raise Fail(RC_OTHER, f"drbdsim: {pos[0]} is not up on {node}")
        if verb == "disconnect":
            disconnect(s.res, s.down, node, targets)
        else:
            connect(s.res, s.down, node, targets, bool(opts.get("discard-my-data")))
    return 0


def sim_sync(args):
    opts, pos = sim_parse(args, {"source": True, "target": True, "done": True, "volume": True})
    need_positionals("sync", pos, ["RES"])
    for required in ("source", "target", "done"):
        if required not in opts:
            raise Fail(RC_OTHER, f"drbdsim sync: --{required} is required")
    try:
        done = float(opts["done"])
    except ValueError:
        raise Fail(RC_OTHER, f"drbdsim sync: --done '{opts['done']}' is not a number") from None
    if not 0 <= done < 100:
        raise Fail(RC_OTHER, "drbdsim sync: --done must be in [0, 100) (use sync-finish for 100)")
    source, target = opts["source"], opts["target"]
    with Scenario(pos[0]) as s:
        res = s.res
        for n in (source, target):
            if n not in res["order"]:
                raise Fail(RC_OTHER, f"drbdsim: {n} is not a node of {pos[0]}")
        if source == target:
            raise Fail(RC_OTHER, "drbdsim sync: --source and --target are the same node")
        if not connected(res, s.down, source, target):
            raise Fail(RC_OTHER, f"drbdsim sync: {source} and {target} are not connected")
        vols = volume_list(res, opts)
        if res["nodes"][target]["client"]:
            raise Fail(RC_OTHER, f"drbdsim sync: {target} is a diskless client")
        for vol in vols:
            if res["nodes"][source]["disks"][vol] != UP_TO_DATE:
                raise Fail(RC_OTHER, f"drbdsim sync: {source} volume {vol} is not UpToDate")
        start_sync(res, s.down, source, target, vols, done)
    return 0


def sim_sync_finish(args):
    opts, pos = sim_parse(args, {"target": True})
    need_positionals("sync-finish", pos, ["RES"])
    with Scenario(pos[0]) as s:
        finish_syncs(s.res, s.down, opts.get("target"))
    return 0


def sim_open_close(verb, args):
    _, pos = sim_parse(args, {})
    need_positionals(verb, pos, ["RES", "NODE"])
    name, node = pos
    with Scenario(name, node) as s:
        n = s.res["nodes"][node]
        if not n["up"]:
            raise Fail(RC_OTHER, f"drbdsim {verb}: {name} is not up on {node} (no /dev/drbd device)")
        if verb == "close":
            if n["open"] == 0:
                raise Fail(RC_OTHER, f"drbdsim close: {name} is not open on {node}")
            close_device(s.res, s.down, node)
            return 0
        why = open_device(s.res, s.down, node)
        if why == OPEN_IO_FAILURES:
            raise Fail(RC_STATE, f"drbdsim open: {name} on {node}: State not recoverable "
                                 "(force-io-failures)")
        if why == OPEN_NO_AUTO_PROMOTE:
            raise Fail(RC_STATE, f"drbdsim open: {name} on {node}: Read-only file system "
                                 "(Secondary, auto-promote is off)")
        if why is not None:
            raise Fail(ss_exit_code(why), f"drbdsim open: {name} on {node}: Read-only file system "
                                          f"(Auto-promote failed: {SS_MESSAGES[why]} ({why}))")
    return 0


def sim_quorum(verb, args):
    _, pos = sim_parse(args, {})
    need_positionals(verb, pos, ["RES", "NODE"])
    with Scenario(pos[0], pos[1]) as s:
        if s.res["quorum"] != "majority":
            raise Fail(RC_OTHER, f"drbdsim {verb}: {pos[0]} has quorum off (define it with "
                                 "--quorum majority)")
        s.res["nodes"][pos[1]]["quorum_lost"] = verb == "quorum-lost"
        reconcile(s.res, s.down)
    return 0


def sim_show(args):
    _, pos = sim_parse(args, {})
    with Store(exclusive=False) as store:
        if pos:
            need_positionals("show", pos, ["RES"])
            res = store.load(pos[0])
            if res is None:
                raise Fail(RC_OTHER, f"drbdsim: no resource '{pos[0]}' is defined")
            data = res
        else:
            data = {"resources": store.all(), "down_nodes": sorted(store.down_nodes())}
    json.dump(data, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


SIM_VERBS = {
    "install": sim_install,
    "define": sim_define,
    "undefine": sim_undefine,
    "set-disk": sim_set_disk,
    "node-down": partial(sim_node_updown, "node-down"),
    "node-up": partial(sim_node_updown, "node-up"),
    "disconnect": partial(sim_connection, "disconnect"),
    "connect": partial(sim_connection, "connect"),
    "sync": sim_sync,
    "sync-finish": sim_sync_finish,
    "open": partial(sim_open_close, "open"),
    "close": partial(sim_open_close, "close"),
    "quorum-lost": partial(sim_quorum, "quorum-lost"),
    "quorum-regained": partial(sim_quorum, "quorum-regained"),
    "show": sim_show,
    # drbdsim drbdsetup … and drbdsim drbdadm … run the tool itself
    "drbdsetup": partial(drbdsetup_main, None),
    "drbdadm": drbdadm_main,
}


def drbdsim_main(argv):
    if not argv or argv[0] in ("help", "--help", "-h"):
        sys.stdout.write(sim_usage())
        return 0 if argv else RC_OTHER
    verb, args = argv[0], argv[1:]
    if verb not in SIM_VERBS:
        err(f"drbdsim: unknown verb '{verb}'\n{sim_usage()}")
        return RC_OTHER
    return SIM_VERBS[verb](args)


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    personality = os.path.basename(sys.argv[0])
    try:
        if personality == "drbdsetup":
            rc = drbdsetup_main(None, sys.argv[1:])
        elif personality == "drbdadm":
            rc = drbdadm_main(sys.argv[1:])
        else:
            rc = drbdsim_main(sys.argv[1:])
    except Fail as failure_:
        if failure_.message:
            err(failure_.message)
        rc = failure_.rc
    except KeyboardInterrupt:
        rc = 130
    sys.stdout.flush()
    return rc
