"""The Trainer's training images per second in fp32 and in bf16 on this CPU's matrix units, per family (issue 42), and
what `auto` chooses for each: blood9's training split decoded once into memory, the plain recipe (no Mixup, no
augmentation, no SWA: the steps themselves), the last of `--epochs` epochs.

    python bench/train_precision.py [--data ../shared/data/blood9] [--archs resnet18 resnet10t convnext_atto vit_tiny_patch16_224]
                                    [--img-size 64] [--out bench/results/cpu_bf16/train.json]

Cells: Acevedo et al. 2020 (CC BY 4.0); Matek et al. 2019 (CC BY 3.0).
"""
import argparse, json, tempfile, shutil
from pathlib import Path
import pandas as pd
from aml_nb.data import read_cells, split_table
from aml_nb.train import Trainer
from aml_nb.recipe import TrainConfig
from aml_nb.models import resolve_precision, cpu_bf16

a = argparse.ArgumentParser(); a.add_argument('--data', default='../shared/data/blood9'); a.add_argument('--img-size', type=int, default=64)
a.add_argument('--archs', nargs='+', default=['resnet18', 'resnet10t', 'convnext_atto', 'vit_tiny_patch16_224'])
a.add_argument('--epochs', type=int, default=2); a.add_argument('--batch-size', type=int, default=64); a.add_argument('--workers', type=int, default=2)
a.add_argument('--out', default='bench/results/cpu_bf16/train.json'); a = a.parse_args()
assert cpu_bf16(), "this processor has no bf16 units"
t = split_table(read_cells(a.data, validate=False))
rows = []
for arch in a.archs:
    r = dict(arch=arch, img_size=a.img_size, auto=resolve_precision('auto', arch, 'train', a.img_size))
    for p in ('fp32', 'bf16'):
        out = Path(tempfile.mkdtemp())
        try:
            cfg = TrainConfig(arch, img_size=a.img_size, epochs=a.epochs, batch_size=a.batch_size, workers=a.workers, patience=0, precision=p,
                              mixup=0., aug='none', swa=False, balance='none', loader='memory')
            Trainer(cfg, t, out, progress=False).fit(resume=False)
            r[f'{p}_img_s'] = round(float(pd.read_csv(out/'history.csv').train_img_per_s.iloc[-1]), 1)
        finally: shutil.rmtree(out, ignore_errors=True)
    r['bf16_speedup'] = round(r['bf16_img_s'] / r['fp32_img_s'], 2); rows.append(r); print(json.dumps(r), flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(rows, indent=1) + '\n')
