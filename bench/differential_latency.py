"""Time from the upload of a differential's cells to the differential on the Predict page: real Chromium against
`aml-nb app` on a warm server, as a hematologist meets it.

    python bench/differential_latency.py [RUNS] [OUT.json] [--cells 200] [--reps 5] [--data DIR]

RUNS is a run store with a real-cell model (default runs/demo, `make demo`; the page's default model is used). The cells
are a zip (a folder of cells, as a user uploads it) of `--cells` test images drawn from DIR (default: the built-in real
cells). Each rep uploads the zip on a freshly opened Predict page and waits until "differential of" is on screen and
every heatmap of the first page of cells has loaded. One warm-up rep (the server imports torch and loads the model) is
not counted; a rep uploads a new draw each time, so no memo is reused. Target: <= 10 s median on 2 CPU cores.
"""
import argparse, json, os, platform, random, statistics, time, zipfile
from pathlib import Path
from aml_nb.server import app_server
import tempfile
from aml_nb.data import write_real_cells
from aml_nb.image_files import IMAGE_EXTS
from aml_nb.browser import settle   # shared with the browser tests


def cells_zip(files:list[Path], out:Path)->Path:
    "A zip of `files` (names kept unique by their class folder), as a user zips a folder of cells."
    with zipfile.ZipFile(out, 'w') as z:
        for f in files: z.write(f, f"{f.parent.name}/{f.name}")
    return out


def main():
    a = argparse.ArgumentParser(); a.add_argument('runs', nargs='?', default='runs/demo')
    a.add_argument('out', nargs='?', default='bench/results/differential_cpu/latency.json')
    a.add_argument('--cells', type=int, default=200); a.add_argument('--reps', type=int, default=5)
    a.add_argument('--data', help='a folder of cells (class folders, a test/ split inside is used when there is one); default: the built-in cells')
    a = a.parse_args(); runs, out = Path(a.runs).resolve(), Path(a.out)
    if not a.data: a.data = tempfile.mkdtemp(prefix='aml_nb-cells-'); write_real_cells(a.data)   # the built-in real cells, as class folders
    root = Path(a.data)
    root = root/'test' if (root/'test').is_dir() else root
    pool = sorted(p for p in root.rglob('*') if p.suffix.lower() in IMAGE_EXTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright
    t = []
    with app_server(runs, 8610, out.with_suffix('.log'), timeout=120) as (url, _), sync_playwright() as p:
        b = p.chromium.launch(executable_path=os.environ.get('AML_NB_CHROMIUM', '/usr/bin/chromium'), args=['--no-sandbox', '--headless'])
        ctx = b.new_context(viewport={'width': 1400, 'height': 2000}); ctx.set_default_timeout(120_000)
        for rep in range(a.reps + 1):   # rep 0 warms the server up
            z = cells_zip(random.Random(rep).sample(pool, min(a.cells, len(pool))), out.parent/f'cells-{rep}.zip')
            pg = ctx.new_page(); pg.goto(f'{url}/Predict'); settle(pg)
            s = time.perf_counter()
            pg.locator("input[type='file']").set_input_files(str(z))
            pg.get_by_text('differential of').first.wait_for()
            took = time.perf_counter() - s
            pg.get_by_test_id('stImage').nth(39).wait_for(); settle(pg)   # the first page's 20 cells and heatmaps
            whole = time.perf_counter() - s
            print(f"rep {rep}: differential {took:.2f} s, first page of cells {whole:.2f} s" + (' (warm-up)' if not rep else ''), flush=True)
            if rep: t.append((took, whole))
            pg.close(); z.unlink()
        b.close()
    import torch, streamlit
    res = dict(runs=str(a.runs), cells=min(a.cells, len(pool)), data=str(root), reps=a.reps, cpus=len(os.sched_getaffinity(0)),
               differential_median_s=round(statistics.median(x for x, _ in t), 2), differential_worst_s=round(max(x for x, _ in t), 2),
               first_page_median_s=round(statistics.median(y for _, y in t), 2),
               python=platform.python_version(), torch=torch.__version__, streamlit=streamlit.__version__, browser='Debian Chromium (Playwright)')
    out.write_text(json.dumps(res, indent=1)); print(json.dumps(res, indent=1))
    print(f"{'PASS' if res['differential_median_s'] <= 10 else 'FAIL'}: {res['cells']} cells to a differential in {res['differential_median_s']} s median (target <= 10 s)")


if __name__ == '__main__': main()
