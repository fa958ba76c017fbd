"""What the gate's size view catches: each run's test cells imaged at the other lab's pixel size with no pixel size given.

    python bench/size_view.py RUN [RUN...] [--out bench/results/resolution_cpu/size_view.json]

For a run at a physical resolution, its test cells are taken as `aml-nb robustness`'s `pixel_size_withheld` shift takes
them (each site's cells at the other site's pixel size and colours, none given, so the run assumes its default), and
once as scanned. Per condition: the share the gate flags, the share only the size view flags (every other view lets the
cell through), and the blast's silent errors with the gate as it is and with the size view left out.
"""
import argparse, json
from pathlib import Path
import numpy as np, torch
from aml_nb.infer import Predictor, default_workers
from aml_nb.store import run_cells
from aml_nb.images import decode_cells
from aml_nb.robustness import shift_context, _imaged, _widths, SHIFTS
from aml_nb.evaluate import shift_metrics

a = argparse.ArgumentParser(); a.add_argument('runs', nargs='+'); a.add_argument('--out', default='bench/results/resolution_cpu/size_view.json'); a = a.parse_args()
out = {}
for run in a.runs:
    pr = Predictor.from_run(run, workers=default_workers()); t = run_cells(run).query("split == 'test'")
    if pr.resolution is None or 'size' not in pr.gate.means: print(f"{run}: no resolution or no size view; skipped"); continue
    y = t.label.map({c: i for i, c in enumerate(pr.classes)}).to_numpy(); sites = t.site.to_numpy(); given = t.pixel_um.to_numpy(float)
    px = pr.pixel_sizes(given, len(t))[0]
    small = decode_cells(t.path.tolist(), pr.img_size, pixel_um=px, field_um=pr.resolution.field_um)
    ctx = shift_context(small, sites, t.label.to_numpy(), given)
    withheld = _imaged(decode_cells(t.path.tolist(), 2 * pr.img_size), ctx, pr, px, _widths(t.path.tolist()), declared=False)
    res = {}
    for name, cells in (('as_scanned', small), ('pixel_size_withheld', withheld)):
        feats, probs = {}, []
        for i in range(0, len(cells), 64):
            x = cells[i:i + 64]
            if name != 'as_scanned': x = (SHIFTS['pixel_size_withheld'].fn(x.float() / 255, {k: v[i:i + 64] if isinstance(v, torch.Tensor) else v for k, v in ctx.items()}, None).clamp(0, 1) * 255).round().byte()
            f, p = pr.gate_features(x); probs.append(p)
            for k, v in f.items(): feats.setdefault(k, []).append(v)
        feats = {k: np.concatenate(v) for k, v in feats.items()}; pred = np.concatenate(probs).argmax(1)
        g = pr.gate; d = g.distances(feats); near = g.nearest(feats)
        cs = g.class_scale[near] if g.class_scale is not None else 1.
        per = {k: v * cs > g.threshold for k, v in d.items()}
        flagged = g.flag(feats); others = np.any([v for k, v in per.items() if k != 'size'], 0)
        m_all = shift_metrics(y, pred, flagged, pr.classes)['blast']; m_wo = shift_metrics(y, pred, others, pr.classes)['blast']
        res[name] = dict(flagged=float(flagged.mean()), only_size=float((per['size'] & ~others).mean()), flagged_without_size=float(others.mean()),
                         silent_misses=m_all['silent_misses'], silent_false_blasts=m_all['silent_false_blasts'],
                         silent_misses_without_size=m_wo['silent_misses'], silent_false_blasts_without_size=m_wo['silent_false_blasts'])
        print(run, name, {k: round(v, 3) for k, v in res[name].items()}, flush=True)
    out[str(run)] = res
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
