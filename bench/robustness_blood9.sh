#!/usr/bin/env bash
# Cells, not scanners: a family of the `quick` (or `cpu`) preset on blood9 under each colour setting (stain normalisation,
# stain augmentation, scale jitter); every run writes robustness.json (the test cells under the other lab's colours and
# imaging scale, with and without its pixel size, stain amounts and optics), copied to the results folder.
#   [ARCH=convnext_atto] [PRESET=cpu] [SEED=1] [VARIANT_LIST="base norm bg"] [FIELD=none] bash bench/robustness_blood9.sh [BLOOD9] [RUNS] [RESULTS]
#   (about 7 minutes per variant at `quick`, 10 at `cpu`, 2 CPU cores; FIELD=none trains as runs before physical resolutions did)
set -euo pipefail
BLOOD9=${1:-../shared/data/blood9}; RUNS=${2:-runs/bench-robustness}; OUT=${3:-bench/results/robustness_quick_cpu}
ARCH=${ARCH:-resnet18}; PRESET=${PRESET:-quick}; SEED=${SEED:-0}; FIELD=${FIELD:-auto}
TAG=$ARCH$([ "$PRESET" = quick ] || echo "-$PRESET")$([ "$SEED" = 0 ] || echo "-s$SEED")$([ "$FIELD" = auto ] || echo "-field$FIELD")
VARIANT_LIST=${VARIANT_LIST:-base mild stain stainnorm norm normmild}; mkdir -p "$OUT"
declare -A VARIANTS=([base]="--stain-norm none" [mild]="--stain-norm none --stain .5 --scale-jitter .35" [stain]="--stain-norm none --stain 1 --scale-jitter .7"
                     [stainnorm]="--stain 1 --scale-jitter .7 --stain-norm reinhard" [norm]="--stain-norm reinhard" [normmild]="--stain .5 --scale-jitter .35 --stain-norm reinhard"
                     [bg]="--stain-norm background" [bgstain]="--stain-norm background --stain .5" [stainonly]="--stain-norm none --stain 1")
for v in $VARIANT_LIST; do
  .venv/bin/aml-nb train --data "$BLOOD9" --arch "$ARCH" --preset "$PRESET" --seed "$SEED" --field-um "$FIELD" --out "$RUNS/$TAG-$v" ${VARIANTS[$v]}
  .venv/bin/aml-nb robustness "$RUNS/$TAG-$v" > /dev/null   # a run made before robustness.json existed gets it; otherwise recomputed, same numbers
  cp "$RUNS/$TAG-$v/robustness.json" "$OUT/$TAG-$v.json"
done
