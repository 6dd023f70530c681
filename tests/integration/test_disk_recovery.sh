#!/usr/bin/env bash
# The storage node's files: compaction into a snapshot survives a restart; a torn last
# record is cut with a warning; corruption before the tail stops the node with the file
# and byte offset named; wiping the data directory makes it rejoin empty and catch up.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1 --unavailable-timeout 10
start_storage s1 --snapshot-bytes 20000
start_storage s2
must "two members" wait_for "2 members" 30 members_are 2
write_keys alice a 1000
check "1000 writes acknowledged" test "$(grep -c '^ok$' "$WORK/a.out")" = 1000
check "s1 compacted its log into a snapshot" grep -q "compacted" "$WORK/s1.log"
check "s1's snapshot file exists" test -s "$WORK/data/s1/snapshot"
check "s1 deleted the log its snapshot holds" test ! -e "$WORK/data/s1/wal-000001.log"
stop s1
check "snapshot + log hold every acknowledged write" data_dir_has_acked s1 a
start_storage s1 --snapshot-bytes 20000
must "s1 restarts from snapshot + log" wait_for "2 members" 30 members_are 2

# The log appended to: the highest-numbered one.
newest_log() { ls "$WORK/data/$1"/wal-*.log | sort | tail -n 1; }

# A torn tail: half a record at the end of the log, as a crash mid-append leaves it
# (after the log's preallocated zeros: a write that landed while the ones before did not).
stop s2
printf '0badc0de {"t":"put","lsn":99999,"k":"torn' >>"$(newest_log s2)"
start_storage s2
must "s2 starts despite a torn tail" wait_for "2 members" 30 members_are 2
check "s2 warned that it cut the torn tail" grep -qiE "torn|cut|truncat" "$WORK/s2.log"

# Corruption in the middle of the log: refuse to start, name file and offset.
stop s2
log=$(newest_log s2)
python3 - "$log" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
mid = len(data.rstrip(b"\0")) // 2  # inside the records, not the preallocated space
data[mid] = ord("#") if data[mid] != ord("#") else ord("%")
open(path, "wb").write(data)
PY
"$BIN/storage" --id s2 --listen 127.0.0.1:0 --data-dir "$WORK/data/s2" \
  --frontend "$KVS_STORAGE_ADDR" >"$WORK/corrupt.txt" 2>&1 &
pid=$!
KVS_PID[corrupt]=$pid
must "the node refuses to start (exits by itself)" wait_for "exit" 20 bash -c "! kill -0 $pid"
wait "$pid"; rc=$?
unset "KVS_PID[corrupt]"
check "... with a non-zero status" test "$rc" != 0
check "... naming the file" grep -qF "$(basename "$log")" "$WORK/corrupt.txt"
check "... and the byte offset" grep -qiE "byte [0-9]+|offset [0-9]+" "$WORK/corrupt.txt"

# The operator's way out: move the data aside; the node rejoins empty and catches up.
mv "$WORK/data/s2" "$WORK/s2-corrupt"
start_storage s2
must "s2 rejoins empty and catches up" wait_for "2 members" 60 members_are 2
stop s1
must "s2 alone" wait_for "1 member" 30 members_are 1
check "s2 serves every acknowledged write after a full catch-up" all_acked_readable a
finish
