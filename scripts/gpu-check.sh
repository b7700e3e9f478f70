#!/usr/bin/env bash
# One full call on a GPU machine (which has no Swift): the CUDA self-test, the GEMM ceiling of
# DLRM-DCNv2's shapes and the DLRM-DCNv2 benchmark, results under $OUT. Pack the binary here first
# with the shared tools' gpu-pack (it writes .device/swiftctr.gz, ignored by git), carry .device/,
# and run this from the repository's root there:
#
#     scripts/gpu-check.sh                          # selftest, gemm ceiling, dlrmdcnv2 bench without PyTorch
#     PEER=yes scripts/gpu-check.sh                 # with bench/dlrm_dcnv2_pytorch.py in the same call
#     SELFTEST=0 GEMM=0 MODELS=dcn16v2 PEER=yes scripts/gpu-check.sh
#     AUCS="dcn deepfm dlrm din bst" EXTRA=--profile-kernels scripts/gpu-check.sh
set -u
out=${OUT:-gpu-results}
mkdir -p "$out"
[ -f .device/swiftctr.gz ] && gunzip -f .device/swiftctr.gz
bin=.device/swiftctr
nvidia-smi --query-gpu=name,memory.total,clocks.sm --format=csv > "$out/smi.txt" 2>&1
if [ "${SELFTEST:-1}" = 1 ]; then
  timeout 200 "$bin" selftest --device cuda > "$out/selftest.txt" 2>&1; echo "selftest rc=$?" >> "$out/selftest.txt"
  grep -E "FAIL|fail|passed|rc=" "$out/selftest.txt" | tail -15
fi
if [ "${GEMM:-1}" = 1 ]; then
  timeout 120 python3 bench/gemm_ceiling.py > "$out/gemm.txt" 2>&1
  grep -E ": .* TFLOPS$" "$out/gemm.txt"
fi
timeout "${BENCH_T:-400}" "$bin" bench --device cuda --models "${MODELS:-dlrmdcnv2}" --precisions bf16 --profile --peer "${PEER:-no}" \
  --samples "${SAMPLES:-524288}" ${EXTRA:-} > "$out/bench.txt" 2>&1
echo "bench rc=$?" >> "$out/bench.txt"
tail -60 "$out/bench.txt"
# AUCS="dcn deepfm": those sample models trained on the GPU (fp32, as the AUC table's H200 column).
for m in ${AUCS:-}; do
  echo "== $m" >> "$out/aucs.txt"
  timeout "${AUC_T:-120}" "$bin" train --model "$m" --device cuda 2>&1 | grep -E "^eval AUC|rror" >> "$out/aucs.txt"
done
[ -n "${AUCS:-}" ] && cat "$out/aucs.txt"
