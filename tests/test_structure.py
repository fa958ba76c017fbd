"""Every idea in its own room (issue 41): the CLI's defaults are its functions' own, and the pages hold no list of names
that the package holds."""
import argparse, ast
from inspect import Parameter, signature
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _subparser(P, name):
    "The parser of command `name` ('train', or 'data summarize')."
    for word in name.split():
        P = next(a for a in P._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
    return P


def _defaults(calls):
    "Parameter name -> default, over the functions a command calls (the first to name a parameter wins)."
    from aml_nb.cli import package_object
    out = {}
    for where in calls:
        for k, v in signature(package_object(where)).parameters.items():
            if v.default is not Parameter.empty: out.setdefault(k, v.default)
    return out


def test_every_cli_default_is_its_functions_own():
    from aml_nb.cli import COMMANDS, parser
    P, wrong = parser(), []
    for name, (_, _, _, calls) in COMMANDS.items():
        assert calls, f"aml-nb {name}: names no function whose parameters its options are"
        own = _defaults(calls)
        for a in _subparser(P, name)._actions:
            if a.default in (None, False, argparse.SUPPRESS) or isinstance(a, argparse._HelpAction): continue   # off unless given
            d = own.get(a.dest, '<no such parameter>')
            if isinstance(d, tuple) and isinstance(a.default, (list, tuple)): d = list(d); default = list(a.default)
            else: default = a.default
            if d != default: wrong.append(f"aml-nb {name} {'/'.join(a.option_strings)}: {a.default!r}, its function's {d!r}")
    assert not wrong, '\n'.join(wrong)


def test_a_typed_default_would_be_caught(monkeypatch):
    "The check above fails on a default the CLI types itself."
    from aml_nb import cli
    help_, fn, options, calls = cli.COMMANDS['mil']
    monkeypatch.setitem(cli.COMMANDS, 'mil', (help_, fn, lambda p: (options(p), p.set_defaults(epochs=81)), calls))
    with pytest.raises(AssertionError, match='--epochs: 81'): test_every_cli_default_is_its_functions_own()


BEFORE = ROOT/'tests'/'fixtures'/'store_before_41'   # made by main before issue 41 (`/tmp/old` at 69aee6a): a run, its fusion and MIL folders
MADE_AT = '/tmp/mkstore/store_before_41/'   # where it was made: its files name their paths from there


def test_a_store_made_before_loads_and_is_reused(tmp_path):
    "Every run store made by main before this change still loads, predicts as it did, and its derived folders are reused, not redone."
    import shutil, numpy as np
    from aml_nb.store import load_runs, stale, manifest
    from aml_nb.infer import Predictor
    from aml_nb.evaluate import read_predictions, prob_columns
    from aml_nb.fusion import FusionPredictor, fuse_run
    from aml_nb.mil import mil_of, mil_run
    store = tmp_path/'store'; shutil.copytree(BEFORE, store)
    runs, problems = load_runs(store/'runs')
    assert [r['id'] for r in runs] == ['convnext_zepto_rms-s0'] and not problems, problems
    run = Path(runs[0]['path'])
    recorded = read_predictions(run/'predictions.csv')
    paths = [str(store/Path(p).relative_to(MADE_AT)) for p in recorded.path]
    pr = Predictor.from_run(run, workers=0)
    np.testing.assert_allclose(pr.predict_paths(paths, tmp_path/'p.csv', progress=False, pixel_um=None)[prob_columns(pr.classes)].to_numpy(float),
                               recorded[prob_columns(pr.classes)].to_numpy(float), atol=1e-4)   # its recorded test predictions, reproduced
    assert stale(run/'fusion', run) is None and mil_of(run) == run/'mil'   # its derived folders still match it
    before = {k: manifest(run/k) for k in ('fusion', 'mil')}
    fuse_run(run, store/'cohort'/'patients.csv', data=store/'cohort', fusions=('attention',), levels=('patient',), epochs=3, subsets=1, progress=False)
    mil_run(run, data=store/'cohort', epochs=3, progress=False)
    assert {k: manifest(run/k) for k in ('fusion', 'mil')} == before   # asked again with the same settings: read back, not redone
    from aml_nb.image_files import load_rgb
    fp = FusionPredictor.from_run(run)
    out = fp.predict([load_rgb(p) for p in paths[:3]], dict(wbc='14.2', NRAS='1'))
    assert out['classes'] == pr.classes and abs(sum(out['fused']) - 1) < 1e-5   # the fused model answers for a new patient


def _registered_names():
    "Every name the package keeps in a registry a page chooses from."
    from aml_nb import charts, evaluate, dashboard, fusion, robustness, explain, mil
    return {*charts.METRICS, *charts.ROBUSTNESS_METRICS, *charts.ABLATION_COLUMNS, *charts.FUSION_CHART_LEVELS, *evaluate.METRIC_LEVELS,
             dashboard.NOT_REVIEWED, *fusion.FUSIONS, *fusion.LEVELS, *robustness.SHIFTS, *explain.CAM_METHODS, *mil.HEADS}


def _literal_lists(code):
    "Each list or tuple literal of two or more strings in `code`, with its line."
    for n in ast.walk(ast.parse(code)):
        if isinstance(n, (ast.List, ast.Tuple)) and len(n.elts) > 1 and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in n.elts):
            yield n.lineno, [e.value for e in n.elts]


def test_no_page_types_a_list_the_package_holds():
    names = _registered_names()
    found = [f"{p.name}:{line}: {vals}" for p in sorted((ROOT/'app').rglob('*.py')) for line, vals in _literal_lists(p.read_text())
             if len(set(vals) & names) > 1]
    assert not found, '\n'.join(found)
    assert list(_literal_lists("m = st.selectbox('metric', ['balanced_accuracy', 'accuracy'])"))   # the check sees such a list
    for p in (ROOT/'app').rglob('*.py'):
        assert "'not reviewed'" not in p.read_text() and 'x == x' not in p.read_text(), p   # the review sentinel and NaN tests live in the package
