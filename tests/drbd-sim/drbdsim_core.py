"""DRBD 9 simulator for tests: `drbdsetup` and `drbdadm` stand-ins plus scenario control.

Run as `drbdsetup …` or `drbdadm …` (through the symlinks `drbdsim install <dir>` makes) it
answers as the node named by $DRBDSIM_NODE sees a cluster whose state lives in $DRBDSIM_STATE.
Run as `drbdsim <verb> …` it changes that state the way the world would (a node dies, a resync
runs, an application opens the device).  Output formats are ported from drbd-utils v9.22.0
(user/v9/drbdsetup.c, drbdsetup_events2.c), the state rules from the DRBD 9 kernel module
(drbd_state.c __is_valid_soft_transition, drbd_nl.c drbd_set_role, drbd_main.c drbd_open).
README.md next to this file lists what is simulated and what is not.  Python 3 stdlib only.
"""

import fcntl
import json
import os
import re
import signal
import sys
import time

# ------------------------------------------------------------------------------------------
# Vocabulary and codes (drbd-headers drbd_strings.c, linux/drbd.h; drbd-utils drbdsetup.c)

DISK_STATES = ["Diskless", "Attaching", "Detaching", "Failed", "Negotiating", "Inconsistent",
               "Outdated", "DUnknown", "Consistent", "UpToDate"]
UP_TO_DATE = "UpToDate"
# Disks that `primary --force` turns UpToDate, and that a resync (re)fills.
FORCEABLE = ("Inconsistent", "Outdated", "Consistent")

SS_TWO_PRIMARIES = -1
SS_NO_UP_TO_DATE_DISK = -2
SS_DEVICE_IN_USE = -12
SS_NO_QUORUM = -25
SS_MESSAGES = {
    SS_TWO_PRIMARIES: "Multiple primaries not allowed by config",
    SS_NO_UP_TO_DATE_DISK: "Need access to UpToDate data",
    SS_DEVICE_IN_USE: "Device is held open by someone",
    SS_NO_QUORUM: "No quorum",
}

ERR_DISCARD_IMPOSSIBLE = 123
ERR_NET_CONFIGURED = 125
ERR_RES_NOT_KNOWN = 158
ERR_MINOR_OR_VOLUME_EXISTS = 161
ERR_INVALID_REQUEST = 162
ERR_MESSAGES = {
    ERR_DISCARD_IMPOSSIBLE: "--discard-my-data not allowed when primary.",
    ERR_NET_CONFIGURED: "Device has a net-config (use disconnect first)",
    ERR_RES_NOT_KNOWN: "Unknown resource",
    ERR_MINOR_OR_VOLUME_EXISTS: "Minor or volume exists already (delete it first)",
    ERR_INVALID_REQUEST: "Invalid configuration request",
}

# Exit codes.  drbdsetup: 10 "Failure: (N)" / unknown object, 11 "State change failed",
# 17 SS_NO_UP_TO_DATE_DISK, 20 usage and anything else (drbdsetup.c:940-975, drbd.md §2.5).
# drbdadm: 1 E_USAGE (usage, resource not in the config), otherwise drbdsetup's code
# (shared_main.h, drbdadm_main.c).
RC_FAILURE = 10
RC_STATE = 11
RC_NO_UP_TO_DATE = 17
RC_OTHER = 20
RC_ADM_USAGE = 1


def ss_exit_code(code):
    """drbdsetup.c print_config_error: the exit code of a failed state change."""
    if code == SS_NO_UP_TO_DATE_DISK:
        return RC_NO_UP_TO_DATE
    if code == -16:  # SS_LOWER_THAN_OUTDATED
        return 5
    if code == -4:  # SS_NO_LOCAL_DISK
        return 16
    return RC_STATE


RESYNC_RATE = 40960  # simulated resync speed in sectors per second (20 MiB/s)
DEFAULT_SIZE_KIB = 1048576
DEFAULT_PORT = 7788

RES_NAME = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_.+=@%]*$")
NODE_NAME = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*$")

VERSION_TEXT = """DRBDADM_BUILDTAG=GIT-hash:\\ 409097fe02187f83790b88ac3e0d94f3c167adab\\ reproducible\\ build\\,\\ 2023-01-09\\ 14:51:18
DRBDADM_API_VERSION=2
DRBD_KERNEL_VERSION_CODE=0x090208
DRBD_KERNEL_VERSION=9.2.8
DRBDADM_VERSION_CODE=0x091600
DRBDADM_VERSION=9.22.0
"""


class Fail(Exception):
    """Ends the program: message (if any) on stderr, then exit rc."""

    def __init__(self, rc, message=None):
        super().__init__(message)
        self.rc = rc
        self.message = message


def err(text):
    sys.stderr.write(text if text.endswith("\n") else text + "\n")


def yn(flag):
    return "yes" if flag else "no"


# ------------------------------------------------------------------------------------------
# State store: $DRBDSIM_STATE/<res>.json, $DRBDSIM_STATE/.nodes.json, all under flock(.lock)

class Store:
    def __init__(self, exclusive, create=False):
        directory = os.environ.get("DRBDSIM_STATE", "")
        if not directory:
            raise Fail(RC_OTHER, "drbdsim: DRBDSIM_STATE is not set (it names the directory that "
                                 "holds the simulated cluster's state)")
        if create:
            os.makedirs(directory, exist_ok=True)
        if not os.path.isdir(directory):
            raise Fail(RC_OTHER, f"drbdsim: DRBDSIM_STATE={directory} is not a directory "
                                 "(run 'drbdsim define' first)")
        self.dir = directory
        self.exclusive = exclusive
        self.lock = None

    def __enter__(self):
        self.lock = open(os.path.join(self.dir, ".lock"), "a", encoding="utf-8")
        fcntl.flock(self.lock, fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.lock, fcntl.LOCK_UN)
        self.lock.close()
        return False

    def _path(self, name):
        return os.path.join(self.dir, name + ".json")

    def names(self):
        return sorted(f[:-5] for f in os.listdir(self.dir)
                      if f.endswith(".json") and not f.startswith(".") and RES_NAME.match(f[:-5]))

    def load(self, name):
        if not RES_NAME.match(name or ""):
            return None
        try:
            with open(self._path(name), encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return None

    def all(self):
        return [r for r in (self.load(n) for n in self.names()) if r is not None]

    def _write(self, path, data):
        assert self.exclusive
        tmp = f"{path}.tmp.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)

    def save(self, res):
        self._write(self._path(res["name"]), res)

    def delete(self, name):
        assert self.exclusive
        os.unlink(self._path(name))

    def down_nodes(self):
        try:
            with open(os.path.join(self.dir, ".nodes.json"), encoding="utf-8") as f:
                return set(json.load(f).get("down", []))
        except FileNotFoundError:
            return set()

    def save_down_nodes(self, down):
        self._write(os.path.join(self.dir, ".nodes.json"), {"down": sorted(down)})


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


def promotion_info(view):
    """drbdsetup_events2.c compute_promotion_info."""
    devices = view["devices"]
    if not devices:
        return False, 0
    up_to_date_devices = 0
    all_have_disk = True
    min_replicas = -1
    all_stable = True
    for d in devices:
        peer_utd = sum(1 for c in view["connections"] for pd in c["peer_devices"]
                       if pd["volume"] == d["volume"] and pd["peer_disk"] == UP_TO_DATE)
        replicas = (1 if d["disk"] == UP_TO_DATE else 0) + peer_utd
        stable = d["disk"] == UP_TO_DATE or peer_utd > 0
        if not d["quorum"]:
            return False, 0
        if d["disk"] == UP_TO_DATE:
            up_to_date_devices += 1
        elif d["disk"] not in ("Consistent", "Inconsistent"):
            all_have_disk = False
        if min_replicas == -1 or replicas < min_replicas:
            min_replicas = replicas
        if not stable:
            all_stable = False
    if min_replicas <= 0:
        return False, 0
    have_primary = view["role"] == "Primary" or any(c["role"] == "Primary"
                                                   for c in view["connections"])
    score = (10000 if all_have_disk else 0) + min(up_to_date_devices, 99) * 100 + min(min_replicas, 99)
    return (not have_primary and all_stable), score


def susp_str(view):
    names = [("user", view["susp_user"]), ("no-data", view["susp_nod"]),
             ("fencing", view["susp_fen"]), ("quorum", view["susp_quorum"])]
    on = [name for name, flag in names if flag]
    return ",".join(on) if on else "no"


def blocked_str(d):
    parts = [p for p, flag in (("upper", d["upper_blocked"]), ("lower", d["lower_blocked"])) if flag]
    return ",".join(parts) if parts else "no"


def sync_details(pd):
    return pd["rs_total"] not in (0, -1)


def sectors_to_go(pd):
    return pd["ov_left"] or pd["out_of_sync"] - pd["rs_failed"]


def views_for(store, node, name=None):
    down = store.down_nodes()
    out = []
    for res in store.all():
        if name not in (None, "all") and res["name"] != name:
            continue
        if is_up(res, node):
            out.append(build_view(res, down, node))
    return sorted(out, key=lambda v: v["name"])


# ------------------------------------------------------------------------------------------
# drbdsetup events2 (drbdsetup_events2.c print_*_changes, print_changes)

class Obj:
    """One events2 object: ids always printed, groups printed when new or changed."""

    def __init__(self, kind, ids, groups, destroy_ids, conn=None):
        self.kind = kind
        self.ids = ids
        self.groups = groups
        self.destroy_ids = destroy_ids
        self.conn = conn

    @property
    def key(self):
        return (self.kind,) + tuple(v for _, v in self.destroy_ids)


def peer_device_statistics_fields(pd, statistics):
    """print_peer_device_statistics(indent 0): done:, then with --statistics (verbose 1) more."""
    fields = []
    details = sync_details(pd)
    to_go = sectors_to_go(pd) if details else 0
    if details:
        fields.append(("done", "%.2f" % (100.0 * (pd["rs_total"] - to_go) / pd["rs_total"])))
    if not statistics:
        return fields
    fields += [("received", str(pd["received"] // 2)), ("sent", str(pd["sent"] // 2)),
               ("out-of-sync", str(pd["out_of_sync"] // 2)), ("pending", str(pd["pending"])),
               ("unacked", str(pd["unacked"]))]
    if not details:
        return fields
    db = pd["rs_db1_sectors"]
    dt = pd["rs_dt1_ms"] or 1
    fields.append(("dbdt1", "%.2f" % (db / dt * 1000.0 / 2048.0)))
    fields.append(("eta", "%.0f" % (dt * 1e-3 * to_go / db) if db > 0 else "nan"))
    return fields


def events2_objects(view, statistics):
    name = ("name", view["name"])
    objs = []
    may, score = promotion_info(view)
    groups = [("role", [("role", view["role"])]),
              ("info", [("suspended", susp_str(view))]),
              ("fail_io", [("force-io-failures", yn(view["fail_io"]))])]
    if statistics:
        groups.append(("stats", [("write-ordering", view["write_ordering"])]))
    groups.append(("promotion", [("may_promote", yn(may)), ("promotion_score", str(score))]))
    objs.append(Obj("resource", [name], groups, [name]))
    for c in view["connections"]:
        ids = [name, ("peer-node-id", str(c["peer_node_id"])), ("conn-name", c["name"])]
        groups = [("cstate", [("connection", c["cstate"])]), ("role", [("role", c["role"])])]
        if statistics:
            groups.append(("stats", [("congested", yn(c["congested"])),
                                     ("ap-in-flight", str(c["ap_in_flight"])),
                                     ("rs-in-flight", str(c["rs_in_flight"]))]))
        objs.append(Obj("connection", ids, groups, ids, c["name"]))
    for d in view["devices"]:
        ids = [name, ("volume", str(d["volume"])), ("minor", str(d["minor"]))]
        groups = [("info", [("backing_dev", d["backing_dev"]), ("disk", d["disk"]),
                            ("client", yn(d["client"])), ("quorum", yn(d["quorum"]))])]
        if statistics:
            groups.append(("stats", [
                ("size", str(d["size"] // 2)), ("read", str(d["read"] // 2)),
                ("written", str(d["write"] // 2)), ("al-writes", str(d["al_writes"])),
                ("bm-writes", str(d["bm_writes"])), ("upper-pending", str(d["upper_pending"])),
                ("lower-pending", str(d["lower_pending"])),
                ("al-suspended", yn(d["al_suspended"])), ("blocked", blocked_str(d))]))
        objs.append(Obj("device", ids, groups, ids[:2]))
    for c in view["connections"]:
        for pd in c["peer_devices"]:
            ids = [name, ("peer-node-id", str(pd["peer_node_id"])), ("conn-name", c["name"]),
                   ("volume", str(pd["volume"]))]
            groups = [("repl", [("replication", pd["repl"])]),
                      ("disk", [("peer-disk", pd["peer_disk"]), ("peer-client", yn(pd["peer_client"]))]),
                      ("susp", [("resync-suspended", pd["resync_susp"])]),
                      ("stats", peer_device_statistics_fields(pd, statistics))]
            objs.append(Obj("peer-device", ids, groups, ids, c["name"]))
        for p in c["paths"]:
            ids = [name, ("peer-node-id", str(c["peer_node_id"])), ("conn-name", c["name"]),
                   ("local", p["local"]), ("peer", p["peer"])]
            objs.append(Obj("path", ids, [("est", [("established", yn(p["established"]))])], ids,
                            c["name"]))
    return objs


def format_line(prefix, action, obj, fields):
    words = [f"{k}:{v}" for k, v in obj.ids + fields]
    return f"{prefix}{action} {obj.kind} " + " ".join(words)


def change_lines(prefix, action_new, old, new):
    """Lines for one resource going from old to new (lists of Obj; None = absent)."""
    lines = []
    oldmap = {o.key: o for o in old or []}
    newmap = {o.key: o for o in new or []}

    def emit(obj):
        before = oldmap.get(obj.key)
        if before is None:
            lines.append(format_line(prefix, action_new, obj, [kv for _, g in obj.groups for kv in g]))
            return
        was = dict(before.groups)
        fields = [kv for gname, g in obj.groups if was.get(gname) != g for kv in g]
        if fields:
            lines.append(format_line(prefix, "change", obj, fields))

    def destroy(obj):
        lines.append(f"{prefix}destroy {obj.kind} " + " ".join(f"{k}:{v}" for k, v in obj.destroy_ids))

    def of(objs, kind, conn=None):
        return [o for o in objs or [] if o.kind == kind and (conn is None or o.conn == conn)]

    if new:
        for obj in of(new, "resource") + of(new, "connection") + of(new, "device"):
            emit(obj)
        for c in of(new, "connection"):
            for obj in of(new, "peer-device", c.conn) + of(new, "path", c.conn):
                emit(obj)
            for obj in of(old, "path", c.conn) + of(old, "peer-device", c.conn):
                if obj.key not in newmap:
                    destroy(obj)
        for c in of(old, "connection"):
            if c.key not in newmap:
                for obj in of(old, "peer-device", c.conn) + of(old, "path", c.conn):
                    destroy(obj)
                destroy(c)
        for obj in of(old, "device"):
            if obj.key not in newmap:
                destroy(obj)
    elif old:
        for obj in (of(old, "peer-device") + of(old, "path") + of(old, "connection")
                    + of(old, "device") + of(old, "resource")):
            destroy(obj)
    return lines


def timestamp_prefix(enabled):
    if not enabled:
        return ""
    now = time.time()
    tm = time.localtime(now)
    usec = int((now - int(now)) * 1e6)
    off = tm.tm_gmtoff
    return "%04u-%02u-%02uT%02u:%02u:%02u.%06u%+03d:%02u " % (
        tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec,
        int(off / 3600), (abs(off) // 60) % 60)


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


# ------------------------------------------------------------------------------------------
# drbdsetup status --json (drbdsetup.c *_status_json, status_cmd)

def b2j(flag):
    return "true" if flag else "false"


def resource_json(v):
    suspended = v["susp_user"] or v["susp_nod"] or v["susp_fen"] or v["susp_quorum"]
    return ("{\n"
            f"  \"name\": \"{v['name']}\",\n"
            f"  \"node-id\": {v['node_id']},\n"
            f"  \"role\": \"{v['role']}\",\n"
            f"  \"suspended\": {b2j(suspended)},\n"
            f"  \"suspended-user\": {b2j(v['susp_user'])},\n"
            f"  \"suspended-no-data\": {b2j(v['susp_nod'])},\n"
            f"  \"suspended-fencing\": {b2j(v['susp_fen'])},\n"
            f"  \"suspended-quorum\": {b2j(v['susp_quorum'])},\n"
            f"  \"force-io-failures\": {b2j(v['fail_io'])},\n"
            f"  \"write-ordering\": \"{v['write_ordering']}\",\n"
            "  \"devices\": [\n")


def device_json(d):
    return ("    {\n"
            f"      \"volume\": {d['volume']},\n"
            f"      \"minor\": {d['minor']},\n"
            f"      \"disk-state\": \"{d['disk']}\",\n"
            f"      \"client\": {b2j(d['client'])},\n"
            f"      \"quorum\": {b2j(d['quorum'])},\n"
            f"      \"size\": {d['size'] // 2},\n"
            f"      \"read\": {d['read'] // 2},\n"
            f"      \"written\": {d['write'] // 2},\n"
            f"      \"al-writes\": {d['al_writes']},\n"
            f"      \"bm-writes\": {d['bm_writes']},\n"
            f"      \"upper-pending\": {d['upper_pending']},\n"
            f"      \"lower-pending\": {d['lower_pending']}\n"
            "    }")


def peer_device_json(pd):
    details = sync_details(pd)
    size = pd["dev_size"]
    percent_in_sync = 0 if size == 0 else 100 * (1 - pd["out_of_sync"] / size)
    s = ("        {\n"
         f"          \"volume\": {pd['volume']},\n"
         f"          \"replication-state\": \"{pd['repl']}\",\n"
         f"          \"peer-disk-state\": \"{pd['peer_disk']}\",\n"
         f"          \"peer-client\": {b2j(pd['peer_client'])},\n"
         f"          \"resync-suspended\": \"{pd['resync_susp']}\",\n"
         f"          \"received\": {pd['received'] // 2},\n"
         f"          \"sent\": {pd['sent'] // 2},\n"
         f"          \"out-of-sync\": {pd['out_of_sync'] // 2},\n"
         f"          \"pending\": {pd['pending']},\n"
         f"          \"unacked\": {pd['unacked']},\n"
         f"          \"has-sync-details\": {b2j(details)},\n"
         f"          \"has-online-verify-details\": {b2j(details and pd['ov_left'])},\n"
         "          \"percent-in-sync\": %.2f%s\n" % (percent_in_sync, "," if details else ""))
    if details:
        to_go = sectors_to_go(pd)
        s += (f"          \"rs-total\": {pd['rs_total']},\n"
              f"          \"rs-dt-start-ms\": {pd['rs_dt_start_ms']},\n"
              f"          \"rs-paused-ms\": {pd['rs_paused_ms']},\n"
              f"          \"rs-dt0-ms\": {pd['rs_dt0_ms']},\n"
              f"          \"rs-db0-sectors\": {pd['rs_db0_sectors']},\n"
              f"          \"rs-dt1-ms\": {pd['rs_dt1_ms']},\n"
              f"          \"rs-db1-sectors\": {pd['rs_db1_sectors']},\n"
              f"          \"rs-failed\": {pd['rs_failed']},\n"
              f"          \"rs-same-csum\": {pd['rs_same_csum']},\n")
        want = pd["rs_c_sync_rate"] / 1024.0 if pd["rs_c_sync_rate"] else 0.0
        s += "          \"want\": %.2f,\n" % want
        db = pd["rs_db0_sectors"]
        dt = pd["rs_dt0_ms"] or 1
        s += "          \"db0/dt0 [MiB/s]\": %.2f,\n" % (db / dt * 1000.0 / 2048.0)
        db = pd["rs_db1_sectors"]
        dt = pd["rs_dt1_ms"] or 1
        s += "          \"db1/dt1 [MiB/s]\": %.2f,\n" % (db / dt * 1000.0 / 2048.0)
        eta = 987654321 if db <= 0 else dt * 1e-3 * to_go / db
        s += "          \"estimated-seconds-to-finish\": %.0f,\n" % eta
        db = pd["rs_total"] - to_go
        dt = pd["rs_dt_start_ms"] - pd["rs_paused_ms"]
        s += "          \"db/dt [MiB/s]\": %.2f,\n" % (db / (dt or 1) * 1000.0 / 2048.0)
        s += "          \"percent-resync-done\": %.2f\n" % (
            0 if pd["rs_total"] == 0 else 100.0 * db / pd["rs_total"])
    return s + "        }"


def connection_json(c):
    s = ("    {\n"
         f"      \"peer-node-id\": {c['peer_node_id']},\n"
         f"      \"name\": \"{c['name']}\",\n"
         f"      \"connection-state\": \"{c['cstate']}\", \n"
         f"      \"congested\": {b2j(c['congested'])},\n"
         f"      \"peer-role\": \"{c['role']}\",\n"
         f"      \"ap-in-flight\": {c['ap_in_flight']},\n"
         f"      \"rs-in-flight\": {c['rs_in_flight']},\n"
         "      \"peer_devices\": [\n")
    s += ",\n".join(peer_device_json(pd) for pd in c["peer_devices"])
    return s + " ]\n    }"


def status_json(views):
    out = "[\n"
    for i, v in enumerate(views):
        if i:
            out += ",\n"
        out += resource_json(v)
        out += ",\n".join(device_json(d) for d in v["devices"])
        out += " ],\n  \"connections\": [\n"
        out += ",\n".join(connection_json(c) for c in sorted(v["connections"], key=lambda c: c["name"]))
        out += " ]\n}\n"
    return out + "]\n\n"


# ------------------------------------------------------------------------------------------
# drbdsetup status (text; drbdsetup.c resource_status … peer_device_status, wrap_printf.c)

class Wrapper:
    def __init__(self):
        self.out = []
        self.col = 0
        try:
            self.columns = os.get_terminal_size(sys.stdout.fileno()).columns or 80
        except (OSError, ValueError):
            self.columns = 80

    def __call__(self, indent, text):
        if self.col + len(text) > self.columns:
            self.out.append("\n")
            if text.startswith("\n"):
                text = text[1:]
            self.col = 0
        if self.col == 0:
            text = text.lstrip(" ")
            self.col += indent
            self.out.append(" " * indent)
        self.out.append(text)
        self.col += len(text)
        if text.endswith("\n"):
            self.col = 0

    def text(self):
        return "".join(self.out)


def status_text(views, verbose, statistics, tty):
    w = Wrapper()
    for v in views:
        w(0, v["name"])
        if verbose:
            w(4, f" node-id:{v['node_id']}")
        w(4, f" role:{v['role']}")
        if verbose or susp_str(v) != "no":
            w(4, f" suspended:{susp_str(v)}")
        if verbose or v["fail_io"]:
            w(4, f" force-io-failures:{yn(v['fail_io'])}")
        if statistics and verbose:
            w(4, "\n")
            w(4, f" write-ordering:{v['write_ordering']}")
        w(0, "\n")
        single = len(v["devices"]) == 1
        for d in v["devices"]:
            indent = 2
            if verbose or not (single and d["volume"] == 0):
                w(indent, f"volume:{d['volume']}")
                indent = 6
                if verbose:
                    w(indent, f" minor:{d['minor']}")
            w(indent, f" disk:{d['disk']}")
            if d["disk"] == "Diskless" and (verbose or not tty):
                w(indent, f" client:{yn(d['client'])}")
            if verbose:
                w(indent, f" backing_dev:{d['backing_dev']}")
            if verbose or not d["quorum"]:
                w(indent, f" quorum:{yn(d['quorum'])}")
            indent = 6
            if statistics:
                w(indent, "\n")
                if verbose:
                    w(indent, f" size:{d['size'] // 2}")
                w(indent, f" read:{d['read'] // 2}")
                w(indent, f" written:{d['write'] // 2}")
                if verbose:
                    w(indent, f" al-writes:{d['al_writes']}")
                    w(indent, f" bm-writes:{d['bm_writes']}")
                    w(indent, f" upper-pending:{d['upper_pending']}")
                    w(indent, f" lower-pending:{d['lower_pending']}")
                    w(indent, f" al-suspended:{yn(d['al_suspended'])}")
            if verbose or d["upper_blocked"] or d["lower_blocked"]:
                w(indent, f" blocked:{blocked_str(d)}")
            w(indent, "\n")
        for c in sorted(v["connections"], key=lambda c: c["name"]):
            w(2, c["name"])
            if verbose:
                w(6, f" node-id:{c['peer_node_id']}")
            if verbose or c["cstate"] != "Connected":
                w(6, f" connection:{c['cstate']}")
            if verbose or c["cstate"] == "Connected":
                w(6, f" role:{c['role']}")
            if verbose or c["congested"]:
                w(6, f" congested:{yn(c['congested'])}")
                w(6, f" ap-in-flight:{c['ap_in_flight']}")
                w(6, f" rs-in-flight:{c['rs_in_flight']}")
            w(0, "\n")
            if not (verbose or statistics or c["cstate"] == "Connected"):
                continue
            for pd in c["peer_devices"]:
                peer_device_text(w, pd, single, verbose, statistics, tty)
        w(0, "\n")
    return w.text()


def peer_device_text(w, pd, single, verbose, statistics, tty):
    indent = 4
    if verbose or not (single and pd["volume"] == 0):
        w(indent, f"volume:{pd['volume']}")
        indent = 8
    if verbose or pd["repl"] not in ("Off", "Established"):
        w(indent, f" replication:{pd['repl']}")
        indent = 8
    if verbose or statistics or pd["repl"] != "Off" or pd["peer_disk"] != "DUnknown":
        details = sync_details(pd)
        w(indent, f" peer-disk:{pd['peer_disk']}")
        if pd["peer_disk"] == "Diskless" and (verbose or not tty):
            w(indent, f" peer-client:{yn(pd['peer_client'])}")
        indent = 8
        to_go = sectors_to_go(pd) if details else 0
        if details:
            w(indent, " done:%.2f" % (100.0 * (pd["rs_total"] - to_go) / pd["rs_total"]))
        if verbose or pd["resync_susp"] != "no":
            w(indent, f" resync-suspended:{pd['resync_susp']}")
        if statistics:
            w(indent, "\n")
            w(indent, f" received:{pd['received'] // 2}")
            w(indent, f" sent:{pd['sent'] // 2}")
            if verbose or pd["out_of_sync"]:
                w(indent, f" out-of-sync:{pd['out_of_sync'] // 2}")
            if verbose:
                w(indent, f" pending:{pd['pending']}")
                w(indent, f" unacked:{pd['unacked']}")
                if details:
                    if verbose > 1:
                        for key in ("rs_total", "rs_dt_start_ms", "rs_paused_ms", "rs_dt0_ms",
                                    "rs_db0_sectors", "rs_dt1_ms", "rs_db1_sectors", "rs_failed",
                                    "rs_same_csum"):
                            w(indent, f" {key.replace('_', '-')}:{pd[key]}")
                        db = pd["rs_total"] - to_go
                        dt = pd["rs_dt_start_ms"] - pd["rs_paused_ms"]
                        w(indent, " dbdt:%.2f" % (db / (dt or 1) * 1000.0 / 2048.0))
                        w(indent, " dbdt0:%.2f" % (pd["rs_db0_sectors"] / (pd["rs_dt0_ms"] or 1)
                                                   * 1000.0 / 2048.0))
                    db = pd["rs_db1_sectors"]
                    dt = pd["rs_dt1_ms"] or 1
                    w(indent, " dbdt1:%.2f" % (db / dt * 1000.0 / 2048.0))
                    w(indent, " eta:%s" % ("%.0f" % (dt * 1e-3 * to_go / db) if db > 0 else "nan"))
    w(0, "\n")


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


def failure(objname, code, info=None):
    text = f"{objname}: Failure: ({code}) {ERR_MESSAGES[code]}"
    if info:
        text += f"\nadditional info from kernel:\n{info}"
    err(text)
    return RC_FAILURE


def state_change_failed(objname, code):
    err(f"{objname}: State change failed: ({code}) {SS_MESSAGES[code]}")
    return ss_exit_code(code)


def load_up(store, name, node):
    res = store.load(name)
    if res is None or not is_up(res, node):
        return None
    return res


def setup_role_change(node, cmd, args):
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


def setup_connection_change(node, cmd, args):
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
        key = pair_key(node, peer)
        if cmd == "connect":
            if peer not in n["standalone"]:
                return failure(name, ERR_NET_CONFIGURED)
            if "discard" in opts:
                if n["role"] == "Primary":
                    return failure(name, ERR_DISCARD_IMPOSSIBLE)
                diverged = res["diverged"].get(key, [])
                if node in diverged:
                    diverged.remove(node)
            n["standalone"].remove(peer)
            reconcile(res, down)
        else:
            if peer not in n["standalone"]:
                n["standalone"].append(peer)
            reconcile(res, down, graceful={key})
        store.save(res)
    return 0


def drbdsetup_main(node, argv):
    if not argv or argv[0] in ("help", "--help", "-h"):
        err("USAGE: drbdsetup command {arguments} [options]\n"
            "Commands (simulated): status events2 primary secondary role cstate dstate down "
            "connect disconnect")
        return RC_OTHER
    cmd, args = argv[0], argv[1:]
    node = node or require_node()
    if cmd == "status":
        return setup_status(node, args)
    if cmd == "events2":
        return setup_events2(node, args)
    if cmd in ("primary", "secondary"):
        return setup_role_change(node, cmd, args)
    if cmd == "role":
        return setup_role(node, args)
    if cmd == "cstate":
        return setup_cstate(node, args)
    if cmd == "dstate":
        return setup_dstate(node, args)
    if cmd == "down":
        return setup_down(node, args)
    if cmd in ("connect", "disconnect"):
        return setup_connection_change(node, cmd, args)
    err(f"drbdsetup: invalid command '{cmd}' (not simulated by drbdsim)")
    return RC_OTHER


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
        for vol in volume_list(s.res, opts):
            n["disks"][vol] = state
            for rec in s.res["syncs"]:
                if pos[1] in (rec["source"], rec["target"]) and vol in rec["volumes"]:
                    rec["volumes"].remove(vol)
        s.res["syncs"] = [r for r in s.res["syncs"] if r["volumes"]]
        reconcile(s.res, s.down)
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
                n = res["nodes"][node]
                n.update(role="Secondary", open=0, auto_promoted=False, fail_io=False)
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
        n = s.res["nodes"][node]
        if not n["up"]:
            raise Fail(RC_OTHER, f"drbdsim: {pos[0]} is not up on {node}")
        if verb == "disconnect":
            for b in targets:
                if b not in n["standalone"]:
                    n["standalone"].append(b)
            reconcile(s.res, s.down, graceful={pair_key(node, b) for b in targets})
        else:
            for b in targets:
                if b in n["standalone"]:
                    n["standalone"].remove(b)
                if opts.get("discard-my-data"):
                    diverged = s.res["diverged"].get(pair_key(node, b), [])
                    if node in diverged:
                        diverged.remove(node)
            reconcile(s.res, s.down)
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
        for rec in res["syncs"]:
            if {rec["source"], rec["target"]} == {source, target}:
                rec["volumes"] = [v for v in rec["volumes"] if v not in vols]
        res["syncs"] = [r for r in res["syncs"] if r["volumes"]]
        res["syncs"].append({"source": source, "target": target, "volumes": vols, "done": done})
        for vol in vols:
            res["nodes"][target]["disks"][vol] = "Inconsistent"
        reconcile(res, s.down)
    return 0


def sim_sync_finish(args):
    opts, pos = sim_parse(args, {"target": True})
    need_positionals("sync-finish", pos, ["RES"])
    with Scenario(pos[0]) as s:
        keep = []
        for rec in s.res["syncs"]:
            if opts.get("target") not in (None, rec["target"]):
                keep.append(rec)
                continue
            for vol in rec["volumes"]:
                s.res["nodes"][rec["target"]]["disks"][vol] = UP_TO_DATE
        s.res["syncs"] = keep
        reconcile(s.res, s.down)
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
            n["open"] -= 1
            if n["open"] == 0:
                n["fail_io"] = False
                if n["auto_promoted"] and n["role"] == "Primary":
                    n["role"] = "Secondary"  # auto-demote on the last close
                n["auto_promoted"] = False
        else:
            if n["fail_io"]:
                raise Fail(RC_STATE, f"drbdsim open: {name} on {node}: State not recoverable "
                                     "(force-io-failures)")
            if n["role"] != "Primary":
                if not s.res["auto_promote"]:
                    raise Fail(RC_STATE, f"drbdsim open: {name} on {node}: Read-only file system "
                                         "(Secondary, auto-promote is off)")
                code = promote(s.res, s.down, node, False)
                if code < 0:
                    raise Fail(ss_exit_code(code),
                               f"drbdsim open: {name} on {node}: Read-only file system "
                               f"(Auto-promote failed: {SS_MESSAGES[code]} ({code}))")
                n["auto_promoted"] = True
            n["open"] += 1
        reconcile(s.res, s.down)
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


def drbdsim_main(argv):
    if not argv or argv[0] in ("help", "--help", "-h"):
        sys.stdout.write(sim_usage())
        return 0 if argv else RC_OTHER
    verb, args = argv[0], argv[1:]
    if verb == "install":
        return sim_install(args)
    if verb == "define":
        return sim_define(args)
    if verb == "undefine":
        return sim_undefine(args)
    if verb == "set-disk":
        return sim_set_disk(args)
    if verb in ("node-down", "node-up"):
        return sim_node_updown(verb, args)
    if verb in ("disconnect", "connect"):
        return sim_connection(verb, args)
    if verb == "sync":
        return sim_sync(args)
    if verb == "sync-finish":
        return sim_sync_finish(args)
    if verb in ("open", "close"):
        return sim_open_close(verb, args)
    if verb in ("quorum-lost", "quorum-regained"):
        return sim_quorum(verb, args)
    if verb == "show":
        return sim_show(args)
    if verb in ("drbdsetup", "drbdadm"):  # drbdsim drbdsetup … = the tool itself
        return drbdsetup_main(None, args) if verb == "drbdsetup" else drbdadm_main(args)
    err(f"drbdsim: unknown verb '{verb}'\n{sim_usage()}")
    return RC_OTHER


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
