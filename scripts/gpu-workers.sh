#!/usr/bin/env bash
# On a GPU machine (binary packed by the shared tools' gpu-pack, .device/ carried): DCN with
# dropout off trained by 1 worker, by 2 workers simulated on GPU 0 (host exchange), and, where
# the machine has several GPUs, by one worker per GPU over NCCL (--device cuda:0,1,…); prints
# each run's loss and AUC lines and the worst difference to the 1-worker run. Results under $OUT.
#
#     scripts/gpu-workers.sh            # GPUS=4 scripts/gpu-workers.sh: cuda:0,1,2,3 as well
set -u
out=${OUT:-gpu-results}
mkdir -p "$out"
[ -f .device/swiftctr.gz ] && gunzip -f .device/swiftctr.gz
bin=.device/swiftctr
data="$out/workers-data"
"$bin" generate --out "$data" --train 65536 --eval 8192 >/dev/null 2>&1
scripts/worker_runs.py graph "$out/graph.json" $((1 << 21))
train=(train "$out/graph.json" --data "$data" --max-iter 24 --batch-size 2048 --display 4 --eval-interval 12 --seed 3)
runs=("one:--device cuda --workers 1" "two:--device cuda --workers 2")
gpus=${GPUS:-$(nvidia-smi -L 2>/dev/null | wc -l)}
if [ "$gpus" -gt 1 ]; then runs+=("nccl:--device cuda:$(seq -s, 0 $((gpus - 1)))"); fi
for run in "${runs[@]}"; do
  name=${run%%:*}
  # shellcheck disable=SC2086
  timeout 200 "$bin" "${train[@]}" ${run#*:} > "$out/$name.log" 2>&1
  echo "== $name (${run#*:}): rc=$?"
  grep -E "^(iter |eval at iter|device|workers|error)" "$out/$name.log" | sed -E 's/ +[0-9.]+[kM]? samples\/s//; s/ +ETA .*//'
done
logs=()
for run in "${runs[@]:1}"; do logs+=("$out/${run%%:*}.log"); done
scripts/worker_runs.py compare "$out/one.log" "${logs[@]}"
