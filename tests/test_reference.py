"""The shipped reference model (issue 31): today's code loads it and scores the built-in test cells as recorded; a
change of recipe, cells or model code is said, not passed over; the demo installs it where its real-cell step reuses it."""
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest
from aml_nb.data import write_real_cells
from aml_nb.store import read_json, artefact_problem, load_run
from aml_nb.experiments import reusable
from aml_nb.reference_model import REFERENCE_MODEL, REFERENCE_MODEL_RECIPE, install_reference, reference_problems, reference_config
from aml_nb.evaluate import read_predictions


@pytest.fixture(scope='module')
def cells(tmp_path_factory):
    return write_real_cells(tmp_path_factory.mktemp('cells')/'real')


@pytest.fixture(scope='module')
def installed(cells, tmp_path_factory):
    return install_reference(tmp_path_factory.mktemp('store')/'real'/f"{REFERENCE_MODEL_RECIPE['arch']}-s0", cells.attrs['root'])


def test_the_shipped_model_is_what_todays_code_builds(cells, installed):
    "Its record names the cells, recipe and licence; the run it installs is sealed and is the run the demo would train."
    ref = read_json(REFERENCE_MODEL/'reference.json')
    assert ref['recipe'] == REFERENCE_MODEL_RECIPE and 'CC BY 4.0' in ref['cells_licence'] and 'Matek' in ref['cells_licence']
    assert artefact_problem(installed) is None
    assert reference_problems(installed, cells) == []   # recipe, cells, weights and predictions: all as today's code has them
    assert reusable(installed, reference_config(cells)) is None   # what the demo's real-cell step would train: so it reuses it
    size = sum(f.stat().st_size for f in REFERENCE_MODEL.iterdir()) / 2**20
    assert size < 16, f"the shipped model takes {size:.1f} MB"


def test_its_accuracy_on_the_built_in_test_cells_is_the_recorded_one(cells, installed):
    "Every built-in test cell scored with today's code: the balanced accuracy recorded in its metrics, within half-precision rounding."
    from sklearn.metrics import balanced_accuracy_score
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(installed, workers=0)
    test = cells[cells.split == 'test']
    probs = np.concatenate([pr.predict_tensor(x).float().cpu().numpy() for x, _, _ in pr.cell_batches(test.path.tolist())])
    got = balanced_accuracy_score(test.label, np.array(pr.classes)[probs.argmax(1)])
    want = load_run(installed)['metrics']['cell']['balanced_accuracy']
    assert abs(got - want) <= .01, (got, want)
    rec = read_predictions(installed/'predictions.csv')
    assert sorted(Path(p).resolve() for p in rec.path) == sorted(Path(p).resolve() for p in test.path)   # its record is of these very cells


def test_a_change_of_recipe_or_model_code_is_said(cells, installed, tmp_path, monkeypatch):
    "Another number of epochs in the demo's recipe, or weights that no longer give the recorded predictions: stale, and why."
    import aml_nb.reference_model as ex
    monkeypatch.setitem(ex.REFERENCE_MODEL_RECIPE, 'epochs', REFERENCE_MODEL_RECIPE['epochs'] + 1)
    why = reference_problems(installed, cells)
    assert any("recipe changed since" in w for w in why) and any('epochs 8 then, 9 now' in w for w in why), why
    monkeypatch.undo()
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    other = tmp_path/'other'; shutil.copytree(installed, other)
    with safe_open(str(other/'model.safetensors'), 'pt') as f: meta = f.metadata()
    w = load_file(str(other/'model.safetensors')); k = [k for k in w if k.endswith('fc.weight')][0]; w[k] = w[k].flip(0)   # the head's classes swapped
    save_file(w, str(other/'model.safetensors'), meta)
    from aml_nb.store import seal
    seal(other, 'run')
    assert any('predicts its test cells otherwise than recorded' in x for x in reference_problems(other, cells))


def test_the_demo_installs_it_where_its_real_cell_step_reuses_it(cells, tmp_path, capsys):
    "`make demo`'s first step: the shipped model in the run store (kept on a re-run); another recipe asked for: not installed."
    from aml_nb.demo import demo_reference
    r = REFERENCE_MODEL_RECIPE
    dest = demo_reference(r['arch'], r['epochs'], r['preset'], cells, tmp_path/'runs')
    assert dest == tmp_path/'runs'/'real'/f"{REFERENCE_MODEL_RECIPE['arch']}-s0" and artefact_problem(dest) is None
    from aml_nb.store import owned_folder
    owned_folder(tmp_path/'runs'/'real')   # the real-cell step's comparison writes beside it
    t0 = (dest/'manifest.json').stat().st_mtime_ns
    assert demo_reference(r['arch'], r['epochs'], r['preset'], cells, tmp_path/'runs') == dest and (dest/'manifest.json').stat().st_mtime_ns == t0   # a re-run keeps it
    assert demo_reference('resnet18', 8, 'quick', cells, tmp_path/'runs2') is None
    assert 'not what was asked' in capsys.readouterr().out
