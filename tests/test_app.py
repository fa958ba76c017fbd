"Every dashboard page with Streamlit's AppTest, on a demo-like run store and on an empty one."
import io, json
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from streamlit.testing.v1 import AppTest
from aml_nb.dashboard import shown

APP = Path(__file__).resolve().parent.parent/'app'
PAGES = ['pages/1_Predict.py', 'pages/2_Compare.py', 'pages/3_Grad-CAM.py', 'pages/4_Fairness.py']


def _app(monkeypatch, runs, page=None):
    import streamlit as st
    st.cache_resource.clear(); st.cache_data.clear()
    monkeypatch.setenv('AML_NB_RUNS', str(runs)); monkeypatch.chdir(APP); monkeypatch.syspath_prepend(str(APP))   # as `streamlit run app/Home.py` does
    at = AppTest.from_file(str(APP/(page or 'Home.py')), default_timeout=120)
    return at.run()


@pytest.mark.parametrize('page', [None] + PAGES)
def test_every_page_renders_on_the_demo_store(monkeypatch, run_store, page):
    at = _app(monkeypatch, run_store, page)
    assert not at.exception, at.exception


@pytest.mark.parametrize('page', [None] + PAGES)
def test_every_page_renders_on_an_empty_store(monkeypatch, tmp_path, page):
    at = _app(monkeypatch, tmp_path, page)
    assert not at.exception
    assert any('No finished runs' in i.value for i in at.info)


def test_home_lists_runs_and_device(monkeypatch, run_store):
    at = _app(monkeypatch, run_store)
    assert 'CPU' in at.metric[0].value or 'GPU' in at.metric[0].value
    assert len(at.dataframe[0].value) == 8   # 3 compared + 3 ablation runs, a real-cell run and a 64 px synthetic one


def _png(im):
    b = io.BytesIO(); im.save(b, 'PNG'); return b.getvalue()


def test_upload_gives_prediction_and_overlay(monkeypatch, run_store, cohort):
    "Synthetic cells: each gets its classes and heatmap from a synthetic-cohort model; the real-cell model (the default"
    "here: the toy synthetic runs are near chance) flags them as unlike its training cells."
    at = _app(monkeypatch, run_store, 'pages/1_Predict.py')
    assert '/real/' in at.selectbox(key='model').value
    cells = cohort[cohort.split == 'test'].path[:2].tolist()
    at.file_uploader(key='upload').set_value([(Path(p).name, Path(p).read_bytes(), 'image/png') for p in cells]).run()
    assert not at.exception, at.exception
    assert any('2 of 2 cell(s) are **unlike the cells this model was trained on**' in w.value for w in at.warning)
    sb = at.selectbox(key='model')
    sb.select_index(next(i for i, o in enumerate(sb.options) if o.startswith('compare/'))).run()
    assert not at.exception, at.exception
    assert len(at.get('image')) == 4   # each cell and its Grad-CAM overlay
    probs = [m.value for m in at.markdown if '- **' in m.value]
    assert len(probs) == 2 and all('%' in p for p in probs)
    assert any('patient-level' in s.value for s in at.subheader)


def test_bad_upload_shows_an_error(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, 'pages/1_Predict.py')
    at.file_uploader(key='upload').set_value([('notes.png', b'this is text', 'image/png')]).run()
    assert not at.exception
    assert any(shown('notes.png: not an image') in e.value for e in at.error)   # the name as given, never markup


def test_selecting_another_model_changes_the_charts(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, 'pages/2_Compare.py')
    assert [t.label for t in at.tabs][0] == 'models' and at.selectbox(key='metric').value == 'balanced_accuracy'
    assert 'model' not in [s.key for s in at.selectbox]   # only the open tab is computed
    at.session_state['view'] = 'one model in detail'; at.run()
    assert not at.exception and 'metric' not in [s.key for s in at.selectbox]
    spec = lambda: json.loads(at.get('plotly_chart')[-1].proto.spec)   # per-class recall of the chosen run
    before = spec()
    from aml_nb.store import find_runs
    last = str(find_runs(run_store)[-1])
    assert at.selectbox(key='model').value != last
    at.selectbox(key='model').set_value(last).run()
    assert not at.exception and spec() != before


def test_fairness_page_offers_the_report(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, 'pages/4_Fairness.py')
    assert at.metric[0].label == 'lowest sensitivity of any class'
    assert len(at.get('download_button')) == 1


def test_report_cli_writes_markdown_and_html(run_store, tmp_path):
    from aml_nb.cli import main
    assert main(['report', str(run_store/'ablation'), '--out', str(tmp_path/'abl')]) == 0
    md = (tmp_path/'abl.md').read_text()
    assert 'Bias mitigation, before and after' in md and 'no_mixup' in md
    assert (tmp_path/'abl.html').read_text().count('plotly-graph-div') >= 4
    assert main(['report', str(run_store/'missing')]) == 2


MULTI = 'pages/5_Multimodal.py'


def test_multimodal_page_predicts_an_example_patient(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, MULTI)
    assert not at.exception, at.exception
    m = {x.label: x.value for x in at.metric}
    assert next(v for k, v in m.items() if k.startswith('fused prediction')) in json.loads((run_store/'compare'/'convnext_atto-s0'/'classes.json').read_text())
    assert m['modalities used'] in ('image+genomics', 'image')   # a test patient may lack a profile
    assert any('true subtype' in c.value for c in at.caption)
    names = {d['name'] for d in json.loads(at.get('plotly_chart')[-1].proto.spec)['data']}
    assert {'image', 'fused'} <= names


def test_multimodal_page_takes_a_typed_profile(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, MULTI)
    at.radio(key='source').set_value('upload cells and enter a profile').run()
    assert any('Upload cells or enter' in i.value for i in at.info)
    at.text_input(key='g_wbc').set_value('lots').run()
    assert not at.exception
    assert any(shown("column 'wbc', row 1") in e.value and shown("'lots' is not a number") in e.value for e in at.error)
    at.text_input(key='g_wbc').set_value('2.1').run()
    at.selectbox(key='g_FLT3_ITD').set_value('1').run()
    assert not at.exception and not at.error
    assert {x.label: x.value for x in at.metric}['modalities used'] == 'genomics'   # no cells: genomics alone, and it says so


def test_multimodal_page_on_an_empty_store(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path, MULTI)
    assert not at.exception
    assert any('No fusion results' in i.value for i in at.info)


def test_fuse_cli_names_the_bad_value(run_store, tmp_path, capsys):
    from aml_nb.cli import main
    bad = tmp_path/'genomics.csv'
    bad.write_text('patient_id,KIT,wbc\nP0001,1,12\nP0002,maybe,3\n')
    assert main(['fuse', str(run_store/'compare'/'resnet18-s0'), '--genomics', str(bad)]) == 2
    err = capsys.readouterr().err
    assert "genomics.csv" in err and "column 'KIT', row 2 (patient P0002): 'maybe' is not a mutation call" in err
    assert not (run_store/'compare'/'resnet18-s0'/'fusion').exists()   # nothing half-written


def test_predict_examples_from_the_test_split(monkeypatch, run_store):
    import pandas as pd
    at = _app(monkeypatch, run_store, 'pages/1_Predict.py')
    at.radio(key='source').set_value('examples from the test split').run()
    run = Path(at.selectbox(key='model').value)
    cells = pd.read_csv(run/'predictions.csv').path[:3].tolist()
    at.multiselect(key='examples').set_value(cells).run()
    assert not at.exception, at.exception
    assert len(at.get('image')) == 6 and any(s.value.startswith('differential of 3 cell(s)') for s in at.subheader)   # a cell-type model


def test_gradcam_follows_the_chosen_class(monkeypatch, run_store):
    "The page asks for the chosen class's CAM (that the CAM then differs is checked in nbs/26_dashboard at 128 px;"
    "the toy runs here are 32 px, where a CNN's CAM is a single cell)."
    import aml_nb.dashboard as dash
    asked, real = [], dash.predict_and_explain
    monkeypatch.setattr(dash, 'predict_and_explain', lambda *a, **k: asked.append(a[3] if len(a) > 3 else k.get('target')) or real(*a, **k))
    at = _app(monkeypatch, run_store, 'pages/3_Grad-CAM.py')
    classes = [o for o in at.selectbox(key='target').options if o != 'predicted']
    assert asked and set(asked) == {None}   # by default: each cell's predicted class
    asked.clear(); at.selectbox(key='target').set_value(classes[1]).run()
    assert not at.exception and asked and set(asked) == {classes[1]}


def test_gradcam_reruns_reuse_the_session_results(monkeypatch, run_store, cohort_dir):
    "A rerun caused by another widget (fewer model columns) keeps the cell and recomputes nothing; another method is"
    "computed anew. (Cells are picked by names unique in the store: with bare file names, which repeat across patients,"
    "a rerun jumped to another patient's cell.)"
    import aml_nb.dashboard as dash
    calls, real = [], dash.predict_and_explain
    monkeypatch.setattr(dash, 'predict_and_explain', lambda *a, **k: calls.append(a[2] if len(a) > 2 else k.get('method')) or real(*a, **k))
    at = _app(monkeypatch, run_store, 'pages/3_Grad-CAM.py')
    sb = at.selectbox(key='data')
    assert len(sb.options) == 3, sb.options   # real cells, the synthetic cohort, the 64 px cohort
    n = len(calls)
    sb.select_index(next(i for i, o in enumerate(sb.options) if cohort_dir.name in o)).run()
    assert not at.exception, at.exception
    del calls[:n]   # from here on, the synthetic cohort's cells
    chosen, cell = at.multiselect(key='models').value, at.selectbox(key='cell').value
    assert len(chosen) >= 2 and all('/compare/' in c for c in chosen) and len(calls) == len(chosen)
    at.multiselect(key='models').set_value(chosen[:1]).run()
    assert not at.exception and at.selectbox(key='cell').value == cell and len(calls) == len(chosen)
    at.selectbox(key='method').set_value('eigencam').run()
    assert not at.exception and calls[len(chosen):] == ['eigencam']


def test_uploads_are_bounded_per_request(monkeypatch, run_store, cohort):
    "More files than a request may hold: the page says so and uses the first ones; shown images are small copies."
    import aml_nb.image_files as files
    monkeypatch.setattr(files, 'MAX_UPLOADS', 3)
    at = _app(monkeypatch, run_store, 'pages/1_Predict.py')
    cells = cohort[cohort.split == 'test'].path[:5].tolist()
    at.file_uploader(key='upload').set_value([(f'{i}.png', Path(p).read_bytes(), 'image/png') for i, p in enumerate(cells)]).run()
    assert not at.exception, at.exception
    assert any('Only the first 3 of 5 files are used' in w.value for w in at.warning)
    assert len(at.get('image')) == 6   # 3 cells and their overlays


def test_the_robustness_tab_shows_every_run_under_each_shift(monkeypatch, run_store):
    at = _app(monkeypatch, run_store, 'pages/2_Compare.py')
    at.session_state['view'] = 'robustness'; at.run()
    assert not at.exception
    fig = json.loads(at.get('plotly_chart')[-1].proto.spec)
    shifts = {x for trace in fig['data'] for x in trace['x']}
    assert {'as_scanned', 'site_colours', 'stain_amount', 'blur', 'gamma', 'jpeg'} <= shifts   # every run of the store has its robustness.json
    at.selectbox(key='rob_metric').set_value('silent_errors').run()
    assert not at.exception and json.loads(at.get('plotly_chart')[-1].proto.spec) != fig
