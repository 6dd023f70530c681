#!/usr/bin/env python3
"""Reads a kvs storage data directory (snapshot + wal-NNNNNN.log files) independently of
the C++ code and checks that it holds every acknowledged write listed in EXPECT ("key
value" lines).

Each record is a line: 8 hex digits of CRC32C over the payload, a space, the JSON payload.
A torn last line is ignored, as recovery does, and so are the zeros of preallocated space.
The snapshot's end record names the first log it does not hold; older logs are stale."""
import json
import os
import re
import sys


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def records(path):
    if not os.path.exists(path):
        return
    data = open(path, "rb").read().rstrip(b"\0")
    lines = data.split(b"\n")
    for i, line in enumerate(lines):
        if not line:
            continue
        crc, _, payload = line.partition(b" ")
        try:
            ok = int(crc, 16) == crc32c(payload)
        except ValueError:
            ok = False
        if not ok:
            if i >= len(lines) - 2:
                return  # torn tail
            raise SystemExit(f"{path}: corrupt record on line {i + 1}")
        yield json.loads(payload)


def state_of(folder):
    """key -> (lsn, value) of its newest version, after any "discard" record (a frontend
    restart voids LSNs after..upto) has dropped the versions in its range."""
    versions = {}
    first_log = 1
    for r in records(os.path.join(folder, "snapshot")):
        if r.get("t") == "end":
            first_log = r["first_log"]
    logs = sorted(int(m.group(1)) for m in
                  (re.fullmatch(r"wal-(\d{6,})\.log", f) for f in os.listdir(folder)) if m)
    paths = [os.path.join(folder, "snapshot")]
    paths += [os.path.join(folder, f"wal-{n:06d}.log") for n in logs if n >= first_log]
    for path in paths:
        for r in records(path):
            if r.get("t") == "put":
                versions.setdefault(r["k"], {})[r["lsn"]] = r["v"]
            elif r.get("t") == "discard":
                for by_lsn in versions.values():
                    for lsn in [l for l in by_lsn if r["after"] < l <= r["upto"]]:
                        del by_lsn[lsn]
    return {k: max(v.items()) for k, v in versions.items() if v}


def main():
    # read_data_dir.py FOLDER[,FOLDER...] EXPECT: with several folders, each write must be
    # in at least one of them (nodes removed before a write was acknowledged lack it).
    folders, expect_file = sys.argv[1].split(","), sys.argv[2]
    states = [state_of(f) for f in folders]
    state = states[0]
    folder = ",".join(folders)
    expect = [l.split(" ", 1) for l in open(expect_file).read().splitlines()]
    missing = [(k, v) for k, v in expect
               if all(s.get(k, (0, None))[1] != v for s in states)]
    if missing or not expect:
        print(f"  {len(missing)} of {len(expect)} acknowledged writes missing from {folder}, "
              f"e.g. {missing[:3]}")
        sys.exit(1)
    print(f"  {folder} holds all {len(expect)} acknowledged writes ({len(state)} keys)")


if __name__ == "__main__":
    main()
