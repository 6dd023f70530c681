#!/usr/bin/env bash
# Disk trouble on real files: s3's data directory is a small tmpfs. When it fills up
# (ENOSPC) s3 stops taking writes, says why and exits; on a read-only disk (EROFS) it
# refuses to start and says why; the cluster carries on with s1 and s2; nothing
# acknowledged is lost; once the disk is fixed s3 restarts, recovers its log, catches up
# and serves.
# Needs root (mount); skipped (exit 77) where that is not permitted.
source "$(dirname "$0")/lib.sh" "$1"
MNT=$WORK/data/s3
mkdir -p "$MNT"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m,mode=0700 kvs-test "$MNT" 2>"$WORK/mount.err"; then
  echo "SKIP: cannot mount a tmpfs here ($(cat "$WORK/mount.err" 2>/dev/null || echo 'not root')); run as root to test a full or read-only disk"
  exit 77
fi
trap 'stop_all; umount "$MNT" 2>/dev/null; on_exit' EXIT
VALUE_PAD=$(printf '%02000d' 0)  # 2 KB values: 1 MB holds about 500 of them

start_frontend --storage-timeout 1 --unavailable-timeout 10
start_members s1 s2 s3
s3_exited() { ! kill -0 "${KVS_PID[s3]}" 2>/dev/null; }
acks() { grep -c '^ok$' "$WORK/$1.out"; }

write_keys writer w 1200 &
writer=$!
must "s3 stops when its disk is full" wait_for "s3 to exit" 60 s3_exited
wait "${KVS_PID[s3]}"
check "s3 exits with an error status" test $? -ne 0
check "s3 says its disk write failed for lack of space" grep -q "disk write failed.*ENOSPC" "$WORK/s3.log"
unset "KVS_PID[s3]"
after=$(acks w)
must "writes continue on s1 and s2" wait_for "200 more writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge $((after + 200)) ]"

mount -o remount,size=64m "$MNT"
start_storage s3
must "s3 recovers and rejoins once the disk has room" wait_for "s3 member" 60 node_is s3 member
wait "$writer"
check "all 1200 writes acknowledged" test "$(acks w)" = 1200

# A tmpfs cannot turn read-only under a file open for writing, so s3 is stopped first.
stop s3
must "the disk turns read-only" mount -o remount,ro "$MNT"
write_keys writer2 r 50
check "writes go on without s3" test "$(acks r)" = 50
start_storage s3
must "s3 refuses to start on a read-only disk" wait_for "s3 to exit" 30 s3_exited
wait "${KVS_PID[s3]}"
check "and exits with an error status" test $? -ne 0
unset "KVS_PID[s3]"
check "naming the problem" bash -c "tail -3 '$WORK/s3.log' | grep -qi 'read-only file system'"

mount -o remount,rw "$MNT"
start_storage s3
must "s3 rejoins once the disk is writable again" wait_for "s3 member" 60 node_is s3 member
stop s1
stop s2
must "s3 is the only member" wait_for "1 member" 30 members_are 1
check "s3 alone serves every acknowledged write" all_acked_readable w r
finish
