#!/usr/bin/env bash
# Builds each sample-model example (Examples/<Name>, debug) and checks that the graph it builds is
# Examples/json/<name>.json: the example runs with SWIFTCTR_EXAMPLE_GRAPH_ONLY=FILE (compile, write
# the graph JSON to FILE, exit before reading data) and FILE must equal the JSON file as a JSON value.
# One line per example; exits non-zero if any example fails to build, run or match.
#
#     scripts/examples-check.sh              # every example
#     scripts/examples-check.sh wdl din      # some, by graph name
set -uo pipefail
cd "$(dirname "$0")/.."

# graph name → product; the product is the executable target in Package.swift.
examples=(dcn_v2:dcn-v2-example wdl:wdl-example deepfm:deepfm-example criteo:criteo-example
          criteo_multi_slots:criteo-multi-slots-example din:din-example din_try:din-try-example dlrm:dlrm-example dlrm_dcnv2:dlrm-dcnv2-example ftrl:ftrl-example gmf:gmf-example
          ncf:ncf-example neumf:neumf-example mmoe:mmoe-example shared_bottom:shared-bottom-example
          bst:bst-example)

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
bin=$(swift build --show-bin-path)
failed=0
for entry in "${examples[@]}"; do
    name=${entry%%:*} product=${entry#*:}
    if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
    if ! swift build --product "$product" >"$scratch/build.log" 2>&1; then
        echo "FAIL  $product: build failed"; tail -20 "$scratch/build.log"; failed=1; continue
    fi
    out="$scratch/$name.json"
    if ! SWIFTCTR_EXAMPLE_GRAPH_ONLY="$out" "$bin/$product" >"$scratch/run.log" 2>&1; then
        echo "FAIL  $product: exited with an error"; tail -5 "$scratch/run.log"; failed=1; continue
    fi
    if python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
        "$out" "Examples/json/$name.json"; then
        echo "ok    $product: graph equals Examples/json/$name.json"
    else
        echo "FAIL  $product: graph differs from Examples/json/$name.json"; failed=1
    fi
done
exit $failed
