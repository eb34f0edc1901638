"""drbdsim: the state directory $DRBDSIM_STATE, shared by every simulated node.

Why a module of its own: every command, on every simulated node, reads and writes the same
files, and they must never see half a change.  This is the only code that touches them:
`<res>.json` per resource, `.nodes.json` (the nodes that are down), and `.lock`, which every
read-modify-write holds with flock (exclusive for changes, shared for reads).  Files are
replaced atomically.  The layout of the JSON is the simulator's state-file format: keep it.
"""

import fcntl
import json
import os
import re

from drbdsim_codes import RC_OTHER, Fail

# A resource name is also a file name in the state directory.
RES_NAME = re.compile(r"^[A-Za-z0-9_][-A-Za-z0-9_.+=@%]*$")


class Store:
    """The state directory, locked for the `with` block: shared to read, exclusive to change."""

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
