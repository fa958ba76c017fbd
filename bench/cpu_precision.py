"""bf16 against fp32 on this CPU's matrix units, per run (issue 42): the same test cells scored by `Predictor` at each precision.

For each run: the share of test cells given the same class and the same gate flag, the balanced accuracy at each
precision, the share of validation cells the run's gate flags at each (its thresholds were fitted in fp32 by runs made
before precisions; `Gate.holds_under` keeps a Predictor to fp32 unless bf16 stays within the promised rate), and the
scoring speed of each (cells decoded once, at the run's resolution; the second of two passes, after oneDNN's warm-up).

    python bench/cpu_precision.py RUN... [--out bench/results/cpu_bf16/agreement.json] [--data DIR]

Cells: the runs' own test and validation splits (blood9: Acevedo et al. 2020, CC BY 4.0; Matek et al. 2019, CC BY 3.0).
"""
import argparse, json, math, time
from pathlib import Path
import numpy as np
from aml_nb.infer import Predictor
from aml_nb.store import run_cells, read_json
from aml_nb.images import decode_cells
from aml_nb.evaluate import balanced_accuracy
from aml_nb.models import cpu_bf16


def decoded(pr, cells):
    "The cells as `pr` scores them: uint8 at its resolution, from each one's pixel size."
    px = pr.pixel_sizes(cells['pixel_um'].to_numpy(float) if 'pixel_um' in cells else None, len(cells))[0]
    return decode_cells(cells.path.tolist(), pr.img_size, workers=2, pixel_um=px, field_um=pr.resolution.field_um if pr.resolution else None)


def score(pr, x, passes=2):
    "Probabilities, flags and seconds of the last of `passes` passes over `x`."
    for _ in range(passes):
        t0, probs, flags = time.perf_counter(), [], []
        for i in range(0, len(x), 64):
            p, s = pr.score_tensor(x[i:i + 64]); probs.append(p)
            flags.append(pr.gate.flags(s) if s is not None else np.zeros(len(p), bool))
        secs = time.perf_counter() - t0
    return np.concatenate(probs), np.concatenate(flags), secs


def main():
    a = argparse.ArgumentParser(); a.add_argument('runs', nargs='+'); a.add_argument('--data')
    a.add_argument('--out', default='bench/results/cpu_bf16/agreement.json'); a = a.parse_args()
    assert cpu_bf16(), "this processor has no bf16 units: nothing to compare"
    rows = []
    for run in a.runs:
        p32 = Predictor.from_run(run, workers=0, precision='fp32'); pbf = p32.at_precision('bf16')
        cells = run_cells(run, a.data); test, val = cells[cells.split == 'test'], cells[cells.split == 'val']
        y = test.label.map({c: i for i, c in enumerate(p32.classes)}).to_numpy()
        xt, xv = decoded(p32, test), decoded(p32, val)
        (q32, f32, s32), (qbf, fbf, sbf) = score(p32, xt), score(pbf, xt)
        fa = p32.gate.false_alarm if p32.gate is not None else None
        v32, vbf = (score(p, xv, 1)[1].mean() for p in (p32, pbf)) if p32.gate is not None else (None, None)
        cfg = read_json(Path(run)/'config.json')['train']
        rows.append(dict(run=str(run), arch=cfg['arch'], img_size=cfg['img_size'], cells=len(test),
                         same_class=float((q32.argmax(1) == qbf.argmax(1)).mean()), same_flag=float((f32 == fbf).mean()),
                         bal_acc_fp32=float(balanced_accuracy(y, q32.argmax(1))), bal_acc_bf16=float(balanced_accuracy(y, qbf.argmax(1))),
                         max_prob_diff=float(np.abs(q32 - qbf).max()),
                         val_flagged_fp32=None if v32 is None else float(v32), val_flagged_bf16=None if vbf is None else float(vbf),
                         false_alarm=fa, gate_holds_bf16=None if vbf is None else bool(vbf <= fa + math.sqrt(fa * (1 - fa) / len(val))),
                         fp32_cells_per_s=len(test) / s32, bf16_cells_per_s=len(test) / sbf, speedup=s32 / sbf))
        print(json.dumps(rows[-1]), flush=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(rows, indent=1) + '\n')


if __name__ == '__main__': main()
