"""Mean and spread over seeds of robustness.json files (`bench/robustness_blood9.sh` with SEED=0,1,2), as Markdown tables.

    python bench/robustness_seeds.py bench/results/robustness_cpu/convnext_atto-cpu   # VARIANT files: <prefix>[-sN]-<variant>.json
"""
import json, re, sys
from pathlib import Path
import pandas as pd
from aml_nb.robustness import robustness_table

prefix = Path(sys.argv[1]); parts = []
for f in sorted(prefix.parent.glob(prefix.name + '*.json')):
    if m := re.fullmatch(re.escape(prefix.name) + r'(?:-s(\d+))?-(\w+)\.json', f.name):
        parts.append(robustness_table(json.loads(f.read_text())).assign(variant=m[2], seed=int(m[1] or 0)))
t = pd.concat(parts); variants = list(dict.fromkeys(t.variant))
SHIFTS = [s for s in ('as_scanned', 'site_colours', 'site_colours_scale', 'pixel_size_withheld', 'stain_amount', 'blur', 'gamma', 'jpeg') if s in set(t['shift'])]
BLAST = [s for s in ('as_scanned', 'site_colours', 'site_colours_scale', 'pixel_size_withheld', 'stain_amount') if s in SHIFTS]
g = t.groupby(['variant', 'shift'])
mean, sd, n = g.mean(numeric_only=True), g.std(numeric_only=True), t.groupby('variant').seed.nunique()
ms = lambda v, k: f"{mean.loc[(v, k), 'balanced_accuracy']:.3f}" + (f" +- {sd.loc[(v, k), 'balanced_accuracy']:.3f}" if n[v] > 1 else '')
print('| variant (seeds) | ' + ' | '.join(SHIFTS) + ' |\n| --- |' + ' --- |' * len(SHIFTS))
for v in variants: print(f"| {v} ({n[v]}) | " + ' | '.join(ms(v, k) for k in SHIFTS) + ' |')
print('\nmyeloblast recall / silent misses / other cells called blast / silent false blasts, mean over seeds\n')
print('| variant | ' + ' | '.join(BLAST) + ' | worst silent misses, any shift | worst silent false blasts, any shift |\n| --- |' + ' --- |' * (len(BLAST) + 2))
for v in variants:
    b = mean.loc[v]; worst = lambda q: f"{b[q].max():.1%} ({b[q].idxmax()})"
    cells = [f"{b.loc[k, 'blast_recall']:.2f} / {b.loc[k, 'silent_misses']:.1%} / {b.loc[k, 'called_blast']:.1%} / {b.loc[k, 'silent_false_blasts']:.1%}" for k in BLAST]
    print(f"| {v} | " + ' | '.join(cells) + f" | {worst('silent_misses')} | {worst('silent_false_blasts')} |")
