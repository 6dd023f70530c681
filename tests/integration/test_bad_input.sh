#!/usr/bin/env bash
# Garbage, oversized, truncated and malformed frames on every listening port: each bad
# connection is closed with one clear log line, and the cluster keeps serving everyone.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1
start_storage s1
start_storage s2
must "two members" wait_for "2 members" 30 members_are 2
kvs_client alice put before bad-input >/dev/null
probe=$(grep -oE "listening on [0-9.]+:[0-9]+" "$WORK/s1.log" | head -1 | awk '{print $3}')

check "client port survives bad input" python3 "$HERE/bad_input.py" "$KVS_CLIENT_ADDR" client
check "storage port survives bad input" python3 "$HERE/bad_input.py" "$KVS_STORAGE_ADDR" storage
check "a storage node's probe port survives bad input" python3 "$HERE/bad_input.py" "$probe" probe

for p in frontend s1 s2; do check "$p is still running" kill -0 "${KVS_PID[$p]}"; done
check "both storage nodes are still members" members_are 2
check "the frontend logged the oversized frame clearly" grep -qiE "refused.*(too large|exceeds|limit)" "$WORK/frontend.log"
check "data written before is intact" test "$(kvs_client bob get before)" = "bad-input"
kvs_client bob put after fine >/dev/null
check "the cluster still takes writes" test "$(kvs_client carol get after)" = "fine"

# Limits on keys and values are errors for that request only.
big=$(head -c 2000 /dev/zero | tr '\0' k)
out=$(kvs_client dave put "$big" v 2>"$WORK/err.txt"); rc=$?
check "an oversized key is rejected (exit 1)" test "$rc" = 1
check "... with a message naming the limit" grep -q "max_key_bytes" "$WORK/err.txt"
finish
