"""Injected faults: a prediction job killed mid-way, a kill during a checkpoint write, a damaged run, and the
torchrun split/merge of scoring. (Training killed with SIGKILL is in test_train.py; malicious pickles in
nbs/05_models.ipynb; malformed inputs in test_fuzz.py.)
"""
import os, shutil, signal, subprocess, sys, textwrap, time
from pathlib import Path
import numpy as np, pandas as pd, pytest

BIN = Path(sys.executable).parent
ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')


@pytest.fixture(scope='module')
def folder(cohort, tmp_path_factory):
    "240 cell images (the toy cohort's, copied under new names) to score."
    d = tmp_path_factory.mktemp('score')
    paths = cohort.path.tolist()
    for i in range(240): shutil.copy(paths[i % len(paths)], d/f'cell_{i:04d}.png')
    return d


def _predict(run, folder, out, *extra):
    return [str(BIN/'aml-nb'), 'predict', str(run), str(folder), '--out', str(out), '--batch-size', '4', '--workers', '0', *extra]


def _rows(out):
    return max(0, len(Path(out).read_bytes().splitlines()) - 1) if Path(out).exists() else 0


def test_predict_killed_midway_resumes_without_lost_or_repeated_rows(run_store, folder, tmp_path):
    run = run_store/'compare'/'resnet18-s0'
    ref = tmp_path/'ref.csv'
    subprocess.run(_predict(run, folder, ref), check=True, env=ENV, capture_output=True)
    out, kills = tmp_path/'killed.csv', 0
    for _ in range(3):   # kill it three times at different points, then let it finish
        p = subprocess.Popen(_predict(run, folder, out), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        start = _rows(out); t0 = time.time()
        while _rows(out) < start + 20 and p.poll() is None and time.time() - t0 < 120: time.sleep(.05)
        if p.poll() is None: p.send_signal(signal.SIGKILL); p.wait(); kills += 1
    assert kills == 3 and _rows(out) < 240   # it really was interrupted
    subprocess.run(_predict(run, folder, out), check=True, env=ENV, capture_output=True)
    a, b = pd.read_csv(out), pd.read_csv(ref)
    assert len(a) == 240 and not a.path.duplicated().any()   # rows lost = 0, rows repeated = 0
    a = a.set_index('path').loc[b.path]
    assert (a.predicted.to_numpy() == b.predicted.to_numpy()).all()
    np.testing.assert_allclose(a.filter(like='p_').to_numpy(), b.filter(like='p_').to_numpy(), atol=1e-5)


def test_torchrun_splits_the_files_and_merges_them(run_store, folder, tmp_path):
    run = run_store/'compare'/'convnext_atto-s0'
    single, multi = tmp_path/'one.csv', tmp_path/'two.csv'
    subprocess.run(_predict(run, folder, single), check=True, env=ENV, capture_output=True)
    r = subprocess.run([str(BIN/'torchrun'), '--standalone', '--nproc_per_node', '2', '--no-python', *_predict(run, folder, multi)],
                       env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    a, b = pd.read_csv(multi), pd.read_csv(single)
    assert a.path.tolist() == b.path.tolist()   # every file once, in the input order
    np.testing.assert_allclose(a.filter(like='p_').to_numpy(), b.filter(like='p_').to_numpy(), atol=1e-5)
    assert not list(tmp_path.glob('two.rank*'))   # the per-rank parts are merged and removed


def test_kill_during_a_weights_write_keeps_the_previous_file(run_store, tmp_path):
    from aml_nb.models import load_model, file_sha256
    f = tmp_path/'model.safetensors'; shutil.copy(run_store/'compare'/'resnet18-s0'/'model.safetensors', f)
    before = file_sha256(f)
    script = textwrap.dedent(f"""
        import os, signal
        from aml_nb.models import atomic_write
        def write(tmp):
            with open(tmp, 'wb') as h: h.write(b'half a checkpoint'); h.flush(); os.fsync(h.fileno())
            os.kill(os.getpid(), signal.SIGKILL)   # dies mid-write, before the rename
        atomic_write({str(f)!r}, write)""")
    r = subprocess.run([sys.executable, '-c', script], env=ENV)
    assert r.returncode == -signal.SIGKILL
    assert file_sha256(f) == before   # the previous weights are intact...
    load_model(f)                     # ...and load


def test_a_damaged_run_is_reported_not_loaded(run_store, tmp_path):
    from aml_nb.store import load_runs
    store = tmp_path/'store'; shutil.copytree(run_store/'compare', store)
    m = store/'resnet18-s0'/'model.safetensors'; m.write_bytes(m.read_bytes()[:-100])
    (store/'vit_tiny_patch16_224-s0'/'manifest.json').unlink()
    ok, bad = load_runs(store)
    assert [r['id'] for r in ok] == ['convnext_atto-s0']
    why = {Path(b['path']).name: b['problem'] for b in bad}
    assert 'model.safetensors is damaged' in why['resnet18-s0'] and 'unfinished' in why['vit_tiny_patch16_224-s0']
    from aml_nb.fusion import FusionPredictor
    f = store/'convnext_atto-s0'/'fusion'/'encoder.json'; f.write_text(f.read_text().replace('"stats"', '"stat"'))
    with pytest.raises(ValueError, match='encoder.json is damaged'): FusionPredictor(store/'convnext_atto-s0'/'fusion')


def test_an_interrupted_gate_refit_leaves_the_run_as_it_was(run_store, tmp_path, monkeypatch):
    "`refit_gate` stopped while it writes its staged files: the run keeps its sealed gate and predictions; a re-run completes."
    from aml_nb import experiments
    from aml_nb.store import artefact_problem, file_sha256, run_identity
    run = tmp_path/'run'; shutil.copytree(run_store/'compare'/'resnet18-s0', run)
    before = {f: file_sha256(run/f) for f in ('ood.json', 'predictions.csv', 'metrics.json', 'manifest.json')}
    calls, real = [], experiments._rescored
    def stop_on_second(*a, **k):   # the test split is rescored and staged; the user presses Ctrl-C during the validation split
        calls.append(1)
        if len(calls) == 2: raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(experiments, '_rescored', stop_on_second)
    with pytest.raises(KeyboardInterrupt): experiments.refit_gate(run, progress=False)
    assert (run/'.refit'/'predictions.csv').exists()                       # the stage was being written...
    assert {f: file_sha256(run/f) for f in before} == before and artefact_problem(run) is None   # ...the run was not touched
    monkeypatch.setattr(experiments, '_rescored', real)
    ident = run_identity(run)
    flags = experiments.refit_gate(run, progress=False)
    assert artefact_problem(run) is None and run_identity(run) == ident and not (run/'.refit').exists()
    assert list(flags.columns) == ['before', 'after'] and len(flags) == 5
