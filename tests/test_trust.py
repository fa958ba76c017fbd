"""Results you can trust, tried as a user would: interrupted and repeated commands, two processes at once, files the
user owns, odd but legal names, and operating-system errors. Each test reproduces a way the results or the user's
files could be silently wrong or damaged; the counts are recorded in bench/BENCHMARKS.md ("Reliability").
"""
import json, os, resource, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest
from conftest import worker_port

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
    for i in range(1000): os.link(cells[i % len(cells)], many/f'c{i:05d}.png')   # a job long enough to be caught running (one cell a batch)
    first = subprocess.Popen([str(BIN/'aml-nb'), 'predict', run, many, '--out', out, '--batch-size', '1', '--workers', '0'], env=ENV,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert _wait_rows(out, 2, first), 'the first job did not start writing'
    second = aml('predict', run, many, '--out', out, '--workers', '0')
    running = first.poll() is None
    assert running and second.returncode == 2 and f'in use by pid {first.pid}' in second.stderr, (running, second.stderr)
    assert first.wait(600) == 0
    df = pd.read_csv(out)
    assert len(df) == 1000 and not df.path.duplicated().any() and df.model.nunique() == 1


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
    config = json.loads((run/'config.json').read_text())
    hist = pd.read_csv(run/'history.csv')
    assert config['split']['seed'] == 3 and hist.epoch.tolist() == [1, 2]
    split = pd.read_csv(run/'split.csv')
    from aml_nb.data import read_cells, split_table, split_hash
    assert split_hash(split_table(read_cells(cohort_dir), seed=3)) == config['split_hash']


def test_fuse_after_the_image_model_changed(cohort_dir, tmp_path):
    "A fusion folder is recomputed when its run was trained again, never paired with the new model."
    run = tmp_path/'run'
    assert aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--out', run, *TINY).returncode == 0
    g = Path(cohort_dir)/'patients.csv'
    assert aml('fuse', run, '--genomics', g, '--epochs', 2).returncode == 0
    assert aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--out', run, '--force', '--seed', '1', *TINY).returncode == 0
    from aml_nb.fusion import find_fusions, FusionPredictor
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
    from aml_nb.server import app_server
    with app_server(run_store, worker_port(8700)) as (url, p):
        children = psutil.Process(p.pid).children(recursive=True)
        assert children, 'no server process'
        p.send_signal(signal.SIGTERM); p.wait(30)
        gone, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, alive


# --- Identity of content, files aml_nb owns, one opener (issue 28): each case below was reproduced on main before the change.

def test_one_image_opener_and_ghostscript_never_reached(tmp_path):
    "Case 1: a PostScript file saved as a mask is refused by the one opener; no other `Image.open` exists in the package or the app."
    import re
    from PIL import Image
    from aml_nb.dashboard import cell_mask
    from aml_nb.explain import localisation_summary
    root = Path(__file__).resolve().parent.parent
    calls = [(f.name, i) for d in ('aml_nb', 'app') for f in (root/d).rglob('*.py') for i, l in enumerate(f.read_text().splitlines())
             if re.search(r'Image\.open\(', l)]
    assert [c[0] for c in calls] == ['image_files.py'], calls   # the one, inside `_opened` with its allow-list
    (tmp_path/'masks').mkdir(); Image.new('RGB', (40, 40), 'white').save(tmp_path/'cell.png')
    (tmp_path/'masks'/'cell.png').write_bytes(b'%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n(pwned) print showpage\n')
    with pytest.raises(ValueError, match='masks/cell.png: not an image'): cell_mask(tmp_path/'cell.png', Image.new('RGB', (40, 40)))
    table = pd.DataFrame(dict(path=[str(tmp_path/'cell.png')], mask_path=[str(tmp_path/'masks'/'cell.png')]))
    with pytest.raises(ValueError, match='not an image'): localisation_summary(None, table, 32, n=1)


def test_changed_images_under_the_same_paths_train_again(cohort_dir, tmp_path):
    "Case 2: same paths, other pixels: the run is trained again, and says why."
    from PIL import Image
    data = tmp_path/'data'; shutil.copytree(cohort_dir, data)
    args = ['train', '--data', data, '--arch', 'resnet18', '--out', tmp_path/'run', *TINY]
    assert aml(*args).returncode == 0
    again = aml(*args); assert again.returncode == 0 and 'training again' not in again.stdout   # nothing changed: reused
    cell = sorted(data.rglob('cell_0000.png'))[0]; a = np.asarray(Image.open(cell)).copy(); a[:8] = 0; Image.fromarray(a).save(cell)
    r = aml(*args)
    assert r.returncode == 0 and 'training again (the images changed since' in r.stdout, r.stdout


def test_mil_keys_its_result_by_the_genomic_table(run_store, cohort_dir, tmp_path, capsys):
    "Case 3: MIL with table A, then table B: B is computed, never A's result returned."
    from aml_nb.mil import mil_run
    from aml_nb.store import read_json
    a = Path(cohort_dir)/'patients.csv'; b = tmp_path/'b.csv'
    g = pd.read_csv(a, dtype=str, keep_default_na=False); g['FLT3_ITD'] = np.where(g.FLT3_ITD == '1', '0', '1'); g.to_csv(b, index=False)
    run, out = run_store/'compare'/'resnet18-s0', tmp_path/'mil'
    mil_run(run, a, out=out, epochs=2, progress=False); first = read_json(out/'mil.json')['settings']['genomics']
    mil_run(run, b, out=out, epochs=2, progress=True)
    assert 'computing again (other settings)' in capsys.readouterr().out
    assert read_json(out/'mil.json')['settings']['genomics'] not in (first, None, True)


def test_a_comparison_with_a_retrained_run_is_not_shown_stale(cohort, tmp_path, monkeypatch):
    "Case 4: retrain a member of a comparison: report refuses it, the Compare page says why instead of old numbers; same for fusion."
    from aml_nb.experiments import compare, run_experiment
    from aml_nb.recipe import TrainConfig
    from aml_nb.report import write_report
    from aml_nb.fusion import fuse_run
    tiny = dict(img_size=32, epochs=1, batch_size=16, workers=0)
    compare(cohort, tmp_path/'cmp', 'quick', archs=['resnet18'], progress=False, **tiny)
    write_report(tmp_path/'cmp', tmp_path/'ok')   # fine while it matches its runs
    fuse_run(tmp_path/'cmp'/'resnet18-s0', cohort.attrs['root'] + '/patients.csv', epochs=2, subsets=2, progress=False)
    run_experiment(cohort, TrainConfig('resnet18', seed=7, **tiny), tmp_path/'cmp'/'resnet18-s0', force=True, progress=False)
    with pytest.raises(ValueError, match='its run resnet18-s0 changed since'): write_report(tmp_path/'cmp', tmp_path/'stale')
    with pytest.raises(ValueError, match='changed since'): write_report(tmp_path/'cmp'/'resnet18-s0'/'fusion', tmp_path/'stale_fusion')
    assert not (tmp_path/'stale.md').exists() and not (tmp_path/'stale_fusion.md').exists()
    monkeypatch.setenv('AML_NB_RUNS', str(tmp_path))
    from aml_nb.dashboard import store_tables
    [(_, _, name, why)] = store_tables('comparison')
    assert name == 'cmp' and 'changed since' in why


WRITERS = {   # command -> its arguments, given RUN, DATA, an image, and the target folder or stem D
    'train': lambda run, data, img, d: ['train', '--data', data, '--out', d, *TINY],
    'compare': lambda run, data, img, d: ['compare', '--data', data, '--archs', 'resnet18', '--out', d, *TINY],
    'ablate': lambda run, data, img, d: ['ablate', '--data', data, '--arch', 'resnet18', '--variants', 'no_mixup', '--out', d, *TINY],
    'tune': lambda run, data, img, d: ['tune', '--data', data, '--arch', 'resnet18', '--trials', '1', '--out', d, *TINY],
    'explain': lambda run, data, img, d: ['explain', run, img, '--out', d],
    'fuse': lambda run, data, img, d: ['fuse', run, '--genomics', Path(data)/'patients.csv', '--epochs', '2', '--out', d],
    'mil': lambda run, data, img, d: ['mil', run, '--epochs', '2', '--out', d],
    'report': lambda run, data, img, d: ['report', run, '--out', d/'notes'],
    'demo-data': lambda run, data, img, d: ['demo-data', d, '--patients', '10', '--cells-per-patient', '2'],
    'demo-data --real': lambda run, data, img, d: ['demo-data', '--real', d],
    'demo': lambda run, data, img, d: ['demo', '--runs', d, '--no-app'],
    'demo --real': lambda run, data, img, d: ['demo', '--real', d, '--runs', d.parent/'demo-runs', '--no-app'],
    'reference --rebuild': lambda run, data, img, d: ['reference', '--rebuild', '--out', d],
}

@pytest.mark.parametrize('command', list(WRITERS))
def test_every_writing_command_leaves_a_folder_of_user_files_alone(command, run_store, cohort_dir, folder, tmp_path):
    "Case 5: pointed at a folder of the user's files, every command that writes refuses in one line and changes nothing."
    d = tmp_path/'mine'; d.mkdir()
    files = {'notes.md': b'my notes', 'notes.html': b'<p>mine</p>', 'scores.csv': b'a,b\n1,2\n', 'manifest.json': b'{"name": "my app"}',
             'config.json': b'{"theme": "dark"}'}
    for n, b in files.items(): (d/n).write_bytes(b)
    r = aml(*WRITERS[command](run_store/'compare'/'resnet18-s0', cohort_dir, Path(folder)/'cell_0000.png', d))
    assert r.returncode == 2 and str(d) in r.stderr and _one_error_line(r.stderr), r.stderr
    assert {p.name: p.read_bytes() for p in d.iterdir()} == files


def test_predict_out_without_a_suffix_writes_that_file(run_store, folder, tmp_path):
    "Case 5: `predict --out newname` writes the CSV `newname`, not a folder it then fails on."
    r = aml('predict', run_store/'compare'/'resnet18-s0', folder, '--out', tmp_path/'newname', '--workers', '0')
    assert r.returncode == 0 and (tmp_path/'newname').is_file() and len(pd.read_csv(tmp_path/'newname')) == 90, r.stderr


def test_two_images_with_one_name_get_two_overlays(run_store, folder, tmp_path):
    "Case 6: `explain a/x.png b/x.png` writes two overlays, each named in scores.csv."
    from PIL import Image
    for sub, i in (('a', 0), ('b', 1)): (tmp_path/sub).mkdir(); shutil.copy(Path(folder)/f'cell_000{i}.png', tmp_path/sub/'x.png')
    r = aml('explain', run_store/'compare'/'resnet18-s0', tmp_path/'a'/'x.png', tmp_path/'b'/'x.png', '--out', tmp_path/'cams')
    assert r.returncode == 0, r.stderr
    s = pd.read_csv(tmp_path/'cams'/'scores.csv'); pngs = sorted(p.name for p in (tmp_path/'cams').glob('*.png'))
    assert len(s) == 2 and s.overlay.nunique() == 2 and sorted(s.overlay) == pngs
    assert not np.array_equal(*[np.asarray(Image.open(tmp_path/'cams'/n)) for n in pngs])


def test_odd_uploads_are_refused_or_bounded(tmp_path):
    "Case 7: a 600x1 PNG is refused in words (it crashed the Predict page); a 6300x6300 PNG is held at a bounded size."
    import io
    from PIL import Image
    from aml_nb.image_files import read_upload, MAX_SIDE
    buf = io.BytesIO(); Image.new('RGB', (600, 1)).save(buf, 'PNG')
    with pytest.raises(ValueError, match=r'line.png: not a cell image \(600x1 px'): read_upload('line.png', buf.getvalue())
    buf = io.BytesIO(); Image.new('RGB', (6300, 6300), (200, 150, 180)).save(buf, 'PNG'); assert len(buf.getvalue()) < 2**20
    im = read_upload('huge.png', buf.getvalue())
    assert max(im.size) == MAX_SIDE   # 3 MB held, not 119 MB; Grad-CAM then works at this size


def test_names_a_user_controls_stay_text_in_reports_and_spreadsheets(tmp_path):
    "Case 8: a class folder named as a Markdown link is no link in the HTML report; one named as a formula is text in predictions.csv."
    from PIL import Image
    from aml_nb.data import read_cells, split_table
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    from aml_nb.report import write_report
    link, formula = '[click](javascript:alert(1))', '=HYPERLINK("evil.example","x")'   # a folder name: no slash
    rng = np.random.default_rng(0)
    for k, c in enumerate((link, formula, 'plain')):
        (tmp_path/'data'/c).mkdir(parents=True)
        for i in range(14): Image.fromarray((rng.random((32, 32, 3)) * 80 + 60 * k).astype(np.uint8)).save(tmp_path/'data'/c/f'{i}.png')
    t = split_table(read_cells(tmp_path/'data'), seed=0)
    run_experiment(t, TrainConfig('resnet18', img_size=32, epochs=1, batch_size=8, workers=0), tmp_path/'run', progress=False)
    md, html = write_report(tmp_path/'run', tmp_path/'report')
    page = html.read_text()
    assert 'javascript:' in page and 'href="javascript' not in page and "href='javascript" not in page
    raw = (tmp_path/'run'/'predictions.csv').read_text()
    assert '"=HYPERLINK' not in raw and ',=HYPERLINK' not in raw and "'=HYPERLINK" in raw
    from aml_nb.evaluate import read_predictions
    assert formula in set(read_predictions(tmp_path/'run'/'predictions.csv').label)   # read back as named


def test_one_folder_named_two_ways_resumes_as_one(run_store, folder, tmp_path):
    "Case 9: resumed once by a relative and once by an absolute path, a folder's cells are scored once each."
    run, out = run_store/'compare'/'resnet18-s0', tmp_path/'p.csv'
    rel = os.path.relpath(folder, tmp_path)
    assert aml('predict', run, rel, '--out', out, '--workers', '0', cwd=tmp_path).returncode == 0
    assert aml('predict', run, folder, '--out', out, '--workers', '0').returncode == 0
    df = pd.read_csv(out); assert len(df) == 90 and not df.path.duplicated().any()


def test_a_folder_under_masks_is_scored_and_an_empty_one_is_an_error(run_store, folder, tmp_path):
    "Case 9: a path with a `masks` component scores its cells; a folder with no images exits 2 in words, not 0 rows."
    d = tmp_path/'masks'/'cells'; shutil.copytree(folder, d)
    r = aml('predict', run_store/'compare'/'resnet18-s0', d, '--out', tmp_path/'p.csv', '--workers', '0')
    assert r.returncode == 0 and len(pd.read_csv(tmp_path/'p.csv')) == 90, r.stderr
    (tmp_path/'empty').mkdir()
    r = aml('predict', run_store/'compare'/'resnet18-s0', tmp_path/'empty', '--out', tmp_path/'q.csv', '--workers', '0')
    assert r.returncode == 2 and 'no images' in r.stderr and _one_error_line(r.stderr), r.stderr


def test_a_killed_app_leaves_no_server(run_store):
    "Case 9: SIGKILL of `aml-nb app` (no chance to clean up) still stops its Streamlit server."
    import psutil
    from aml_nb.server import app_server
    with app_server(run_store, worker_port(8710)) as (url, p):
        children = psutil.Process(p.pid).children(recursive=True)
        assert children, 'no server process'
        p.kill(); p.wait(30)
        gone, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, alive


def test_an_empty_or_damaged_study_is_refused_in_one_line(cohort_dir, tmp_path):
    "Case 9: an empty study.db would silently start a new study, a damaged one ended in a long traceback."
    for name, data in (('empty', b''), ('damaged', b'this is not a database' * 50)):
        d = tmp_path/name; d.mkdir(); (d/'study.db').write_bytes(data); (d/'.aml_nb').write_text('')
        r = aml('tune', '--data', cohort_dir, '--arch', 'resnet18', '--trials', '1', '--out', d, *TINY)
        assert r.returncode == 2 and f"{d/'study.db'}: {name}" in r.stderr and _one_error_line(r.stderr), r.stderr
        assert (d/'study.db').read_bytes() == data


def test_refit_gate_completes_a_refit_stopped_between_unseal_and_seal(run_store, tmp_path, monkeypatch):
    "Case 9: a refit killed after it unsealed the run is completed by the next `refit-gate`, and the run is sealed again."
    import aml_nb.experiments as ex
    from aml_nb.store import artefact_problem
    run = tmp_path/'run'; shutil.copytree(run_store/'compare'/'resnet18-s0', run)
    real_seal = ex.seal
    def killed(*a, **k): raise KeyboardInterrupt   # the process stops at the worst moment
    monkeypatch.setattr(ex, 'seal', killed)
    with pytest.raises(KeyboardInterrupt): ex.refit_gate(run, progress=False)
    assert artefact_problem(run) == 'unfinished (no manifest.json)'
    monkeypatch.setattr(ex, 'seal', real_seal)
    ex.refit_gate(run, progress=False)
    assert artefact_problem(run) is None and not (run/'.refit').exists()


def test_a_gate_says_what_it_catches(run_store, folder):
    "Case 10: every run measures its gate on images it must flag; `predict` says what it catches, and calls a weak gate weak."
    from aml_nb.store import read_json
    from aml_nb.gate import gate_power_words
    for run, other in ((run_store/'compare'/'resnet18-s0', 'real cells'), (run_store/'real'/'resnet18-s0', 'drawn cells')):
        p = read_json(run/'ood.json')['power']
        assert set(p['caught']) == {'blank images', 'noise', 'inverted cells', other} and 0 <= p['flagged_own'] <= 1
        assert p['weak'] == (min(p['caught'].values()) < p['floor'])
        if p.get('fallback'):   # a weak gate tried what fewer cells can estimate, and kept it only for catching more
            assert min(p['caught'].values()) > min(p['caught_without_fallback'].values()) and p['fallback'] in gate_power_words(dict(power=p))
        r = aml('predict', run, folder, '--out', Path(folder).parent/f'{run.parent.name}.csv', '--workers', '0')
        assert r.returncode == 0 and 'The gate flags' in r.stdout and ('WEAK GATE' in r.stdout) == p['weak'], r.stdout
