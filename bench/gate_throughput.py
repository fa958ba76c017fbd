"""Scoring with the out-of-distribution gate against the bare pipeline, side by side in one process (issue 31).

    python bench/gate_throughput.py RUN [--images ../shared/data/blood9] [--n 3000] [--rounds 3] [--out bench/results/predict_cpu]

Three ways to score the same folder of JPEGs (real cells, linked over and over to reach --n), each with a DataLoader of
the same workers and batch, timed alternately --rounds times, the best round of each kept (a shared, noisy machine):
- bare: PIL (open, reduced-scale JPEG draft, RGB, bilinear resize) and the run's weights in a plain timm model, softmax
  -- what a hand-written script does;
- weights: `aml-nb predict RUN/model.safetensors` (`Predictor.predict_paths` without a gate: validation, error rows, CSV);
- run: `aml-nb predict RUN` (weights and gate: every cell also gets its out-of-distribution score and flag).
Then the gate's own cost per view (the distances of --n cells' features to the view's Gaussians). Target: run >= 0.8 x bare.
RUN should be a run without stain normalisation (the bare script would not do it), e.g. the demo's
runs/demo/compare/convnext_atto-s0 (`quick`, 64 px).
"""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np, torch, timm
from PIL import Image
from safetensors.torch import load_file
from torch.utils.data import DataLoader, Dataset

a = argparse.ArgumentParser(); a.add_argument('run'); a.add_argument('--images', default='../shared/data/blood9')
a.add_argument('--n', type=int, default=3000); a.add_argument('--rounds', type=int, default=3); a.add_argument('--batch-size', type=int, default=64)
a.add_argument('--workers', type=int, help='default: the Predictor default (cores - 1)'); a.add_argument('--out', default='bench/results/predict_cpu')
a = a.parse_args()

from aml_nb.infer import Predictor
from aml_nb.data import list_images
from aml_nb.models import model_info, model_norm
from aml_nb.images import set_threads
set_threads()
run = Path(a.run)
info = model_info(run/'model.safetensors')
if (info.get('stain_norm') or {}).get('method', 'none') != 'none': sys.exit(f"{run} normalises stains ({info['stain_norm']}); the bare script would not: choose a run without")
with_gate = Predictor.from_run(run, batch_size=a.batch_size, workers=a.workers)
weights = Predictor.from_run(run/'model.safetensors', batch_size=a.batch_size, workers=a.workers)
assert with_gate.gate is not None, f"{run} has no gate"
workers, size = with_gate.workers, info['img_size']
tmp = Path(tempfile.mkdtemp()); src = list_images(a.images); d = tmp/'cells'; d.mkdir()
for i in range(a.n): os.symlink(os.path.abspath(src[i % len(src)]), d/f'{i:06d}{Path(src[i % len(src)]).suffix}')
paths = sorted(str(p) for p in d.iterdir())

bare = timm.create_model(info['arch'], num_classes=len(info['classes'])).eval(); bare.load_state_dict(load_file(str(run/'model.safetensors')))
mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in model_norm(bare))

class BarePIL(Dataset):
    def __len__(self): return len(paths)
    def __getitem__(self, i):
        with Image.open(paths[i]) as im:
            im.draft('RGB', (size, size)); im = im.convert('RGB').resize((size, size), Image.BILINEAR)
        return torch.from_numpy(np.array(im)).permute(2, 0, 1)

@torch.inference_mode()
def bare_script():
    for x in DataLoader(BarePIL(), a.batch_size, num_workers=workers): bare((x.float() / 255 - mean) / std).softmax(-1)

def aml(pred):
    def f():
        out = tmp/'pred.csv'; out.unlink(missing_ok=True); pred.predict_paths(d, out, progress=False)
    return f

modes = dict(bare=bare_script, weights=aml(weights), run=aml(with_gate))
for f in modes.values(): f()   # warm-up: file cache, allocator, workers
rounds = []
for _ in range(a.rounds):
    r = {}
    for k, f in modes.items():
        t = time.perf_counter(); f(); r[k] = len(paths) / (time.perf_counter() - t)
    rounds.append(r); print({k: round(v) for k, v in r.items()}, flush=True)
best = {k: max(r[k] for r in rounds) for k in modes}

x = torch.stack([torch.from_numpy(np.array(Image.open(p).convert('RGB').resize((size, size)))).permute(2, 0, 1) for p in paths[:a.batch_size]])
feats, _ = with_gate.gate_features(x)
feats = {k: np.repeat(v, max(1, a.n // len(v)), 0) for k, v in feats.items()}
g = with_gate.gate; view_s = {}
for k in g.means:
    t = time.perf_counter(); g._distances(feats[k], g.means[k], g.precision[k]); view_s[k] = time.perf_counter() - t
res = dict(run=str(run), arch=info['arch'], img_size=size, images=a.images, n=a.n, workers=workers, batch_size=a.batch_size, cells_per_s=best,
           ratio_run_vs_bare=best['run'] / best['bare'], ratio_weights_vs_bare=best['weights'] / best['bare'], rounds=rounds,
           gate_view_ms_per_1000_cells={k: round(1000 * v / len(feats[k]) * 1000, 2) for k, v in view_s.items()},
           gate_view_dims={k: int(g.means[k].shape[1]) for k in g.means}, gate_view_gaussians={k: int(g.means[k].shape[0]) for k in g.means},
           device=f'CPU, {len(os.sched_getaffinity(0))} cores', versions=dict(python=platform.python_version(), torch=torch.__version__, timm=timm.__version__))
Path(a.out).mkdir(parents=True, exist_ok=True); f = Path(a.out)/f"gate_{Path(a.images).name}_{info['arch']}_{size}.json"; f.write_text(json.dumps(res, indent=1))
print(json.dumps(res, indent=1))
print(f"{'PASS' if res['ratio_run_vs_bare'] >= .8 else 'FAIL'}: scoring with the gate / bare = {res['ratio_run_vs_bare']:.2f} (target >= 0.8)")
