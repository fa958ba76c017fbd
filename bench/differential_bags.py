"""The digital differential on bags of real cells with known blast shares (issue 29).

A run's test predictions are split in two halves of cells: the first gives the confusion matrix that corrects the
shares (as `run_confusion` does with a run's whole test split), the second is drawn into bags of white cells with
known blast shares (0, 5, 10, 20, 40%; 100 and 200 cells; 50 bags each). For each bag: the raw blast share among the
counted white cells (Wilson interval) and the corrected one (adjusted classify-and-count, bootstrap interval), their
mean error in points and how often their 95% interval covers the truth. Cells the gate flags are counted apart, as on
the Predict page.

    python bench/differential_bags.py RUN [--out bench/results/differential_cpu/bags.json]
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np, pandas as pd
from aml_nb.evaluate import read_predictions
from aml_nb.differential import differential, NOT_WHITE, BLAST
from sklearn.metrics import confusion_matrix


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('run'); ap.add_argument('--out', default='bench/results/differential_cpu/bags.json')
    ap.add_argument('--bags', type=int, default=50); ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args(argv)
    run = Path(a.run); classes = json.loads((run/'classes.json').read_text())
    classes = classes['classes'] if isinstance(classes, dict) else classes
    p = read_predictions(run/'predictions.csv'); rng = np.random.default_rng(a.seed)
    half = rng.permutation(len(p)) < len(p) // 2
    ref, pool = p[half], p[~half]
    ok = ref[ref.flagged.fillna(0) == 0] if 'flagged' in ref else ref
    idx = {c: i for i, c in enumerate(classes)}
    conf = confusion_matrix(ok.label.map(idx), ok.predicted.map(idx), labels=range(len(classes)))
    blasts, others = pool[pool.label == BLAST], pool[(pool.label != BLAST) & ~pool.label.isin(NOT_WHITE)]
    rows, t0 = [], time.perf_counter()
    for n in (100, 200):
        for share in (0., .05, .10, .20, .40):
            for b in range(a.bags):
                k = int(round(share * n))
                bag = pd.concat([blasts.sample(k, replace=True, random_state=int(rng.integers(1e9))),
                                 others.sample(n - k, replace=True, random_state=int(rng.integers(1e9)))])
                d = differential(bag, classes, conf, n_boot=300, seed=b)['blast']
                rows.append(dict(n=n, truth=share, raw=d['share'], raw_lo=d['lo'], raw_hi=d['hi'],
                                 corrected=d['corrected'], corrected_lo=d['corrected_lo'], corrected_hi=d['corrected_hi']))
    r = pd.DataFrame(rows)
    summary = []
    for (n, s), g in r.groupby(['n', 'truth']):
        summary.append(dict(n=int(n), truth=float(s), bags=len(g),
                            raw_error_pts=float((g.raw - s).mean() * 100), raw_abs_error_pts=float((g.raw - s).abs().mean() * 100),
                            raw_coverage=float(((g.raw_lo <= s) & (s <= g.raw_hi)).mean()),
                            corrected_error_pts=float((g.corrected - s).mean() * 100), corrected_abs_error_pts=float((g.corrected - s).abs().mean() * 100),
                            corrected_coverage=float(((g.corrected_lo - 1e-9 <= s) & (s <= g.corrected_hi + 1e-9)).mean())))
    out = dict(run=str(run), classes=classes, reference_cells=int(len(ok)), pool_blasts=int(len(blasts)), pool_other_white=int(len(others)),
               seconds=round(time.perf_counter() - t0, 1), summary=summary)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
    print(pd.DataFrame(summary).round(3).to_string(index=False))


if __name__ == '__main__': sys.exit(main())
