#!/usr/bin/env bash
# The `paper` recipe on real cells (blood9, 128 px, from scratch) on one GPU: the comparison of the three families
# over $SEEDS seeds (default 3; about 80 s per model and seed on an H100), and ConvNeXt-Tiny without Mixup (seed 0).
# Run on a GPU machine from the repo root with blood9 at $BLOOD9 (default ../shared/data/blood9). Writes runs to
# $RUNS (default runs/paper_blood9); finished runs there are reused. $EXTRA is appended to every training command
# (e.g. EXTRA="--epochs 1 --device cpu" for a dry run of the script itself).
set -euo pipefail
BLOOD9=${BLOOD9:-../shared/data/blood9}
RUNS=${RUNS:-runs/paper_blood9}
EXTRA=${EXTRA:-}
SEEDS=${SEEDS:-3}
python3 - <<'PY'
import torch, timm, platform; print('device:', torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'cpu',
      '| torch', torch.__version__, '| timm', timm.__version__, '| python', platform.python_version(), flush=True)
PY
run() { python3 -c "import sys; from aml_nb.cli import main; sys.exit(main(sys.argv[1:]))" "$@"; }
run compare --data "$BLOOD9" --preset paper --img-size 128 --seeds "$SEEDS" --out "$RUNS/compare" $EXTRA
run train --data "$BLOOD9" --preset paper --img-size 128 --arch convnext_tiny --no-mixup --out "$RUNS/ablation/convnext_tiny-no_mixup-s0" $EXTRA
