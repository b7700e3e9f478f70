#!/usr/bin/env bash
# Fuzzes a data reader with libFuzzer and AddressSanitizer.
#
#   scripts/fuzz.sh norm 1000000     # one target, a number of inputs (default 1000000)
#   scripts/fuzz.sh --ci [SECONDS]   # every target for SECONDS each (default 5): the CI variant
#
# A target is Fuzz/<Name>Target.swift (norm → NormTarget.swift), linked with Fuzz/Harness.swift
# and CTRCore + CTRData built here with `swiftc -sanitize=fuzzer,address`. Its corpus lives in
# .build/fuzz/corpus/<name> (seeded from the target's fuzzSeeds()); a crash leaves its input as
# .build/fuzz/crash-<name>-* and the script fails. Reproduce one with
# `.build/fuzz/fuzz-<name> <crash file>`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build/fuzz
mkdir -p "$out"
flags=(-sanitize=fuzzer,address -O -g -parse-as-library -swift-version 6 -enable-upcoming-feature MemberImportVisibility)

# Builds a library module from its sources into $out (object + module), unless it is up to date.
module() {
  local name=$1; shift
  local sources; sources=$(find "Sources/$name" -name '*.swift' | sort)
  if [[ -f "$out/$name.o" ]] && [[ -z $(find "Sources/$name" -name '*.swift' -newer "$out/$name.o") ]]; then return; fi
  # shellcheck disable=SC2086
  swiftc "${flags[@]}" -enable-testing -wmo -module-name "$name" -I "$out" $sources \
    -emit-module -emit-module-path "$out/$name.swiftmodule" -c -o "$out/$name.o" "${@}"
}

build() {
  local name=$1 file
  file="Fuzz/$(tr '[:lower:]' '[:upper:]' <<<"${name:0:1}")${name:1}Target.swift"
  [[ -f $file ]] || { echo "no fuzz target $file; targets: $(targets | tr '\n' ' ')" >&2; exit 2; }
  module CTRCore
  module CTRData
  swiftc "${flags[@]}" -I "$out" Fuzz/Harness.swift "$file" "$out/CTRCore.o" "$out/CTRData.o" -o "$out/fuzz-$name" 2>&1 \
    | grep -v "Cannot export local symbol" || true
  [[ -x "$out/fuzz-$name" ]]
}

targets() { ls Fuzz/*Target.swift | sed -E 's#Fuzz/(.*)Target.swift#\1#' | tr '[:upper:]' '[:lower:]'; }

# Runs target $1 with libFuzzer options $2…; prints the inputs run and the time taken.
run() {
  local name=$1; shift
  build "$name"
  local corpus="$out/corpus/$name"
  mkdir -p "$corpus"
  local start=$SECONDS
  FUZZ_SEED_DIR="$corpus" "$out/fuzz-$name" "$corpus" -artifact_prefix="$out/crash-$name-" -max_len=4096 \
    -print_final_stats=1 "$@" 2>"$out/$name.log" || { tail -40 "$out/$name.log"; echo "fuzz $name: FAILED (crash input under $out)"; return 1; }
  local runs; runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$' || echo "?")
  echo "fuzz $name: $runs inputs in $((SECONDS - start)) s, no crash"
}

if [[ ${1:-} == --ci ]]; then
  seconds=${2:-5}
  for t in $(targets); do run "$t" -max_total_time="$seconds"; done
elif [[ -n ${1:-} ]]; then
  run "$1" -runs="${2:-1000000}"
else
  sed -n '2,11p' "$0"; exit 2
fi
