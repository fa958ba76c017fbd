"""`make demo` as a new user meets it: how soon the dashboard answers with a real-cell model, a real cell's first answer
in Chromium while the rest trains, the Home page's progress moving, and the comparison appearing on Compare without a
restart of the server; then the whole demo's time.

    python bench/demo_first_minute.py [OUT.json] [--repo DIR] [--port 8700]

Run it in a fresh clone after `make install` (REPO defaults to the current folder; its `runs/demo` and `data/` must not
exist yet for a first-run figure). It starts `.venv/bin/aml-nb demo` there, as `make demo` does, and stops it (Ctrl-C,
as a user would) once the demo is complete and the checks are done. Targets (issue 31): the dashboard with a real-cell
model within 60 s; the demo complete within 15 min on 2 cores.
"""
import argparse, json, os, re, signal, subprocess, sys, time
from pathlib import Path


def main():
    a = argparse.ArgumentParser(); a.add_argument('out', nargs='?', default='bench/results/demo_cpu/first_minute.json')
    a.add_argument('--repo', default='.'); a.add_argument('--port', type=int, default=8700); a = a.parse_args()
    repo, out = Path(a.repo).resolve(), Path(a.out).resolve(); out.parent.mkdir(parents=True, exist_ok=True)
    log = out.with_suffix('.log'); res = dict(repo=str(repo), cpus=len(os.sched_getaffinity(0)))
    t0 = time.time(); mark = lambda k: res.__setitem__(k, round(time.time() - t0, 1)) or print(f"{k}: {res[k]} s", flush=True)
    demo = subprocess.Popen([str(repo/'.venv/bin/aml-nb'), 'demo', '--port', str(a.port)], cwd=repo, stdout=open(log, 'w'),
                            stderr=subprocess.STDOUT, start_new_session=True)
    text = lambda: log.read_text(errors='replace')
    try:
        while not (m := re.search(r'aml_nb dashboard: (http://\S+)', text())):
            if demo.poll() is not None: raise SystemExit(f"the demo ended before the dashboard started:\n{text()[-3000:]}")
            time.sleep(.2)
        url = m[1]; mark('dashboard_url_printed_s')
        from playwright.sync_api import sync_playwright
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=os.environ.get('AML_NB_CHROMIUM', '/usr/bin/chromium'), args=['--no-sandbox', '--headless'])
            pg = b.new_context(viewport={'width': 1400, 'height': 2000}).new_page(); pg.set_default_timeout(120_000)
            pg.goto(f'{url}/Predict'); pg.get_by_text('Test balanced accuracy').first.wait_for(); mark('predict_page_with_a_model_s')
            cell = sorted((repo/'data'/'real'/'test'/'myeloblast').glob('*.png'))[0]
            pg.locator("input[type='file']").set_input_files(str(cell))
            pg.get_by_test_id('stImage').nth(1).wait_for(); pg.get_by_text('heatmap').first.wait_for(); mark('first_cell_answered_s')
            body = pg.inner_text('body'); res['first_cell'] = dict(file=cell.name, says=[l for l in body.splitlines() if l.startswith(('myeloblast', 'unlike', 'This run'))][:4],
                                                                   gate='out-of-distribution' in body or 'unlike the cells' in body or 'gate' in body)
            pg.screenshot(path=str(out.with_name('first_cell.png')), full_page=True)
            seen = []
            pg.goto(url)
            while '== done in' not in text():
                if demo.poll() is not None: raise SystemExit(f"the demo failed:\n{text()[-3000:]}")
                m = re.search(r'The demo is computing step (\d+) of (\d+).*?(\d+)% done', pg.inner_text('body'), re.S)
                if m and (not seen or seen[-1][1:] != (int(m[1]), int(m[3]))): seen.append((round(time.time() - t0), int(m[1]), int(m[3])))
                time.sleep(10)
            mark('demo_complete_s'); res['home_progress'] = seen   # (seconds, step, % done) as the Home page showed them
            res['demo_clock'] = re.findall(r'== done in (\S+)', text())[-1]
            pg.goto(f'{url}/Compare'); pg.get_by_text('convnext_atto').first.wait_for(); mark('comparison_on_compare_s')
            res['steps'] = re.findall(r'== (\d+/\d+ .*?) \(elapsed (\S+),', text())
            b.close()
    finally:
        try:
            os.killpg(demo.pid, signal.SIGINT)   # Ctrl-C, as a user stops it
            demo.wait(60)
        except ProcessLookupError: pass   # it had ended
        except subprocess.TimeoutExpired: os.killpg(demo.pid, signal.SIGKILL)
        res['left_running'] = subprocess.run(['pgrep', '-f', f'server.port {a.port}'], capture_output=True, text=True).stdout.split()   # servers that outlived it
        res['exit_code'] = demo.returncode
        out.write_text(json.dumps(res, indent=1)); print(json.dumps(res, indent=1))


if __name__ == '__main__': main()
