#!/usr/bin/env bash
# The cluster secret (issue 6): a cluster with a secret works end to end (clients, storage
# nodes joining, redis-cli -a, kvbench); a wrong or missing secret gets one clear error and
# is not admitted (client, storage node, probe, Redis); the handshake's bytes as
# docs/PROTOCOL.md documents them (checked by an independent Python client); --secret-file
# and its errors; protected mode at startup (non-loopback needs a secret or
# --insecure-no-secret).
source "$(dirname "$0")/lib.sh" "$1"

SECRET="correct horse battery"
printf '%s\nthis second line is ignored\n' "$SECRET" >"$WORK/secret"
chmod 600 "$WORK/secret"
is() { [ "$1" = "$2" ] || { echo "  got: $1"; echo "  want: $2"; return 1; }; }

# --- A cluster with a secret works end to end.
start_frontend --storage-timeout 1 --secret-file "$WORK/secret" --resp-listen 127.0.0.1:0
check "the frontend says a secret is set" grep -q "cluster secret set" "$WORK/frontend.log"
check "... and is not in protected mode" bash -c "! grep -q 'protected mode' '$WORK/frontend.log'"
KVS_AUTH=(--secret-file "$WORK/secret")
start_storage s1
KVS_AUTH=(--secret "$SECRET")  # the flag works as well as the file
start_storage s2
must "two storage nodes with the secret become members" wait_for "2 members" 30 members_are 2
out=$(kvs_client alice put color blue); rc=$?
check "a client with the secret puts" test "$rc" = 0 -a -z "$out"
check "... and gets it back" is "$(kvs_client bob get color)" "blue"
KVS_AUTH=(--secret-file "$WORK/secret")
check "... also with --secret-file" is "$(kvs_client carol get color)" "blue"
check "the secret appears in no log" \
  bash -c "! grep -rq 'correct horse' '$WORK'/*.log"

# --- Wrong or missing secrets: one clear error, not admitted.
"$BIN/client" --id mallory --frontend "$KVS_CLIENT_ADDR" --secret guess --request-timeout 1 \
  put color red >"$WORK/mallory.out" 2>"$WORK/mallory.err"
rc=$?
check "a client with a wrong secret fails" test "$rc" != 0
check "... saying the frontend refused it: auth_failed" grep -q "refused: auth_failed" "$WORK/mallory.err"
"$BIN/client" --id anon --frontend "$KVS_CLIENT_ADDR" --request-timeout 1 get color \
  >"$WORK/anon.out" 2>"$WORK/anon.err"
rc=$?
check "a client with no secret fails the same way" \
  bash -c "[ $rc != 0 ] && grep -q 'refused: auth_failed' '$WORK/anon.err' && [ ! -s '$WORK/anon.out' ]"
check "... and its put had no effect" is "$(kvs_client bob get color)" "blue"
check "the frontend logged the refusals" grep -q "refused: authentication failed" "$WORK/frontend.log"

KVS_AUTH=(--secret wrong)
start_storage s3
KVS_AUTH=(--secret-file "$WORK/secret")
must "a storage node with a wrong secret is told auth_failed" \
  wait_for "s3 refused" 20 grep -q "frontend refused this node: auth_failed" "$WORK/s3.log"
not_admitted() { [ -z "$(node_state s3)" ] && [ "$(members)" = 2 ]; }
check "... and is not admitted" not_admitted
stop s3

# --- The handshake's bytes, from an independent implementation (Python's hmac).
check "python: the documented proof is welcomed on the client port" \
  python3 "$HERE/auth_probe.py" "$KVS_CLIENT_ADDR" client py-client "$SECRET"
python3 "$HERE/auth_probe.py" "$KVS_CLIENT_ADDR" client py-client nope >"$WORK/py.out"
check "python: a wrong proof gets auth_failed, then the connection closes" \
  bash -c "grep -q '^error auth_failed' '$WORK/py.out' && grep -qx closed '$WORK/py.out'"
probe=$(grep -oE "listening on [0-9.]+:[0-9]+" "$WORK/s1.log" | head -1 | awk '{print $3}')
check "python: a storage node's probe port takes the proof" \
  python3 "$HERE/auth_probe.py" "$probe" probe "" "$SECRET"
python3 "$HERE/auth_probe.py" "$probe" probe "" nope >"$WORK/py-probe.out"
check "python: ... and refuses a wrong one" grep -q '^error auth_failed' "$WORK/py-probe.out"

# --- Redis clients.
RESP_PORT=$(_grep_addr "$WORK/frontend.log" "redis clients on" | cut -d: -f2)
rcli() { timeout 20 redis-cli -h 127.0.0.1 -p "$RESP_PORT" --no-raw "$@" 2>&1; }
check "redis-cli -a SECRET: SET" is "$(rcli -a "$SECRET" --no-auth-warning set k redis)" "OK"
check "redis-cli -a SECRET: GET, as a native client sees it" \
  is "$(kvs_client dave get k)" "redis"
check "redis-cli --user default -a SECRET" \
  is "$(rcli --user default -a "$SECRET" --no-auth-warning get k)" '"redis"'
check "redis-cli without -a: NOAUTH" is "$(rcli get k)" "(error) NOAUTH Authentication required."
check "redis-cli with a wrong password: WRONGPASS" \
  bash -c "timeout 20 redis-cli -p $RESP_PORT -a guess --no-auth-warning get k 2>&1 | grep -q WRONGPASS"

# --- kvbench passes the secret too.
timeout 60 "$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" --secret "$SECRET" --requests 200 \
  --sessions 2 >/dev/null 2>"$WORK/bench.err"
check "kvbench --secret runs" test $? = 0
timeout 60 "$BIN/kvbench" --frontend "$KVS_CLIENT_ADDR" --secret wrong --requests 10 \
  >/dev/null 2>"$WORK/bench-wrong.err"
rc=$?
check "kvbench with a wrong secret exits 1 naming the refusal" \
  bash -c "[ $rc = 1 ] && grep -q auth_failed '$WORK/bench-wrong.err'"
stop_all

# --- Secret file errors, and protected mode at startup.
"$BIN/frontend" --client-listen 127.0.0.1:0 --storage-listen 127.0.0.1:0 \
  --secret-file "$WORK/missing" >"$WORK/nofile.txt" 2>&1
rc=$?
check "a missing secret file exits 2 naming it" \
  bash -c "[ $rc = 2 ] && grep -q 'secret_file: $WORK/missing: cannot open: No such file' '$WORK/nofile.txt'"
: >"$WORK/empty-secret"
"$BIN/storage" --id s9 --listen 127.0.0.1:0 --secret-file "$WORK/empty-secret" >"$WORK/empty.txt" 2>&1
rc=$?
check "an empty secret file exits 2 saying so" \
  bash -c "[ $rc = 2 ] && grep -q 'the first line is empty' '$WORK/empty.txt'"
"$BIN/client" --id x --secret a --secret-file "$WORK/secret" get k >"$WORK/both.txt" 2>&1
rc=$?
check "--secret with --secret-file is refused" \
  bash -c "[ $rc = 2 ] && grep -q 'not both' '$WORK/both.txt'"

"$BIN/frontend" --client-listen 0.0.0.0:0 --storage-listen 127.0.0.1:0 >"$WORK/open.txt" 2>&1
rc=$?
check "no secret on 0.0.0.0: refuses to start" test "$rc" = 2
check "... explaining --secret and --insecure-no-secret" \
  bash -c "grep -q 'client_listen: \"0.0.0.0:0\" is not a loopback address' '$WORK/open.txt' && grep -q -- '--insecure-no-secret' '$WORK/open.txt'"
"$BIN/storage" --id s9 --listen 0.0.0.0:0 --data-dir "$WORK/data/s9" >"$WORK/open-s.txt" 2>&1
rc=$?
check "a storage node's probe port follows the same rule" \
  bash -c "[ $rc = 2 ] && grep -q 'listen: \"0.0.0.0:0\" is not a loopback' '$WORK/open-s.txt'"
"$BIN/frontend" --client-listen 0.0.0.0:0 --storage-listen 127.0.0.1:0 --insecure-no-secret \
  >"$WORK/insecure.log" 2>&1 &
KVS_PID[insecure]=$!
check "with --insecure-no-secret it starts" \
  wait_for "insecure frontend" 10 grep -q "listening for clients on" "$WORK/insecure.log"
check "... and prints a WARNING" grep -q "WARNING: no cluster secret" "$WORK/insecure.log"
stop insecure
"$BIN/frontend" --client-listen 127.0.0.1:0 --storage-listen 127.0.0.1:0 >"$WORK/protected.log" 2>&1 &
KVS_PID[protected]=$!
check "with no secret on loopback it logs protected mode" \
  wait_for "protected mode" 10 grep -q "protected mode" "$WORK/protected.log"
stop protected

for p in frontend storage client; do
  check "$p --help explains --secret-file" grep -q -- "--secret-file" <("$BIN/$p" --help)
done
check "frontend --help explains --insecure-no-secret" \
  grep -q -- "--insecure-no-secret" <("$BIN/frontend" --help)
finish
