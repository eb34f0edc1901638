"""drbdsim: the drbdsetup and drbdadm personalities.

Why a module of its own: this is the command line the agents see.  drbdsetup parses its
options getopt-style and answers for the node named by $DRBDSIM_NODE (or the host name);
drbdadm resolves resource names against that node's "configuration" (the defined resources
that list it) and runs drbdsetup steps, reporting a failed one as shared_main.c does.  The
rules are in drbdsim_model, the printers in drbdsim_formats, the exit codes in drbdsim_codes.
"""

import os
import re
import sys
import time
from functools import partial

from drbdsim_codes import (ERR_DISCARD_IMPOSSIBLE, ERR_INVALID_REQUEST, ERR_MESSAGES,
                           ERR_MINOR_OR_VOLUME_EXISTS, ERR_NET_CONFIGURED, ERR_RES_NOT_KNOWN,
                           RC_ADM_USAGE, RC_FAILURE, RC_OTHER, Fail, err)
from drbdsim_formats import (change_lines, events2_objects, failure, state_change_failed,
                             status_json, status_text, timestamp_prefix)
from drbdsim_model import (NODE_NAME, bring_up, connect, connection_state, demote, disconnect,
                           is_up, node_id, pair_key, peers, promote, reconcile, take_down,
                           views_for, volumes)
from drbdsim_store import Store

# drbdadm --version of drbd-utils 9.22.0 on a DRBD 9.2.8 kernel
VERSION_TEXT = """DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18
DRBDADM_API_VERSION=2
DRBD_KERNEL_VERSION_CODE=0x090208
DRBD_KERNEL_VERSION=9.2.8
DRBDADM_VERSION_CODE=0x091600
DRBDADM_VERSION=9.22.0
"""


# ------------------------------------------------------------------------------------------
# drbdsetup

def parse_options(cmd, args, known):
    """getopt_long-ish: --name, --name=value, -x anywhere.  known maps option → key (None =
    accepted and ignored).  Returns ({key: value}, positionals)."""
    opts, pos = {}, []
    for arg in args:
        if arg.startswith("--") and len(arg) > 2:
            name, _, value = arg[2:].partition("=")
        elif arg.startswith("-") and len(arg) > 1 and not arg[1:].isdigit():
            name, value = arg[1:], ""
        else:
            pos.append(arg)
            continue
        if name not in known:
            raise Fail(RC_OTHER, f"drbdsetup {cmd}: unrecognized option '{arg}'")
        if known[name]:
            opts[known[name]] = value
    return opts, pos


def one_resource_arg(cmd, pos):
    if not pos:
        raise Fail(RC_OTHER, f"Missing argument 1 to command\nUSAGE: drbdsetup {cmd} {{resource}}")
    if len(pos) > 1:
        raise Fail(RC_OTHER, "Excess arguments: " + " ".join(pos[1:]))
    return pos[0]


def load_up(store, name, node):
    res = store.load(name)
    if res is None or not is_up(res, node):
        return None
    return res


def setup_role_change(cmd, node, args):
    opts, pos = parse_options(cmd, args, {"force": "force"})
    name = one_resource_arg(cmd, pos)
    force = opts.get("force", "yes") != "no" if "force" in opts else False
    with Store(exclusive=True) as store:
        res = load_up(store, name, node)
        if res is None:
            return failure(name, ERR_RES_NOT_KNOWN, "unknown resource")
        down = store.down_nodes()
        rc = promote(res, down, node, force) if cmd == "primary" else demote(res, node, force)
        if rc < 0:
            return state_change_failed(name, rc)
        reconcile(res, down)
        store.save(res)
    return 0


def setup_status(node, args):
    opts, pos = parse_options("status", args, {
        "json": "json", "j": "json", "verbose": "verbose", "v": "verbose", "vv": "verbose",
        "statistics": "statistics", "s": "statistics", "color": None, "c": None})
    if len(pos) > 1:
        raise Fail(RC_OTHER, "Excess arguments: " + " ".join(pos[1:]))
    name = pos[0] if pos else "all"
    verbose = sum({"-v": 1, "--verbose": 1, "-vv": 2}.get(a, 0) for a in args)
    with Store(exclusive=False) as store:
        anything = any(is_up(r, node) for r in store.all())
        views = views_for(store, node, name)
    if "json" in opts:
        sys.stdout.write(status_json(views))
    else:
        if not anything:
            sys.stdout.write("# No currently configured DRBD found.\n")
        sys.stdout.write(status_text(views, verbose, "statistics" in opts, sys.stdout.isatty()))
    sys.stdout.flush()
    if not views and name != "all":
        err(f"{name}: No such resource")
        return RC_FAILURE
    return 0


def setup_role(node, args):
    _, pos = parse_options("role", args, {})
    name = one_resource_arg("role", pos)
    with Store(exclusive=False) as store:
        res = load_up(store, name, node)
    if res is None:
        err(f"{name}: {ERR_MESSAGES[ERR_RES_NOT_KNOWN]}")
        return RC_FAILURE
    print(res["nodes"][node]["role"])
    return 0


def peer_by_id(res, node, text):
    try:
        wanted = int(text)
    except ValueError:
        raise Fail(RC_OTHER, f"'{text}' is not a valid peer node id") from None
    for b in peers(res, node):
        if node_id(res, b) == wanted:
            return b
    return None


def setup_cstate(node, args):
    _, pos = parse_options("cstate", args, {})
    if len(pos) != 2:
        raise Fail(RC_OTHER, "USAGE: drbdsetup cstate {resource} {peer_node_id}")
    with Store(exclusive=False) as store:
        res = load_up(store, pos[0], node)
        peer = peer_by_id(res, node, pos[1]) if res else None
        if peer is None:
            err(f"{pos[0]}: No such connection")
            return RC_FAILURE
        print(connection_state(res, store.down_nodes(), node, peer))
    return 0


def setup_dstate(node, args):
    _, pos = parse_options("dstate", args, {})
    arg = one_resource_arg("dstate", pos)
    match = re.fullmatch(r"(?:/dev/drbd)?(\d+)", arg)
    if not match:
        raise Fail(RC_OTHER, f"Cannot determine minor device number of device '{arg}'")
    minor = int(match.group(1))
    with Store(exclusive=False) as store:
        for v in views_for(store, node):
            for d in v["devices"]:
                if d["minor"] == minor:
                    states = [d["disk"]] + [pd["peer_disk"] for c in v["connections"]
                                            for pd in c["peer_devices"] if pd["volume"] == d["volume"]]
                    print("/".join(states))
                    return 0
    err(f"{arg}: No such device")
    return RC_FAILURE


def setup_down(node, args):
    _, pos = parse_options("down", args, {})
    if len(pos) > 1:
        raise Fail(RC_OTHER, "Excess arguments: " + " ".join(pos[1:]))
    name = pos[0] if pos else "all"
    rc = 0
    with Store(exclusive=True) as store:
        down = store.down_nodes()
        for res in store.all():
            if name not in ("all", res["name"]) or not is_up(res, node):
                continue
            code = demote(res, node, False)
            if code < 0:
                rc = rc or state_change_failed(res["name"], code)
                continue
            take_down(res, node)
            reconcile(res, down, graceful={pair_key(node, b) for b in peers(res, node)})
            store.save(res)
    return rc


def setup_connection_change(cmd, node, args):
    opts, pos = parse_options(cmd, args, {"discard-my-data": "discard", "tentative": None,
                                          "force": None})
    if len(pos) != 2:
        raise Fail(RC_OTHER, f"USAGE: drbdsetup {cmd} {{resource}} {{peer_node_id}}")
    name = pos[0]
    with Store(exclusive=True) as store:
        res = load_up(store, name, node)
        if res is None:
            return failure(name, ERR_RES_NOT_KNOWN, "unknown resource")
        peer = peer_by_id(res, node, pos[1])
        if peer is None:
            return failure(name, ERR_INVALID_REQUEST, "unknown connection")
        n = res["nodes"][node]
        down = store.down_nodes()
        if cmd == "connect":
            if peer not in n["standalone"]:
                return failure(name, ERR_NET_CONFIGURED)
            if "discard" in opts and n["role"] == "Primary":
                return failure(name, ERR_DISCARD_IMPOSSIBLE)
            connect(res, down, node, [peer], "discard" in opts)
        else:
            disconnect(res, down, node, [peer])
        store.save(res)
    return 0


# events2: the initial dump, then (without --now) polling the state for changes

def events2_snapshot(node, name, statistics):
    with Store(exclusive=False) as store:
        views = views_for(store, node, name)
    return {v["name"]: events2_objects(v, statistics) for v in views}


def setup_events2(node, args):
    opts, pos = parse_options("events2", args, {
        "now": "now", "n": "now", "statistics": "statistics", "s": "statistics",
        "timestamps": "timestamps", "T": "timestamps", "full": "statistics", "f": "statistics",
        "color": None, "c": None})
    if len(pos) > 1:
        raise Fail(RC_OTHER, "Excess arguments: " + " ".join(pos[1:]))
    name = pos[0] if pos else "all"
    statistics = "statistics" in opts
    stamps = "timestamps" in opts
    snap = events2_snapshot(node, name, statistics)
    out = sys.stdout
    prefix = timestamp_prefix(stamps)
    for res_name in sorted(snap):
        for line in change_lines(prefix, "exists", None, snap[res_name]):
            out.write(line + "\n")
    out.write(f"{prefix}exists -\n")
    out.flush()
    if "now" in opts:
        return 0
    interval = float(os.environ.get("DRBDSIM_POLL_INTERVAL", "0.2"))
    while True:
        time.sleep(interval)
        new = events2_snapshot(node, name, statistics)
        prefix = timestamp_prefix(stamps)
        for res_name in sorted(set(snap) | set(new)):
            for line in change_lines(prefix, "create", snap.get(res_name), new.get(res_name)):
                out.write(line + "\n")
        out.flush()
        snap = new


# The simulated drbdsetup commands, in the order the usage message lists them.
SETUP_COMMANDS = {
    "status": setup_status,
    "events2": setup_events2,
    "primary": partial(setup_role_change, "primary"),
    "secondary": partial(setup_role_change, "secondary"),
    "role": setup_role,
    "cstate": setup_cstate,
    "dstate": setup_dstate,
    "down": setup_down,
    "connect": partial(setup_connection_change, "connect"),
    "disconnect": partial(setup_connection_change, "disconnect"),
}


def drbdsetup_main(node, argv):
    if not argv or argv[0] in ("help", "--help", "-h"):
        err("USAGE: drbdsetup command {arguments} [options]\n"
            "Commands (simulated): " + " ".join(SETUP_COMMANDS))
        return RC_OTHER
    cmd, args = argv[0], argv[1:]
    node = node or require_node()
    if cmd not in SETUP_COMMANDS:
        err(f"drbdsetup: invalid command '{cmd}' (not simulated by drbdsim)")
        return RC_OTHER
    return SETUP_COMMANDS[cmd](node, args)


def require_node():
    node = os.environ.get("DRBDSIM_NODE", "")
    if not node:
        # Unset: the host name, if the simulated cluster has a node of that name (inside a
        # vmha-lab node it is nodeK, as on a real cluster node), so that programs that cannot
        # pass DRBDSIM_NODE (agents run by Pacemaker) still get their node's view.
        node = os.uname().nodename
        try:
            with Store(exclusive=False) as store:
                known = any(node in r["order"] for r in store.all())
        except Fail:
            known = False
        if not known:
            raise Fail(RC_OTHER, "drbdsim: DRBDSIM_NODE is not set (it names the node this "
                                 "drbdsetup/drbdadm runs on, e.g. node1), and the host name "
                                 f"'{node}' is no node of the simulated cluster")
    if not NODE_NAME.match(node):
        raise Fail(RC_OTHER, f"drbdsim: DRBDSIM_NODE={node} is not a valid node name")
    return node


# ------------------------------------------------------------------------------------------
# drbdadm: resolves names against the "configuration" (the defined resources that name this
# node), then runs drbdsetup steps, reporting failed ones as drbdadm does.

ADM_OPTIONS = {"primary": {"force"}, "secondary": {"force"}, "connect": {"discard-my-data"},
               "status": {"verbose", "statistics"}}
ADM_COMMANDS = ("up", "down", "primary", "secondary", "connect", "disconnect", "adjust", "status",
                "role", "cstate", "dstate", "sh-minor", "sh-dev", "events2")


def run_setup(node, argv):
    """One drbdsetup step under drbdadm (shared_main.c m__system: rc >= 10 is reported)."""
    rc = drbdsetup_main(node, argv)
    if rc >= 10:
        err(f"Command 'drbdsetup {' '.join(argv)}' terminated with exit code {rc}")
    return rc


def drbdadm_main(argv):
    args = list(argv)
    if args and args[0] in ("--version", "-V"):
        sys.stdout.write(VERSION_TEXT)
        return 0
    cmd_index = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
    if cmd_index is None:
        err("drbdadm: No command specified\nUSAGE: drbdadm COMMAND [OPTION...] {all|RESOURCE...}")
        return RC_ADM_USAGE
    cmd = args[cmd_index]
    if cmd not in ADM_COMMANDS:
        err(f"drbdadm: Unknown command '{cmd}'")
        return RC_ADM_USAGE
    options, names = [], []
    for a in args[:cmd_index] + args[cmd_index + 1:]:
        if cmd == "events2" and a.startswith("-"):
            options.append(a)
        elif a.startswith("--") and a[2:].split("=")[0] in ADM_OPTIONS.get(cmd, ()):
            options.append(a)
        elif a.startswith("-"):
            err(f"drbdadm: unrecognized option '{a}'\ntry 'drbdadm help {cmd}'")
            return RC_ADM_USAGE
        else:
            names.append(a)
    node = require_node()
    with Store(exclusive=False) as store:
        configured = {r["name"]: r for r in store.all() if node in r["order"]}
    if cmd in ("status", "events2") and not names:
        return run_setup(node, [cmd] + options)
    if not names:
        err(f"USAGE: drbdadm {cmd} [OPTION...] {{all|RESOURCE...}}\n\nNo resource names specified")
        return RC_ADM_USAGE
    if "all" in names:
        if not configured:
            err("no resources defined!")
            return RC_ADM_USAGE
        names = sorted(configured)
    for name in names:
        if name not in configured:
            err(f"'{name}' not defined in your config (for this host).")
            return RC_ADM_USAGE
    for name in names:
        rc = drbdadm_one(node, cmd, configured[name], options)
        if rc:
            return rc
    return 0


def drbdadm_one(node, cmd, res, options):
    name = res["name"]
    peer_ids = [str(node_id(res, b)) for b in peers(res, node)]
    minors = [res["minor"] + v for v in volumes(res)]
    if cmd == "up":
        return adm_up(node, name, res)
    if cmd == "adjust":
        return adm_adjust(node, name)
    if cmd in ("down", "primary", "secondary", "role", "status", "events2"):
        return run_setup(node, [cmd, name] + options)
    if cmd in ("connect", "disconnect", "cstate"):
        for peer in peer_ids:
            rc = run_setup(node, [cmd, name, peer] + options)
            if rc:
                return rc
        return 0
    if cmd == "dstate":
        for minor in minors:
            rc = run_setup(node, ["dstate", str(minor)])
            if rc:
                return rc
        return 0
    if cmd == "sh-minor":
        for minor in minors:
            print(minor)
        return 0
    if cmd == "sh-dev":
        for minor in minors:
            print(f"/dev/drbd{minor}")
        return 0
    raise AssertionError(cmd)


def adm_up(node, name, res):
    with Store(exclusive=True) as store:
        res = store.load(name)
        if is_up(res, node):
            failure(name, ERR_MINOR_OR_VOLUME_EXISTS)
            err(f"Command 'drbdsetup new-minor {name} {res['minor']} 0' terminated with exit code "
                f"{RC_FAILURE}")
            return RC_FAILURE
        bring_up(res, node)
        reconcile(res, store.down_nodes())
        store.save(res)
    return 0


def adm_adjust(node, name):
    with Store(exclusive=True) as store:
        res = store.load(name)
        if not is_up(res, node):
            bring_up(res, node)
        else:
            res["nodes"][node]["standalone"] = []
        reconcile(res, store.down_nodes())
        store.save(res)
    return 0
