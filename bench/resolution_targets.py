"""Issue 39's targets against the 3-seed means of each family's chosen recipe (`bench/results/resolution_cpu/`), as a Markdown table.

    python bench/resolution_targets.py [resnet18-cpu-norm convnext_atto-cpu-bg vit_tiny_patch16_224-cpu-bg]
"""
import json, re, sys
from pathlib import Path
import numpy as np

R = Path(__file__).parent/'results'/'resolution_cpu'
BEST = dict(resnet18=.941, convnext_atto=.882, vit_tiny_patch16_224=.801)   # each family's best without normalisation before (cpu, 3 seeds)
chosen = sys.argv[1:] or ['resnet18-cpu-norm', 'convnext_atto-cpu-bg', 'vit_tiny_patch16_224-cpu-bg']
rows = [('as scanned (>= best without normalisation - 0.01)', lambda s: s['as_scanned']['balanced_accuracy'], lambda v, a: v >= BEST[a] - .01),
        ("other lab's colours and scale: drop (<= 0.02)", lambda s: s['site_colours_scale']['drop'], lambda v, a: v <= .02),
        ('... myeloblast recall (>= 0.90)', lambda s: s['site_colours_scale']['blast']['recall'], lambda v, a: v >= .9),
        ('... blasts silently missed (<= 3%)', lambda s: s['site_colours_scale']['blast']['silent_misses'], lambda v, a: v <= .03),
        ('... others silently called blast (<= 2%)', lambda s: s['site_colours_scale']['blast']['silent_false_blasts'], lambda v, a: v <= .02),
        ('pixel size withheld: blasts silently missed (<= 5%)', lambda s: s['pixel_size_withheld']['blast']['silent_misses'], lambda v, a: v <= .05),
        ('... others silently called blast (<= 5%)', lambda s: s['pixel_size_withheld']['blast']['silent_false_blasts'], lambda v, a: v <= .05),
        ('stain amounts: drop (<= 0.03)', lambda s: s['stain_amount']['drop'], lambda v, a: v <= .03)]
head, cells = ['target'], {}
for c in chosen:
    arch, variant = re.fullmatch(r'(.+)-cpu-(\w+)', c).groups()
    files = sorted(R.glob(f'{arch}-cpu-{variant}.json')) + sorted(R.glob(f'{arch}-cpu-s[0-9]-{variant}.json'))
    shifts = [json.loads(f.read_text())['shifts'] for f in files]
    head.append(f"{arch} `{variant}` ({len(files)} seeds)"); cells[c] = (arch, shifts)
print('| ' + ' | '.join(head) + ' |\n|' + ' --- |' * len(head))
for name, get, ok in rows:
    out = []
    for c, (arch, shifts) in cells.items():
        v = np.mean([get(s) for s in shifts]); pct = '%' in name
        out.append((f"{v:.1%}" if pct else f"{v:.3f}") + (' met' if ok(v, arch) else ' **missed**'))
    print(f"| {name} | " + ' | '.join(out) + ' |')
