#!/usr/bin/env bash
# The presets on real cells: ConvNeXt vs ResNet vs ViT on blood9, scored on blood9/test, mean and spread over seeds.
#   PRESETS="quick cpu" SEEDS=3 bash bench/blood9_presets.sh [BLOOD9] [RUNS] [RESULTS]
# Each preset's comparison (per-seed runs, comparison.csv with *_sd columns) goes to RUNS/<preset>; its table and
# the machine's versions to RESULTS/<preset>/. Re-running reuses every finished run.
set -euo pipefail
PRESETS=${PRESETS:-quick cpu}; SEEDS=${SEEDS:-3}
BLOOD9=${1:-../shared/data/blood9}; RUNS=${2:-runs/bench-blood9}; OUT=${3:-bench/results/blood9_presets_cpu}
export HF_HUB_OFFLINE=1
for preset in $PRESETS; do
  mkdir -p "$OUT/$preset"
  /usr/bin/time -v aml-nb compare --data "$BLOOD9" --preset "$preset" --seeds "$SEEDS" --out "$RUNS/$preset" 2> "$OUT/$preset/time.txt" \
    | tee "$OUT/$preset/compare.txt"
  cp "$RUNS/$preset/comparison.csv" "$RUNS/$preset/comparison.json" "$OUT/$preset/"
done
python -c "import torch, timm, platform; print(platform.platform(), 'torch', torch.__version__, 'timm', timm.__version__, 'threads', torch.get_num_threads())" > "$OUT/versions.txt"
