#!/usr/bin/env bash
# Fuzzes one reader of ctr-fuzz (Sources/ctr-fuzz): scripts/fuzz.sh FORMAT [RUNS] [SEED]
#   With libFuzzer (swiftc -sanitize=fuzzer works on Linux): RUNS inputs, coverage-guided, with
#   AddressSanitizer; the corpus grows in .build-fuzz/corpus-FORMAT and crashes are saved as
#   .build-fuzz/crash-* (replay: CTR_FUZZ_TARGET=FORMAT .build-fuzz/release/ctr-fuzz FILE).
#   FUZZ_MODE=loop instead builds the plain mutation loop with -sanitize=address.
# The CI variant runs a short pass: scripts/fuzz.sh parquet 20000
set -euo pipefail
cd "$(dirname "$0")/.."
format=${1:?usage: scripts/fuzz.sh FORMAT [RUNS] [SEED]}
runs=${2:-1000000}
seed=${3:-1}
build=.build-fuzz
mkdir -p "$build"
# SwiftPM's default gold fails to link libFuzzer's runtime into a Swift executable; lld works.
lld=$(command -v ld.lld || true)
toolset=()
if [ -n "$lld" ]; then
  printf '{ "schemaVersion": "1.0", "linker": { "path": "%s" } }\n' "$lld" > "$build/lld-toolset.json"
  toolset=(--toolset "$build/lld-toolset.json")
fi
if [ "${FUZZ_MODE:-libfuzzer}" = loop ]; then
  swift build -c release --product ctr-fuzz --build-path "$build/loop" "${toolset[@]}" -Xswiftc -sanitize=address 2>&1 \
    | grep -v "Cannot export local symbol" | tail -3
  exec "$build/loop/release/ctr-fuzz" "$format" "$runs" "$seed"
fi
swift build -c release --product ctr-fuzz --build-path "$build" "${toolset[@]}" \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DCTR_LIBFUZZER 2>&1 | grep -v "Cannot export local symbol" | tail -3
corpus="$build/corpus-$format"
mkdir -p "$corpus"
start=$(date +%s)
CTR_FUZZ_TARGET="$format" CTR_FUZZ_SEEDS="$corpus" "$build/release/ctr-fuzz" -runs="$runs" -seed="$seed" \
  -max_len=65536 -rss_limit_mb=2048 -timeout=10 -artifact_prefix="$build/crash-" -print_final_stats=1 "$corpus"
echo "fuzzed $format: $runs inputs in $(( $(date +%s) - start )) s"
