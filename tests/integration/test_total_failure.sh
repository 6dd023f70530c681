#!/usr/bin/env bash
# SIGKILL every storage node in the middle of writes, restart them all: every
# acknowledged write is still there.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 20
start_members s1 s2 s3

write_keys writer w 1000 &
writer=$!
must "writer gets 300 writes in" wait_for "300 writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge 300 ]"
kill9 s1; kill9 s2; kill9 s3
must "the frontend sees no member" wait_for "0 members" 30 members_are 0
before=$(grep -c '^ok$' "$WORK/w.out")
# A write acknowledged after s1 died (by s2 and s3) is not on s1: the promise is that
# each one is on the disk of every node that was a member when it was acknowledged.
check "the $before writes acknowledged before the crash are on disk" data_dirs_have_acked "s1 s2 s3" w
last=$(grep -oE "storage s[123] removed" "$WORK/frontend.log" | tail -1 | awk '{print $2}')
check "the last member to go ($last) holds every one of them" data_dir_has_acked "$last" w
for s in s3 s2 s1; do start_storage "$s"; done
must "all three rejoin" wait_for "3 members" 60 members_are 3
wait "$writer"
check "the writer finished: every PUT acknowledged (the pending one waited for the restart)" \
  test "$(grep -c '^ok$' "$WORK/w.out")" = 1000
check "every acknowledged write is readable" all_acked_readable w
finish
