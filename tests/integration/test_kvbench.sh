#!/usr/bin/env bash
# kvbench against a real cluster: a bounded run's JSON report (counts, percentiles), its
# history checked by kvcheck, --preload, error accounting with no storage node left,
# and clear failures for an unreachable frontend and bad flags (a wrong secret:
# test_auth.sh).
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 2 --unavailable-timeout 0.5
start_members s1 s2 s3

kvbench() { timeout 120 "$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" "$@"; }

# Asserts on a JSON report: python expressions over `r`, each must hold.
report_has() {  # FILE EXPR...
  python3 - "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
bad = [e for e in sys.argv[2:] if not eval(e, {"r": r})]
for e in bad:
    print("  not true:", e)
sys.exit(1 if bad else 0)
PY
}

# --- A bounded run: every measured operation accounted for, percentiles ordered.
kvbench --requests 2000 --sessions 8 --pipeline 4 --keys 200 --warmup 0.2 --json \
  --history "$WORK/bench.history" >"$WORK/bench.json" 2>"$WORK/bench.err"
rc=$?
must "kvbench --requests 2000 exits 0" test "$rc" = 0
check "the report is JSON with the measured counts" report_has "$WORK/bench.json" \
  'r["ops"] == 2000' 'r["errors"]["total"] == 0' \
  'r["operations"]["get"]["ops"] + r["operations"]["put"]["ops"] == 2000' \
  'r["operations"]["all"]["ok"] + r["operations"]["all"]["not_found"] == 2000' \
  'r["operations"]["get"]["ops"] > 0 and r["operations"]["put"]["ops"] > 0' \
  'r["throughput_ops_s"] > 0 and r["elapsed_s"] > 0' 'r["members"] == 3' \
  'r["config"]["sessions"] == 8 and r["config"]["pipeline"] == 4'
check "latency percentiles are ordered: min <= p50 <= p95 <= p99 <= p99.9 <= max" \
  report_has "$WORK/bench.json" \
  'all(0 < l["min"] <= l["p50"] <= l["p95"] <= l["p99"] <= l["p99_9"] <= l["max"]
       for l in (r["operations"][t]["latency_us"] for t in ("all", "get", "put")))' \
  'r["operations"]["all"]["latency_us"]["count"] == 2000'
check "... and said on stderr what it measures" grep -q "measuring 2000 operations" "$WORK/bench.err"
check "the history has one process per session" python3 - "$WORK/bench.history" <<'PY'
import json, sys
procs = {json.loads(l)["process"] for l in open(sys.argv[1])}
sys.exit(0 if procs == {"bench-%d" % i for i in range(8)} else 1)
PY
"$BIN/kvcheck" "$WORK/bench.history" >"$WORK/kvcheck.out" 2>&1
check "kvcheck passes the history (linearizable, session guarantees)" test $? = 0
check "... and read at least the 2000 measured operations" python3 -c '
import re, sys
m = re.search(r"(\d+) ops", open(sys.argv[1]).read())
sys.exit(0 if m and int(m.group(1)) >= 2000 else 1)' "$WORK/kvcheck.out"

# --- Text report by default; --preload makes every GET find a value.
kvbench --duration 1 --warmup 0 --sessions 4 --keys 300 --preload --get-percent 100 \
  --distribution zipf --zipf-theta 1.2 --quiet >"$WORK/preload.txt" 2>"$WORK/preload.err"
check "kvbench --preload --duration 1 exits 0" test $? = 0
check "... prints a text report with p99.9 per operation type" \
  grep -qE "^  get +[0-9]+ .*[0-9.]+ *$" "$WORK/preload.txt"
check "... in which no GET missed" bash -c "! grep -q 'found no value' '$WORK/preload.txt'"
check "... and --quiet printed no progress" test ! -s "$WORK/preload.err"

# --- Clear failures.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$BIN/kvbench" --frontend "127.0.0.1:$port" --requests 10 >"$WORK/unreach.out" 2>"$WORK/unreach.err"
rc=$?
check "an unreachable frontend exits 1" test "$rc" = 1
check "... saying it cannot connect, and where" grep -q "cannot connect to the frontend at 127.0.0.1:$port" "$WORK/unreach.err"
check "... with nothing on stdout" test ! -s "$WORK/unreach.out"
check "--help exits 0 and explains --pipeline" bash -c "'$BIN/kvbench' --help | grep -q -- --pipeline"
"$BIN/kvbench" --sessions many >/dev/null 2>"$WORK/flag.err"
rc=$?
check "a malformed flag exits 2 naming it" bash -c "[ $rc = 2 ] && grep -q -- --sessions '$WORK/flag.err'"
"$BIN/kvbench" --requests 5 --duration 5 >/dev/null 2>&1
check "--requests with --duration is refused" test $? = 2

# --- Errors are counted by status and make the exit status 1 unless --allow-errors.
for s in s1 s2 s3; do stop "$s"; done
must "no member left" wait_for "0 members" 30 members_are 0
kvbench --requests 20 --sessions 2 --warmup 0 --get-percent 0 --json --allow-errors \
  >"$WORK/errors.json" 2>"$WORK/errors.err"
check "with no storage node, --allow-errors still exits 0" test $? = 0
check "... and counts every PUT as unavailable" report_has "$WORK/errors.json" \
  'r["ops"] == 20' 'r["errors"]["unavailable"] == 20' 'r["errors"]["total"] == 20' \
  'r["operations"]["all"]["latency_us"]["count"] == 0' 'r["members"] == 0'
kvbench --requests 20 --sessions 2 --warmup 0 --json >"$WORK/stop.json" 2>"$WORK/stop.err"
check "without --allow-errors an error exits 1" test $? = 1
check "... after stopping at the first one" report_has "$WORK/stop.json" \
  'r["stopped_by_error"] is not None' 'r["ops"] < 20'
finish
