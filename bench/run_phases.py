"""Where one run's time goes, from a cProfile of `aml-nb train` (issue 31).

    python -m cProfile -o run.prof .venv/bin/aml-nb train --data ../shared/data/blood9 --arch convnext_atto --preset quick --out runs/bench-gate/convnext_atto-s0
    python bench/run_phases.py run.prof [bench/results/profile_cpu/quick_convnext_atto_blood9.json]

Prints, per phase, the cumulative seconds of the function that does it (wall time of the main process: decoding done by
workers shows as the time waited for them). Phases nest: "of which" rows are inside the row above them.
"""
import pstats, sys, json
s = pstats.Stats(sys.argv[1]); st = s.stats
PHASES = [('all', 'cli.py', 'main'),
          ('decode cells (train + validation, once)', 'images.py', 'decode_cells'),
          ('stain normaliser fit', 'images.py', 'fit'),
          ('training epochs (Trainer.fit)', 'train.py', 'fit'),
          ('  of which training steps', 'loop.py', 'one_batch'),
          ('  of which validation per epoch', 'train.py', 'validate'),
          ('  of which SWA batch-norm update', 'swa_utils.py', 'update_bn'),
          ('checkpoints written', 'train.py', 'save_checkpoint'),
          ('gate fit (features of train+val, Gaussians)', 'experiments.py', 'fit_gate'),
          ('  of which must-flag images (power)', 'experiments.py', 'must_flag_images'),
          ('scoring validation + test (evaluate_run)', 'experiments.py', 'evaluate_run'),
          ('  of which fairness report', 'fairness.py', 'fairness_report'),
          ('robustness under shifts', 'experiments.py', 'robustness'),
          ('Grad-CAM localisation + randomisation check', 'explain.py', 'localisation_summary'),
          ('inference speed probe', 'experiments.py', 'inference_speed'),
          ('seal (checksums)', 'store.py', 'seal')]
out = {}
for name, f, fn in PHASES:
    v = sum(t[3] for (ff, l, n), t in st.items() if n == fn and ff.endswith(f))
    out[name] = round(v, 1)
for k, v in out.items(): print(f'{v:8.1f} s  {k}')
if len(sys.argv) > 2: json.dump(out, open(sys.argv[2], 'w'), indent=1)
