#!/usr/bin/env bash
# The frontend's memory under a long load (not part of `make test`; `make soak SECONDS=N`).
# Starts a frontend and three storage nodes on 127.0.0.1 (OS-chosen ports, data in a
# temporary folder), runs kvbench (PUT/GET mix, many pipelining sessions) for SECONDS,
# samples the frontend's VmRSS every 5 s, prints the samples, then first/max/last and the
# slope over the last 4 minutes (MB/minute). Fails if RSS grew by more than the tolerance
# after the first minute (SOAK_TOLERANCE_MB, default 16) or if the load stopped.
#
#   scripts/soak_rss.sh BUILD_DIR [SECONDS]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:?usage: $0 BUILD_DIR [SECONDS]}" && pwd)
RUN_SECONDS=${2:-300}
TOLERANCE_MB=${SOAK_TOLERANCE_MB:-16}
SESSIONS=${SOAK_SESSIONS:-64}
PIPELINE=${SOAK_PIPELINE:-16}
VALUE=${SOAK_VALUE_BYTES:-1024}
WORK=$(mktemp -d /tmp/kvs-soak.XXXXXX)
# shellcheck source=../tests/integration/cluster.sh
source "$ROOT/tests/integration/cluster.sh"
BENCH=""
cleanup() {
  [ -z "$BENCH" ] || kill "$BENCH" 2>/dev/null
  stop_all
  rm -rf "$WORK/data"
  echo "logs kept in $WORK"
}
trap cleanup EXIT

start_frontend || exit 1
for s in s1 s2 s3; do start_storage "$s"; done
wait_for "three members" 30 members_are 3 || { echo "the storage nodes did not join"; exit 1; }
FPID=${KVS_PID[frontend]}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FPID/status"; }

echo "soak: ${RUN_SECONDS}s of kvbench --sessions $SESSIONS --pipeline $PIPELINE" \
  "--get-percent 50 --value-size $VALUE against a 3-node cluster; frontend pid $FPID"
"$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" --sessions "$SESSIONS" --pipeline "$PIPELINE" \
  --get-percent 50 --value-size "$VALUE" --keys 100000 --duration "$RUN_SECONDS" --warmup 0 \
  --request-timeout 30 --allow-errors --quiet --json >"$WORK/bench.json" 2>"$WORK/bench.err" &
BENCH=$!

start=$(date +%s)
: >"$WORK/rss.txt"
next=$start
while kill -0 "$BENCH" 2>/dev/null; do
  now=$(date +%s)
  if [ "$now" -ge "$next" ]; then
    kb=$(rss_kb) || break
    echo "$((now - start)) $kb" | tee -a "$WORK/rss.txt" | awk '{ printf "  t=%4ds  VmRSS %7d kB\n", $1, $2 }'
    next=$((next + 5))
  fi
  sleep 0.2
done
wait "$BENCH"
bench_rc=$?
BENCH=""

python3 - "$WORK/rss.txt" "$WORK/bench.json" "$RUN_SECONDS" "$TOLERANCE_MB" "$bench_rc" <<'PY'
import json, sys
samples = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
run, tol_mb, rc = int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
try:
    r = json.load(open(sys.argv[2]))
    print("kvbench: %d ops, %.0f ops/s, %d errors, exit %d"
          % (r["ops"], r["throughput_ops_s"], r["errors"]["total"], rc))
except (OSError, ValueError, KeyError):
    print("kvbench: no report (exit %d)" % rc)
    r = None
if len(samples) < 3:
    print("FAIL: too few samples"); sys.exit(1)
mb = lambda kb: kb / 1024.0
first, last = samples[0][1], samples[-1][1]
top = max(kb for _, kb in samples)
print("RSS first %.1f MB, max %.1f MB, last %.1f MB (%d samples every 5 s)"
      % (mb(first), mb(top), mb(last), len(samples)))
# Slope over the last 4 minutes (least squares), in MB per minute.
tail = [s for s in samples if s[0] >= samples[-1][0] - 240]
n = len(tail)
mt = sum(t for t, _ in tail) / n
mk = sum(kb for _, kb in tail) / n
var = sum((t - mt) ** 2 for t, _ in tail)
slope = (sum((t - mt) * (kb - mk) for t, kb in tail) / var) * 60 / 1024 if var else 0.0
print("slope over the last %d s: %+.3f MB/minute" % (tail[-1][0] - tail[0][0], slope))
# Growth after the first minute (or the first third of a shorter run).
settle = min(60, run // 3)
after = [kb for t, kb in samples if t >= settle]
growth = mb(max(after) - after[0])
print("growth after t=%ds: %.1f MB (tolerance %.0f MB)" % (settle, growth, tol_mb))
ok = growth <= tol_mb and r is not None and r["ops"] > 0
print("soak: %s" % ("PASS" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
