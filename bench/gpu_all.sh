#!/usr/bin/env bash
# Every GPU figure of the project, in as few calls of a lent machine as its budget allows. By default the `paper`
# comparison on blood9 over 2 seeds (and ConvNeXt-Tiny without Mixup) with its Grad-CAM localisation. On an H100 a
# `paper` model at 128 px took 41-54 s to train and about 80 s with start, decoding, gate and scoring (2026-11-27),
# so 2 seeds are about 9 minutes, what one 10-minute call holds; SEEDS=3 needs about 13 minutes (a longer lease, or
# two calls on a warm machine with OUT under the ignored runs/: the second reuses the finished seeds). SPEED=all adds
# the speed benchmarks (training, end-to-end scoring with the nvJPEG decoder, model-only compiled; about 6 minutes),
# SPEED=only runs just those. Each step has its own time limit; results are packed into $OUT/results.tar.gz after
# every step (weights left out), so a step cut short loses only itself.
#   OUT=<dir> BLOOD9=<blood9> [SEEDS=2] [SPEED=all|only] bash bench/gpu_all.sh   ($EXTRA goes to the training commands, for dry runs)
set -uo pipefail
OUT=${OUT:-runs/gpu}; BLOOD9=${BLOOD9:-../shared/data/blood9}; DEV=${DEV:-cuda}; SEEDS=${SEEDS:-2}
R=${RES:-$OUT/res}; mkdir -p "$R" "$OUT"; export PYTHONUNBUFFERED=1
pack() { tar czf "$OUT/results.tar.gz" --exclude="*.safetensors" --exclude=checkpoint -C "$(dirname "$R")" "$(basename "$R")"; echo "== packed after $1 ($(date +%T))"; }
step() { local name=$1 limit=$2; shift 2; echo "== $name (limit ${limit}s, $(date +%T))"; local t=$SECONDS
         timeout "$limit" "$@" 2>&1 | grep -v '^\s*$' | tee "$R/$name.log" | tail -40; echo "== $name: rc ${PIPESTATUS[0]}, $((SECONDS - t)) s"; pack "$name"; }
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; python3 -c "import torch, timm, platform; print(torch.__version__, timm.__version__, platform.python_version())"; nproc; } > "$R/env.txt" 2>&1
cat "$R/env.txt"
if [ "${SPEED:-}" != only ]; then step paper ${PAPER_S:-$((90 + 230 * SEEDS))} env SEEDS=$SEEDS RUNS="$R/paper" BLOOD9="$BLOOD9" bash bench/gpu_paper_blood9.sh
step localisation ${LOC_S:-40} python3 bench/localisation.py "$R"/paper/compare/*-s0 "$R"/paper/ablation/*-s0 --data "$BLOOD9" --n ${LOC_N:-200} --device "$DEV" --out "$R/localisation.json"; fi
if [ -n "${SPEED:-}" ]; then step train_speed ${TRAIN_S:-70} python3 bench/train_throughput.py --data "$BLOOD9" --arch convnext_tiny --img-size 224 --batch-size 128 --workers 12 --epochs 3 --device "$DEV" --out "$R/train_gpu" ${TRAIN_ARGS:-}; fi
if [ -n "${SPEED:-}" ]; then step predict_speed ${PRED_S:-75} python3 bench/predict_throughput.py --images "$BLOOD9" --arch convnext_tiny --img-size 224 --n 10000 --batch-size 256 --workers 15 --device "$DEV" --skip-memory --out "$R/predict_gpu" ${PRED_ARGS:-}; fi
if [ -n "${SPEED:-}" ]; then step model_speed ${MODEL_S:-180} python3 bench/model_throughput.py --device "$DEV" --out "$R/model_gpu" ${MODEL_ARGS:-}; fi
