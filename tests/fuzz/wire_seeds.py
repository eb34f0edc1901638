#!/usr/bin/python3
"""Seeds for the wire client's fuzz target: what a libvirtd would send back on its socket for
a state query (AUTH_LIST, CONNECT_OPEN, DOMAIN_GET_STATE) and a facts query by name
(DOMAIN_LOOKUP_BY_NAME, DOMAIN_GET_INFO), in a few variations.
usage: wire_seeds.py <corpus-directory>"""
import os
import struct
import sys

PROGRAM = 0x20008086
KEEPALIVE = 0x6B656570


def frame(proc, serial, body=b"", status=0, program=PROGRAM):
    header = struct.pack(">IIiiIi", program, 1, proc, 1, serial, status)
    return struct.pack(">I", 4 + len(header) + len(body)) + header + body


def words(*values):
    return b"".join(struct.pack(">I", v) for v in values)


def xdr_string(text):
    data = text.encode()
    return struct.pack(">I", len(data)) + data + b"\0" * (-len(data) % 4)


def error(code):
    return words(code, 10) + words(1) + xdr_string("Domain not found") + words(2, 0, 0, 0, 0, 0, 0, 0)


DOMAIN = xdr_string("vm1") + bytes(range(16)) + words(7)
INFO = words(1) + struct.pack(">QQ", 262144, 262144) + words(4) + struct.pack(">Q", 0)

SEEDS = {
    "running": frame(66, 1, words(1, 0)) + frame(1, 2) + frame(212, 3, words(1, 1))
    + frame(23, 4, DOMAIN) + frame(16, 5, INFO),
    "paused-ioerror-polkit": frame(66, 1, words(1, 2)) + frame(70, 2, words(1)) + frame(1, 3)
    + frame(212, 4, words(3, 5)),
    "no-such-domain": frame(66, 1, words(1, 0)) + frame(1, 2) + frame(212, 3, error(42), 1)
    + frame(23, 4, error(42), 1) + frame(23, 5, error(42), 1),
    "keepalive-first": frame(66, 1, words(1, 0)) + frame(1, 1, program=KEEPALIVE) + frame(1, 2)
    + frame(212, 3, words(5, 1)),
    "denied": frame(66, 1, words(1, 0)) + frame(1, 2, error(88), 1),
}

directory = sys.argv[1]
os.makedirs(directory, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(directory, name), "wb") as out:
        out.write(data)
