#!/usr/bin/env bash
# chaos.sh BIN_DIR SECONDS [CLIENTS]: a frontend, three storage nodes and CLIENTS client
# processes writing unique values (and reading) on a few keys, each recording a history;
# storage nodes are SIGKILLed and restarted at random — one at a time, all at once, and
# "stale first" (the node that died first comes back first, alone) — and now and then
# the frontend (restarted on the same ports from its state file). At the end every
# node restarts, every key is read once more, and the merged histories go to kvcheck
# (per-key linearizability, per-client order). Prints kills, operations and the verdict.
#
# `make chaos SECONDS=N` runs a long one; tests/integration/test_chaos.sh a short one.
# KVS_CHAOS_SEED=N repeats a run's fault schedule (the processes' timing still varies).
source "$(dirname "$0")/lib.sh" "$1"
RUN_SECONDS=${2:-40}
CLIENTS=${3:-4}
KEYS=8
SEED=${KVS_CHAOS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$SEED
NODES=(s1 s2 s3)
echo "chaos: seed $SEED, $RUN_SECONDS s, $CLIENTS clients, $KEYS keys (repeat: KVS_CHAOS_SEED=$SEED)"

# Emits "put kN ID-COUNT" / "get kN" lines at about RATE a second for SECONDS, then stops.
# The client reads them from a FIFO, so a stalled cluster stalls the generator too.
generator() {  # ID SECONDS SEED
  python3 - "$@" <<'PY'
import random, sys, time
ident, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng, rate, n = random.Random(seed), 150.0, 0
start = time.monotonic()
while time.monotonic() - start < seconds:
    key = "k%d" % rng.randrange(8)
    if rng.random() < 0.5:
        n += 1
        print("put %s %s-%d" % (key, ident, n), flush=True)
    else:
        print("get %s" % key, flush=True)
    time.sleep(rng.expovariate(rate))  # pacing of the load, not a wait for a condition
PY
}

running() { [ -n "${KVS_PID[$1]:-}" ]; }
pause() { sleep "$(awk -v lo="$1" -v hi="$2" -v r="$RANDOM" 'BEGIN { print lo + (hi - lo) * r / 32767 }')"; }
KILLS=0
TOTAL_FAILURES=0
STALE_FIRST=0
FRONTEND_KILLS=0
crash() { kill9 "$1"; KILLS=$((KILLS + 1)); echo "[$(date +%T)] kill -9 $1"; }
restart() { running "$1" || { start_storage "$1"; echo "[$(date +%T)] start $1"; }; }

start_frontend --storage-timeout 1 --unavailable-timeout 10
for s in "${NODES[@]}"; do start_storage "$s"; done
must "three members" wait_for "3 members" 30 members_are 3
KVS_FRONTEND_CLIENT_LISTEN=$KVS_CLIENT_ADDR  # a restarted frontend listens where all dial
KVS_FRONTEND_STORAGE_LISTEN=$KVS_STORAGE_ADDR

for c in $(seq 1 "$CLIENTS"); do
  mkfifo "$WORK/c$c.fifo"
  kvs_client "c$c" --history "$WORK/c$c.history" --request-timeout 15 \
    <"$WORK/c$c.fifo" >"$WORK/c$c.out" 2>"$WORK/c$c.err" &
  KVS_PID[c$c]=$!
  generator "c$c" "$RUN_SECONDS" "$((SEED + c))" >"$WORK/c$c.fifo" &
  KVS_PID[g$c]=$!
done

deadline=$(($(date +%s) + RUN_SECONDS))
while [ "$(date +%s)" -lt "$deadline" ]; do
  pause 0.5 2.5  # the fault schedule's pace
  roll=$((RANDOM % 10))
  if [ "$roll" -eq 9 ]; then  # the frontend: clients' sessions end, nodes rejoin
    crash frontend
    FRONTEND_KILLS=$((FRONTEND_KILLS + 1))
    pause 0.2 1.5
    cat "$WORK/frontend.log" >>"$WORK/frontend.before.log"
    start_frontend --storage-timeout 1 --unavailable-timeout 10
    echo "[$(date +%T)] start frontend"
  elif [ "$roll" -lt 2 ]; then  # every node at once: a total failure
    for s in "${NODES[@]}"; do running "$s" && crash "$s"; done
    TOTAL_FAILURES=$((TOTAL_FAILURES + 1))
    pause 0.2 1.5
    at=$((RANDOM % 3))  # in a random rotation
    for i in 0 1 2; do restart "${NODES[$(((at + i) % 3))]}"; done
  elif [ "$roll" -lt 4 ]; then  # stale first: the first to die misses writes, then returns alone
    first=${NODES[$((RANDOM % 3))]}
    running "$first" && crash "$first"
    pause 0.5 2
    for s in "${NODES[@]}"; do [ "$s" = "$first" ] || { running "$s" && crash "$s"; }; done
    STALE_FIRST=$((STALE_FIRST + 1))
    restart "$first"
    pause 0.5 2  # it must not serve, as the others hold newer writes
    for s in "${NODES[@]}"; do restart "$s"; done
  else  # one node
    victim=${NODES[$((RANDOM % 3))]}
    running "$victim" && crash "$victim"
    pause 0.2 2
    restart "$victim"
  fi
done

for s in "${NODES[@]}"; do restart "$s"; done
must "all three nodes rejoin after the last fault" wait_for "3 members" 90 members_are 3
clients_done() {
  local c
  for c in $(seq 1 "$CLIENTS"); do ! kill -0 "${KVS_PID[c$c]}" 2>/dev/null || return 1; done
}
must "every client finishes its script" wait_for "clients to finish" 120 clients_done
for c in $(seq 1 "$CLIENTS"); do wait "${KVS_PID[c$c]}" 2>/dev/null; unset "KVS_PID[c$c]" "KVS_PID[g$c]"; done

for k in $(seq 0 $((KEYS - 1))); do echo "get k$k"; done >"$WORK/final.cmds"
kvs_client final --history "$WORK/final.history" <"$WORK/final.cmds" >"$WORK/final.out" 2>"$WORK/final.err"
check "the final read of every key succeeds" bash -c "! grep -q '^error' '$WORK/final.out' && [ \$(wc -l <'$WORK/final.out') -eq $KEYS ]"

ops=$(cat "$WORK"/c*.out | wc -l)
acked=$(cat "$WORK"/c*.out | grep -vc '^error' || true)
failed=$((ops - acked))
echo "chaos: $KILLS kills ($TOTAL_FAILURES total failures, $STALE_FIRST stale-first restarts, $FRONTEND_KILLS of the frontend), $ops operations ($acked ok, $failed failed or indeterminate)"
check "the load did real work (at least $((RUN_SECONDS * 5)) operations succeeded)" test "$acked" -ge $((RUN_SECONDS * 5))
check "the histories are linearizable per key and in order per client (kvcheck)" \
  "$BIN/kvcheck" "$WORK"/c*.history "$WORK/final.history"
finish
