"""Which stain normalisation removes the lab and keeps the cell? A probe before spending training runs (issue 39).

    python bench/normalisation_probe.py [--data ../shared/data/blood9] [--out bench/results/resolution_cpu/normalisation_probe.json]

On blood9's train split (up to 80 cells per class; the neutrophils 100 from Munich, 100 from Barcelona), each
normalisation is applied at 64 px, and colour features are read off each cell: LAB mean and spread of its stained
region (`stained_mask`) and of a ring around it. Two things are measured: how well a logistic regression tells the lab
of a neutrophil from them (the lab left in the colours; 0.5 = not at all) together with the mean standardised gap
between the labs' neutrophils (|SMD|), and how well one tells the cell type of Barcelona's cells (the colour that tells
cells apart; higher is kept). Normalisations: none; per image, each image's statistics (reinhard) or its background's
(background, `aml_nb.images.background_stats`); per site, one transform for all the cells of a site (the mean of its
cells' statistics, of its neutrophils', or of its backgrounds') -- the per-upload statistics a dashboard would use.
"""
import argparse, json, random
from pathlib import Path
import numpy as np, torch, torch.nn.functional as F, kornia, warnings
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from aml_nb.images import colour_transfer, lab_stats, background_stats, stained_mask
from aml_nb.data import site_by_name
warnings.filterwarnings('ignore')

a = argparse.ArgumentParser(); a.add_argument('--data', default='../shared/data/blood9'); a.add_argument('--out', default='bench/results/resolution_cpu/normalisation_probe.json'); a = a.parse_args()
root, rng = Path(a.data)/'train', random.Random(0); files = []
for cls in sorted(root.iterdir()):
    fs = sorted(cls.glob('*'))
    fs = (sorted(cls.glob('NGS*'))[:100] + rng.sample(sorted(set(fs) - set(cls.glob('NGS*'))), 100)) if cls.name == 'neutrophil' else rng.sample(fs, min(80, len(fs)))
    files += [(f, cls.name) for f in fs]
X = torch.stack([torch.from_numpy(np.array(Image.open(f).convert('RGB').resize((64, 64)))).permute(2, 0, 1) for f, _ in files]).float() / 255
label, site = np.array([c for _, c in files]), np.array([site_by_name(str(f)) for f, _ in files])

def masked(c, m):
    w = m[:, None].float(); n = w.sum((2, 3)).clamp_min(1); mu = (c * w).sum((2, 3)) / n
    return mu, (((c - mu[..., None, None]) ** 2 * w).sum((2, 3)) / n).sqrt()
def features(x):
    c, nuc = kornia.color.rgb_to_lab(x), stained_mask(x)
    ring = (F.max_pool2d(nuc[:, None].float(), 9, 1, 4)[:, 0] > 0) & ~nuc
    return torch.cat([*masked(c, nuc), *masked(c, ring)], 1).numpy()
def per_site(stats, target, only=None):
    "One LAB transform per site: the mean of `stats` of its cells (or of its cells where `only`) onto `target`."
    c, y = kornia.color.rgb_to_lab(X), torch.empty_like(X)
    for s in set(site):
        i = torch.as_tensor(site == s); m = stats[torch.as_tensor((site == s) & (only if only is not None else True))].mean(0)
        y[i] = kornia.color.lab_to_rgb((c[i] - m[:3].view(1, 3, 1, 1)) / m[3:].view(1, 3, 1, 1) * target[3:].view(1, 3, 1, 1) + target[:3].view(1, 3, 1, 1)).clamp(0, 1)
    return y

ls, bs, neu = lab_stats(X), background_stats(X), label == 'neutrophil'
bg_target = bs.mean(0)
variants = dict(none=X, reinhard=colour_transfer(X, ls.mean(0)), background=colour_transfer(X, bg_target, source=bs.clamp_min(1.)),
                site=per_site(ls, ls.mean(0)), site_neutrophils=per_site(ls, ls[torch.as_tensor(neu)].mean(0), neu), site_background=per_site(bs, bg_target))
out, bar = {}, site == 'Barcelona'
lr = lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=.1))
for k, v in variants.items():
    f = features(v); fn = f[neu]; m, b = fn[site[neu] == 'Munich'], fn[site[neu] == 'Barcelona']
    smd = np.abs(m.mean(0) - b.mean(0)) / np.sqrt((m.var(0) + b.var(0)) / 2 + 1e-9)
    out[k] = dict(lab_from_neutrophil_colour=float(cross_val_score(lr(), fn, site[neu], cv=5).mean()), lab_gap_smd=float(smd.mean()),
                  type_from_colour_barcelona=float(cross_val_score(lr(), f[bar], label[bar], cv=5).mean()))
    print(f"{k:18s} lab from a neutrophil's colour {out[k]['lab_from_neutrophil_colour']:.3f} (|SMD| {out[k]['lab_gap_smd']:.2f}); "
          f"type from colour (Barcelona) {out[k]['type_from_colour_barcelona']:.3f}", flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
