#!/usr/bin/env bash
# Training throughput alone and beside a second identical training, measured in one run.
#   bash bench/thread_share.sh [DATA] [RESULTS]
# DATA defaults to the built-in real cells (written to data/real when missing). Each training is resnet18 at 64 px,
# the quick preset for 3 epochs; its median img/s over epochs comes from the run's train.json. The pair shares the
# machine with nothing else configured: each process sizes its own threads (aml_nb.images.cpu_count / set_threads).
set -euo pipefail
DATA=${1:-data/real}; OUT=${2:-bench/results/thread_share_cpu}
source "$(dirname "$0")/_training.sh"
mkdir -p "$OUT"
train solo 0
train pair_a 1 & train pair_b 2 & wait
python - "$(ips solo)" "$(ips pair_a)" "$(ips pair_b)" "$(nproc)" "$OUT/thread_share.json" <<'PY'
import json, sys
solo, a, b, cpus, out = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = dict(cpus=cpus, solo_img_per_s=solo, pair_img_per_s=[a, b], pair_share_of_solo=[round(a / solo, 3), round(b / solo, 3)], fair_share=0.5)
print(json.dumps(r)); open(out, 'w').write(json.dumps(r, indent=1))
PY
rm -rf "$TMP"
