"""`aml-nb predict` at each precision against bare PIL + timm scripts in fp32 and bf16 (issue 42), over the same JPEGs.

Each is a separate process timed from start to end (Python's start and imports included, as a user waits for them),
after one pass that reads every file into the page cache. The JPEGs: blood9's 3,930 cells copied under new names until
there are N (9,000 by default) -- distinct files, the same bytes three times over at most.

    python bench/predict_precision.py RUN [--n 9000] [--out bench/results/cpu_bf16/predict.json]

RUN: a run of the `quick` (or `cpu`) ResNet18 at 64 px whose gate verified bf16 (trained, or `aml-nb store refit-gate`,
with this code on a processor with bf16 units). Cells: Acevedo et al. 2020 (CC BY 4.0) and Matek et al. 2019 (CC BY 3.0).
"""
import argparse, json, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

a = argparse.ArgumentParser(); a.add_argument('run'); a.add_argument('--n', type=int, default=9000); a.add_argument('--data', default='../shared/data/blood9')
a.add_argument('--out', default='bench/results/cpu_bf16/predict.json'); a.add_argument('--repeats', type=int, default=2); a = a.parse_args()
from aml_nb.infer import Predictor, default_workers
from aml_nb.store import read_json

src = sorted(Path(a.data).rglob('*.jpg'))
tmp = Path(tempfile.mkdtemp(prefix='aml_nb_predict_'))
try:
    paths = []
    for k in range(a.n):
        s = src[k % len(src)]; d = tmp/f'copy{k // len(src)}'/s.name; d.parent.mkdir(exist_ok=True)
        if not d.exists(): shutil.copyfile(s, d)
        paths.append(str(d))
    for p in paths: Path(p).read_bytes()   # the page cache, for every contender alike
    (tmp/'paths.txt').write_text('\n'.join(paths) + '\n')
    cfg = read_json(Path(a.run)/'config.json')['train']; workers = default_workers()
    auto = Predictor.from_run(a.run, workers=0).precision
    aml = [sys.executable, '-m', 'aml_nb.cli', 'predict', a.run, *paths]
    bare = [sys.executable, 'bench/bare_predict.py', str(tmp/'paths.txt'), '--arch', cfg['arch'], '--img-size', str(cfg['img_size']), '--workers', str(workers)]
    jobs = {'bare fp32': bare + ['--precision', 'fp32'], 'bare bf16': bare + ['--precision', 'bf16'],
            'aml-nb predict --precision fp32': aml + ['--precision', 'fp32', '--out', str(tmp/'p32.csv')],
            'aml-nb predict (auto)': aml + ['--out', str(tmp/'pauto.csv')]}
    res = dict(run=a.run, arch=cfg['arch'], img_size=cfg['img_size'], cells=a.n, workers=workers, auto_precision=auto, seconds={})
    for r in range(a.repeats):
        for name, cmd in jobs.items():
            for f in ('p32.csv', 'pauto.csv'): (tmp/f).unlink(missing_ok=True)
            t0 = time.perf_counter(); subprocess.run(cmd, check=True, capture_output=True); s = time.perf_counter() - t0
            res['seconds'].setdefault(name, []).append(round(s, 2)); print(name, f"{s:.1f} s", flush=True)
    best = {k: min(v) for k, v in res['seconds'].items()}
    res['cells_per_s'] = {k: round(a.n / v, 1) for k, v in best.items()}
    res['auto_vs_bare_fp32'] = round(best['bare fp32'] / best['aml-nb predict (auto)'], 3)
    res['auto_vs_bare_bf16'] = round(best['bare bf16'] / best['aml-nb predict (auto)'], 3)
    res['auto_vs_fp32'] = round(best['aml-nb predict --precision fp32'] / best['aml-nb predict (auto)'], 3)
    print(json.dumps(res, indent=1))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
finally: shutil.rmtree(tmp, ignore_errors=True)
