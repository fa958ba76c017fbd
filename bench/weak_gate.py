"""A gate estimated from too few cells, and its fallbacks (issue 28, case 10).

    python bench/weak_gate.py [--out runs/bench-weak-gate]

Trains the issue's case with the CLI -- ResNet18 on 20 synthetic patients x 8 cells at 64 px, 3 epochs -- then fits the
gate of that model every way `fit_gate` can (one Gaussian per type, one for all, probabilistic PCA, both) and prints
what each catches of the images a gate must flag and what it flags of the model's own validation cells.
"""
import argparse, subprocess, sys
from pathlib import Path
from aml_nb.synth import generate_cohort
from aml_nb.infer import Predictor
from aml_nb.store import run_cells, read_json
from aml_nb.gate import Gate, gate_power
from aml_nb.experiments import must_flag_features

a = argparse.ArgumentParser(); a.add_argument('--out', default='runs/bench-weak-gate'); a = a.parse_args()
out = Path(a.out); run = out/'run'
if not (out/'cohort'/'patients.csv').exists(): generate_cohort(out/'cohort', n_patients=20, cells_per_patient=8, cell_px=64, progress=False)
subprocess.run([str(Path(sys.executable).parent/'aml-nb'), 'train', '--data', str(out/'cohort'), '--arch', 'resnet18', '--out', str(run),
                '--img-size', '64', '--epochs', '3', '--batch-size', '16', '--workers', '0'], check=True, capture_output=True)
print('chosen at training:', read_json(run/'ood.json')['power'].get('fallback', 'none'))
pr = Predictor.from_run(run, workers=0); t = run_cells(run)
tr, va = t[t.split == 'train'], t[t.split == 'val']
e_tr, e_va = pr.gate_paths(tr.path.tolist(), False), pr.gate_paths(va.path.tolist(), False)
y = tr.label.map({c: i for i, c in enumerate(pr.classes)}).to_numpy()
odd = must_flag_features(pr, t)
print(f"{len(tr)} training cells, {tr.label.value_counts().min()} in the smallest type; dims {({k: v.shape[1] for k, v in e_tr.items()})}")
pooled = dict(per_class=dict(embedding=False))
ways = [('one Gaussian per type', {}), ('one Gaussian for all', pooled)] + [(f'probabilistic PCA, {r}', dict(rank=r)) for r in (8, 16, 32)] + \
       [(f'one for all within PCA {r}', pooled | dict(rank=r)) for r in (8, 16)]
for name, kw in ways:
    p = gate_power(Gate.fit(e_tr, y, e_va, .05, **kw), odd, e_va)
    print(f"{name:28s} caught {', '.join(f'{k} {v:.0%}' for k, v in p['caught'].items())}; own cells flagged {p['flagged_own']:.1%}")
