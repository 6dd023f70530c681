#!/usr/bin/env bash
# Put/get through three storage nodes; the client's one-shot exit codes; script mode;
# --help and bad flags/config on every program.
source "$(dirname "$0")/lib.sh" "$1"

start_frontend --storage-timeout 1
start_members s1 s2 s3

out=$(kvs_client alice put color blue); rc=$?
check "one-shot put exits 0 and prints nothing" test "$rc" = 0 -a -z "$out"
out=$(kvs_client alice get color); rc=$?
check "one-shot get prints the value alone" test "$rc" = 0 -a "$out" = "blue"
out=$(kvs_client alice get never-written 2>/dev/null); rc=$?
check "get of a missing key exits 3 with nothing on stdout" test "$rc" = 3 -a -z "$out"
kvs_client alice put "with space" "a value with spaces" >/dev/null
check "values with spaces round-trip" test "$(kvs_client bob get 'with space')" = "a value with spaces"

write_keys carol k 200
check "200 scripted PUTs all acknowledged" test "$(grep -c '^ok$' "$WORK/k.out")" = 200
check "all 200 read back through the cluster" all_acked_readable k

for p in frontend storage client; do
  check "$p --help exits 0" "$BIN/$p" --help >"$WORK/help.txt"
done
check "frontend --help explains --storage-timeout" grep -q -- "--storage-timeout" <("$BIN/frontend" --help)
check "storage --help explains --data-dir" grep -q -- "--data-dir" <("$BIN/storage" --help)
check "client --help explains --frontend" grep -q -- "--frontend" <("$BIN/client" --help)

"$BIN/frontend" --storage-timeout abc >"$WORK/bad.txt" 2>&1; rc=$?
check "a malformed flag exits non-zero" test "$rc" != 0
check "... naming the option" grep -q "storage-timeout" "$WORK/bad.txt"
echo '{"storage_timeout": "soon"}' >"$WORK/bad.json"
"$BIN/frontend" --config "$WORK/bad.json" >"$WORK/bad.txt" 2>&1; rc=$?
check "an invalid config file exits non-zero" test "$rc" != 0
check "... naming the field" grep -q "storage_timeout" "$WORK/bad.txt"
"$BIN/storage" --listen 127.0.0.1:0 >"$WORK/bad.txt" 2>&1; rc=$?
check "storage without --id exits non-zero naming id" bash -c "[ $rc != 0 ] && grep -qi 'id' '$WORK/bad.txt'"
finish
