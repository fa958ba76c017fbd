"""The Trainer's training images per second (real cells, decoded once into memory by
DataLoader workers and augmented per batch on the device, the Trainer's default `loader='auto'`) against a bare timm
training step on in-memory tensors, same architecture, batch, precision and optimizer, measured in one run.
Target: Trainer >= 0.85 x bare.

    python bench/train_throughput.py [--data ../shared/data/blood9] [--arch convnext_atto --img-size 64 --batch-size 32 --workers 2]

Reports the Trainer twice: with the plain recipe (no Mixup, no augmentation, no SWA: the loop's own overhead) and
with the full recipe at its heaviest (Mixup, strong augmentation, SWA), so that the most the recipe costs is visible.
"""
import argparse, json, os, platform, tempfile, time
from pathlib import Path
import pandas as pd, torch, timm

a = argparse.ArgumentParser(); a.add_argument('--data', default='../shared/data/blood9'); a.add_argument('--arch', default='convnext_atto')
a.add_argument('--img-size', dest='size', type=int, default=64); a.add_argument('--batch-size', type=int, default=32); a.add_argument('--workers', type=int, default=2)
a.add_argument('--epochs', type=int, default=2); a.add_argument('--device', default='auto'); a.add_argument('--out', default='bench/results/train_cpu')
a = a.parse_args()

from aml_nb.data import read_cells, split_table
from aml_nb.train import Trainer
from aml_nb.recipe import TrainConfig
from aml_nb.models import resolve_device

dev = resolve_device(a.device); gpu = dev.type == 'cuda'
t = split_table(read_cells(a.data, validate=False))
n_train = int((t.split == 'train').sum())


def trainer(**kw)->float:
    "Images per second of the Trainer's last epoch."
    cfg = TrainConfig(a.arch, img_size=a.size, epochs=a.epochs, batch_size=a.batch_size, workers=a.workers, device=a.device, patience=0, **kw)
    out = Path(tempfile.mkdtemp())
    Trainer(cfg, t, out, progress=False).fit(resume=False)
    return float(pd.read_csv(out/'history.csv').train_img_per_s.iloc[-1])


def bare()->float:
    "Images per second of plain forward/backward/AdamW steps on in-memory tensors (bf16 autocast on a GPU)."
    m = timm.create_model(a.arch, num_classes=t.label.nunique()).to(dev).train()
    if gpu: m = m.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(m.parameters(), 2e-3, weight_decay=.05); crit = torch.nn.CrossEntropyLoss(label_smoothing=.1)
    x = torch.randn(a.batch_size, 3, a.size, a.size, device=dev); y = torch.randint(0, t.label.nunique(), (a.batch_size,), device=dev)
    steps = n_train // a.batch_size
    def epoch():
        for _ in range(steps):
            with torch.autocast('cuda', torch.bfloat16, enabled=gpu): loss = crit(m(x), y)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if gpu: torch.cuda.synchronize()
    epoch()   # warm-up
    s = time.perf_counter(); epoch(); return steps * a.batch_size / (time.perf_counter() - s)


r = dict(bare_img_s=bare(), trainer_plain_img_s=trainer(mixup=0., aug='none', swa=False, balance='none'),
         trainer_full_recipe_img_s=trainer())
r['ratio_plain'] = r['trainer_plain_img_s'] / r['bare_img_s']; r['ratio_full_recipe'] = r['trainer_full_recipe_img_s'] / r['bare_img_s']
r.update(arch=a.arch, size=a.size, batch_size=a.batch_size, workers=a.workers, train_images=n_train, data=a.data,
         device=torch.cuda.get_device_name(0) if gpu else f'CPU, {os.cpu_count()} cores',
         versions=dict(python=platform.python_version(), torch=torch.__version__, timm=timm.__version__))
Path(a.out).mkdir(parents=True, exist_ok=True); (Path(a.out)/f'{a.arch}_{a.size}.json').write_text(json.dumps(r, indent=1))
print(json.dumps(r, indent=1))
print(f"{'PASS' if r['ratio_plain'] >= .85 else 'FAIL'}: Trainer (plain recipe) / bare = {r['ratio_plain']:.2f} (target >= 0.85); "
      f"full recipe {r['ratio_full_recipe']:.2f}")
