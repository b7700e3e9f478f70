#!/usr/bin/env bash
# MPICollective under mpirun: swiftctr-mpi-check (debug) compares every collective operation with
# InProcessCollective on 2 and 3 ranks, then its `hang` mode makes the last of 3 ranks stop
# answering, and every rank must end within 30 s, the others with the timeout error
# (SWIFTCTR_COLLECTIVE_TIMEOUT=5). Skips (exit 0) where Open MPI's mpirun is not installed.
#
#     scripts/mpi-tests.sh
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v mpirun >/dev/null 2>&1; then
    echo "SKIP  MPI tests: mpirun not found (install openmpi-bin libopenmpi3 to run them)"
    exit 0
fi
# mpirun refuses root unless told; CI containers run as root.
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if ! swift build --product swiftctr-mpi-check >"$scratch/build.log" 2>&1; then
    echo "FAIL  swiftctr-mpi-check: build failed"; tail -20 "$scratch/build.log"; exit 1
fi
check="$(swift build --show-bin-path)/swiftctr-mpi-check"
failed=0

for ranks in 2 3; do
    timeout 120 mpirun -np "$ranks" --oversubscribe "$check" >"$scratch/run.log" 2>&1
    status=$?
    passed=$(grep -cE "^rank [0-9]+: [0-9]+ collective checks passed$" "$scratch/run.log")
    if [ "$status" = 0 ] && [ "$passed" = "$ranks" ]; then
        echo "ok    $ranks ranks: $(grep -m1 -oE "[0-9]+ collective checks passed" "$scratch/run.log") on every rank"
    else
        echo "FAIL  $ranks ranks: exit status $status, $passed of $ranks ranks passed"; tail -20 "$scratch/run.log"; failed=1
    fi
done

start=$SECONDS
SWIFTCTR_COLLECTIVE_TIMEOUT=5 timeout 30 mpirun -np 3 --oversubscribe "$check" hang >"$scratch/hang.log" 2>&1
status=$? elapsed=$((SECONDS - start))
reported=$(grep -cE "^swiftctr: rank [01] of 3: allReduceSum of [0-9]+ elements got no answer from the other ranks in 5 s" "$scratch/hang.log")
if [ "$status" = 124 ]; then
    echo "FAIL  hung rank: the job still ran after 30 s"; tail -20 "$scratch/hang.log"; failed=1
elif [ "$status" != 0 ] && [ "$reported" = 2 ]; then
    echo "ok    hung rank: the 2 other ranks reported the timeout, the job ended in ${elapsed} s with status $status"
else
    echo "FAIL  hung rank: exit status $status, $reported of 2 ranks reported the timeout"; tail -20 "$scratch/hang.log"; failed=1
fi
exit $failed
