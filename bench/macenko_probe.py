"""Does Macenko stain normalisation earn a place beside Reinhard's (issue 27)? A probe before any training run.

    python bench/macenko_probe.py [--data ../shared/data/blood9] [--out bench/results/robustness_cpu/macenko_probe.json]

Macenko et al. (2009) estimate each image's two stain vectors (haematoxylin, eosin) from its optical densities and
rescale its stain concentrations to a target's; here batched in torch (torchstain's normalisers take one image and one
target image at a time), with the target the median of 600 training cells' stain vectors and 99th-percentile
concentrations. Measured: what it does to the two labs' colours (mean CIE LAB of the neutrophils, the one type both labs
imaged; Reinhard's per-image transfer makes these equal by construction), to the classes' colours, whether it is
idempotent, and its cost per cell at 64 px.
"""
import argparse, json, random, time
from pathlib import Path
import numpy as np, torch, kornia
from PIL import Image

a = argparse.ArgumentParser(); a.add_argument('--data', default='../shared/data/blood9')
a.add_argument('--out', default='bench/results/robustness_cpu/macenko_probe.json'); a = a.parse_args()


def optical_density(x): return -torch.log(x.clamp_min(1 / 255))


def stain_stats(x, beta=.15, alpha=1., q=.99):
    "Per image: the stain matrix (B, 2, 3), rows haematoxylin then eosin, and the stains' 99th-percentile concentrations (B, 2)."
    o = optical_density(x).flatten(2).transpose(1, 2); m = (o > beta).all(-1); w = m.float(); n = w.sum(1).clamp_min(2)
    d = (o - ((o * w[..., None]).sum(1) / n[:, None])[:, None]) * w[..., None]
    e = torch.linalg.eigh(d.transpose(1, 2) @ d / (n - 1)[:, None, None])[1][..., [2, 1]]   # the plane of the two largest
    e = e * torch.where(e.sum(1, keepdim=True) < 0, -1., 1.)
    p = o @ e; phi = torch.atan2(p[..., 1], p[..., 0]).masked_fill(~m, float('nan'))
    v = [(e @ torch.stack([t.cos(), t.sin()], -1)[..., None])[..., 0] for t in (torch.nanquantile(phi, alpha / 100, 1), torch.nanquantile(phi, 1 - alpha / 100, 1))]
    h_first = v[0][:, 0] > v[1][:, 0]   # haematoxylin absorbs more red
    S = torch.stack([torch.where(h_first[:, None], v[0], v[1]), torch.where(h_first[:, None], v[1], v[0])], 1); S = S / S.norm(dim=-1, keepdim=True)
    C = torch.linalg.pinv(S.transpose(1, 2)) @ o.transpose(1, 2)
    return S, torch.nanquantile(C.masked_fill(~m[:, None], float('nan')), q, 2), m.sum(1)


def macenko(x, S_ref, C_ref, min_px=64):
    "Each image's stain concentrations rescaled to the target's and recomposed with the target's stain vectors (too few stained pixels: unchanged)."
    S, Cm, n = stain_stats(x); C = torch.linalg.pinv(S.transpose(1, 2)) @ optical_density(x).flatten(2)
    y = torch.exp(-(S_ref.T @ (C * (C_ref / Cm.clamp_min(1e-3))[..., None]))).reshape(x.shape).clamp(0, 1)
    return torch.where((n >= min_px).view(-1, 1, 1, 1), y, x)


load = lambda ps: torch.stack([torch.from_numpy(np.array(Image.open(p).convert('RGB').resize((64, 64)))).permute(2, 0, 1) for p in ps]).float() / 255
random.seed(0); files = random.sample(sorted((Path(a.data)/'train').rglob('*.jpg')), 600); x = load(files)
S, C, _ = stain_stats(x); S_ref = S.median(0).values; S_ref = S_ref / S_ref.norm(dim=-1, keepdim=True); C_ref = C.median(0).values
t = time.perf_counter(); y = macenko(x, S_ref, C_ref); ms = 1000 * (time.perf_counter() - t) / len(x)
y2 = macenko(y, S_ref, C_ref)
munich = np.array([f.name.startswith(('MYO', 'NGS')) for f in files]); cls = np.array([f.parent.name for f in files]); neut = cls == 'neutrophil'
lab = {k: kornia.color.rgb_to_lab(v).mean((2, 3)).numpy() for k, v in dict(as_scanned=x, macenko=y).items()}
res = dict(data=a.data, cells=len(files), munich_neutrophils=int((munich & neut).sum()), barcelona_neutrophils=int((~munich & neut).sum()),
           target=dict(stains=S_ref.tolist(), concentrations=C_ref.tolist()), ms_per_cell_64px=ms,
           idempotence=dict(max_abs=float((y2 - y).abs().max()), mean_abs=float((y2 - y).abs().mean())),
           neutrophil_lab={k: dict(munich=v[munich & neut].mean(0).round(1).tolist(), barcelona=v[~munich & neut].mean(0).round(1).tolist(),
                                   gap=(v[munich & neut].mean(0) - v[~munich & neut].mean(0)).round(1).tolist()) for k, v in lab.items()},
           class_lab={k: {c: v[cls == c].mean(0).round(1).tolist() for c in sorted(set(cls))} for k, v in lab.items()})
print(json.dumps({k: v for k, v in res.items() if k != 'class_lab'}, indent=1))
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
