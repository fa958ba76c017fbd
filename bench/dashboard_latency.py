"""Dashboard latency per interaction, as a clinician meets it: real Chromium against `aml-nb app` on a warm server.

    python bench/dashboard_latency.py [RUNS] [OUT.json] [--reps 10]

RUNS defaults to runs/demo (`make demo`); `--until FILE` keeps the passes going until FILE exists (the load beside a
training run in bench/train_beside_dashboard.sh). After one warm-up pass (the server imports torch and loads each model once),
each interaction is timed `--reps` times from the user's action until the page's script has finished and every image
on it has loaded:
- opening each page (a fresh tab);
- Predict: four cells uploaded at once (prediction, OOD score and Grad-CAM of each, the patient-level call);
- Grad-CAM explorer: choosing another cell, and choosing another heatmap method (every selected model redraws).
Targets: Predict with four uploads and Grad-CAM changes within 1.5 s median; no page over 3 s to open warm.
"""
import argparse, json, os, platform, re, statistics, time
from pathlib import Path
import pandas as pd
from aml_nb.server import app_server
from aml_nb.browser import choose, options   # shared with the browser tests

# Counts finished script runs: Streamlit marks its app element with data-test-script-state running / notRunning.
COUNTER = """
window.__runs = 0;
new MutationObserver(ms => { for (const m of ms) if (m.target.getAttribute('data-test-script-state') === 'notRunning') window.__runs++; })
  .observe(document, {attributes: true, subtree: true, attributeFilter: ['data-test-script-state']});
"""
DONE = "n => window.__runs > n && [...document.images].every(i => i.complete || i.getBoundingClientRect().top > innerHeight)"  # lazy images below the fold never load


def timed(page, act, nav:bool=False)->float:
    "Seconds from `act()` until the next script run has finished and its images have loaded (`nav`: act opens a page)."
    n = 0 if nav else page.evaluate('window.__runs'); s = time.perf_counter(); act()   # a new page counts from 0
    page.wait_for_function(DONE, arg=n, polling=20); return time.perf_counter() - s


def main():
    a = argparse.ArgumentParser(); a.add_argument('runs', nargs='?', default='runs/demo')
    a.add_argument('out', nargs='?', default='bench/results/dashboard_latency_cpu/latency.json'); a.add_argument('--reps', type=int, default=10)
    a.add_argument('--until', help='keep going (past --reps) until this file exists: a steady clinician load beside another job')
    a = a.parse_args(); runs = Path(a.runs).resolve()
    from playwright.sync_api import sync_playwright, TimeoutError as PlaywrightTimeout
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    with app_server(runs, 8600, Path(a.out).with_suffix('.log'), timeout=120) as (url, _):   # the server's output beside the results
        run = sorted((runs/'compare').glob('*-s0'))[0]
        cells = pd.read_csv(run/'predictions.csv').path[:4].tolist()
        pages = {'Home': '', 'Predict': 'Predict', 'Compare': 'Compare', 'Grad-CAM': 'Grad-CAM', 'Fairness': 'Fairness', 'Multimodal': 'Multimodal'}
        t = {}

        def one_pass(pg, keep, rep):
            "Open every page, upload four cells to Predict, change the Grad-CAM explorer's cell and method."
            for name, path in pages.items(): keep(f'open {name}', timed(pg, lambda: pg.goto(f'{url}/{path}'), nav=True))
            pg.goto(f'{url}/Predict'); pg.wait_for_function(DONE, arg=0)
            keep('Predict: 4 uploads', timed(pg, lambda: (pg.locator("input[type='file']").set_input_files(cells), pg.get_by_text(re.compile(r'^(patient-level:|differential of)')).first.wait_for())))
            pg.goto(f'{url}/Grad-CAM'); pg.wait_for_function(DONE, arg=0)
            cell_opts, meth_opts = options(pg, 'cell'), options(pg, 'method')
            keep('Grad-CAM: another cell', timed(pg, lambda: choose(pg, 'cell', cell_opts[1 + rep % (len(cell_opts) - 1)])))
            keep('Grad-CAM: another method', timed(pg, lambda: choose(pg, 'method', meth_opts[1 + rep % (len(meth_opts) - 1)])))
            print(f"pass {rep}: " + ', '.join(f"{k} {v[-1]:.2f}" for k, v in t.items()) if rep else 'warm-up done', flush=True)

        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=os.environ.get('AML_NB_CHROMIUM', '/usr/bin/chromium'), args=['--no-sandbox', '--headless'])
            ctx = b.new_context(viewport={'width': 1400, 'height': 2000}); ctx.add_init_script(COUNTER); ctx.set_default_timeout(60_000)
            pg = ctx.new_page()
            rep = 0
            while rep <= a.reps or (a.until and not Path(a.until).exists()):   # rep 0 warms the server up and is not counted
                keep = (lambda k, v: t.setdefault(k, []).append(v)) if rep else (lambda k, v: None)
                try: one_pass(pg, keep, rep)
                except PlaywrightTimeout as e:   # as a load beside another job, one stuck interaction must not end the load
                    if not a.until: raise
                    print(f"pass {rep}: an interaction timed out ({str(e).splitlines()[0]}); next pass", flush=True)
                    t.setdefault('passes with an interaction over 60 s', []).append(1.)
                rep += 1
            b.close()
    import torch, streamlit
    rows = [dict(interaction=k, median_s=round(statistics.median(v), 2), worst_s=round(max(v), 2), n=len(v)) for k, v in t.items()]
    res = dict(runs=str(a.runs), cpus=len(os.sched_getaffinity(0)), python=platform.python_version(), torch=torch.__version__,
               streamlit=streamlit.__version__, browser='Debian Chromium (Playwright)', results=rows)
    Path(a.out).write_text(json.dumps(res, indent=1))
    print(pd.DataFrame(rows).to_markdown(index=False))


if __name__ == '__main__': main()
