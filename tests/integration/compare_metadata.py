#!/usr/bin/env python3
"""Compares two agents' meta-data parameter for parameter: name, type, default.

usage: compare_metadata.py <stock-meta-data.xml> <ours.xml>
Prints the differences and exits 1 when there are any beyond the documented ones:
config has no empty default (it is required), booleans are spelled true/false, and
save_config_on_stop/sync_config_on_stop default to false (the stock agent gives none, and
treats unset as false). Parameters only ours declares (tracing) are allowed.
"""
import sys
import xml.etree.ElementTree as ET

DOCUMENTED = {
    ("config", ""): None,
    ("force_stop", "0"): "false",
    ("save_config_on_stop", None): "false",
    ("sync_config_on_stop", None): "false",
}


def params(path):
    root = ET.parse(path).getroot()
    out = {}
    for p in root.iter("parameter"):
        content = p.find("content")
        out[p.get("name")] = (content.get("type"), content.get("default"))
    return out


def main():
    stock, ours = params(sys.argv[1]), params(sys.argv[2])
    problems = []
    for name, (kind, default) in stock.items():
        if name not in ours:
            problems.append(f"{name}: missing")
            continue
        expected = DOCUMENTED.get((name, default), default)
        if ours[name] != (kind, expected):
            problems.append(f"{name}: stock {kind}/{default!r}, ours {ours[name][0]}/{ours[name][1]!r}")
    for line in problems:
        print(line)
    print(f"{len(stock)} stock parameters compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
