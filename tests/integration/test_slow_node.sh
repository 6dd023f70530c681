#!/usr/bin/env bash
# A storage node frozen with SIGSTOP for longer than storage_timeout is removed and the
# cluster carries on; after SIGCONT it rejoins through catch-up and holds every write.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 10
start_members s1 s2 s3

write_keys writer w 1500 &
writer=$!
acks() { grep -c '^ok$' "$WORK/w.out"; }
must "writer gets 200 writes in" wait_for "200 writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge 200 ]"
kill -STOP "${KVS_PID[s2]}"
must "frontend removes the frozen s2" wait_for "s2 removed" 30 grep -q "storage s2 removed" "$WORK/frontend.log"
after=$(acks)
must "writes continue while s2 is frozen" wait_for "300 more writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge $((after + 300)) ]"
kill -CONT "${KVS_PID[s2]}"
must "s2 rejoins as a member after SIGCONT" wait_for "s2 member" 60 node_is s2 member
check "s2 caught up through the frontend" grep -q "storage s2 caught up" "$WORK/frontend.log"
wait "$writer"
check "all 1500 writes acknowledged" test "$(acks)" = 1500
stop s1
stop s3
must "s2 is the only member" wait_for "1 member" 30 members_are 1
check "s2 alone serves every acknowledged write" all_acked_readable w
finish
