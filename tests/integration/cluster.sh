# Shell helpers to run a kvs cluster of real processes on 127.0.0.1, for the demo and the
# integration tests. Source it; set BIN (folder with frontend/storage/client) and WORK
# (a temporary folder) first. Every process started here is stopped by its PID.
#
# Ports are chosen by the OS (port 0); each program prints the address it bound.

declare -A KVS_PID=()      # name -> pid
KVS_AUTH=()                # flags giving the cluster secret to storage nodes and clients
declare -A KVS_PROBE=()    # storage name -> its probe address
declare -A KVS_NETNS=()    # process name (frontend, s1, ...) -> network namespace to run in
declare -A KVS_FRONTEND_AT=()  # storage name -> frontend address it dials, if not the default
declare -A KVS_STORAGE_LISTEN=()  # storage name -> its probe listen address, if not 127.0.0.1:0
KVS_CLIENT_ADDR=""
KVS_STORAGE_ADDR=""

kvs_log() { echo "[$(date +%H:%M:%S.%3N)] $*"; }

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND until it succeeds or time runs out.
wait_for() {
  local what=$1 limit=$2; shift 2
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(date +%s%N)" -gt "$deadline" ]; then
      echo "TIMEOUT after ${limit}s waiting for: $what" >&2
      return 1
    fi
    sleep 0.05
  done
}

# Reads "listening ... on IP:PORT" style addresses out of a log file once they appear.
_grep_addr() { grep -oE "$2 [0-9.]+:[0-9]+" "$1" | head -1 | awk '{print $NF}'; }

# The command prefix that runs a program in the named process's network namespace, if it
# has one. `ip netns exec` execs the program, so `$!` is still the program's own PID.
_netns_prefix() { [ -z "${KVS_NETNS[$1]:-}" ] || echo "ip netns exec ${KVS_NETNS[$1]}"; }

start_frontend() {  # extra flags...
  local log=$WORK/frontend.log
  # Emptied here, not by the background job's redirection: that runs when the job gets
  # the CPU, so on a busy machine the wait below could still read a restarted
  # frontend's old "listening" line and then find the file empty.
  : >"$log"
  $(_netns_prefix frontend) "$BIN/frontend" --client-listen "${KVS_FRONTEND_CLIENT_LISTEN:-127.0.0.1:0}" \
    --storage-listen "${KVS_FRONTEND_STORAGE_LISTEN:-127.0.0.1:0}" \
    --data-dir "$WORK/data/frontend" "$@" >>"$log" 2>&1 &
  KVS_PID[frontend]=$!
  wait_for "frontend to listen" 10 grep -q "listening for clients on" "$log" || { cat "$log"; return 1; }
  KVS_CLIENT_ADDR=$(_grep_addr "$log" "clients on")
  KVS_STORAGE_ADDR=$(_grep_addr "$log" "storage nodes on")
}

start_storage() {  # NAME [extra flags...]
  local name=$1; shift
  local log=$WORK/$name.log
  echo "---- start $(date +%H:%M:%S.%3N)" >>"$log"
  $(_netns_prefix "$name") "$BIN/storage" --id "$name" --listen "${KVS_STORAGE_LISTEN[$name]:-127.0.0.1:0}" \
    --data-dir "$WORK/data/$name" --frontend "${KVS_FRONTEND_AT[$name]:-$KVS_STORAGE_ADDR}" \
    "${KVS_AUTH[@]}" "$@" >>"$log" 2>&1 &
  KVS_PID[$name]=$!
}

kill9() {  # NAME: SIGKILL, as a crash would
  local pid=${KVS_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "KVS_PID[$1]"
}

stop() {  # NAME: SIGTERM, then SIGKILL if it lingers
  local pid=${KVS_PID[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  local i
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "KVS_PID[$1]"
}

stop_all() {
  local name
  for name in "${!KVS_PID[@]}"; do stop "$name"; done
}

kvs_client() {  # ID [args...]: the client program against this cluster
  local id=$1; shift
  $(_netns_prefix frontend) "$BIN/client" --id "$id" --frontend "$KVS_CLIENT_ADDR" "${KVS_AUTH[@]}" "$@"
}

# The frontend's status as JSON (via the client program).
cluster_status() { kvs_client status-probe status; }

members() {  # prints the number of member storage nodes
  cluster_status 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["members"])'
}

members_are() { [ "$(members)" = "$1" ]; }

node_state() {  # NAME: the frontend's view of that node ("member", "catching_up", ...)
  cluster_status 2>/dev/null | python3 -c '
import json,sys
for n in json.load(sys.stdin)["nodes"]:
    if n["id"] == sys.argv[1]: print(n["state"])' "$1"
}

node_is() { [ "$(node_state "$1")" = "$2" ]; }  # NAME STATE
