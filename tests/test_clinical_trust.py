"""Issue 40: a number a clinician can stand behind. Resumed scores only of the files given (any sequence of inputs,
edits and deletions into one --out equals a fresh run on the last), folders aml_nb really owns, and the command-line
cases of the issue, each run as a user would. (The differential's intervals and words: test_differential.py.)"""
import os, shutil, subprocess, sys, tempfile
from pathlib import Path
import numpy as np, pandas as pd, pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from PIL import Image

BIN = Path(sys.executable).parent
ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')


def aml(*args, **kw):
    return subprocess.run([str(BIN/'aml-nb'), *map(str, args)], env=ENV, capture_output=True, text=True, **kw)


@pytest.fixture(scope='module')
def tiny():
    "An untrained small model behind a Predictor: what matters here is which rows are kept, not what they say."
    import torch
    from aml_nb.models import create_model
    from aml_nb.infer import Predictor
    torch.manual_seed(0)
    return Predictor(create_model('resnet10t', 3).eval(), ['a', 'b', 'c'], 32, workers=0, batch_size=4)


def _cell(seed:int)->Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (24, 24, 3), dtype=np.uint8))


step = st.tuples(st.sets(st.integers(0, 5), min_size=1),   # the files given this time
                 st.sets(st.integers(0, 5)),                # files whose pixels are replaced before it
                 st.sets(st.integers(0, 5)))                # files deleted before it (and not given)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])   # 15 sequences of up to 4 steps: the property, in the 15-minute budget of `make test`
@given(st.lists(step, min_size=1, max_size=4))
def test_resumed_predictions_equal_a_fresh_run_on_the_last_inputs(tiny, steps):
    from aml_nb.evaluate import prob_columns
    with tempfile.TemporaryDirectory() as tmp:
        d, out, seed = Path(tmp)/'cells', Path(tmp)/'out.csv', 100
        d.mkdir()
        for i in range(6): _cell(i).save(d/f'{i}.png')
        for given_, edited, deleted in steps:
            for i in edited: seed += 1; _cell(seed).save(d/f'{i}.png')
            for i in deleted - given_: (d/f'{i}.png').unlink(missing_ok=True)
            for i in given_:
                if not (d/f'{i}.png').exists(): _cell(i).save(d/f'{i}.png')
            paths = [str(d/f'{i}.png') for i in sorted(given_)]
            got = tiny.predict_paths(paths, out, progress=False)
        fresh = tiny.predict_paths(paths, Path(tmp)/'fresh.csv', progress=False)
        assert got.path.tolist() == fresh.path.tolist() == paths
        assert sorted(pd.read_csv(out).path) == sorted(paths)   # the file holds today's inputs alone
        assert np.allclose(got[prob_columns(tiny.classes)].to_numpy(float), fresh[prob_columns(tiny.classes)].to_numpy(float), atol=1e-5)   # scored in other batches: equal to the last printed digit
        assert (got.sha256 == fresh.sha256).all()


def test_one_csv_writer_and_every_text_column_safe(tmp_path):
    "No module or page writes a CSV but through `aml_nb.data.csv_text`; a class folder named like a formula reaches split.csv as text."
    import re
    root = Path(__file__).resolve().parent.parent
    writers = re.compile(r'\.to_csv\(|csv\.writer\(|csv\.DictWriter\(')
    found = [f"{p.relative_to(root)}:{i}" for p in [*sorted((root/'aml_nb').glob('*.py')), *sorted((root/'app').rglob('*.py'))]
             for i, line in enumerate(p.read_text().splitlines(), 1) if writers.search(line)]
    assert found == ['aml_nb/data.py:' + str(next(i for i, l in enumerate((root/'aml_nb'/'data.py').read_text().splitlines(), 1) if '.to_csv(' in l))], found
    from aml_nb.data import read_class_folders, split_table
    from aml_nb.store import record_split
    evil = '=HYPERLINK("http:x")'
    for label in (evil, 'neutrophil'):
        (tmp_path/'cells'/label).mkdir(parents=True)
        for i in range(4): Image.fromarray(np.full((8, 8, 3), i * 40, np.uint8)).save(tmp_path/'cells'/label/f'{i}.png')
    t = split_table(read_class_folders(tmp_path/'cells'), seed=0); t.attrs['root'] = str(tmp_path/'cells')
    f = record_split(tmp_path/'run', t)
    text = f.read_text()
    assert '\n=HYPERLINK' not in text and "\n\"'=HYPERLINK" in text   # a spreadsheet shows it as text
    from aml_nb.data import read_csv
    assert sorted(read_csv(f).path) == sorted(os.path.relpath(p, tmp_path/'cells') for p in t.path)   # and aml_nb reads it as named


def _cells(t, dest:Path, n:int, label:str|None=None)->list[Path]:
    "Copy `n` built-in test cells (of one type, when given) into `dest`."
    dest.mkdir(parents=True, exist_ok=True)
    rows = t[(t.split == 'test') & ((t.label == label) if label else True)].head(n)
    return [Path(shutil.copy(p, dest/Path(p).name)) for p in rows.path]


def test_differential_counts_what_it_says(run_store, real_small, tmp_path):
    "Two folders are their cells; identical copies counted once and said; unreadable files said; a bare model says no gate ran."
    run = run_store/'real'/'resnet18-s0'
    a = _cells(real_small, tmp_path/'A', 4, 'neutrophil'); b = _cells(real_small, tmp_path/'B', 4, 'lymphocyte')
    r = aml('differential', run, tmp_path/'A', tmp_path/'B', '--out', tmp_path/'two.csv', '--workers', '0')
    assert r.returncode == 0, r.stderr
    assert pd.read_csv(tmp_path/'two.csv').cells.iloc[0] == 8 and '8 image(s); ' in r.stdout   # each folder's cells, not one row a folder
    import re
    m = re.search(r'(\d+) of (\d+) cells had no pixel size', r.stdout); assert m is None or int(m[1]) <= int(m[2]) == 8, r.stdout   # cells, not rows of the CSV
    blast = _cells(real_small, tmp_path/'C', 1, 'myeloblast')[0]
    for i in range(6): shutil.copy(blast, tmp_path/'C'/f'copy_{i}.png')
    (tmp_path/'C'/'broken.png').write_bytes(b'\x89PNG not really')
    r = aml('differential', run, tmp_path/'C', '--out', tmp_path/'c.csv', '--workers', '0')
    assert r.returncode == 0, r.stderr
    row = pd.read_csv(tmp_path/'c.csv').iloc[0]
    assert (row.duplicates, row.unreadable, row.cells) == (6, 1, 2), row
    assert '6 of them byte-identical copies of another (each image counted once)' in r.stdout and '1 unreadable, not counted' in r.stdout
    r = aml('differential', run, tmp_path/'C', '--out', tmp_path/'c_all.csv', '--workers', '0', '--count-duplicates')
    assert pd.read_csv(tmp_path/'c_all.csv').iloc[0].cells == 8 and 'each counted, as asked' in r.stdout
    Image.new('RGB', (80, 80), 'white').save(tmp_path/'A'/'blank.png')
    r = aml('differential', run/'model.safetensors', tmp_path/'A', '--out', tmp_path/'bare.csv', '--workers', '0')
    assert r.returncode == 0 and 'no gate ran' in r.stdout and 'flagged by the gate' not in r.stdout, r.stdout + r.stderr
    assert pd.read_csv(tmp_path/'bare.csv').flagged.isna().all()   # no flag count where no gate ran


def test_predict_two_folders_and_a_loose_file_beside_patients(run_store, real_small, tmp_path):
    run = run_store/'real'/'resnet18-s0'
    _cells(real_small, tmp_path/'A', 3); _cells(real_small, tmp_path/'B', 2, 'lymphocyte')
    r = aml('predict', run, tmp_path/'A', tmp_path/'B', '--out', tmp_path/'p.csv', '--workers', '0')
    p = pd.read_csv(tmp_path/'p.csv')
    assert r.returncode == 0 and len(p) == 5 and p.error.isna().all(), r.stderr
    _cells(real_small, tmp_path/'pts'/'P1', 2); shutil.copy(next((tmp_path/'A').glob('*.png')), tmp_path/'pts'/'loose.png')
    r = aml('differential', run, tmp_path/'pts', '--patients', '--out', tmp_path/'d.csv', '--workers', '0')
    assert r.returncode == 2 and 'loose.png) belong to no patient' in r.stderr and not (tmp_path/'d.csv').exists()


def test_a_folder_that_only_looks_like_aml_nb_s_is_never_written(run_store, cohort_dir, real_small, tmp_path):
    "A user's project folder holding a config.json with a 'train' key and their own CSVs: explain and train refuse, every byte kept."
    run = run_store/'real'/'resnet18-s0'
    cell = _cells(real_small, tmp_path/'cells', 1)[0]
    for name in ('myproj', 'myproj2'):
        (tmp_path/name).mkdir()
        (tmp_path/name/'config.json').write_text('{"train": {"my": "settings"}}')
        (tmp_path/name/'scores.csv').write_text('mine\n1\n'); (tmp_path/name/'predictions.csv').write_text('mine\n2\n')
    before = {p: p.read_bytes() for p in tmp_path.glob('myproj*/*')}
    r = aml('explain', run, cell, '--out', tmp_path/'myproj')
    assert r.returncode == 2 and 'holds files aml_nb did not write' in r.stderr, r.stderr
    r = aml('train', '--data', cohort_dir, '--arch', 'resnet18', '--img-size', '32', '--epochs', '1', '--workers', '0', '--out', tmp_path/'myproj2')
    assert r.returncode == 2 and 'holds files aml_nb did not write' in r.stderr, r.stderr
    assert {p: p.read_bytes() for p in tmp_path.glob('myproj*/*')} == before and not list(tmp_path.glob('myproj*/.aml_nb'))


def _page(monkeypatch, runs, page):
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    app = Path(__file__).resolve().parent.parent/'app'
    st.cache_resource.clear(); st.cache_data.clear()
    monkeypatch.setenv('AML_NB_RUNS', str(runs)); monkeypatch.chdir(app); monkeypatch.syspath_prepend(str(app))
    return AppTest.from_file(str(app/page), default_timeout=180).run()


def _zip(members:dict)->bytes:
    import io, zipfile
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for n, d in members.items(): z.writestr(n, d)
    return b.getvalue()


def test_predict_page_shows_names_as_given_saves_reviews_as_uploaded_and_expands_a_zip_once(monkeypatch, run_store, real_small, tmp_path):
    "Names that are Markdown stay text; a reviewed 128 px upload is saved at 128 px; two saves are two folders; the zip is read once."
    import re
    import aml_nb.image_files as files
    from aml_nb.dashboard import shown
    runs = tmp_path/'runs'; shutil.copytree(run_store, runs)
    at = _page(monkeypatch, runs, 'pages/1_Predict.py')
    assert '/real/' in at.selectbox(key='model').value
    cell = Path(real_small[real_small.split == 'test'].path.iloc[0])
    big = Image.open(cell).convert('RGB').resize((128, 128)); import io; b = io.BytesIO(); big.save(b, 'PNG')
    odd = {'![t](http://127.0.0.1:9/t.png).png': b.getvalue(), '[bad](javascript:alert(2)).png': b'not an image', 'blank.png': b''}
    Image.new('RGB', (80, 80), 'white').save(blank := io.BytesIO(), 'PNG'); odd['blank.png'] = blank.getvalue()
    calls = []; real = files.expand_uploads
    monkeypatch.setattr('aml_nb.image_files.expand_uploads', lambda f: calls.append(1) or real(f))
    import importlib, sys
    at.file_uploader(key='upload').set_value([('cells.zip', _zip(odd), 'application/zip')]).run()
    assert not at.exception, at.exception
    shown_text = [e.value for e in [*at.warning, *at.error, *at.markdown, *at.caption, *at.info, *at.subheader]]
    assert not [t for t in shown_text if re.search(r'(?<!\\)\]\(', t)], shown_text   # no name became a link or an image
    assert any(shown('cells.zip/[bad](javascript:alert(2)).png') in t for t in shown_text)   # named as given
    assert any(shown('cells.zip/blank.png') in t for t in shown_text)   # the blank cell, flagged and named
    reviews = [s for s in at.selectbox if s.key and s.key.startswith('review_')]
    for s in reviews: s.set_value('myeloblast')
    at.run(); at.button(key='save_reviews').click().run(); at.button(key='save_reviews').click().run()
    assert not at.exception, at.exception
    saves = sorted((runs/'reviews').iterdir())
    saves = [s for s in saves if s.is_dir()]
    assert len(saves) == 2, saves   # two saves in one second: two folders, neither replaced
    for s in saves:
        sizes = sorted(Image.open(p).size for p in s.rglob('*.png'))
        assert (128, 128) in sizes, sizes   # the upload's own pixels, not the model's 80 px copy
        assert len(read_csv_(s/'reviews.csv')) == len(reviews)
    assert len(calls) <= 1, calls   # reruns (reviews, saves) reuse the expanded upload


def read_csv_(f):
    from aml_nb.data import read_csv
    return read_csv(f)


@pytest.mark.parametrize('record', ['{"pid": 1e30}', None, '[1, 2]', 'not json'])
def test_home_and_compare_never_fail_on_a_progress_file(monkeypatch, run_store, tmp_path, record):
    "A demo progress file is input: an absurd pid, zero expected times, a negative share, a future time, strings, another live process."
    from aml_nb.demo import DEMO_PROGRESS
    runs = tmp_path/'runs'; shutil.copytree(run_store, runs)
    good = dict(steps=['a', 'b'], expected=dict(a=60, b=0), step='b', k=2, started=0, updated=4e9, left_s=-5, fraction=-.5, pid=1)
    (runs/DEMO_PROGRESS).write_text(record if record is not None else __import__('json').dumps(good))
    for page in ('Home.py', 'pages/2_Compare.py'):
        at = _page(monkeypatch, runs, page)
        assert not at.exception, (page, at.exception)
        assert not any('computing step' in i.value for i in at.info)


USER_TEXT = {'names', 'name', 'why', 'e', 'problems', 'stale', 'label', 'said', 'target', 'rp', 'row', 'truth', 'k'}   # hold what a user named
SHOWN_BY_STREAMLIT = {'warning', 'error', 'info', 'success', 'caption', 'markdown', 'subheader', 'write', 'title', 'header'}
SAFE_CALLS = {'shown', 'len', 'int', 'float', 'round', 'sum', 'cam_caption'}   # what they return is shown as written (cam_caption: through shown), or a number


def _pieces(a):
    "The parts of a text argument that become text: f-string substitutions, operands of +, branches of a conditional."
    import ast
    if isinstance(a, ast.JoinedStr): return [p for v in a.values if isinstance(v, ast.FormattedValue) and v.format_spec is None for p in _pieces(v.value)]
    if isinstance(a, ast.BinOp) and isinstance(a.op, ast.Add): return _pieces(a.left) + _pieces(a.right)
    if isinstance(a, ast.IfExp): return _pieces(a.body) + _pieces(a.orelse)
    if isinstance(a, ast.Call) and isinstance(a.func, ast.Attribute) and a.func.attr == 'join': return _pieces(a.args[0]) if a.args else []
    if isinstance(a, ast.Call) and getattr(a.func, 'id', None) == 'map': return [] if getattr(a.args[0], 'id', None) == 'shown' else [a]
    if isinstance(a, (ast.Constant, ast.Compare)) or (isinstance(a, ast.Call) and getattr(a.func, 'id', None) in SAFE_CALLS): return []
    return [a]


def test_every_user_given_name_on_a_page_goes_through_shown():
    "A static check of app/: text that holds a user's names reaches Streamlit's Markdown only through `dashboard.shown`."
    import ast
    root = Path(__file__).resolve().parent.parent/'app'
    bad = []
    for f in sorted(root.rglob('*.py')):
        for node in ast.walk(ast.parse(f.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)): continue
            args = node.args if node.func.attr in SHOWN_BY_STREAMLIT else [k.value for k in node.keywords if k.arg == 'caption'] if node.func.attr == 'image' else []
            for piece in (p for a in args for p in _pieces(a)):
                if raw := sorted({n.id for n in ast.walk(piece) if isinstance(n, ast.Name) and n.id in USER_TEXT}):
                    bad.append(f"{f.relative_to(root)}:{node.lineno} {ast.unparse(piece)}")
    assert not bad, bad
