"""Can a red-cell ruler tell blood9's two labs' imaging scales apart? (issue 27: normalise cells to one physical
resolution from the median red-cell diameter, the ruler every smear carries.)

    python bench/red_cell_ruler.py [--data ../shared/data/blood9] [--out bench/results/robustness_quick_cpu/red_cell_ruler.json]

On the neutrophils of blood9's train split (the one type both labs imaged: Munich `NGS_*`, Barcelona `BNE_*`/`SNE_*`),
red cells are found with OpenCV's Hough circle transform (on the blurred grey image; circles whose centre lies on the
stained white cell left out) at several vote thresholds, and each image's red-cell diameter is the median of its
circles. The ratio of the labs' medians is what a ruler would use; the white cells' own size ratio (stain masks) is 1.64.
Second, whether the ruler recovers a known zoom: 200 random test cells measured as scanned and enlarged x1.57 (the
robustness check's site scale, `aml_nb.images.zoom`); a ruler fit to normalise scale would measure about 1.57 on each.
"""
import argparse, json
from pathlib import Path
import cv2, numpy as np
from PIL import Image

a = argparse.ArgumentParser(); a.add_argument('--data', default='../shared/data/blood9')
a.add_argument('--out', default='bench/results/robustness_quick_cpu/red_cell_ruler.json'); a = a.parse_args()


def diameter(im:np.ndarray, votes:int)->float|None:
    "The median diameter (px) of the red cells Hough finds in one RGB image, or None with fewer than 3."
    g = cv2.GaussianBlur(cv2.cvtColor(im, cv2.COLOR_RGB2GRAY), (5, 5), 1.5); h, w = g.shape
    white = cv2.dilate((im[..., 2].astype(int) - im[..., 1] > 40).astype(np.uint8), np.ones((7, 7))) > 0   # the stained white cell
    c = cv2.HoughCircles(g, cv2.HOUGH_GRADIENT, dp=1, minDist=h // 16, param1=60, param2=votes, minRadius=h // 20, maxRadius=h // 3)
    r = [] if c is None else [r for x, y, r in c[0] if not white[min(int(y), h - 1), min(int(x), w - 1)]]
    return 2 * float(np.median(r)) if len(r) >= 3 else None


files = sorted((Path(a.data)/'train'/'neutrophil').glob('*.jpg'))
site = lambda f: 'Munich' if f.name.startswith('NGS') else 'Barcelona'
rows = []
for votes in (14, 18, 24, 30):
    d = {f: diameter(np.asarray(Image.open(f).convert('RGB')), votes) for f in files}
    med = {s: float(np.median([v for f, v in d.items() if v and site(f) == s])) for s in ('Munich', 'Barcelona')}
    found = {s: sum(1 for f, v in d.items() if v and site(f) == s) / sum(1 for f in d if site(f) == s) for s in med}
    rows.append(dict(votes=votes, median_diameter_px=med, images_measured=found, ratio=med['Munich'] / med['Barcelona']))
    print(rows[-1], flush=True)

import random, time, torch
from aml_nb.images import zoom
random.seed(1); test = random.sample(sorted((Path(a.data)/'test').rglob('*.jpg')), 200); zoomed = []
for votes in (14, 18, 24):
    ratios, found, t = [], [0, 0], time.perf_counter()
    for f in test:
        im = np.asarray(Image.open(f).convert('RGB'))
        z = (zoom(torch.from_numpy(im.copy()).permute(2, 0, 1)[None].float() / 255, 1.57)[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        d0, d1 = diameter(im, votes), diameter(z, votes); found[0] += d0 is not None; found[1] += d1 is not None
        if d0 and d1: ratios.append(d1 / d0)
    r = np.array(ratios)
    zoomed.append(dict(votes=votes, measured_as_scanned=found[0] / len(test), measured_zoomed=found[1] / len(test), ratio_median=float(np.median(r)),
                       ratio_iqr=np.percentile(r, [25, 75]).tolist(), within_15pct_of_1_57=float((abs(r / 1.57 - 1) < .15).mean()),
                       ms_per_image=1000 * (time.perf_counter() - t) / (2 * len(test))))
    print(zoomed[-1], flush=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True)
Path(a.out).write_text(json.dumps(dict(data=a.data, images=len(files), white_cell_ratio_stain_masks=1.64, rows=rows, zoom_x1_57=zoomed), indent=1))
