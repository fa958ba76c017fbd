"""Driving the dashboard in Chromium through Playwright: shared by `tests/test_browser.py` and `bench/dashboard_latency.py`.

(Starting the dashboard itself is the package's `aml_nb.server.app_server`.)
"""


def settle(page):
    "Wait until the script has finished running and nothing is loading."
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']")
    page.wait_for_load_state('networkidle')


def open_selectbox(page, label:str):
    "Open the selectbox labelled `label` (a combobox since Streamlit 1.6x)."
    page.get_by_test_id('stSelectbox').filter(has=page.get_by_role('combobox', name=label, exact=True)).get_by_role('button', name='Open').click()


def choose(page, label:str, option:str, exact:bool=True):
    "Pick `option` in the selectbox labelled `label` (exact=False: the first option whose text contains `option`)."
    open_selectbox(page, label)
    opts = page.get_by_role('option', name=option, exact=True) if exact else page.get_by_role('option').filter(has_text=option)
    opts.first.click()


def options(page, label:str)->list[str]:
    "The option texts of the selectbox labelled `label`."
    open_selectbox(page, label)
    opts = page.get_by_role('option').all_inner_texts(); page.keyboard.press('Escape'); return opts


def worker_port(port:int)->int:
    "A dashboard port of this pytest worker's own (`pytest -n 2`: gw1 starts 100 above gw0), so that two servers never race for one."
    import os
    return port + 100 * int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0)
