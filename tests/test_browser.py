"""The dashboard in a real browser (Debian Chromium through Playwright), started as users start it: `aml-nb app`.

Screenshots of every page go to $AML_NB_SHOTS (default test-artifacts/browser). `make screenshots` runs this module
on the `make demo` run store and writes the README's pictures to docs/screenshots.
"""
import asyncio, json, os, re, shutil, tempfile, threading, time
from pathlib import Path
import pytest
from aml_nb.browser import choose, settle
from conftest import worker_port

pytestmark = pytest.mark.xdist_group('browser')   # one worker runs them all: the module's dashboard and browser start once

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get('AML_NB_CHROMIUM', '/usr/bin/chromium'))
SHOTS = Path(os.environ.get('AML_NB_SHOTS', ROOT/'test-artifacts'/'browser'))
PAGES = {'home': '', 'predict': 'Predict', 'compare': 'Compare', 'grad-cam': 'Grad-CAM', 'fairness': 'Fairness', 'multimodal': 'Multimodal'}


@pytest.fixture(scope='module')
def store(request):
    "The run store to show: $AML_NB_BROWSER_RUNS (e.g. runs/demo for the README's pictures), else the toy store."
    env = os.environ.get('AML_NB_BROWSER_RUNS')
    return Path(env).resolve() if env else request.getfixturevalue('run_store')


SERVER = {}   # the running dashboard: url, process, log


@pytest.fixture(scope='module')
def app_url(store, tmp_path_factory):
    "`aml-nb app` on the store, on a free localhost port; stopped after the module."
    from aml_nb.server import app_server
    log = tmp_path_factory.mktemp('app')/'app.log'
    with app_server(store, worker_port(8600), log) as (url, proc):
        SERVER.update(url=url, proc=proc, log=log)
        yield url
    assert 'Traceback' not in log.read_text(), log.read_text()


# Named so as not to collide with pytest-playwright's `browser`/`page` fixtures (whose browser_name parametrisation
# would split this module's tests into groups and restart the module-scoped dashboard between them).
@pytest.fixture(scope='module')
def chromium():
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Debian's chromium (`make browser`) or set AML_NB_CHROMIUM"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=['--no-sandbox', '--headless'])
        yield b
        b.close()


@pytest.fixture
def tab(chromium):
    ctx = chromium.new_context(viewport={'width': 1400, 'height': 2000})   # tall: Streamlit scrolls inside the page, so full_page alone does not show more
    pg = ctx.new_page(); pg.set_default_timeout(120_000)
    yield pg
    ctx.close()


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS/f'{name}.png'), full_page=True)


@pytest.mark.parametrize('name', list(PAGES))
def test_every_page_opens_without_an_exception(app_url, tab, name):
    page = tab
    page.goto(f'{app_url}/{PAGES[name]}')
    settle(page)
    assert page.get_by_test_id('stException').count() == 0
    assert 'research tool, not a diagnostic device' in page.inner_text('body')
    if name in ('compare', 'fairness', 'multimodal'): page.get_by_test_id('stPlotlyChart').first.wait_for()
    _shot(page, name)


def test_compare_draws_the_tab_that_is_opened(app_url, tab):
    page = tab
    page.goto(f'{app_url}/Compare'); settle(page)
    assert page.get_by_role('combobox', name='model (run)').count() == 0   # the detail tab is not computed until opened
    page.get_by_role('tab', name='ablation and bias mitigation').click(); settle(page)
    page.get_by_text('bias mitigation, before and after').wait_for()
    page.get_by_role('tab', name='one model in detail').click(); settle(page)
    page.get_by_role('combobox', name='model (run)').wait_for(); page.get_by_test_id('stPlotlyChart').first.wait_for()
    assert page.get_by_test_id('stException').count() == 0
    _shot(page, 'compare_detail')


def test_predict_upload_shows_prediction_and_heatmap(app_url, tab, store):
    page = tab
    import pandas as pd
    run = next(p for p in sorted((store/'compare').glob('*-s0')))
    cells = pd.read_csv(run/'predictions.csv').path[:3].tolist()
    page.goto(f'{app_url}/Predict'); settle(page)
    _choose(page, f'compare/{run.name}')   # a subtype model: a patient-level call (a cell-type model gives a differential instead)
    page.locator("input[type='file']").set_input_files(cells)   # the uploader's own input (a file-chooser click can race a rerun)
    page.get_by_text('patient-level:').wait_for()
    page.get_by_test_id('stImage').nth(5).wait_for()   # each cell and its Grad-CAM overlay: 6 images
    settle(page)
    assert page.get_by_test_id('stException').count() == 0
    _shot(page, 'predict_upload')


def _choose(page, label_part:str, widget:str='model (run)'):
    "Pick the option whose text contains `label_part` in the selectbox `widget`, and wait for the page."
    choose(page, widget, label_part, exact=False); settle(page)


def test_a_real_myeloblast_on_the_real_and_on_the_synthetic_model(app_url, tab, store):
    """A real myeloblast uploaded to the real-cell model is called a myeloblast and not flagged, and counted in a differential
    (never a patient's diagnosis) whose report downloads and names no file; uploaded to a synthetic-cohort model, the same
    cell is flagged as unlike its training cells."""
    from aml_nb.evaluate import read_predictions
    if not (store/'real').exists(): pytest.skip(f"{store} has no real-cell model")
    real = sorted((store/'real').glob('*-s0'))[0]   # the demo's real-cell model, whatever its architecture
    p = read_predictions(real/'predictions.csv')
    cell = p[(p.label == 'myeloblast') & (p.predicted == 'myeloblast') & (p.flagged == 0)].sort_values('p_myeloblast').path.iloc[-1]
    page = tab
    page.goto(f'{app_url}/Predict'); settle(page)
    _choose(page, f'real/{real.name}')
    page.locator("input[type='file']").set_input_files([cell])
    page.get_by_text('differential (HTML)').wait_for(); settle(page)
    body = page.inner_text('body')
    assert 'myeloblast:' in body and 'unlike the cells this model was trained on' not in body and 'patient-level' not in body
    assert 'Blasts (myeloblasts): 1 of 1 white cells' in body and 'WHO 2022' in body
    first = page.locator('[data-testid="stMarkdownContainer"] li').first.inner_text()
    assert first.startswith('myeloblast'), first
    with page.expect_download() as dl: page.get_by_text('differential (HTML)').click()
    report = Path(dl.value.path()).read_text()
    assert 'aml_nb differential' in report and 'research tool, not a diagnostic device' in report and Path(cell).name not in report
    _shot(page, 'predict_real_myeloblast')
    synthetic = next(iter(sorted(store.glob('synthetic64/*-s0'))), None) or next(iter(sorted((store/'compare').glob('*-s0'))))
    _choose(page, f'{synthetic.parent.name}/{synthetic.name}')
    page.get_by_text('unlike the cells this model was trained on').first.wait_for()
    assert page.get_by_test_id('stException').count() == 0
    _shot(page, 'predict_real_cell_on_synthetic_model')


def test_a_differential_with_its_review_queue(app_url, tab, store, tmp_path):
    """Real test cells of several types uploaded (a zipped folder) to the real-cell model: a differential with the blast share beside the
    thresholds; re-labelling the first cell of the review queue updates it at once."""
    from aml_nb.evaluate import read_predictions
    if not (store/'real').exists(): pytest.skip(f"{store} has no real-cell model")
    real = sorted((store/'real').glob('*-s0'))[0]
    p = read_predictions(real/'predictions.csv')
    cells = p.groupby('label').head(2).path.tolist()[:16]
    page = tab
    page.goto(f'{app_url}/Predict'); settle(page)
    _choose(page, f'real/{real.name}')
    import zipfile
    folder = Path(tmp_path)/'patient.zip'   # a folder of cells, zipped as a user uploads one
    with zipfile.ZipFile(folder, 'w') as z:
        for c in cells: z.write(c, f"patient/{Path(c).name}")
    page.locator("input[type='file']").set_input_files(str(folder))
    page.get_by_text(f'differential of').first.wait_for(); page.get_by_test_id('stImage').nth(2 * len(cells) - 1).wait_for(); settle(page)
    body = page.inner_text('body')
    assert 'Blasts (myeloblasts):' in body and 'WHO 2022' in body and 'not a diagnosis' in body and 'patient-level' not in body
    _shot(page, 'predict_differential')
    review = page.get_by_test_id('stSelectbox').filter(has=page.get_by_role('combobox', name='review: confirm or re-label')).first
    review.scroll_into_view_if_needed(); review.get_by_role('button', name='Open').click()
    page.keyboard.type('myeloblast'); page.keyboard.press('Enter'); settle(page)   # the list is long: typed, as a user would
    page.get_by_text('1 reviewed').first.wait_for()
    assert page.get_by_test_id('stException').count() == 0
    _shot(page, 'predict_review_queue')


def test_multimodal_gives_the_fused_prediction(app_url, tab):
    page = tab
    page.goto(f'{app_url}/Multimodal'); settle(page)
    page.get_by_text('fused prediction (').wait_for()
    page.get_by_text('modalities used').wait_for()   # wait, not count: the page renders element by element
    page.get_by_test_id('stPlotlyChart').nth(1).wait_for()   # the comparison and the patient's three answers
    settle(page)
    assert page.get_by_test_id('stException').count() == 0
    _shot(page, 'multimodal_patient')


def _rss_mb(pid):
    import psutil
    p = psutil.Process(pid)
    return sum(q.memory_info().rss for q in [p, *p.children(recursive=True)]) / 2**20


def _server_state()->str:
    "Whether the dashboard is still up, and the end of its log: what a failed browser test should show."
    code = SERVER['proc'].poll()
    return f"dashboard {'running' if code is None else f'exited with code {code}'}; its log ends:\n{SERVER['log'].read_text()[-3000:]}"


SESSIONS = int(os.environ.get('AML_NB_LOAD_SESSIONS', 4))
LOAD_OUT = Path(os.environ.get('AML_NB_LOAD_OUT', ROOT/'test-artifacts'/'load.json'))


def _newer(p:Path, t0:float)->bool:
    "Whether file `p` was modified at or after `t0` (False when it has vanished meanwhile)."
    try: return p.stat().st_mtime >= t0
    except FileNotFoundError: return False


def test_concurrent_sessions_share_one_model_and_leave_no_trace(app_url, store, tmp_path):
    """N browser sessions upload cells at once (named after a patient id). None fails, memory stays bounded,
    the model is loaded once, and neither the uploads nor the patient id reach the disk or the server log."""
    import pandas as pd
    from playwright.async_api import async_playwright
    run = next(p for p in sorted((store/'compare').glob('*-s0')))
    src = pd.read_csv(run/'predictions.csv').path[:2].tolist()
    secret = 'PATIENT-7Q4Z'   # a patient identifier that must never be logged or written
    cells = [shutil.copy(p, tmp_path/f'{secret}_{i}.png') for i, p in enumerate(src)]
    lat, errors = [], []

    async def session(browser, i):
        ctx = await browser.new_context(); page = await ctx.new_page(); page.set_default_timeout(180_000)
        try:
            await page.goto(f'{app_url}/Predict')
            await page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
            s = time.perf_counter()
            await page.locator("input[type='file']").set_input_files(cells)   # straight into the uploader's input: no chooser-event race
            await page.get_by_text(re.compile(r'^(patient-level:|differential of)')).first.wait_for()   # whichever the default model gives
            lat.append(time.perf_counter() - s)
            if await page.get_by_test_id('stException').count(): errors.append(f'session {i}: exception on the page')
        except Exception as e: errors.append(f'session {i}: {type(e).__name__}: {e}')
        finally: await ctx.close()

    async def main(n):
        async with async_playwright() as p:
            b = await p.chromium.launch(executable_path=str(CHROMIUM), args=['--no-sandbox', '--headless'])
            await asyncio.gather(*(session(b, i) for i in range(n)))
            await b.close()

    def drive(n):
        th = threading.Thread(target=lambda: asyncio.run(main(n))); th.start(); th.join()   # the sync browser fixture owns this thread's loop
    t0 = time.time()
    drive(1); lat.clear()   # warm-up: the server has imported torch and loaded the model before memory is measured
    assert not errors, (errors, _server_state())
    rss0 = _rss_mb(SERVER['proc'].pid)
    drive(SESSIONS)
    assert SERVER['proc'].poll() is None, _server_state()
    rss1 = _rss_mb(SERVER['proc'].pid)
    figures = dict(sessions=SESSIONS, errors=len(errors), seconds_to_prediction_median=float(pd.Series(lat).median()) if lat else None,
                   seconds_to_prediction_max=max(lat) if lat else None, server_rss_mb_before=round(rss0), server_rss_mb_after=round(rss1))
    LOAD_OUT.parent.mkdir(parents=True, exist_ok=True); LOAD_OUT.write_text(json.dumps(figures, indent=1))
    print(figures)
    assert not errors, (errors, _server_state())
    assert len(lat) == SESSIONS
    assert rss1 - rss0 < 150 * SESSIONS, figures   # bounded: no per-session copy of the model (one is ~20-100 MB)
    log = SERVER['log'].read_text()
    loads = [l for l in log.splitlines() if 'aml_nb: loaded model of run' in l]
    assert loads and len(loads) == len(set(loads)), loads   # st.cache_resource: each model loaded once per server, whatever the sessions
    assert secret not in log   # privacy: upload names (here a patient id) never reach the log
    written = [Path(r)/f for d in (store, ROOT/'app', Path(tempfile.gettempdir())) for r, _, fs in os.walk(d)   # os.walk: another process's
               for f in fs if secret in f and _newer(Path(r)/f, t0) and tmp_path not in (Path(r)/f).parents]     # temporary folder may vanish meanwhile
    assert not written, written   # ...nor the disk: uploads stay in the session's memory
