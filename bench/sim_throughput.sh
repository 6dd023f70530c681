#!/usr/bin/env bash
# Simulator throughput (not a test): simulated client operations per CPU second and seeds
# per CPU minute, one thread, messages through the real codec. Usage:
#   bench/sim_throughput.sh [BUILD_DIR] [SEEDS]     (defaults: build, 200)
# Reports thread CPU time, so a busy shared machine does not distort it. See
# docs/SIMULATION.md "Performance" for the numbers and where the time goes.
set -euo pipefail
build=${1:-build}
seeds=${2:-200}
exec "$build/kvsim" --seeds "1..$seeds" --jobs 1 --bench
