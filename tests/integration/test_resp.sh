#!/usr/bin/env bash
# Redis clients on the frontend's RESP port: real redis-cli and redis-benchmark (Debian's
# redis-tools) against three storage nodes; read-your-writes across a Redis client and the
# native client; inline commands, pipelining order and protocol errors over a raw socket;
# AUTH with a cluster secret; unavailable with no storage node.
source "$(dirname "$0")/lib.sh" "$1"

if ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "FAIL - redis-cli and redis-benchmark are needed: scripts/install-deps.sh installs redis-tools"
  exit 1
fi

start_frontend --storage-timeout 1 --unavailable-timeout 1 --resp-listen 127.0.0.1:0
RESP_ADDR=$(_grep_addr "$WORK/frontend.log" "redis clients on")
RESP_PORT=${RESP_ADDR##*:}
must "the frontend prints its redis port" test -n "$RESP_PORT" -a "$RESP_PORT" != 0
start_members s1 s2 s3

# Every redis tool run is bounded; --no-raw prints replies as in a terminal ("(nil)").
rcli() { timeout 20 redis-cli -h 127.0.0.1 -p "$RESP_PORT" --no-raw "$@" 2>&1; }
is() { [ "$1" = "$2" ] || { echo "  got: $1"; echo "  want: $2"; return 1; }; }

check "PING answers PONG" is "$(rcli ping)" "PONG"
check "SET answers OK" is "$(rcli set color blue)" "OK"
check "GET reads it back" is "$(rcli get color)" '"blue"'
check "ECHO" is "$(rcli echo 'hello world')" '"hello world"'
check "GET of a missing key is (nil)" is "$(rcli get never-written)" "(nil)"
check "unknown command, Redis's wording" \
  is "$(rcli flushall)" "(error) ERR unknown command 'flushall', with args beginning with: "
check "wrong arity, Redis's wording" \
  is "$(rcli get a b)" "(error) ERR wrong number of arguments for 'get' command"
check "SET options are refused" \
  is "$(rcli set k v ex 10)" "(error) ERR SET option EX is not supported by kvs (only SET key value)"
check "CONFIG GET save" is "$(rcli config get save | tr '\n' ' ')" '1) "save" 2) "" '
check "SELECT 0 is fine" is "$(rcli select 0)" "OK"
check "SELECT 1 is not" is "$(rcli select 1)" "(error) ERR DB index is out of range"
check "INFO shows the cluster" bash -c "timeout 20 redis-cli -p $RESP_PORT info | grep -q '^members:3'"
check "an oversized key is refused by the frontend's limit" \
  bash -c "[[ \"\$(timeout 20 redis-cli -p $RESP_PORT set $(head -c 2000 /dev/zero | tr '\0' k) v)\" == *'ERR key is 2000 bytes; the limit is 1024'* ]]"

# Read-your-writes across the two protocols: each sees the other's acknowledged writes.
rcli set shared from-redis >/dev/null
check "a key set through redis-cli reads back through ./client" \
  is "$(kvs_client alice get shared)" "from-redis"
kvs_client alice put shared from-native
check "a key put through ./client reads back through redis-cli" \
  is "$(rcli get shared)" '"from-native"'

# A pipelined burst: 1,000 SETs in one stream (redis-cli --pipe), every one answered.
python3 - "$WORK/pipe.resp" <<'PY'
import sys
with open(sys.argv[1], "wb") as f:
    for i in range(1, 1001):
        args = [b"SET", b"pipe-%d" % i, b"v-pipe-%d" % i]
        f.write(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
PY
timeout 60 redis-cli -p "$RESP_PORT" --pipe <"$WORK/pipe.resp" >"$WORK/pipe-cli.out" 2>&1
check "redis-cli --pipe: 1000 SETs, no errors" grep -q "errors: 0, replies: 1000" "$WORK/pipe-cli.out"
seq 1 1000 | sed 's/.*/ok/' >"$WORK/pipe.out"  # every SET acknowledged, in acked_keys' format
check "all 1000 read back through ./client" all_acked_readable pipe

timeout 120 redis-benchmark -h 127.0.0.1 -p "$RESP_PORT" -n 2000 -c 10 -t set,get -P 16 -q \
  >"$WORK/bench.out" 2>&1; rc=$?
tr '\r' '\n' <"$WORK/bench.out" | grep "requests per second" | sed 's/^/  /'
check "redis-benchmark -P 16 (set, get) completes" \
  bash -c "[ $rc = 0 ] && [ \$(tr '\r' '\n' <'$WORK/bench.out' | grep -c 'requests per second') = 2 ]"
check "... and its key is readable" bash -c "[[ \$(timeout 20 redis-cli -p $RESP_PORT get key:__rand_int__) == V* ]]"

# A raw socket: inline commands, replies in command order behind a pending GET, then a
# protocol error answered in turn and the connection closed.
raw() {  # BYTES (printf format): prints every reply until the server closes
  python3 - "$RESP_PORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
out = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    out += b
sys.stdout.write(repr(out.decode("latin-1")))
PY
}
check "inline commands, pipelined, in order, then a protocol error closes" \
  is "$(raw 'SET inline "a b"\r\nGET inline\r\nPING\r\nECHO x\r\n*1\r\n$x\r\nPING\r\n')" \
  "'+OK\\r\\n\$3\\r\\na b\\r\\n+PONG\\r\\n\$1\\r\\nx\\r\\n-ERR Protocol error: invalid bulk length\\r\\n'"
check "QUIT answers OK and closes" is "$(raw 'PING\r\nQUIT\r\nPING\r\n')" "'+PONG\\r\\n+OK\\r\\n'"
check "the frontend is still serving" is "$(rcli get color)" '"blue"'

# With no storage node, a GET fails UNAVAILABLE after unavailable_timeout.
for s in s1 s2 s3; do stop "$s"; done
must "no member left" wait_for "0 members" 30 members_are 0
check "GET with no storage node: UNAVAILABLE" \
  bash -c "[[ \"\$(timeout 20 redis-cli -p $RESP_PORT get color)\" == 'UNAVAILABLE no storage node available'* ]]"
stop frontend

# A cluster secret: AUTH carries it and the frontend process checks it.
"$BIN/frontend" --client-listen 127.0.0.1:0 --storage-listen 127.0.0.1:0 \
  --resp-listen 127.0.0.1:0 --secret s3cret >"$WORK/frontend-token.log" 2>&1 &
KVS_PID[frontend-token]=$!
must "the frontend with a secret listens" \
  wait_for "redis port" 10 grep -q "redis clients on" "$WORK/frontend-token.log"
RESP_PORT=$(_grep_addr "$WORK/frontend-token.log" "redis clients on" | cut -d: -f2)
check "without AUTH: NOAUTH" is "$(rcli ping)" "(error) NOAUTH Authentication required."
check "AUTH with the secret: PONG" is "$(rcli -a s3cret --no-auth-warning ping)" "PONG"
check "AUTH with a wrong secret: WRONGPASS" \
  bash -c "timeout 20 redis-cli -p $RESP_PORT -a guess --no-auth-warning ping 2>&1 | grep -q WRONGPASS"

"$BIN/frontend" --resp-listen nonsense >"$WORK/bad.txt" 2>&1; rc=$?
check "a malformed --resp-listen exits 2 naming the field" \
  bash -c "[ $rc = 2 ] && grep -q resp_listen '$WORK/bad.txt'"
check "frontend --help explains --resp-listen" grep -q -- "--resp-listen" <("$BIN/frontend" --help)
finish
