#!/usr/bin/env bash
# Training throughput alone and beside the dashboard in use, measured in one run: the thread budget's second case.
#   bash bench/train_beside_dashboard.sh [RUNS] [DATA] [RESULTS]
# RUNS (default runs/demo, from `make demo`) is the store the dashboard shows; DATA (default: the built-in real cells)
# is what the training reads. The training is resnet18 at 64 px, the quick preset for 3 epochs; its img/s comes from the
# run's train.json. The load is bench/dashboard_latency.py looping without pause (real Chromium: every page opened, four
# cells uploaded to Predict, two Grad-CAM changes per pass) from before the training starts until it has finished, so
# the dashboard's latencies under that training are recorded too. Nothing is configured: each process sizes its own threads.
set -euo pipefail
RUNS=${1:-runs/demo}; DATA=${2:-data/real}; OUT=${3:-bench/results/thread_share_cpu}
source "$(dirname "$0")/_training.sh"
mkdir -p "$OUT"
train solo 0
python bench/dashboard_latency.py "$RUNS" "$OUT/latency_beside_training.json" --reps 1 --until "$TMP/done" > "$TMP/load.log" 2>&1 &
LOAD=$!
until grep -q 'warm-up done' "$TMP/load.log"; do sleep 2; kill -0 $LOAD || { cat "$TMP/load.log"; exit 1; }; done
train beside 1
touch "$TMP/done"; wait $LOAD || { echo "the dashboard load ended with an error:"; tail -5 "$TMP/load.log"; }
python - "$(ips solo)" "$(ips beside)" "$(nproc)" "$OUT/train_beside_dashboard.json" <<'PY'
import json, sys
solo, beside, cpus, out = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = dict(cpus=cpus, solo_img_per_s=solo, beside_dashboard_img_per_s=beside, share_of_solo=round(beside / solo, 3), target=0.4)
print(json.dumps(r)); open(out, 'w').write(json.dumps(r, indent=1))
PY
rm -rf "$TMP"
