"""The CPU's own matrix units (issue 42): bf16 where the processor has them, fp32 unchanged where it has none, and the
same answers either way."""
import numpy as np, pandas as pd, torch
from conftest import TINY


def test_a_processor_without_bf16_units_runs_fp32_unchanged(monkeypatch, cohort, tmp_path):
    "AML_NB_CPU_BF16=0 makes this processor one without bf16 units: whatever is asked, training, scoring and the gate run in fp32."
    from aml_nb.models import create_model, resolve_precision, PRECISIONS
    from aml_nb.infer import Predictor
    from aml_nb.train import Trainer
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    from aml_nb.store import read_json
    monkeypatch.setenv('AML_NB_CPU_BF16', '0')
    assert {resolve_precision(p, 'resnet18', path, 128) for p in PRECISIONS for path in ('predict', 'train')} == {'fp32'}
    t = Trainer(TrainConfig(arch='resnet18', precision='bf16', **TINY), cohort, tmp_path/'t', progress=False)
    assert t.precision == 'fp32' and not t.channels_last and not torch.is_autocast_cpu_enabled()
    with t.autocast(): assert not torch.is_autocast_cpu_enabled()   # no bf16 anywhere in its steps
    m = create_model('resnet18', 3).eval(); x = torch.randint(0, 255, (8, 3, 64, 64), dtype=torch.uint8)
    asked, fp32 = (Predictor(m, list('abc'), 64, workers=0, precision=p) for p in ('bf16', 'fp32'))
    assert asked.precision == 'fp32' and torch.equal(asked.predict_tensor(x), fp32.predict_tensor(x))   # the same numbers, bit for bit
    run_experiment(cohort, TrainConfig(arch='resnet18', precision='bf16', **TINY), tmp_path/'run', progress=False)
    gate = read_json(tmp_path/'run'/'ood.json')
    assert read_json(tmp_path/'run'/'train.json')['precision'] == 'fp32' and gate['precision'] == 'fp32' and 'verified' not in gate


def test_bf16_and_fp32_give_the_same_answers(tmp_path):
    "The shipped real-cell model on its 740 built-in test cells: asked for bf16, it answers as recorded (its run never verified bf16); bf16 forced keeps nearly every answer."
    from aml_nb.data import write_real_cells
    from aml_nb.reference_model import install_reference
    from aml_nb.infer import Predictor
    from aml_nb.images import decode_cells
    from aml_nb.evaluate import balanced_accuracy
    from aml_nb.models import cpu_bf16
    cells = write_real_cells(tmp_path/'cells'); run = install_reference(tmp_path/'run', cells.attrs['root'])
    test = cells[cells.split == 'test']
    p32, asked = (Predictor.from_run(run, workers=0, precision=p) for p in ('fp32', 'bf16'))
    forced = p32.at_precision('bf16')
    x = decode_cells(test.path.tolist(), p32.img_size, pixel_um=p32.pixel_sizes(test.pixel_um.to_numpy(float), len(test))[0],
                     field_um=p32.resolution.field_um if p32.resolution else None)
    def score(p):
        probs, flags = zip(*((q, p.gate.flags(s)) for q, s in (p.score_tensor(x[i:i + 64]) for i in range(0, len(x), 64))))
        return np.concatenate(probs), np.concatenate(flags)
    (q32, f32), (qa, fa), (qf, ff) = score(p32), score(asked), score(forced)
    y = test.label.map({c: i for i, c in enumerate(p32.classes)}).to_numpy()
    assert len(test) == 740 and asked.precision == 'fp32' and np.array_equal(q32, qa) and np.array_equal(f32, fa)   # unverified: its own precision, the same numbers
    if not cpu_bf16(): assert np.array_equal(q32, qf); return   # no bf16 units: fp32 even forced
    assert not np.array_equal(q32, qf)   # forced, bf16 did run: the numbers differ...
    assert (q32.argmax(1) == qf.argmax(1)).mean() >= .99 and (f32 == ff).mean() >= .99   # ...nearly every answer does not (99.46%, 99.86% measured)
    assert abs(balanced_accuracy(y, q32.argmax(1)) - balanced_accuracy(y, qf.argmax(1))) <= .005


def test_auto_fits_the_gate_in_the_precision_it_scores_in(cohort, tmp_path):
    "A ResNet at 64 px: its gate and recorded answers are made in what `auto` scores in (bf16 on a processor with the units), the other precision is verified, and the run scores as recorded."
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    from aml_nb.infer import Predictor
    from aml_nb.gate import Gate, SAME_ANSWERS
    from aml_nb.models import resolve_precision
    from aml_nb.evaluate import read_predictions, prob_columns
    from aml_nb.store import read_json
    run = tmp_path/'run'
    run_experiment(cohort, TrainConfig(arch='resnet18', **(TINY | dict(img_size=64))), run, progress=False)
    gate = Gate.load(run); auto = resolve_precision('auto', 'resnet18', 'predict', 64)
    assert gate.meta['precision'] == read_json(run/'metrics.json')['precision'] == auto   # fitted and recorded in what `auto` scores in
    pr = Predictor.from_run(run, workers=0); assert pr.precision == auto
    rec = read_predictions(run/'predictions.csv'); test = cohort[cohort.split == 'test']
    again = pr.predict_paths(test.path.tolist(), tmp_path/'again.csv', progress=False,
                             pixel_um=dict(zip(test.path, test.pixel_um)) if 'pixel_um' in test else None)
    assert np.allclose(again[prob_columns(pr.classes)].to_numpy(), rec[prob_columns(pr.classes)].to_numpy(), atol=1e-4)   # its recorded answers, reproduced
    assert (again.flagged.to_numpy() == rec.flagged.to_numpy()).all()
    if auto == 'fp32': assert 'verified' not in gate.meta; return   # a processor without bf16 units: nothing else to verify
    v = gate.meta['verified']['fp32']; assert 0 <= v['flagged'] <= 1 and 0 <= v['same_class'] <= 1 and set(v['caught']) == set(gate.meta['power']['caught'])
    se = lambda p: (p * (1 - p) / gate.meta['val_cells']) ** .5
    holds = v['same_class'] >= SAME_ANSWERS - se(SAME_ANSWERS) and v['flagged'] <= .05 + se(.05) and all(v['caught'][k] >= c - .05 for k, c in gate.meta['power']['caught'].items())
    assert gate.holds_under('fp32') == holds and Predictor.from_run(run, workers=0, precision='fp32').precision == ('fp32' if holds else 'bf16')
