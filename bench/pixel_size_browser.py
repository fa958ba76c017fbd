"""A Munich myeloblast as another lab would send it, in a real browser (issue 39's check, on the `make demo` store's real-cell model).

    python bench/pixel_size_browser.py [--runs runs/demo] [--n 10] [--out bench/results/resolution_cpu/browser.json] [--shots docs/screenshots]

The built-in test myeloblasts (all from Munich, 80 px files at 0.3675 µm a pixel) are given Barcelona's colours (Reinhard
in LAB, towards the mean statistics of the built-in Barcelona test neutrophils, the one cell type both labs imaged) and
Barcelona's imaging scale (shrunk by 0.4653 / 0.3675 = 1.266 about the centre, the view filled with the cell's own
background: the same cell at Barcelona's pixel size, 0.4653 µm at 80 px). They are uploaded on the Predict page of the
store's real-cell model (the shipped reference model when the store is the demo's; a fresh store with it installed when
--runs is not given) twice: with the pixel size chosen as the training cells of Barcelona, and with none given. Each
cell's answer is read off the page: its top class and whether it was flagged as unlike the training cells. Screenshots
of both go to --shots.
"""
import argparse, json, re, tempfile, time
from pathlib import Path
import numpy as np, torch
from PIL import Image

a = argparse.ArgumentParser(); a.add_argument('--runs'); a.add_argument('--n', type=int, default=10)
a.add_argument('--out', default='bench/results/resolution_cpu/browser.json'); a.add_argument('--shots', default='test-artifacts/pixel_size')
a.add_argument('--chromium', default='/usr/bin/chromium'); a = a.parse_args()

from aml_nb.data import write_real_cells
from aml_nb.images import colour_transfer, cell_colours, zoom, decode_cells
from aml_nb.reference_model import install_reference
from aml_nb.server import app_server
from aml_nb.browser import settle, choose
from aml_nb.store import load_runs

work = Path(tempfile.mkdtemp(prefix='aml_nb_pixel_'))
cells = write_real_cells(work/'real')
if a.runs: runs = Path(a.runs)
else: runs = work/'runs'; install_reference(runs/'real'/'resnet10t-s0', cells.attrs['root'])
real = next(r for r in load_runs(runs)[0] if 'myeloblast' in r['config']['classes'])
test = cells[cells.split == 'test']
blasts = test[test.label == 'myeloblast'].head(a.n)
neut = test[(test.label == 'neutrophil') & (test.site == 'Barcelona')]
target = cell_colours(decode_cells(neut.path.tolist(), 80)).mean(0)   # Barcelona's colours, on the type both labs imaged
x = decode_cells(blasts.path.tolist(), 80).float() / 255
ratio = neut.pixel_um.median() / blasts.pixel_um.median()
sent = zoom(colour_transfer(x, target), 1 / ratio)   # Barcelona's colours, then its imaging scale
up = work/'upload'; up.mkdir()
files = []
for p, im in zip(blasts.path, sent):
    f = up/f"recoloured_shrunk_{Path(p).stem}.png"; Image.fromarray((im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).save(f); files.append(f)
print(f"{len(files)} Munich myeloblasts in Barcelona's colours and at its scale (x1/{ratio:.3f}) -> {up}; model {real['path']}")

from playwright.sync_api import sync_playwright
shots = Path(a.shots); shots.mkdir(parents=True, exist_ok=True); out = dict(cells=len(files), ratio=float(ratio), run=str(real['path']), results={})
with app_server(runs, 8650, work/'app.log') as (url, proc), sync_playwright() as pw:
    b = pw.chromium.launch(executable_path=a.chromium, args=['--no-sandbox', '--headless'])
    pg = b.new_page(viewport={'width': 1400, 'height': 2400}); pg.set_default_timeout(180_000)
    pg.goto(url + '/Predict'); settle(pg)
    if len(load_runs(runs)[0]) > 1:   # the store's real-cell model, by its folder in the store
        choose(pg, 'model (run)', str(Path(real['path']).resolve().relative_to(runs.resolve())), exact=False); settle(pg)
    for name, option in (('Barcelona pixel size', 'as the training cells of Barcelona'), ('no pixel size', 'not given')):
        choose(pg, 'pixel size of the uploaded files (micrometres per pixel, as the scanner records it)', option, exact=False); settle(pg)
        if name == 'Barcelona pixel size':
            with pg.expect_file_chooser() as fc: pg.get_by_test_id('stFileUploaderDropzone').click()
            fc.value.set_files([str(f) for f in files]); settle(pg)
        time.sleep(2); settle(pg)
        text = pg.locator("[data-testid='stMain']").inner_text()
        per = re.split(r'\n(?=recoloured_shrunk_)', text)
        rows = []
        for chunk in per[1:]:
            top = re.search(r'([a-z]+): ([\d.]+)%', chunk)
            rows.append(dict(cell=chunk.split('\n', 1)[0], top=top[1] if top else None, p=float(top[2]) / 100 if top else None,
                             flagged='unlike the cells this model was trained on' in chunk))
        called = sum(r['top'] == 'myeloblast' for r in rows); flagged = sum(r['flagged'] for r in rows)
        silent = sum(r['top'] != 'myeloblast' and not r['flagged'] for r in rows)
        out['results'][name] = dict(rows=rows, called_myeloblast=called, flagged=flagged, silent_misses=silent,
                                    caption=next((l for l in text.splitlines() if 'had no pixel size' in l or 'sees every cell' in l), None))
        print(f"{name}: {called} of {len(rows)} called myeloblast, {flagged} flagged, {silent} silently something else")
        pg.screenshot(path=str(shots/f"predict_shifted_myeloblast_{name.replace(' ', '_')}.png"), full_page=True)
    b.close()
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(out, indent=1))
print(f"-> {a.out}")
