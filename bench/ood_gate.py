"""The out-of-distribution gate in both directions, and on blank and corrupted images.

    python bench/ood_gate.py RUNS OUT.json [--refit]

With --refit, each run's gate is fitted again in memory by today's `fit_gate` (on the run's own training and
validation cells; nothing in the run is written): the gate of today's code on models trained earlier.

RUNS is a `make demo` run store: its real-cell model (RUNS/real/*) and its synthetic-cohort models
(RUNS/compare/*). For each model, the share of cells flagged "unlike the training cells" among
- all its own test cells (the false-alarm rate, overall and per cell type; the gate's thresholds aim at 5% of each class's
  validation cells),
- the other domain's test cells (real cells for a synthetic model and the reverse: the detection rate),
- blank images (white, black, mid-grey, a flat stain-pink), and corrupted copies of its own test cells
  (Gaussian noise sd 60 grey levels, a box blur of a fifth of the side, channels swapped, inverted).
"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np
from PIL import Image, ImageFilter
from aml_nb.infer import Predictor
from aml_nb.store import find_runs, run_cells
from aml_nb.experiments import fit_gate

def test_cells(run, n=300, seed=0):
    "Up to n test cells of a run (path, label), drawn at random."
    t = run_cells(run); t = t[t.split == 'test']
    return t.iloc[np.random.default_rng(seed).permutation(len(t))[:n]]

def test_paths(run, n=300, seed=0): return test_cells(run, n, seed).path.tolist()

def corrupted(paths, folder, seed=0):
    "Corrupted copies of the cells, per kind of corruption."
    rng = np.random.default_rng(seed); out = {}
    kinds = dict(noise=lambda a: np.clip(a + rng.normal(0, 60, a.shape), 0, 255),
                 blur=lambda a: np.asarray(Image.fromarray(a.astype(np.uint8)).filter(ImageFilter.BoxBlur(max(2, a.shape[0] // 5)))),
                 channels_swapped=lambda a: a[..., ::-1], inverted=lambda a: 255 - a)
    for k, f in kinds.items():
        d = Path(folder)/k; d.mkdir(parents=True); out[k] = []
        for i, p in enumerate(paths):
            a = np.asarray(Image.open(p).convert('RGB'), dtype=np.float64)
            q = d/f'{i}.png'; Image.fromarray(f(a).astype(np.uint8)).save(q); out[k].append(str(q))
    return out

def blanks(folder, px=96):
    "One flat image per colour."
    d = Path(folder)/'blank'; d.mkdir(parents=True); out = []
    for name, c in dict(white=(255,) * 3, black=(0,) * 3, grey=(128,) * 3, pink=(230, 180, 200)).items():
        q = d/f'{name}.png'; Image.new('RGB', (px, px), c).save(q); out.append(str(q))
    return out

def flags(pr, paths): return pr.gate.flag(pr.gate_paths(paths, progress=False))

def rate(pr, paths): return float(flags(pr, paths).mean())

def rate_by_class(flagged, labels)->dict:
    "The share flagged among each class's cells."
    labels = np.asarray(labels)
    return {c: round(float(flagged[labels == c].mean()), 4) for c in sorted(set(labels))}

if __name__ == '__main__':
    runs, out, refit = Path(sys.argv[1]), Path(sys.argv[2]), '--refit' in sys.argv[3:]
    real = find_runs(runs/'real'); synth = find_runs(runs/'compare')
    own = {r: test_cells(r, n=1000) for r in real + synth}   # every own test cell (740 real, 220 synthetic): per-class rates need them
    res, t0 = [], time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for r in real + synth:
            pr = Predictor.from_run(r, workers=0)
            if refit: pr.gate = fit_gate(pr, run_cells(r), progress=False)
            other = test_paths(synth[0] if r in real else real[0])
            work = Path(tmp)/r.relative_to(runs)   # real/resnet18-s0 and compare/resnet18-s0 share a name
            mine = own[r].path.tolist(); bad = corrupted(mine[:100], work/'corrupt')
            f = flags(pr, mine); by_class = rate_by_class(f, own[r].label)
            row = dict(run=str(r.relative_to(runs)), domain='real' if r in real else 'synthetic', views=sorted(pr.gate.means),
                       per_class_thresholds=pr.gate.class_scale is not None, n_own=len(mine), n_other=len(other),
                       false_alarm=float(f.mean()), false_alarm_by_class=by_class, false_alarm_worst_class=max(by_class.values()),
                       detection_other_domain=rate(pr, other),
                       blank=rate(pr, blanks(work)), **{f'corrupt_{k}': rate(pr, v) for k, v in bad.items()})
            print(json.dumps(row), flush=True); res.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(runs=str(runs), refit=refit, seconds=round(time.time() - t0, 1), results=res), indent=1))
