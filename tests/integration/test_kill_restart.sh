#!/usr/bin/env bash
# SIGKILL one storage node under a write load, keep writing, restart it: its log holds
# every acknowledged write, and it serves reads on its own.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 10
start_members s1 s2 s3

write_keys writer w 1500 &
writer=$!
must "writer gets 300 writes in" wait_for "300 writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge 300 ]"
kill9 s2
must "frontend removes s2" wait_for "s2 removed" 30 grep -q "storage s2 removed" "$WORK/frontend.log"
must "writes continue without s2" wait_for "800 writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge 800 ]"
start_storage s2
must "s2 rejoins as a member" wait_for "s2 member" 60 members_are 3
check "s2 caught up through the frontend" grep -q "storage s2 caught up" "$WORK/frontend.log"
wait "$writer"
check "all 1500 writes acknowledged" test "$(grep -c '^ok$' "$WORK/w.out")" = 1500

stop s2  # SIGTERM, then inspect its files with an independent reader
check "s2's data directory holds every acknowledged write" data_dir_has_acked s2 w
start_storage s2
must "s2 back" wait_for "s2 member" 60 members_are 3
stop s1
stop s3
must "s2 is the only member" wait_for "1 member" 30 members_are 1
check "s2 alone serves every acknowledged write" all_acked_readable w
finish
