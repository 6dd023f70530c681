#!/usr/bin/env bash
# Bounded memory under overload: storage much slower than the clients (a member frozen
# with SIGSTOP, so nothing commits) while kvbench keeps 16 sessions x 64 pipelined PUTs of
# 64 KiB outstanding (64 MiB offered at once). The frontend starts at most
# max_inflight_write_bytes of PUTs, then stops reading the waiting sessions' connections;
# its RSS stays under a bound computed from that limit, and afterwards every write
# acknowledged reads back (kvcheck over the load's and the final reads' histories).
source "$(dirname "$0")/lib.sh" "$1"

SESSIONS=16
PIPELINE=64
VALUE=65536                        # bytes per PUT value
INFLIGHT_BYTES=$((4 * 1024 * 1024)) # max_inflight_write_bytes: 64 PUTs of 64 KiB
KEYS=256
HOLD=6                             # seconds s2 stays frozen (storage_timeout is longer)

# What the frontend may hold, from the limits (MiB = 1048576 bytes):
#   PUTs in flight: at most INFLIGHT_BYTES of keys and values, each held once in the
#     write buffer (the request gives its value up when the PUT starts) and once per node
#     as an encoded Write frame queued in user space (3 nodes; the frozen one never
#     drains its queue)                                            4 x 4 MiB = 16 MiB
#   per session, once paused: one read buffer (64 KiB) plus one partly read frame and one
#     decoded PUT that waits (64 KiB each)                         16 x 192 KiB = 3 MiB
#   allocator slack and transient encode buffers                   16 MiB
# so growth over the idle RSS must stay under 35 MiB. Without the bound every offered
# PUT is started: 64 MiB x (entry + 3 frames) grows RSS by well over 150 MiB.
BOUND_KB=$(( (4 * INFLIGHT_BYTES + SESSIONS * 3 * VALUE) / 1024 + 16 * 1024 ))
# Under AddressSanitizer (the ASan tree sets KVS_SANITIZED): freed memory would sit in
# its quarantine (256 MiB by default) and count as RSS, so the quarantine is turned off
# for the servers; shadow memory (1/8 of what is allocated) and redzones get another
# 16 MiB of slack.
if [ "${KVS_SANITIZED:-0}" = 1 ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
  BOUND_KB=$((BOUND_KB + 16 * 1024))
fi

start_frontend --storage-timeout 30 --unavailable-timeout 30 \
  --max-inflight-write-bytes "$INFLIGHT_BYTES"
start_members s1 s2 s3
FPID=${KVS_PID[frontend]}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$FPID/status" 2>/dev/null; }
status_field() { cluster_status 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
commits_reach() { [ "$(status_field commit)" -ge "$1" ]; }
BASE_KB=$(rss_kb)
echo "frontend idle RSS: $BASE_KB kB; allowed growth: $BOUND_KB kB"

timeout 120 "$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" --sessions "$SESSIONS" \
  --pipeline "$PIPELINE" --value-size "$VALUE" --get-percent 0 --keys "$KEYS" \
  --duration $((HOLD + 6)) --warmup 0 --request-timeout 60 --id-prefix bp --json --quiet \
  --history "$WORK/load.history" >"$WORK/load.json" 2>"$WORK/load.err" &
BENCH=$!
KVS_PID[kvbench]=$BENCH  # stopped by PID on exit, like the servers

# The frontend's RSS every 0.1 s until the load ends.
(while kill -0 "$BENCH" 2>/dev/null; do rss_kb; sleep 0.1; done) >"$WORK/rss.txt" &
SAMPLER=$!
KVS_PID[sampler]=$SAMPLER

must "the load commits writes" wait_for "100 commits" 30 commits_reach 100
kill -STOP "${KVS_PID[s2]}"
kvs_log "s2 frozen for ${HOLD}s"
deadline=$(( $(date +%s) + HOLD ))
max_uncommitted_bytes=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  b=$(status_field inflight_write_bytes 2>/dev/null || echo 0)
  [ "$b" -gt "$max_uncommitted_bytes" ] && max_uncommitted_bytes=$b
  sleep 0.5
done
waited=$(status_field puts_waited_for_room)
kill -CONT "${KVS_PID[s2]}"
kvs_log "s2 resumed"
wait "$BENCH"
rc=$?
wait "$SAMPLER"
unset "KVS_PID[kvbench]" "KVS_PID[sampler]"
check "kvbench completes without errors" test "$rc" = 0

MAX_KB=$(sort -n "$WORK/rss.txt" | tail -1)
echo "frontend RSS: idle $BASE_KB kB, max $MAX_KB kB over $(wc -l <"$WORK/rss.txt") samples; growth $((MAX_KB - BASE_KB)) kB, bound $BOUND_KB kB"
echo "in-flight PUT bytes seen while s2 was frozen: at most $max_uncommitted_bytes (limit $INFLIGHT_BYTES + one PUT)"
check "PUTs in flight stayed within max_inflight_write_bytes" \
  test "$max_uncommitted_bytes" -le $((INFLIGHT_BYTES + VALUE + 64))
check "sessions waited for room (backpressure engaged): $waited times" test "$waited" -gt 0
check "the frontend's RSS grew by less than the bound from its limits" \
  test $((MAX_KB - BASE_KB)) -lt "$BOUND_KB"
check "s2 is still a member (it was never removed)" node_is s2 member

for k in $(seq 0 $((KEYS - 1))); do echo "get key$k"; done >"$WORK/final.cmds"
kvs_client final --history "$WORK/final.history" <"$WORK/final.cmds" >"$WORK/final.out" 2>"$WORK/final.err"
check "the final read of every key succeeds" \
  bash -c "! grep -q '^error' '$WORK/final.out' && [ \$(wc -l <'$WORK/final.out') -eq $KEYS ]"
check "every acknowledged write reads back: load + final reads are linearizable (kvcheck)" \
  "$BIN/kvcheck" "$WORK/load.history" "$WORK/final.history"
finish
