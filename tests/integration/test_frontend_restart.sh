#!/usr/bin/env bash
# SIGKILL the frontend under a write load and start it again on the same ports: storage
# nodes and the client reconnect on their own, every acknowledged write survives, and the
# histories stay linearizable (kvcheck). Then the stale-node case: after another restart
# a node that missed writes, and one that left before the last write, return first; they
# must wait, not serve, until the last recorded member is back.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 30
start_members s1 s2 s3
# Later restarts listen where the nodes and clients already dial.
KVS_FRONTEND_CLIENT_LISTEN=$KVS_CLIENT_ADDR
KVS_FRONTEND_STORAGE_LISTEN=$KVS_STORAGE_ADDR

frontend_not_ready() {
  cluster_status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)["ready"] is not False)'
}

restart_frontend() {
  cp "$WORK/frontend.log" "$WORK/frontend.before-$1.log"
  kill9 frontend
  start_frontend --storage-timeout 1 --unavailable-timeout 30
}

write_keys writer w 1500 --history "$WORK/w.history" --request-timeout 60 &
writer=$!
must "writer gets 300 writes in" wait_for "300 writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge 300 ]"
restart_frontend 1
must "every node rejoins the restarted frontend" wait_for "3 members" 60 members_are 3
check "a node of the last member set defined the data" grep -q "defines the data" "$WORK/frontend.log"
must "the writer finishes" wait_for "writer done" 120 bash -c "! kill -0 $writer 2>/dev/null"
wait "$writer"
acked=$(grep -c '^ok$' "$WORK/w.out")
check "most writes acknowledged across the restart ($acked of 1500)" test "$acked" -ge 1400
check "every acknowledged write reads back" all_acked_readable w
check "the writer's history is linearizable per key and in order (kvcheck)" \
  "$BIN/kvcheck" "$WORK/w.history"

# Stale node first: s3 misses writes, then the frontend restarts and s3 returns alone.
kill9 s3
must "frontend records s3's removal" wait_for "s3 removed" 30 grep -q "storage s3 removed" "$WORK/frontend.log"
write_keys writer2 x 200
check "200 writes while s3 is down" test "$(grep -c '^ok$' "$WORK/x.out")" = 200
kill9 s1
must "frontend removes s1" wait_for "s1 removed" 30 grep -q "storage s1 removed" "$WORK/frontend.log"
write_keys writer3 y 1  # acknowledged only once the members {s2} are recorded
check "a write acknowledged by s2 alone" test "$(grep -c '^ok$' "$WORK/y.out")" = 1
kill9 s2
restart_frontend 2
start_storage s3
must "s3 is told to wait for a last member" wait_for "s3 waits" 30 grep -q "storage s3 waits" "$WORK/frontend.log"
start_storage s1
must "s1, no longer a recorded member, waits too" wait_for "s1 waits" 30 grep -q "storage s1 waits" "$WORK/frontend.log"
check "the frontend has no member while only s1 and s3 are back" members_are 0
check "requests wait: the frontend is not ready" frontend_not_ready
start_storage s2
must "s2 (the last member) defines the data; the others catch up" wait_for "3 members" 60 members_are 3
check "s2 defined the data" grep -q "storage s2 defines the data" "$WORK/frontend.log"
check "s3 caught up" grep -q "storage s3 caught up" "$WORK/frontend.log"
stop s1
stop s2
must "s3 alone is a member" wait_for "1 member" 30 members_are 1
check "s3 alone serves every acknowledged write" all_acked_readable w x y

# A damaged state file: the frontend refuses to start and names the file.
stop frontend
printf 'x' >>"$WORK/data/frontend/snapshot"
damaged_state_refused() {
  local out
  out=$(timeout 10 "$BIN/frontend" --data-dir "$WORK/data/frontend" --client-listen 127.0.0.1:0 \
    --storage-listen 127.0.0.1:0 2>&1) && return 1
  grep -q "frontend/snapshot: corrupt record" <<<"$out"
}
check "a damaged state file stops the frontend, naming the file" damaged_state_refused
finish
