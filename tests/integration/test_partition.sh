#!/usr/bin/env bash
# Separate hosts: the frontend and each storage node run in their own network namespace,
# joined by one veth link per node (made and removed here). Partitions take links down:
# one node, two nodes, then all three; a cut-off node is removed, the others carry on,
# and after the link heals it catches up and rejoins. Writers record histories, checked
# by kvcheck; every acknowledged write is read back at the end.
# Needs root (ip netns); skipped (exit 77) where that is not permitted.
source "$(dirname "$0")/lib.sh" "$1"
TAG=kvs$$
FE_NS=$TAG-fe
if [ "$(id -u)" != 0 ] || ! ip netns add "$FE_NS" 2>"$WORK/netns.err"; then
  echo "SKIP: cannot create network namespaces here ($(cat "$WORK/netns.err" 2>/dev/null || echo 'not root')); run as root"
  exit 77
fi
remove_namespaces() {
  local n
  for n in 1 2 3; do ip netns del "$TAG-s$n" 2>/dev/null; done
  ip netns del "$FE_NS" 2>/dev/null
}
trap 'stop_all; remove_namespaces; on_exit' EXIT

# Node n: namespace TAG-sn, link fe-sn (10.77.n.1, frontend side) <-> sn-fe (10.77.n.2).
ip -n "$FE_NS" link set lo up
for n in 1 2 3; do
  ns=$TAG-s$n
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "fe-s$n-$$" netns "$FE_NS" type veth peer name "s$n-fe-$$" netns "$ns"
  ip -n "$FE_NS" addr add "10.77.$n.1/24" dev "fe-s$n-$$"
  ip -n "$ns" addr add "10.77.$n.2/24" dev "s$n-fe-$$"
  ip -n "$FE_NS" link set "fe-s$n-$$" up
  ip -n "$ns" link set "s$n-fe-$$" up
  KVS_NETNS[s$n]=$ns
  KVS_STORAGE_LISTEN[s$n]=10.77.$n.2:0
done
KVS_NETNS[frontend]=$FE_NS
cut() { ip -n "$FE_NS" link set "fe-$1-$$" down; echo "[$(date +%T)] link to $1 down"; }
heal() { ip -n "$FE_NS" link set "fe-$1-$$" up; echo "[$(date +%T)] link to $1 up"; }

# Off loopback a cluster secret is required (protected mode).
KVS_AUTH=(--secret "partition-test-$$")
KVS_FRONTEND_STORAGE_LISTEN=0.0.0.0:0 start_frontend --storage-timeout 1 --unavailable-timeout 20 \
  "${KVS_AUTH[@]}"
port=${KVS_STORAGE_ADDR##*:}
for n in 1 2 3; do
  KVS_FRONTEND_AT[s$n]=10.77.$n.1:$port
  start_storage "s$n"
done
must "three members, each in its own namespace" wait_for "3 members" 30 members_are 3

# The writer puts w-1, w-2, ... until WORK/stop exists (the pipe bounds how far ahead
# the generator runs), so every phase below has writes in flight.
(i=0; while [ ! -e "$WORK/stop" ]; do i=$((i + 1)); echo "put w-$i v-w-$i"; done) |
  kvs_client writer --history "$WORK/w.history" >"$WORK/w.out" 2>"$WORK/w.err" &
writer=$!
acks() { grep -c '^ok$' "$WORK/w.out"; }
more_acks() {  # N: wait for N more acknowledged writes than now
  local target=$(($(acks) + $1))
  wait_for "$1 more writes" 60 bash -c "[ \$(grep -c '^ok$' '$WORK/w.out') -ge $target ]"
}
removed() { grep -q "storage $1 removed" "$WORK/frontend.log"; }
must "writes flow" more_acks 200

cut s2
must "the frontend removes the cut-off s2" wait_for "s2 removed" 30 removed s2
must "writes continue on s1 and s3" more_acks 300
heal s2
must "s2 rejoins after the link heals" wait_for "s2 member" 60 node_is s2 member
check "s2 caught up first" grep -q "storage s2 caught up" "$WORK/frontend.log"

cut s1
cut s3
removed_since() { tail -n +"$marker" "$WORK/frontend.log" | grep -q "storage $1 removed"; }
marker=$(($(wc -l <"$WORK/frontend.log") + 1))
must "the frontend removes s1 and s3" wait_for "s1, s3 removed" 30 eval "removed_since s1 && removed_since s3"
must "writes continue on s2 alone" more_acks 300
heal s1
heal s3
must "s1 and s3 rejoin" wait_for "3 members" 60 members_are 3

touch "$WORK/stop"
must "the writer finishes" wait_for "writer to finish" 120 eval "! kill -0 $writer"
check "every write of the writer was acknowledged ($(wc -l <"$WORK/w.out") of them)" \
  bash -c "! grep -qv '^ok$' '$WORK/w.out'"

for n in 1 2 3; do cut "s$n"; done
must "with every link down no member is left" wait_for "0 members" 30 members_are 0
write_keys writer2 p 200 --history "$WORK/p.history" &
writer2=$!
for n in 1 2 3; do heal "s$n"; done
must "all three rejoin once the links heal" wait_for "3 members" 60 members_are 3
wait "$writer2"
check "a write issued during the total partition waited for it to end: all 200 acknowledged" \
  test "$(grep -c '^ok$' "$WORK/p.out")" = 200

check "every acknowledged write is readable" all_acked_readable w p
check "the writers' histories are linearizable (kvcheck)" "$BIN/kvcheck" "$WORK/w.history" "$WORK/p.history"
finish
