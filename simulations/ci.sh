#!/bin/sh
# CI gate for the simulator (docs/simulation.md): every scenario in simulations/, then a fixed budget
# of swarm seeds. Exit code: the simulator's (0 ok, 1 safety, 2 liveness, 3 crash, 64 usage).
# Usage: simulations/ci.sh [SWARM_SEEDS]   (default 200; seeds 1..N)
set -eu
cd "$(dirname "$0")/.."
seeds="${1:-200}"
swift build -c release --product netheal-cluster  # scripts/test runs the same gate with the debug build
bin="$(swift build -c release --show-bin-path)/netheal-cluster"
"$bin" simulate --quiet simulations/*.scenario
"$bin" simulate --quiet --seeds "1..$seeds"
