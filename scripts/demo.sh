#!/usr/bin/env bash
# `make demo`: a local kvs cluster doing real work, narrated. A frontend and three storage
# nodes on 127.0.0.1 (OS-chosen ports, data in a temporary folder); clients write and
# read; one storage node is killed with SIGKILL in the middle of writes, restarted,
# catches up, and then serves every key on its own. Everything is stopped by PID.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-$ROOT}
WORK=$(mktemp -d /tmp/kvs-demo.XXXXXX)
# shellcheck source=../tests/integration/cluster.sh
source "$ROOT/tests/integration/cluster.sh"

cleanup() {
  stop_all
  echo
  echo "All processes stopped. Logs and data kept in $WORK"
}
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { sed 's/^/    /'; }
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# The storage log lines worth showing, without timestamps.
# Only the node's latest run: each start appends a "---- start" marker to its log.
story() {
  awk '/^---- start/ { run = "" } { run = run $0 "\n" } END { printf "%s", run }' "$WORK/$1.log" |
    grep -E "$2" | sed -E 's/^[0-9T:.-]+Z +//' | show
}

say "Starting a frontend and three storage nodes on 127.0.0.1 (data in $WORK/data)"
start_frontend --storage-timeout 1 --unavailable-timeout 10
echo "    frontend: clients on $KVS_CLIENT_ADDR, storage nodes on $KVS_STORAGE_ADDR (pid ${KVS_PID[frontend]})"
for s in s1 s2 s3; do start_storage "$s"; done
wait_for "three members" 30 members_are 3
for s in s1 s2 s3; do echo "    storage $s: pid ${KVS_PID[$s]}, $(node_state "$s")"; done

say "alice writes 300 keys, one at a time (each PUT is acknowledged only once all 3 nodes fsynced it)"
for i in $(seq 1 300); do echo "put key-$i value-$i"; done >"$WORK/alice.cmds"
start=$(date +%s%N)
kvs_client alice <"$WORK/alice.cmds" >"$WORK/alice.out"
elapsed=$(ms_since "$start")
echo "    $(grep -c '^ok$' "$WORK/alice.out") of 300 PUTs acknowledged in ${elapsed} ms" \
     "(about $(( elapsed * 1000 / 300 )) µs per PUT, sequential, 3 fsyncing replicas)"

say "bob reads three of them back"
for k in key-1 key-150 key-300; do
  echo "    get $k -> $(kvs_client bob get "$k")"
done
echo "    get no-such-key -> exit code $(kvs_client bob get no-such-key >/dev/null 2>&1; echo $?) (3 = not found)"

say "carol writes 2000 more keys in the background; meanwhile we crash s2 with SIGKILL"
for i in $(seq 1 2000); do echo "put carol-$i value-$i"; done >"$WORK/carol.cmds"
kvs_client carol --history "$WORK/carol.history" <"$WORK/carol.cmds" >"$WORK/carol.out" 2>&1 &
carol=$!
wait_for "carol's first 300 writes" 60 bash -c "[ \$(wc -l <'$WORK/carol.out') -ge 300 ]"
kill9 s2
echo "    s2 killed after carol had $(wc -l <"$WORK/carol.out") writes acknowledged"
wait_for "the frontend to drop s2" 30 grep -q "storage s2 removed" "$WORK/frontend.log"
grep -E "storage s2 removed" "$WORK/frontend.log" | head -1 | sed -E 's/^[0-9T:.-]+Z +//' | show
wait_for "carol to get 1200 writes in with s2 down" 60 bash -c "[ \$(wc -l <'$WORK/carol.out') -ge 1200 ]"
echo "    carol keeps writing with two nodes: $(wc -l <"$WORK/carol.out") writes acknowledged so far"

say "Restarting s2: it recovers from its log, catches up from a live node, then rejoins"
restart=$(date +%s%N)
start_storage s2
wait_for "s2 to be a member again" 60 members_are 3
echo "    s2 is a member again $(ms_since "$restart") ms after restart; what it logged:"
story s2 "recovered|torn|joining|catching|caught|member"
echo "    what the frontend logged:"
awk '/storage s2 removed/ { after = 1 } after' "$WORK/frontend.log" |
  grep -E "storage s2 (joins|behind|catching|caught|is a member)" |
  sed -E 's/^[0-9T:.-]+Z +//' | show

wait "$carol" || true
echo "    carol finished: $(grep -c '^ok$' "$WORK/carol.out") of 2000 PUTs acknowledged"
if [ -x "$BIN/kvcheck" ]; then
  echo "    checking carol's history: $("$BIN/kvcheck" "$WORK/carol.history" 2>&1 | tail -1)"
fi

say "Proof that s2 caught up: stop s1 and s3, then read all 2300 keys from s2 alone"
stop s1
stop s3
wait_for "s2 to be the only member" 30 members_are 1
{ for i in $(seq 1 300); do echo "get key-$i"; done
  for i in $(seq 1 2000); do echo "get carol-$i"; done; } >"$WORK/verify.cmds"
start=$(date +%s%N)
kvs_client dave <"$WORK/verify.cmds" >"$WORK/verify.out" || true
elapsed=$(ms_since "$start")
python3 - "$WORK" "$elapsed" <<'EOF'
import sys
work, elapsed = sys.argv[1], sys.argv[2]
expected = [f'"value-{i}"' for i in range(1, 301)]
carol = open(f"{work}/carol.out").read().split("\n")
for i in range(1, 2001):
    # A PUT that was not acknowledged may or may not have taken effect.
    acked = i <= len(carol) and carol[i - 1] == "ok"
    expected.append(f'"value-{i}"' if acked else None)
got = open(f"{work}/verify.out").read().split("\n")
bad = [(n, e, g) for n, (e, g) in enumerate(zip(expected, got)) if e is not None and e != g]
acked = sum(1 for e in expected if e is not None)
if bad:
    print(f"    MISMATCH on {len(bad)} of {acked} acknowledged keys, e.g. {bad[:3]}")
    sys.exit(1)
print(f"    all {acked} acknowledged keys read back correctly from s2 alone in {elapsed} ms")
EOF

say "Bringing s1 and s3 back"
start_storage s1
start_storage s3
wait_for "three members again" 60 members_are 3
cluster_status | python3 -c '
import json, sys
s = json.load(sys.stdin)
nodes = ", ".join("%s (%s, acked %d)" % (n["id"], n["state"], n["acked"]) for n in s["nodes"])
print("    commit watermark W=%d; %s" % (s["commit"], nodes))'

say "Restarting the frontend (kill -9): it reads its state file and the nodes rejoin on their own"
KVS_FRONTEND_CLIENT_LISTEN=$KVS_CLIENT_ADDR   # the same ports the nodes and clients dial
KVS_FRONTEND_STORAGE_LISTEN=$KVS_STORAGE_ADDR
kill9 frontend
restart=$(date +%s%N)
start_frontend --storage-timeout 1 --unavailable-timeout 10
wait_for "three members after the frontend restart" 60 members_are 3
echo "    three members again $(ms_since "$restart") ms after the frontend restarted; what it logged:"
grep -E "restarted:|defines the data|is a member" "$WORK/frontend.log" | sed -E 's/^[0-9T:.-]+Z +//' | show
kvs_client dave <"$WORK/verify.cmds" >"$WORK/verify2.out" || true
if cmp -s "$WORK/verify.out" "$WORK/verify2.out"; then
  echo "    all 2300 keys read back exactly as before the restart"
else
  echo "    MISMATCH: the keys read differently after the frontend restart"
  exit 1
fi

say "Stopping everything by PID"
