"""The digital differential (issue 29): counts and intervals by hand, the corrected shares' coverage, reviews that change
the differential and become training data, `aml-nb differential` per patient, and the Predict page for a cell-type model."""
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from hypothesis import given, settings, strategies as st, HealthCheck
from aml_nb.differential import differential, share_interval, adjusted_shares, _boot_adjusted, blast_words, cells_to_decide

BIN = Path(sys.executable).parent
ENV = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')


def aml(*args, **kw):
    return subprocess.run([str(BIN/'aml-nb'), *map(str, args)], env=ENV, capture_output=True, text=True, **kw)


def test_counts_and_intervals_by_hand():
    "8 white cells (2 blasts), 1 platelet, 1 flagged: shares of 9 counted cells, the blast share of 8 white ones, intervals holding Wilson's and the exact one."
    classes = ['lymphocyte', 'myeloblast', 'neutrophil', 'platelet']
    p = pd.DataFrame(dict(path=list('abcdefghij'), predicted=['myeloblast'] * 2 + ['neutrophil'] * 4 + ['lymphocyte'] * 2 + ['platelet', 'neutrophil'],
                          flagged=[0] * 9 + [1]))
    d = differential(p, classes)
    assert d['table']['count'].tolist() == [2, 2, 4, 1] and (d['counted'], d['flagged'], d['white']) == (9, 1, 8) and d['flagged_paths'] == ['j']
    assert d['blast']['share'] == 2 / 8
    # Wilson by hand: (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), p = 1/4, n = 8
    z, n, s = 1.959963984540054, 8, .25
    c, h = (s + z * z / (2 * n)) / (1 + z * z / n), z * np.sqrt(s * (1 - s) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    from scipy.stats import beta
    exact = beta.ppf(.025, 2, 7), beta.ppf(.975, 3, 6)   # Clopper-Pearson by hand, 2 of 8
    assert np.allclose((d['blast']['lo'], d['blast']['hi']), (min(c - h, exact[0]), max(c + h, exact[1])))
    assert np.allclose(d['table'].share_lo[2], share_interval(4, 9)[0])


def test_corrected_shares_cover_the_truth_in_95_of_100_draws():
    "A simulated model that reads 30% of blasts as lymphocytes: the raw count is biased, the corrected share's interval covers the truth."
    C = np.array([[95, 5, 0], [30, 68, 2], [0, 3, 97]])   # rows: true lymphocyte, myeloblast, neutrophil
    truth = np.array([.3, .2, .5]); rng = np.random.default_rng(1); hits, raw = [], []
    for _ in range(100):
        test = np.stack([rng.multinomial(80, row / row.sum()) for row in C])
        true = rng.choice(3, 200, p=truth)
        pred = np.bincount([rng.choice(3, p=C[t] / C[t].sum()) for t in true], minlength=3)
        b = _boot_adjusted(pred, test, 300, int(rng.integers(1e9)))
        lo, hi = np.quantile(b, [.025, .975], axis=0)
        hits.append(lo[1] <= truth[1] <= hi[1]); raw.append(pred[1] / 200)
    assert sum(hits) >= 90, sum(hits)          # 95 intended
    assert np.mean(raw) < .18                  # the raw count is biased low (expected 0.166), as recall of blasts is 0.68


def test_blast_words_place_the_interval_beside_the_thresholds():
    low = dict(count=2, white=200, share=.01, lo=share_interval(2, 200)[0], hi=share_interval(2, 200)[1])
    assert 'lies below 20%' in blast_words(low) and 'lies below 10%' in blast_words(low)
    mid = dict(count=40, white=200, share=.2, lo=share_interval(40, 200)[0], hi=share_interval(40, 200)[1])
    assert 'Too few cells to place it against 20%' in blast_words(mid) and 'not a diagnosis' in blast_words(mid)
    assert cells_to_decide(.25, .2) == 275 and share_interval(round(.25 * 275), 275)[0] > .2


CLASSES = ['erythroblast', 'lymphocyte', 'myeloblast', 'neutrophil']


@st.composite
def counts_and_confusion(draw):
    "Predicted counts of any size (zeros and one-type counts included) and a test confusion matrix with at least one cell per true type."
    counts = draw(st.lists(st.integers(0, 40), min_size=4, max_size=4).filter(lambda c: sum(c) > 0))   # erythroblasts are not white: few white cells happen
    rows = [draw(st.lists(st.integers(0, 30), min_size=4, max_size=4).filter(lambda r: sum(r) > 0)) for _ in CLASSES]
    return counts, np.array(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(counts_and_confusion())
def test_corrected_intervals_are_never_narrower_than_counting_and_words_never_claim_a_side_they_cross(cc):
    "For any counts and confusion: each corrected interval holds its point and is at least as wide as the raw interval; the words follow the interval."
    counts, confusion = cc
    preds = pd.DataFrame(dict(path=[f'c{i}' for i in range(sum(counts))], predicted=[c for c, k in zip(CLASSES, counts) for _ in range(k)]))
    d = differential(preds, CLASSES, confusion, n_boot=100)
    t = d['table']
    assert np.isfinite(t[['corrected', 'corrected_lo', 'corrected_hi']].to_numpy()).all()
    assert (t.corrected_lo <= t.corrected + 1e-9).all() and (t.corrected <= t.corrected_hi + 1e-9).all()
    assert ((t.corrected_hi - t.corrected_lo) >= (t.share_hi - t.share_lo) - 1e-9).all()
    b = d.get('blast')
    if not b: return
    assert np.isfinite([b['corrected'], b['corrected_lo'], b['corrected_hi']]).all()
    assert b['corrected_lo'] - 1e-9 <= b['corrected'] <= b['corrected_hi'] + 1e-9 and b['corrected_hi'] - b['corrected_lo'] >= b['hi'] - b['lo'] - 1e-9
    w = blast_words(b)
    for t, pc in ((.2, '20%'), (.1, '10%')):
        if b['corrected_lo'] <= t <= b['corrected_hi']:   # the interval crosses the threshold: no side claimed, too few cells said
            assert f'lies below {pc}' not in w and f'lies above {pc}' not in w and f'Too few cells to place it against {pc}' in w
        else: assert f"lies {'below' if b['corrected_hi'] < t else 'above'} {pc}" in w
    if b['white'] < 100: assert f"rests on {b['white']} white cell(s)" in w


def test_reviews_change_the_differential_and_train(real_small, tmp_path):
    "Re-labelled cells count at once; saved, they are class folders that `aml-nb train --data` trains on."
    from PIL import Image
    from aml_nb.dashboard import reviewed_predictions, save_reviews
    t = real_small[real_small.split == 'test']
    cells = pd.concat([g.head(6) for _, g in t.groupby('label')])
    classes = sorted(t.label.unique())
    probs = np.eye(len(classes))[[classes.index('neutrophil')] * len(cells)]   # a model that calls everything a neutrophil
    res = dict(probs=probs, flagged=np.zeros(len(cells), bool), classes=classes)
    names = [Path(p).name for p in cells.path]
    before = differential(reviewed_predictions(res, names, {}), classes)
    reviews = {i: lab for i, lab in enumerate(cells.label)}   # the reviewer gives every cell its true type
    after = differential(reviewed_predictions(res, names, reviews), classes)
    assert before['blast']['count'] == 0 and after['blast']['count'] == 6
    f = save_reviews([Image.open(p).convert('RGB') for p in cells.path], names, reviews, tmp_path/'reviews')
    r = aml('train', '--data', f, '--arch', 'resnet18', '--img-size', '32', '--epochs', '1', '--batch-size', '8', '--workers', '0', '--out', tmp_path/'run')
    assert r.returncode == 0, r.stderr
    assert sorted(pd.read_csv(tmp_path/'run'/'predictions.csv').label.unique()) == classes


def test_differential_cli_per_patient_and_resumed(run_store, real_small, tmp_path):
    "Two patients' folders: one row per patient and cell type, counts adding up; run again, the same file; a subtype model refused."
    t = real_small[real_small.split == 'test']
    for k, pid in enumerate(('P1', 'P2')):
        (tmp_path/'cells'/pid).mkdir(parents=True)
        for p in t.path[k::2]: shutil.copy(p, tmp_path/'cells'/pid/Path(p).name)
    run, out = run_store/'real'/'resnet18-s0', tmp_path/'diff.csv'
    r = aml('differential', run, tmp_path/'cells', '--patients', '--out', out, '--workers', '0')
    assert r.returncode == 0 and 'P1:' in r.stdout and 'WHO 2022' in r.stdout, r.stderr
    d = pd.read_csv(out)
    assert sorted(d.patient_id.unique()) == ['P1', 'P2'] and len(d) == 2 * 9
    per = d.groupby('patient_id').agg(count=('count', 'sum'), cells=('cells', 'first'), flagged=('flagged', 'first'))
    assert (per['count'] + per.flagged == per.cells).all() and per.cells.sum() == len(t)
    first = out.read_bytes()
    r = aml('differential', run, tmp_path/'cells', '--patients', '--out', out, '--workers', '0')
    assert r.returncode == 0 and out.read_bytes() == first
    r = aml('differential', run_store/'compare'/'resnet18-s0', tmp_path/'cells', '--out', tmp_path/'x.csv', '--workers', '0')
    assert r.returncode == 2 and 'not cell types' in r.stderr
    (tmp_path/'mine.csv').write_text('my,table\n')
    r = aml('differential', run, tmp_path/'cells', '--out', tmp_path/'mine.csv', '--workers', '0')
    assert r.returncode == 2 and 'was not written by aml_nb' in r.stderr and (tmp_path/'mine.csv').read_text() == 'my,table\n'


def test_predict_page_shows_a_differential_and_takes_reviews(monkeypatch, run_store):
    "A real-cell model: a differential, the blast share with its thresholds, a review that changes the count; no patient-level call."
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    app = Path(__file__).resolve().parent.parent/'app'
    st.cache_resource.clear(); st.cache_data.clear()
    monkeypatch.setenv('AML_NB_RUNS', str(run_store)); monkeypatch.chdir(app); monkeypatch.syspath_prepend(str(app))
    at = AppTest.from_file(str(app/'pages'/'1_Predict.py'), default_timeout=120).run()
    assert '/real/' in at.selectbox(key='model').value
    run = Path(at.selectbox(key='model').value)
    at.radio(key='source').set_value('examples from the test split').run()
    cells = pd.read_csv(run/'predictions.csv').path[:6].tolist()
    at.multiselect(key='examples').set_value(cells).run()
    assert not at.exception, at.exception
    heads = [s.value for s in at.subheader]
    assert any(h.startswith('differential of') for h in heads) and not any('patient-level' in h for h in heads)
    assert any('WHO 2022' in m.value for m in at.markdown)
    reviews = [s for s in at.selectbox if s.key and s.key.startswith('review_')]
    assert len(reviews) == 6
    before = at.dataframe[0].value
    for s in reviews: s.set_value('myeloblast')
    at.run()
    assert not at.exception, at.exception
    assert any('6 reviewed' in s.value for s in at.subheader)
    blasts = at.dataframe[0].value.set_index(at.dataframe[0].value.columns[0])
    assert blasts.loc['myeloblast'].iloc[0] == 6 and len(before) == 9


def counted(at)->int:
    "Cells in the page's differential: those counted, and those flagged by the gate and counted apart."
    import re
    n = sum(int(re.match(r'differential of (\d+) cell', s.value)[1]) for s in at.subheader if s.value.startswith('differential of'))
    return n + sum(int(re.match(r'(\d+) cell\(s\) flagged', w.value)[1]) for w in at.warning if re.match(r'\d+ cell\(s\) flagged', w.value))


def test_predict_page_scores_a_draw_of_many_cells_and_draws_only_the_heatmaps_on_screen(monkeypatch, run_store):
    "A draw of the test split's cells: one differential of all of them, the list in pages, heatmaps only for the page shown."
    import streamlit as st
    from streamlit.testing.v1 import AppTest
    import aml_nb.dashboard as dash
    app = Path(__file__).resolve().parent.parent/'app'
    st.cache_resource.clear(); st.cache_data.clear()
    drawn, real = [], dash.draw_heatmaps
    monkeypatch.setattr(dash, 'draw_heatmaps', lambda pred, ims, r, which, *a, **k: drawn.append(list(which)) or real(pred, ims, r, which, *a, **k))
    monkeypatch.setenv('AML_NB_RUNS', str(run_store)); monkeypatch.chdir(app); monkeypatch.syspath_prepend(str(app))
    at = AppTest.from_file(str(app/'pages'/'1_Predict.py'), default_timeout=180).run()
    run = Path(at.selectbox(key='model').value)
    n_test = len(pd.read_csv(run/'predictions.csv'))
    at.radio(key='source').set_value("a patient's test cells, or a draw").run()
    assert not at.exception, at.exception
    from aml_nb.image_files import MAX_UPLOADS
    n = min(n_test, MAX_UPLOADS)
    assert at.selectbox(key='test_set').value == f"a random draw of {n} of the {n_test} test cells" and n > dash.CELLS_PER_PAGE
    assert counted(at) == n, ([s.value for s in at.subheader], n)   # every drawn cell: in the count or flagged and counted apart
    reviews = [s for s in at.selectbox if s.key and s.key.startswith('review_')]
    assert len(reviews) == dash.CELLS_PER_PAGE and drawn == [[int(s.key.rsplit('_', 1)[1]) for s in reviews]]   # only the page's heatmaps
    first = {s.key for s in reviews}
    at.number_input(key=[w.key for w in at.number_input if w.key.startswith('page_')][0]).set_value(2).run()
    assert not at.exception, at.exception
    second = {s.key for s in at.selectbox if s.key and s.key.startswith('review_')}
    assert len(second) == min(dash.CELLS_PER_PAGE, n - dash.CELLS_PER_PAGE) and not first & second and len(drawn) == 2
    at.number_input(key='draw_seed').set_value(3).run()   # another draw: other cells, the same number
    assert not at.exception, at.exception
    assert counted(at) == n
