"""drbdsim: the state model of a simulated DRBD 9 cluster, and its rules.

Why a module of its own: this is what the simulator claims about DRBD, separate from how the
tools print it and how they are called.  A resource is a dict (as stored by drbdsim_store):
its nodes, their roles and disks, who disconnected from whom, scripted resyncs, and what
diverged while apart.  The rules follow the DRBD 9 kernel module: drbd_state.c
(__is_valid_soft_transition, drbd_data_accessible), drbd_nl.c drbd_set_role (--force) and
drbd_main.c drbd_open (auto-promote).  build_view() is what one node's kernel would report to
drbdsetup.  Nothing here reads the environment, parses arguments or prints.
"""

import re

from drbdsim_codes import SS_DEVICE_IN_USE, SS_NO_QUORUM, SS_NO_UP_TO_DATE_DISK, SS_TWO_PRIMARIES


# ------------------------------------------------------------------------------------------
# Vocabulary (drbd-headers drbd_strings.c, linux/drbd.h)

DISK_STATES = ["Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent",
               "Outdated", "DUnknown", "Consistent", "UpToDate"]
UP_TO_DATE = "UpToDate"
# Disks that `primary --force` turns UpToDate, and that a resync (re)fills.
FORCEABLE = ("Inconsistent", "Outdated", "Consistent")

RESYNC_RATE = 40960  # simulated resync speed in sectors per second (20 MiB/s)
DEFAULT_SIZE_KIB = 1048576
DEFAULT_PORT = 7788

NODE_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*$")


# ------------------------------------------------------------------------------------------
# The cluster model

def peers(res, a):
    return [b for b in res["order"] if b != a]


def node_id(res, a):
    return res["order"].index(a)


def pair_key(a, b):
    return "|".join(sorted((a, b)))


def volumes(res):
    return range(res["volumes"])


def is_up(res, a):
    return a in res["nodes"] and res["nodes"][a]["up"]


def connected(res, down, a, b):
    na, nb = res["nodes"][a], res["nodes"][b]
    return (na["up"] and nb["up"] and a not in down and b not in down
            and b not in na["standalone"] and a not in nb["standalone"])


def connection_state(res, down, a, b):
    if b in res["nodes"][a]["standalone"]:
        return "StandAlone"
    return "Connected" if connected(res, down, a, b) else "Connecting"


def sync_between(res, a, b, vol):
    """("SyncSource"|"SyncTarget", record) as a sees its peer b on volume vol, or None."""
    for rec in res["syncs"]:
        if vol not in rec["volumes"]:
            continue
        if rec["source"] == a and rec["target"] == b:
            return "SyncSource", rec
        if rec["source"] == b and rec["target"] == a:
            return "SyncTarget", rec
    return None


def has_quorum(res, a):
    return not (res["quorum"] == "majority" and res["nodes"][a]["quorum_lost"])


def data_accessible(res, down, a, vol, disks=None):
    """drbd_state.c drbd_data_accessible: local UpToDate, or any connected peer UpToDate."""
    disks = disks or res["nodes"][a]["disks"]
    if disks[vol] == UP_TO_DATE:
        return True
    return any(connected(res, down, a, b) and res["nodes"][b]["disks"][vol] == UP_TO_DATE
               for b in peers(res, a))


def outdate_on_graceful_disconnect(res, a, b):
    """A Secondary that leaves (or is left by) a Primary gracefully is marked Outdated."""
    for primary, secondary in ((a, b), (b, a)):
        np, ns = res["nodes"][primary], res["nodes"][secondary]
        if np["role"] == "Primary" and ns["role"] != "Primary":
            for vol in volumes(res):
                if ns["disks"][vol] in (UP_TO_DATE, "Consistent"):
                    ns["disks"][vol] = "Outdated"


def establish(res, a, b):
    """A connection between a and b comes up.  Returns False on split brain."""
    key = pair_key(a, b)
    diverged = res["diverged"].get(key, [])
    if a in diverged and b in diverged:
        # Both were Primary while apart: split brain, both sides drop to StandAlone.
        for x, y in ((a, b), (b, a)):
            if y not in res["nodes"][x]["standalone"]:
                res["nodes"][x]["standalone"].append(y)
        if key not in res["split_brain"]:
            res["split_brain"].append(key)
        return False
    res["diverged"].pop(key, None)
    if key in res["split_brain"]:
        res["split_brain"].remove(key)
    na, nb = res["nodes"][a], res["nodes"][b]
    for vol in volumes(res):
        if sync_between(res, a, b, vol):
            continue  # a scripted resync resumes
        # Anything else resyncs instantly from the UpToDate side.
        if na["disks"][vol] == UP_TO_DATE and nb["disks"][vol] in FORCEABLE:
            nb["disks"][vol] = UP_TO_DATE
        elif nb["disks"][vol] == UP_TO_DATE and na["disks"][vol] in FORCEABLE:
            na["disks"][vol] = UP_TO_DATE
    return True


def reconcile(res, down, graceful=()):
    """Applies the side effects of connections that came up or went away."""
    links = res["links"]
    order = res["order"]
    for i, a in enumerate(order):
        for b in order[i + 1:]:
            key = pair_key(a, b)
            was = links.get(key, False)
            now = connected(res, down, a, b)
            if was and not now and key in graceful:
                outdate_on_graceful_disconnect(res, a, b)
            if now and not was:
                now = establish(res, a, b)
            links[key] = now
            if not now:
                diverged = res["diverged"].setdefault(key, [])
                for n in (a, b):
                    nn = res["nodes"][n]
                    has_disk = any(d != "Diskless" for d in nn["disks"])
                    if nn["up"] and nn["role"] == "Primary" and has_disk and n not in diverged:
                        diverged.append(n)  # it wrote data the other side has not got
                if not diverged:
                    del res["diverged"][key]


def promote(res, down, a, force):
    """drbd_set_role(R_PRIMARY): 0, or the SS_ code; changes res only on success."""
    n = res["nodes"][a]
    if n["role"] == "Primary":
        return 0
    if not res["allow_two_primaries"]:
        for b in peers(res, a):
            if connected(res, down, a, b) and res["nodes"][b]["role"] == "Primary":
                return SS_TWO_PRIMARIES
    disks = list(n["disks"])
    if not all(data_accessible(res, down, a, v, disks) for v in volumes(res)):
        if not force:
            return SS_NO_UP_TO_DATE_DISK
        # --force: "Forced to consider local data as UpToDate!"
        disks = [UP_TO_DATE if d in FORCEABLE else d for d in disks]
        if not all(data_accessible(res, down, a, v, disks) for v in volumes(res)):
            return SS_NO_UP_TO_DATE_DISK
    if not has_quorum(res, a):
        if not force:
            return SS_NO_QUORUM
        n["quorum_lost"] = False  # "Forced to consider peers as Outdated!"
    n["disks"] = disks
    n["role"] = "Primary"
    return 0


def demote(res, a, force):
    n = res["nodes"][a]
    if n["role"] != "Primary":
        return 0
    if n["open"] > 0:
        if not force:
            return SS_DEVICE_IN_USE
        n["fail_io"] = True  # forced demotion: I/O of the openers fails from now on
    n["role"] = "Secondary"
    n["auto_promoted"] = False
    return 0


def take_down(res, a):
    n = res["nodes"][a]
    n.update(up=False, role="Secondary", standalone=[], open=0, auto_promoted=False,
             fail_io=False, quorum_lost=False)


def bring_up(res, a):
    n = res["nodes"][a]
    n.update(up=True, role="Secondary", standalone=[], open=0, auto_promoted=False, fail_io=False)


def crash(res, a):
    """A node that crashed comes back Secondary, with no openers."""
    res["nodes"][a].update(role="Secondary", open=0, auto_promoted=False, fail_io=False)


def disconnect(res, down, a, targets):
    """drbdadm disconnect on a, from each peer in targets: a goes StandAlone (graceful)."""
    n = res["nodes"][a]
    for b in targets:
        if b not in n["standalone"]:
            n["standalone"].append(b)
    reconcile(res, down, graceful={pair_key(a, b) for b in targets})


def connect(res, down, a, targets, discard):
    """drbdadm connect on a, to each peer in targets; with --discard-my-data (discard) a is
    the split-brain victim and gives up what it wrote while apart."""
    n = res["nodes"][a]
    for b in targets:
        if b in n["standalone"]:
            n["standalone"].remove(b)
        if discard:
            diverged = res["diverged"].get(pair_key(a, b), [])
            if a in diverged:
                diverged.remove(a)
    reconcile(res, down)


OPEN_IO_FAILURES = "io-failures"  # a forced demotion left force-io-failures on
OPEN_NO_AUTO_PROMOTE = "no-auto-promote"  # a Secondary, and auto-promote is off


def open_device(res, down, a):
    """drbd_open for writing: None, or why it fails (OPEN_IO_FAILURES, OPEN_NO_AUTO_PROMOTE
    or the SS_ code of the refused auto-promotion).  A Secondary is auto-promoted."""
    n = res["nodes"][a]
    if n["fail_io"]:
        return OPEN_IO_FAILURES
    if n["role"] != "Primary":
        if not res["auto_promote"]:
            return OPEN_NO_AUTO_PROMOTE
        code = promote(res, down, a, False)
        if code < 0:
            return code
        n["auto_promoted"] = True
    n["open"] += 1
    reconcile(res, down)
    return None


def close_device(res, down, a):
    """drbd_release of one opener (a must have one): the last close ends force-io-failures
    and demotes again if the open promoted."""
    n = res["nodes"][a]
    n["open"] -= 1
    if n["open"] == 0:
        n["fail_io"] = False
        if n["auto_promoted"] and n["role"] == "Primary":
            n["role"] = "Secondary"  # auto-demote on the last close
        n["auto_promoted"] = False
    reconcile(res, down)


# ------------------------------------------------------------------------------------------
# Disks and scripted resyncs (res["syncs"]: {source, target, volumes, done})

def set_disk(res, down, a, vols, state):
    """Sets a's disk on vols to state; a scripted sync of a on those volumes ends."""
    n = res["nodes"][a]
    for vol in vols:
        n["disks"][vol] = state
        for rec in res["syncs"]:
            if a in (rec["source"], rec["target"]) and vol in rec["volumes"]:
                rec["volumes"].remove(vol)
    res["syncs"] = [r for r in res["syncs"] if r["volumes"]]
    reconcile(res, down)


def start_sync(res, down, source, target, vols, done):
    """Scripts a resync source → target of vols at done percent, replacing any between them."""
    for rec in res["syncs"]:
        if {rec["source"], rec["target"]} == {source, target}:
            rec["volumes"] = [v for v in rec["volumes"] if v not in vols]
    res["syncs"] = [r for r in res["syncs"] if r["volumes"]]
    res["syncs"].append({"source": source, "target": target, "volumes": vols, "done": done})
    for vol in vols:
        res["nodes"][target]["disks"][vol] = "Inconsistent"
    reconcile(res, down)


def finish_syncs(res, down, target=None):
    """The scripted resyncs (to target, or all) complete: their targets become UpToDate."""
    keep = []
    for rec in res["syncs"]:
        if target not in (None, rec["target"]):
            keep.append(rec)
            continue
        for vol in rec["volumes"]:
            res["nodes"][rec["target"]]["disks"][vol] = UP_TO_DATE
    res["syncs"] = keep
    reconcile(res, down)


def new_resource(name, nodes, minor, nvol, two_primaries, auto_promote, quorum, on_no_quorum,
                 diskless, size_kib, port, up):
    res = {
        "name": name, "order": nodes, "minor": minor, "volumes": nvol, "size_kib": size_kib,
        "port": port, "allow_two_primaries": two_primaries, "auto_promote": auto_promote,
        "quorum": quorum, "on_no_quorum": on_no_quorum,
        "nodes": {}, "syncs": [], "diverged": {}, "links": {}, "split_brain": [],
    }
    for n in nodes:
        client = n in diskless
        res["nodes"][n] = {
            "up": up, "role": "Secondary", "client": client,
            "disks": ["Diskless" if client else UP_TO_DATE for _ in range(nvol)],
            "standalone": [], "open": 0, "auto_promoted": False, "fail_io": False,
            "quorum_lost": False,
        }
    return res


# ------------------------------------------------------------------------------------------
# What one node sees (the data drbdsetup gets from the kernel)

def backing_dev(res, vol):
    if res["volumes"] == 1:
        return f"/dev/vg0/{res['name']}"
    return f"/dev/vg0/{res['name']}v{vol}"


def build_view(res, down, a):
    n = res["nodes"][a]
    size = res["size_kib"] * 2  # sectors, as the kernel reports them
    quorum = has_quorum(res, a)
    susp_quorum = (not quorum and n["role"] == "Primary" and res["on_no_quorum"] == "suspend-io")
    view = {
        "name": res["name"], "node_id": node_id(res, a), "role": n["role"],
        "susp_user": False, "susp_nod": False, "susp_fen": False, "susp_quorum": susp_quorum,
        "fail_io": n["fail_io"], "write_ordering": "flush", "devices": [], "connections": [],
    }
    for vol in volumes(res):
        disk = n["disks"][vol]
        view["devices"].append({
            "volume": vol, "minor": res["minor"] + vol, "disk": disk, "client": n["client"],
            "backing_dev": "none" if disk == "Diskless" else backing_dev(res, vol),
            "quorum": quorum, "size": size, "read": 0, "write": 0, "al_writes": 0,
            "bm_writes": 0, "upper_pending": 0, "lower_pending": 0, "al_suspended": False,
            "upper_blocked": susp_quorum, "lower_blocked": False,
        })
    me = node_id(res, a)
    for b in peers(res, a):
        nb = res["nodes"][b]
        up = connected(res, down, a, b)
        them = node_id(res, b)
        conn = {
            "peer_node_id": them, "name": b, "cstate": connection_state(res, down, a, b),
            "role": nb["role"] if up else "Unknown", "congested": False,
            "ap_in_flight": 0, "rs_in_flight": 0, "peer_devices": [],
            "paths": [{"local": f"ipv4:10.0.0.{me + 1}:{res['port']}",
                       "peer": f"ipv4:10.0.0.{them + 1}:{res['port']}", "established": up}],
        }
        for vol in volumes(res):
            sync = sync_between(res, a, b, vol)
            pd = {
                "volume": vol, "peer_node_id": them, "conn_name": b,
                "repl": "Off" if not up else (sync[0] if sync else "Established"),
                "peer_disk": nb["disks"][vol] if up else "DUnknown", "peer_client": nb["client"],
                "resync_susp": "no", "received": 0, "sent": 0, "out_of_sync": 0, "pending": 0,
                "unacked": 0, "rs_total": 0, "rs_dt_start_ms": 0, "rs_paused_ms": 0,
                "rs_dt0_ms": 0, "rs_db0_sectors": 0, "rs_dt1_ms": 0, "rs_db1_sectors": 0,
                "rs_failed": 0, "rs_same_csum": 0, "rs_c_sync_rate": 0, "ov_left": 0,
                "dev_size": size,
            }
            if sync:
                to_go = int(round(size * (100.0 - sync[1]["done"]) / 100.0))
                pd["out_of_sync"] = to_go  # the bitmap survives a disconnect
                if up:
                    synced = size - to_go
                    pd.update(rs_total=size, rs_dt_start_ms=synced * 1000 // RESYNC_RATE,
                              rs_dt0_ms=3000, rs_db0_sectors=3 * RESYNC_RATE,
                              rs_dt1_ms=3000, rs_db1_sectors=3 * RESYNC_RATE)
                    pd["sent" if sync[0] == "SyncSource" else "received"] = synced
            conn["peer_devices"].append(pd)
        view["connections"].append(conn)
    return view


def views_for(store, node, name=None):
    down = store.down_nodes()
    out = []
    for res in store.all():
        if name not in (None, "all") and res["name"] != name:
            continue
        if is_up(res, node):
            out.append(build_view(res, down, node))
    return sorted(out, key=lambda v: v["name"])
