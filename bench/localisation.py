"""Grad-CAM localisation scores of trained runs against their randomised-weight copies (the model
randomisation test), on a run's test split. Exact masks where the table has them (the synthetic cohort), the
stain-based segmentation otherwise (real cells).

    python bench/localisation.py RUN [RUN ...] --data DATA [--n 200 --method gradcam --out FILE.json]
"""
import argparse, json, platform
from pathlib import Path
import torch
from aml_nb.store import run_cells
from aml_nb.models import load_model, resolve_device
from aml_nb.explain import localisation_summary

a = argparse.ArgumentParser(); a.add_argument('runs', nargs='+'); a.add_argument('--data', required=True)
a.add_argument('--n', type=int, default=200); a.add_argument('--method', default='gradcam'); a.add_argument('--device', default='auto')
a.add_argument('--out', default='localisation.json')
a = a.parse_args()
dev = resolve_device(a.device); rows = {}
for run in map(Path, a.runs):
    t = run_cells(run, a.data); test = t[t.split == 'test']
    m, info = load_model(run/'model.safetensors')
    rows[run.name] = dict(arch=info['arch'], img_size=info['img_size'], **localisation_summary(m.to(dev), test, info['img_size'], a.n, a.method))
    print(run.name, json.dumps(rows[run.name]), flush=True)
out = dict(runs=rows, data=a.data, device=torch.cuda.get_device_name(0) if dev.type == 'cuda' else 'cpu',
           versions=dict(python=platform.python_version(), torch=torch.__version__))
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
