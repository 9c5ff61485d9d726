#!/usr/bin/env bash
# The ETTh1 experiments of the time-series section of README.md, one `wasmgrad compare` per report:
#   main     horizons 96 192 336 720 (input 336), each method + the linear baseline
#   sweep    One-for-All at r 2..64 under alpha/r and alpha/sqrt(r) (horizon 96)
#   fewshot  the main runs at horizon 96 on 10% of the training windows
#   tasks    imputation (ETTh1), anomaly detection (npm sensor readings), short-term forecasting, classification
# Usage: examples/etth1-experiments.sh [main|sweep|fewshot|tasks|all]   (default all)
# Settings by environment variable (defaults in brackets):
#   MODEL [examples/checkpoints/small-gpt2]  DATA [../shared/datasets/ett/ETTh1.csv]  OUT [runs/etth1]
#   FEATURES [M]  METHODS [one-for-all,gpt4ts]  EPOCHS [3]  LR [1e-3]  HORIZONS [96 192 336 720]  THREADS [1]
# Each run writes OUT/<name>/report.md, report.html (forecast and rank-sweep plots), results.json.
set -euo pipefail
MODEL=${MODEL:-examples/checkpoints/small-gpt2}
DATA=${DATA:-../shared/datasets/ett/ETTh1.csv}
OUT=${OUT:-runs/etth1}
FEATURES=${FEATURES:-M}
METHODS=${METHODS:-one-for-all,gpt4ts}
EPOCHS=${EPOCHS:-3}
LR=${LR:-1e-3}
HORIZONS=${HORIZONS:-96 192 336 720}
THREADS=${THREADS:-1}
WG="node dist/src/cli/index.js"
what=${1:-all}
common=(--model "$MODEL" --epochs "$EPOCHS" --lr "$LR" --threads "$THREADS")
series=(--task forecast --data "$DATA" --input-length 336 --features "$FEATURES")

if [[ $what == main || $what == all ]]; then
  for h in $HORIZONS; do
    $WG compare "${series[@]}" "${common[@]}" --methods "$METHODS" --horizon "$h" --out "$OUT/$FEATURES-$h"
  done
fi
if [[ $what == sweep || $what == all ]]; then
  $WG compare "${series[@]}" "${common[@]}" --methods one-for-all --sweep r=2,4,8,16,32,64 --sweep scaling=standard,rs \
    --horizon 96 --out "$OUT/$FEATURES-96-sweep"
fi
if [[ $what == fewshot || $what == all ]]; then
  $WG compare "${series[@]}" "${common[@]}" --methods "$METHODS" --horizon 96 --train-fraction 0.1 --out "$OUT/$FEATURES-96-fewshot"
fi
if [[ $what == tasks || $what == all ]]; then
  $WG compare --task impute --data "$DATA" --input-length 96 --mask-ratio 0.25 "${common[@]}" --methods "$METHODS" --out "$OUT/impute"
  $WG compare --task anomaly --input-length 96 --anomaly-ratio 3 "${common[@]}" --methods "$METHODS" --out "$OUT/anomaly"
  $WG compare --task forecast-short "${common[@]}" --methods "$METHODS" --out "$OUT/short-births"
  $WG compare --task classify-series "${common[@]}" --methods "$METHODS" --out "$OUT/classify-generated"
fi
