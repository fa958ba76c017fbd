"""Results you can trust, tried as a user would: interrupted and repeated commands, two processes at once, files the
user owns, odd but legal names, and operating-system errors. Each test reproduces a way the results or the user's
files could be silently wrong or damaged; the counts are recorded in bench/BENCHMARKS.md ("Reliability").
"""
import json, os, resource, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest

BIN = Path(sys.executable).parent
ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
TINY = ['--img-size', '32', '--epochs', '2', '--batch-size', '8', '--workers', '0']


def aml(*args, **kw):
    "Run `aml-nb args` as a user does; the CompletedProcess."
    return subprocess.run([str(BIN/'aml-nb'), *map(str, args)], env=ENV, capture_output=True, text=True, **kw)


@pytest.fixture(scope='module')
def folder(cohort, tmp_path_factory):
    "The toy cohort's cell images (90), to score."
    d = tmp_path_factory.mktemp('score')
    for i, p in enumerate(cohort.path.tolist()): shutil.copy(p, d/f'cell_{i:04d}.png')
    return d


def _wait_rows(out, n, proc, limit=120):
    t0 = time.time()
    while time.time() - t0 < limit and proc.poll() is None:
        if out.exists() and len(out.read_bytes().splitlines()) > n: return True
        time.sleep(.05)
    return False


def test_two_predictions_into_one_file_at_once(run_store, folder, tmp_path):
    "The second writer is refused with the first one's pid; the file ends with every row once."
    out, run, many = tmp_path/'p.csv', run_store/'compare'/'resnet18-s0', tmp_path/'many'
    many.mkdir()
    cells = sorted(folder.iterdir())
    for i in range(3000): os.link(cells[i % len(cells)], many/f'c{i:05d}.png')   # a job long enough to be caught running
    first = subprocess.Popen([str(BIN/'aml-nb'), 'predict', run, many, '--out', out, '--batch-size', '1', '--workers', '0'], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_rows(out, 2, first), 'the first job did not start writing'
    second = aml('predict', run, many, '--out', out, '--workers', '0')
    running = first.poll() is None
    assert running and second.returncode == 2 and f'in use by pid {first.pid}' in second.stderr, (running, second.stderr)
    assert first.wait(600) == 0
    df = pd.read_csv(out)
    assert len(df) == 3000 and not df.path.duplicated().any() and df.model.nunique() == 1


def test_two_trainings_into_one_run_folder_at_once(cohort_dir, tmp_path):
    "A second `train` into a folder being trained is refused, names the process, and does not wedge the folder."
    run = tmp_path/'run'
    args = ['train', '--data', cohort_dir, '--arch', 'convnext_atto', '--out', run, *TINY, '--epochs', 40]   # long enough to be caught running
    first = subprocess.Popen([str(BIN/'aml-nb'), *map(str, args)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (run/'checkpoint'/'checkpoint.json').exists() and time.time() - t0 < 120: time.sleep(.05)
    second = aml(*args)
    running = first.poll() is None
    assert running and second.returncode == 2 and f'in use by pid {first.pid}' in second.stderr, (running, second.stderr)
    first.send_signal(signal.SIGKILL); first.wait()   # killed while holding the folder...
    third = aml(*args)                                 # ...which the next run takes over and finishes
    assert third.returncode == 0, third.stderr
    assert (run/'manifest.json').exists()


def test_an_interrupted_scoring_never_mixes_into_a_retrained_run(cohort_dir, tmp_path, folder):
    "Leftover partial predictions of a run are discarded when the run is trained again with another model."
    run = tmp_path/'run'
    assert aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--out', run, *TINY).returncode == 0
    test = pd.read_csv(run/'predictions.csv').path.tolist()
    partial = run/'predictions.partial.csv'   # what a kill during scoring leaves, as another model (the old one) wrote it
    r = aml('predict', run, *test[:5], '--out', partial, '--workers', '0'); assert r.returncode == 0, r.stderr
    r = aml('train', '--data', cohort_dir, '--arch', 'convnext_atto', '--out', run, '--force', *TINY)
    assert r.returncode == 0, r.stderr
    assert 'discarding' in r.stdout
    p = pd.read_csv(run/'predictions.csv')
    assert len(p) == len(test) and not p.path.duplicated().any()
    m = json.loads((run/'metrics.json').read_text())
    assert m['cell']['n'] == len(test) and m['train']['arch'] == 'convnext_atto'


def test_train_again_with_another_split_seed_trains_afresh(cohort_dir, tmp_path):
    "An unfinished run's checkpoint is not continued under another split; config.json then tells the truth."
    run = tmp_path/'run'
    args = ['train', '--data', cohort_dir, '--arch', 'convnext_atto', '--out', run, '--keep-checkpoint', *TINY]
    assert aml(*args).returncode == 0
    (run/'manifest.json').unlink()   # as if it had been interrupted after its last epoch
    r = aml(*args, '--split-seed', '3')
    assert r.returncode == 0, r.stderr
    assert 'discarding the checkpoint' in r.stdout
    conf = json.loads((run/'config.json').read_text())
    hist = pd.read_csv(run/'history.csv')
    assert conf['split']['seed'] == 3 and hist.epoch.tolist() == [1, 2]
    split = pd.read_csv(run/'split.csv')
    from aml_nb.data import read_cells, split_table, split_hash
    assert split_hash(split_table(read_cells(cohort_dir), seed=3)) == conf['split_hash']


def test_fuse_after_the_image_model_changed(cohort_dir, tmp_path):
    "A fusion folder is recomputed when its run was trained again, never paired with the new model."
    run = tmp_path/'run'
    assert aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--out', run, *TINY).returncode == 0
    g = Path(cohort_dir)/'patients.csv'
    assert aml('fuse', run, '--genomics', g, '--epochs', 2).returncode == 0
    assert aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--out', run, '--force', '--seed', '1', *TINY).returncode == 0
    from aml_nb.multimodal import find_fusions, FusionPredictor
    assert find_fusions(tmp_path) == []   # the dashboard no longer offers the stale fusion
    with pytest.raises(ValueError, match='changed since'): FusionPredictor(run/'fusion')
    r = aml('fuse', run, '--genomics', g, '--epochs', 2)
    assert r.returncode == 0 and 'computing again' in r.stdout
    assert find_fusions(tmp_path) == [run/'fusion']


def test_a_moved_cohort_keeps_its_cell_types_and_its_runs(cohort_dir, tmp_path):
    "Paths aml_nb writes inside a data folder are relative to it: moved, read from elsewhere, nothing is lost."
    from aml_nb.synth import read_cohort
    moved = tmp_path/'elsewhere'/'cohort'; shutil.copytree(cohort_dir, moved)
    here = os.getcwd()
    try:
        os.chdir(tmp_path); t = read_cohort('elsewhere/cohort')   # a relative path, from another working directory
    finally: os.chdir(here)
    assert t.cell_type.notna().all()


def test_the_user_s_files_are_never_touched(run_store, folder, tmp_path):
    "predict --out refuses anything that is not its own predictions of the same model, before writing a byte."
    run = run_store/'compare'/'resnet18-s0'
    ours = tmp_path/'ours.csv'; assert aml('predict', run, folder, '--out', ours, '--workers', '0').returncode == 0
    cases = {'image.csv': Path(folder, 'cell_0000.png').read_bytes(), 'table.csv': b'patient_id,note\nP1,"a, b"\n',
             'other_model.csv': ours.read_bytes(), 'empty.csv': b''}
    other_run = run_store/'compare'/'convnext_atto-s0'
    for name, data in cases.items():
        f = tmp_path/name; f.write_bytes(data)
        r = aml('predict', other_run if name == 'other_model.csv' else run, folder, '--out', f, '--workers', '0')
        assert r.returncode == 2 and f'{f}: ' in r.stderr and 'Traceback' not in r.stderr, (name, r.stderr)
        assert f.read_bytes() == data, name
    d = tmp_path/'a_folder'; d.mkdir()
    r = aml('predict', run, folder, '--out', d, '--workers', '0')
    assert r.returncode == 2 and 'is a folder' in r.stderr


def _limited_files(limit):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN); resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return pre


def _one_error_line(stderr:str)->bool:
    "The command said what went wrong in one line (progress bars aside), without a traceback."
    return 'Traceback' not in stderr and sum('error:' in l for l in stderr.splitlines()) == 1

def test_operating_system_errors_are_one_line_and_keep_earlier_results(run_store, folder, cohort_dir, tmp_path):
    "A read-only place, a full disk (a file-size limit) and a file where a folder should be: one line naming the path."
    run = run_store/'compare'/'resnet18-s0'
    r = aml('predict', run, folder, '--out', '/proc/aml_nb_predictions.csv', '--workers', '0')
    assert r.returncode == 2 and '/proc/aml_nb_predictions.csv' in r.stderr and _one_error_line(r.stderr), r.stderr
    out = tmp_path/'p.csv'
    assert aml('predict', run, *sorted(map(str, folder.iterdir()))[:20], '--out', out, '--workers', '0').returncode == 0
    before = out.read_bytes()
    r = subprocess.run([str(BIN/'aml-nb'), 'predict', str(run), str(folder), '--out', str(out), '--workers', '0'], env=ENV,
                       capture_output=True, text=True, preexec_fn=_limited_files(len(before) + 3000))
    assert r.returncode == 2 and f'{out}: File too large' in r.stderr and _one_error_line(r.stderr), r.stderr
    assert out.read_bytes().startswith(before)   # earlier rows intact; a re-run without the limit finishes the job
    assert aml('predict', run, folder, '--out', out, '--workers', '0').returncode == 0 and len(pd.read_csv(out)) == len(list(folder.iterdir()))
    (tmp_path/'file').write_text('x')
    r = aml('train', '--data', cohort_dir, '--out', tmp_path/'file'/'run', *TINY)
    assert r.returncode == 2 and str(tmp_path/'file') in r.stderr and _one_error_line(r.stderr), r.stderr


def test_stopping_the_app_stops_its_server(run_store, tmp_path):
    "SIGTERM to `aml-nb app` leaves no Streamlit server behind holding the port and its memory."
    import psutil
    from aml_nb.cli import app_server
    with app_server(run_store, 8700) as (url, p):
        children = psutil.Process(p.pid).children(recursive=True)
        assert children, 'no server process'
        p.send_signal(signal.SIGTERM); p.wait(30)
        gone, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, alive
