# Prologue for integration tests: `source lib.sh BIN_DIR`. Gives a temporary WORK folder,
# stops every started process on exit, and check/finish helpers that count results.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$(cd "${1:?usage: $0 BIN_DIR}" && pwd)
WORK=$(mktemp -d /tmp/kvs-it.XXXXXX)
source "$HERE/cluster.sh"
PASSED=0
FAILED=0

on_exit() {
  stop_all
  if [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap on_exit EXIT

check() {  # DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then
    PASSED=$((PASSED + 1)); echo "ok   - $what"
  else
    FAILED=$((FAILED + 1)); echo "FAIL - $what"
    return 1
  fi
}

must() {  # like check, but stops the test on failure (later steps depend on it)
  check "$@" || { finish; }
}

finish() {
  echo "$(basename "$0" .sh): $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] || { for f in "$WORK"/*.log; do echo "--- $f"; tail -20 "$f"; done; }
  [ "$FAILED" -eq 0 ] && exit 0 || exit 1
}

# Starts the named storage nodes and stops the test unless all become members.
start_members() {  # NAME...
  local s
  for s in "$@"; do start_storage "$s"; done
  must "storage nodes $* become members" wait_for "$# members" 30 members_are "$#"
}

# Values are v-PREFIX-i followed by $VALUE_PAD (empty unless a test wants large values).
VALUE_PAD=""

# Writes N unique keys PREFIX-i=v-PREFIX-i through a client script; the client's output
# (one line per command) goes to WORK/PREFIX.out.
write_keys() {  # CLIENT PREFIX N [client flags...]
  local id=$1 prefix=$2 n=$3; shift 3
  for i in $(seq 1 "$n"); do echo "put $prefix-$i v-$prefix-$i$VALUE_PAD"; done >"$WORK/$prefix.cmds"
  kvs_client "$id" "$@" <"$WORK/$prefix.cmds" >"$WORK/$prefix.out" 2>"$WORK/$prefix.err"
}

# Keys whose PUT was acknowledged ("ok" line) in WORK/PREFIX.out, one "key value" a line.
acked_keys() {  # PREFIX
  awk -v p="$1" -v pad="$VALUE_PAD" '$0 == "ok" { print p "-" NR, "v-" p "-" NR pad }' "$WORK/$1.out"
}

# Every acknowledged key of PREFIX reads back with its value through the cluster.
all_acked_readable() {  # PREFIX...
  local p
  : >"$WORK/expect.txt"
  for p in "$@"; do acked_keys "$p" >>"$WORK/expect.txt"; done
  awk '{ print "get " $1 }' "$WORK/expect.txt" >"$WORK/verify.cmds"
  kvs_client verifier <"$WORK/verify.cmds" >"$WORK/verify.out" 2>"$WORK/verify.err"
  python3 - "$WORK/expect.txt" "$WORK/verify.out" <<'PY'
import sys
expect = [l.split(" ", 1) for l in open(sys.argv[1]).read().splitlines()]
got = open(sys.argv[2]).read().splitlines()
bad = [(k, v, g) for (k, v), g in zip(expect, got + [None] * len(expect)) if g != '"%s"' % v]
if bad or not expect:
    print("  %d of %d acknowledged keys wrong, e.g. %s" % (len(bad), len(expect), bad[:3]))
    sys.exit(1)
print("  %d acknowledged keys read back" % len(expect))
PY
}

# The data directory, read by an independent Python reader of the on-disk format.
data_dir_has_acked() {  # NODE PREFIX...
  local node=$1; shift
  local p
  : >"$WORK/expect.txt"
  for p in "$@"; do acked_keys "$p" >>"$WORK/expect.txt"; done
  python3 "$HERE/read_data_dir.py" "$WORK/data/$node" "$WORK/expect.txt"
}

# Every acknowledged write of PREFIX is on the disk of at least one of the nodes.
data_dirs_have_acked() {  # "NODE1 NODE2 ..." PREFIX
  local dirs="" n
  for n in $1; do dirs+="${dirs:+,}$WORK/data/$n"; done
  acked_keys "$2" >"$WORK/expect.txt"
  python3 "$HERE/read_data_dir.py" "$dirs" "$WORK/expect.txt"
}
