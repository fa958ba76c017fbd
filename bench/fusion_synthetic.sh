#!/usr/bin/env bash
# Genomic fusion and patient-level MIL on a synthetic cohort large enough for patient-level intervals.
# 300 patients x 10 cells (128 px, default difficulty), quick preset (64 px, 10 epochs) for the three families,
# then on each run `aml-nb fuse` (tabular-only vs image-only vs fused at cell, patient and MIL level) and `aml-nb mil`
# (MIL vs the mean of cell probabilities vs the majority vote, same test patients, paired-bootstrap intervals; the
# share of attention per cell type and subtype in mil.json).
# Usage: bash bench/fusion_synthetic.sh [DATA_DIR] [RUNS_DIR] [RESULTS_DIR]   (about 25 min on 2 CPU cores)
set -euo pipefail
DATA=${1:-data/fusion300}; RUNS=${2:-runs/fusion300}; OUT=${3:-bench/results/fusion_synthetic_cpu}
export HF_HUB_OFFLINE=1
mkdir -p "$OUT"
aml-nb demo-data "$DATA" --patients 300 --cells-per-patient 10 --seed 1 2>/dev/null
aml-nb compare --data "$DATA" --preset quick --out "$RUNS" 2>/dev/null | tee "$OUT/compare.txt"
for run in "$RUNS"/*-s0; do
  echo "== $(basename "$run")"
  aml-nb fuse "$run" --genomics "$DATA/patients.csv" --levels cell patient mil 2>/dev/null
  cp "$run/fusion/fusion.csv" "$OUT/fusion_$(basename "$run").csv"
  aml-nb mil "$run" 2>/dev/null
  cp "$run/mil/mil.json" "$OUT/mil_$(basename "$run").json"
done | tee "$OUT/fusion.txt"
python -c "import sys, torch, timm, sklearn, platform; print(f'python {platform.python_version()}, torch {torch.__version__}, timm {timm.__version__}, scikit-learn {sklearn.__version__}, {platform.machine()}, {__import__(\"os\").cpu_count()} cores')" > "$OUT/versions.txt"
