#!/usr/bin/env python3
"""Compares bench_codec binaries on a shared machine: runs them in turn, ROUNDS times,
and prints each benchmark's minimum and median CPU time per message (ns). Taking turns
spreads other users' load over all binaries; the minimum is the least disturbed run.

  bench/compare_codec.py 9 /tmp/bench_codec_before build-bench/bench_codec
"""
import collections
import json
import subprocess
import sys

rounds, binaries = int(sys.argv[1]), sys.argv[2:]
times = {b: collections.defaultdict(list) for b in binaries}
for _ in range(rounds):
    for b in binaries:
        out = subprocess.run([b, "--benchmark_format=json", "--benchmark_min_time=0.2"],
                             capture_output=True, text=True, check=True).stdout
        for result in json.loads(out)["benchmarks"]:
            times[b][result["name"]].append(result["cpu_time"])
print("%-26s" % "ns/message (min / median)" + "".join("%24s" % b[-22:] for b in binaries))
for name in times[binaries[0]]:
    row = "%-26s" % name
    for b in binaries:
        t = sorted(times[b][name])
        row += "%15.0f / %6.0f" % (t[0], t[len(t) // 2])
    print(row)
