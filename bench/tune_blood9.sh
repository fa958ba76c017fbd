#!/usr/bin/env bash
# Tuning studies on real cells (blood9, validation split as the objective) for each family of a preset, two worker
# processes per study sharing its SQLite storage (one CPU thread each), then the best recipe per family written as a
# preset and the study records (best recipe, trials, importances as PNG and CSV) copied into the results folder.
#   PRESET=quick TRIALS=4 bash bench/tune_blood9.sh [BLOOD9] [STUDIES] [RESULTS]
# Each worker adds TRIALS trials; the first trial of each study is the reference recipe of ../shared/FACTS.md scaled
# to the preset's budget, so that a study never ends below it. Re-running adds trials to the same studies.
set -euo pipefail
PRESET=${PRESET:-quick}; TRIALS=${TRIALS:-4}; ARCHS=${ARCHS:-convnext_atto resnet18 vit_tiny_patch16_224}
BLOOD9=${1:-../shared/data/blood9}; STUDIES=${2:-runs/tune-$PRESET}; OUT=${3:-bench/results/tune_${PRESET}_cpu}
export HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
mkdir -p "$OUT" "$STUDIES"
for arch in $ARCHS; do
  study="$STUDIES/$arch"
  python - "$BLOOD9" "$arch" "$study" "$PRESET" <<'PY'
import sys, optuna
from aml_nb.data import read_cells
from aml_nb.tune import tune
data, arch, study, preset = sys.argv[1:]
s = tune(read_cells(data, validate=False), arch, study, preset, trials=0, progress=False)   # create (or open) the study
optuna.storages.fail_stale_trials(s)   # trials of a worker that was killed (a restart) count as failed, not as running
if all(t.state == optuna.trial.TrialState.FAIL for t in s.trials):   # the reference recipe first (again, if it never finished): AdamW, wd 0.05, light augmentation, Mixup 0.2, label smoothing 0.1, SWA last quarter
    s.enqueue_trial(dict(lr=1e-3 if arch.startswith('vit') else 2e-3, weight_decay=.05, aug=1/3, mixup=.2, cutmix=0., label_smoothing=.1,
                         drop_path=.1, batch_size=128, warmup_epochs=1., swa_start=.75, swa_lr=.1, balance='sampler'))
PY
  for k in 1 2; do
    AML_NB_THREADS=1 aml-nb tune --data "$BLOOD9" --arch "$arch" --preset "$PRESET" --trials "$TRIALS" --seed "$k" --out "$study" \
      --write-preset "$STUDIES/tuned.json" > "$OUT/${arch}_worker$k.log" 2>&1 &
  done
  wait
  cat "$OUT/${arch}"_worker*.log | tr '\r' '\n' | grep -E '^trial [0-9]+: (val|pruned|fail|its)' | sort -u -t' ' -k2 -n | tee "$OUT/${arch}_trials.txt" || true
  python - "$study" "$OUT/$arch" "$PRESET" <<'PY'
import sys, json
from pathlib import Path
import optuna, optuna.visualization.matplotlib as vm
from aml_nb.tune import load_study, best_settings, study_vs_preset
study, out, preset = load_study(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
out.mkdir(parents=True, exist_ok=True)
for f in ('study.json', 'best.json', 'trials.csv'): (out/f).write_text((Path(sys.argv[1])/f).read_text())
(out/'best_settings.json').write_text(json.dumps(best_settings(study), indent=1))
imp = optuna.importance.get_param_importances(study)
(out/'importance.json').write_text(json.dumps(imp, indent=1))
ax = vm.plot_param_importances(study); ax.figure.set_size_inches(7, 4); ax.figure.tight_layout(); ax.figure.savefig(out/'importance.png', dpi=90)
print(study_vs_preset(study, preset).to_markdown(index=False))
PY
done
cp "$STUDIES/tuned.json" "$OUT/tuned_preset.json"
python -c "import platform, torch, timm, optuna, os; print(f'python {platform.python_version()}, torch {torch.__version__}, timm {timm.__version__}, optuna {optuna.__version__}, {os.cpu_count()} cores')" > "$OUT/versions.txt"
