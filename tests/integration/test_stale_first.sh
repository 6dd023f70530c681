#!/usr/bin/env bash
# After a total failure, a stale node restarted first must not serve; once the node with
# every acknowledged write is back, everything is served and the stale node catches up.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 2
start_storage s1
start_storage s2
must "two members" wait_for "2 members" 30 members_are 2
write_keys alice a 50
kill9 s2
must "s2 removed" wait_for "1 member" 30 members_are 1
write_keys alice b 50   # acknowledged by s1 alone
check "50 writes acknowledged by s1 alone" test "$(grep -c '^ok$' "$WORK/b.out")" = 50
kill9 s1
must "no member left" wait_for "0 members" 30 members_are 0

start_storage s2   # stale: it lacks the b-keys
must "stale s2 is told to wait" wait_for "s2 waiting" 30 node_is s2 waiting
check "s2 logged that it waits" wait_for "s2 log" 10 grep -q "waiting" "$WORK/s2.log"
out=$(kvs_client bob get b-1 2>"$WORK/err.txt"); rc=$?
check "a read fails as unavailable instead of returning stale data" test "$rc" = 1 -a -z "$out"
check "... with the reason on stderr" grep -qi "unavailable" "$WORK/err.txt"
out=$(kvs_client bob get a-1 2>/dev/null); rc=$?
check "the stale node serves nothing at all" test "$rc" = 1

start_storage s1
must "both members again" wait_for "2 members" 60 members_are 2
check "every acknowledged write is readable" all_acked_readable a b
stop s1
must "s2 alone" wait_for "1 member" 30 members_are 1
check "s2 caught up on the writes it missed" all_acked_readable a b
finish
