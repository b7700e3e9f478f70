#!/usr/bin/env bash
# Trains every sample model of `swiftctr models` on its generated data (CPU, release build) and
# prints eval AUC, oracle AUC and the gap; exits non-zero when a gap exceeds 0.03.
#   scripts/sample-aucs.sh                 # every sample
#   scripts/sample-aucs.sh din bst         # some
#   scripts/sample-aucs.sh --baseline      # the shallow baseline (swiftctr train --baseline) on each one's data
set -uo pipefail
extra=()
if [ "${1:-}" = --baseline ]; then extra=(--baseline); shift; fi
cd "$(dirname "$0")/.."
swift build -c release --product swiftctr >/dev/null || exit 1
bin=$(swift build -c release --show-bin-path)/swiftctr
models=("$@")
samples=$("$bin" models | awk 'NR > 4 && NF > 1 && $1 !~ /^swiftctr/ {print $1}')
if [ ${#models[@]} -eq 0 ]; then
  if [ ${#extra[@]} -gt 0 ]; then models=($samples); else models=(dcn dense-only $samples); fi
fi
status=0
printf "%-20s %8s %8s %8s\n" model eval oracle gap
for m in "${models[@]}"; do
  out=$("$bin" train --model "$m" "${extra[@]}" 2>&1)
  lines=$(grep -E "^eval AUC [0-9.]+ +oracle AUC" <<<"$out")
  if [ -z "$lines" ]; then printf "%-20s failed: %s\n" "$m" "$(tail -1 <<<"$out")"; status=1; continue; fi
  while read -r line; do
    eval_auc=$(sed -E 's/^eval AUC ([0-9.]+).*/\1/' <<<"$line")
    oracle=$(sed -E 's/.*oracle AUC ([0-9.]+).*/\1/' <<<"$line")
    task=$(sed -nE 's/.*task (.*)$/ (\1)/p' <<<"$line")
    gap=$(python3 -c "print(f'{$oracle - $eval_auc:.4f}')")
    printf "%-20s %8s %8s %8s\n" "$m$task" "$eval_auc" "$oracle" "$gap"
    if [ "$m" != dense-only ] && [ ${#extra[@]} -eq 0 ] && python3 -c "import sys; sys.exit(not ($oracle - $eval_auc > 0.03))"; then status=1; fi
  done <<<"$lines"
done
exit $status
