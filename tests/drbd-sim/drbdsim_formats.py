"""drbdsim: what the simulated drbdsetup prints, ported from drbd-utils v9.22.0.

Why a module of its own: the agents parse these outputs, so they must match the real tool
byte for byte, and that is easiest to check with the printers side by side and apart from the
rules.  From a node's view (drbdsim_model.build_view) this makes the events2 lines
(drbdsetup_events2.c, print_*_changes and compute_promotion_info), `status --json` and the
text `status` (drbdsetup.c *_status_json, resource_status … peer_device_status,
wrap_printf.c), and the kernel's error messages as drbdsetup prints them.
"""

import os
import sys
import time

from drbdsim_codes import ERR_MESSAGES, RC_FAILURE, SS_MESSAGES, err, ss_exit_code
from drbdsim_model import UP_TO_DATE


# ------------------------------------------------------------------------------------------
# Shared by the printers

def yn(flag):
    return "yes" if flag else "no"


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


def mib_per_s(sectors, ms):
    """A resync rate as drbdsetup prints it: sectors over milliseconds, in MiB/s (0 ms counts
    as 1)."""
    return sectors / (ms or 1) * 1000.0 / 2048.0


def done_percent(pd, to_go):
    """How much of the resync is done, in percent (`done:`, "percent-resync-done")."""
    return 100.0 * (pd["rs_total"] - to_go) / pd["rs_total"]


def eta_seconds(pd, to_go):
    """Seconds to finish at the last period's rate, or None when nothing moved in it."""
    db = pd["rs_db1_sectors"]
    if db <= 0:
        return None
    return (pd["rs_dt1_ms"] or 1) * 1e-3 * to_go / db


def eta_text(pd, to_go):
    """`eta:` in events2 and status: whole seconds, or nan."""
    eta = eta_seconds(pd, to_go)
    return "nan" if eta is None else "%.0f" % eta


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
        fields.append(("done", "%.2f" % done_percent(pd, to_go)))
    if not statistics:
        return fields
    fields += [("received", str(pd["received"] // 2)), ("sent", str(pd["sent"] // 2)),
               ("out-of-sync", str(pd["out_of_sync"] // 2)), ("pending", str(pd["pending"])),
               ("unacked", str(pd["unacked"]))]
    if not details:
        return fields
    fields.append(("dbdt1", "%.2f" % mib_per_s(pd["rs_db1_sectors"], pd["rs_dt1_ms"])))
    fields.append(("eta", eta_text(pd, to_go)))
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
        s += "          \"db0/dt0 [MiB/s]\": %.2f,\n" % mib_per_s(pd["rs_db0_sectors"],
                                                                   pd["rs_dt0_ms"])
        s += "          \"db1/dt1 [MiB/s]\": %.2f,\n" % mib_per_s(pd["rs_db1_sectors"],
                                                                   pd["rs_dt1_ms"])
        eta = eta_seconds(pd, to_go)
        eta = 987654321 if eta is None else eta
        s += "          \"estimated-seconds-to-finish\": %.0f,\n" % eta
        s += "          \"db/dt [MiB/s]\": %.2f,\n" % mib_per_s(
            pd["rs_total"] - to_go, pd["rs_dt_start_ms"] - pd["rs_paused_ms"])
        s += "          \"percent-resync-done\": %.2f\n" % (
            0 if pd["rs_total"] == 0 else done_percent(pd, to_go))
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
            w(indent, " done:%.2f" % done_percent(pd, to_go))
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
                        w(indent, " dbdt:%.2f" % mib_per_s(
                            pd["rs_total"] - to_go, pd["rs_dt_start_ms"] - pd["rs_paused_ms"]))
                        w(indent, " dbdt0:%.2f" % mib_per_s(pd["rs_db0_sectors"], pd["rs_dt0_ms"]))
                    w(indent, " dbdt1:%.2f" % mib_per_s(pd["rs_db1_sectors"], pd["rs_dt1_ms"]))
                    w(indent, " eta:%s" % eta_text(pd, to_go))
    w(0, "\n")


# ------------------------------------------------------------------------------------------
# Errors as drbdsetup prints them (drbdsetup.c print_config_error)

def failure(objname, code, info=None):
    text = f"{objname}: Failure: ({code}) {ERR_MESSAGES[code]}"
    if info:
        text += f"\nadditional info from kernel:\n{info}"
    err(text)
    return RC_FAILURE


def state_change_failed(objname, code):
    err(f"{objname}: State change failed: ({code}) {SS_MESSAGES[code]}")
    return ss_exit_code(code)
