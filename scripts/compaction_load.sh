#!/usr/bin/env bash
# Compaction under a long write load (not part of `make test`): a 3-node cluster on
# 127.0.0.1 (OS-chosen ports, data in a temporary folder) whose storage nodes compact
# every SNAPSHOT_BYTES of log, kvbench with 50 sessions of 1 KB PUTs over 200,000 keys
# for SECONDS. Prints kvbench's PUT throughput and latency, the compactions, and the
# members the frontend removed for not answering (storage_timeout 2 s). Before numbered
# logs (docs/ARCHITECTURE.md decision 13) nodes stopped appending while they wrote a
# snapshot, and were removed; see bench/notes.md for runs.
#
#   scripts/compaction_load.sh BUILD_DIR [SECONDS] [SNAPSHOT_BYTES]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${1:?usage: $0 BUILD_DIR [SECONDS] [SNAPSHOT_BYTES]}" && pwd)
RUN_SECONDS=${2:-40}
SNAPSHOT_BYTES=${3:-33554432}
WORK=$(mktemp -d /tmp/kvs-compaction.XXXXXX)
# shellcheck source=../tests/integration/cluster.sh
source "$ROOT/tests/integration/cluster.sh"
cleanup() {
  stop_all
  rm -rf "$WORK/data"
  echo "logs kept in $WORK"
}
trap cleanup EXIT

start_frontend --storage-timeout 2 || exit 1
for s in s1 s2 s3; do start_storage "$s" --snapshot-bytes "$SNAPSHOT_BYTES"; done
wait_for "three members" 30 members_are 3 || { echo "the storage nodes did not join"; exit 1; }
echo "compaction load: ${RUN_SECONDS}s of kvbench --sessions 50 --get-percent 0" \
  "--value-size 1000 --keys 200000; storage --snapshot-bytes $SNAPSHOT_BYTES"
"$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" --sessions 50 --get-percent 0 --keys 200000 \
  --value-size 1000 --duration "$RUN_SECONDS" --warmup 1 --allow-errors --json --quiet \
  >"$WORK/bench.json" 2>"$WORK/bench.err" || { cat "$WORK/bench.err"; exit 1; }
python3 - "$WORK/bench.json" <<'PY'
import json, sys
put = json.load(open(sys.argv[1]))["operations"]["put"]
lat = put["latency_us"]
print(f"PUT {put['throughput_ops_s']:.0f} ops/s, p50 {lat['p50'] / 1000:.1f} ms, "
      f"p99 {lat['p99'] / 1000:.1f} ms, max {lat['max'] / 1000:.0f} ms, "
      f"errors {put['errors']['total']}")
PY
echo "compactions: $(cat "$WORK"/s?.log | grep -c compacted)," \
  "members removed: $(grep -c 'removed (member)' "$WORK/frontend.log")"
grep 'removed (member)' "$WORK/frontend.log" | head -3
