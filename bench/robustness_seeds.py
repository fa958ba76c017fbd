"""Mean and spread over seeds of robustness.json files (`bench/robustness_blood9.sh` with SEED=0,1,2), as Markdown tables.

    python bench/robustness_seeds.py bench/results/robustness_cpu/convnext_atto-cpu   # VARIANT files: <prefix>[-sN]-<variant>.json
"""
import json, re, sys
from collections import defaultdict
from pathlib import Path
import numpy as np

prefix = Path(sys.argv[1]); runs = defaultdict(dict)
for f in sorted(prefix.parent.glob(prefix.name + '*.json')):
    m = re.fullmatch(re.escape(prefix.name) + r'(?:-s(\d+))?-(\w+)\.json', f.name)
    if m: runs[m[2]][int(m[1] or 0)] = json.loads(f.read_text())['shifts']
SHIFTS = ['as_scanned', 'site_colours', 'site_colours_scale', 'stain_amount', 'blur', 'gamma', 'jpeg']
ms = lambda v: f"{np.mean(v):.3f} +- {np.std(v, ddof=1):.3f}" if len(v) > 1 else f"{v[0]:.3f}"
print('| variant (seeds) | ' + ' | '.join(SHIFTS) + ' |\n| --- |' + ' --- |' * len(SHIFTS))
for var, seeds in runs.items():
    print(f"| {var} ({len(seeds)}) | " + ' | '.join(ms([s[k]['balanced_accuracy'] for s in seeds.values()]) for k in SHIFTS) + ' |')
print('\nmyeloblast recall / silent misses / other cells called blast / silent false blasts, mean over seeds\n')
print('| variant | ' + ' | '.join(SHIFTS[:4]) + ' | worst silent misses, any shift | worst silent false blasts, any shift |\n| --- |' + ' --- |' * 6)
for var, seeds in runs.items():
    b = lambda k, q: np.mean([s[k]['blast'][q] for s in seeds.values()])
    cells = [f"{b(k, 'recall'):.2f} / {b(k, 'silent_misses'):.1%} / {b(k, 'called_blast'):.1%} / {b(k, 'silent_false_blasts'):.1%}" for k in SHIFTS[:4]]
    worst = lambda q: max((b(k, q), k) for k in SHIFTS)
    print(f"| {var} | " + ' | '.join(cells) + ' | ' + ' | '.join(f"{v:.1%} ({k})" for v, k in (worst('silent_misses'), worst('silent_false_blasts'))) + ' |')
