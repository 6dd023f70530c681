#!/usr/bin/env bash
# A short chaos run (random SIGKILLs and restarts of storage nodes under load from four
# clients, every history checked by kvcheck); `make chaos SECONDS=N` runs a long one.
exec bash "$(dirname "$0")/chaos.sh" "$1" 30 4
