"The README documents what the code does."
from pathlib import Path

README = (Path(__file__).resolve().parent.parent/'README.md').read_text()


def test_readme_shows_the_genomic_schema_in_force():
    from aml_nb.genomics import schema_table
    assert schema_table().to_markdown(index=False) in README   # regenerate the README table when the schema changes


def test_readme_names_every_subcommand():
    from aml_nb.cli import parser
    sub = next(a for a in parser()._actions if a.dest == 'cmd')
    missing = [c for c in sub.choices if f'aml-nb {c}' not in README]
    assert not missing, missing


def test_chapters_use_only_earlier_chapters():
    "Each module imports only modules of earlier notebooks (the README's layers), at the top or inside a function."
    import ast, re
    root = Path(__file__).resolve().parent.parent
    order = {re.sub(r'^\d+_', '', p.stem): int(p.stem[:2]) for p in (root/'nbs').glob('[0-9][0-9]_*.ipynb')}
    later = []
    for m, n in order.items():
        for node in ast.walk(ast.parse((root/'aml_nb'/f'{m}.py').read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                dep = node.module.removeprefix('aml_nb.').lstrip('.') if node.level or node.module.startswith('aml_nb') else None
                if dep in order and order[dep] >= n: later.append(f'{m} ({n:02d}) imports {dep} ({order[dep]:02d})')
    assert len(order) >= 18 and not later, later


def _chapters():
    "Each notebook's cells as (kind, source)."
    import json
    root = Path(__file__).resolve().parent.parent
    for p in sorted((root/'nbs').glob('[0-9][0-9]_*.ipynb')):
        yield p.stem, [(c['cell_type'], ''.join(c['source'])) for c in json.loads(p.read_text())['cells']]


# Definitions whose example cannot run in a notebook, and where it runs instead.
RUN_ELSEWHERE = {('25_demo', 'run_demo'): 'bench/demo_first_minute.py (the whole job, timed, from a fresh clone)',
                 ('28_browser', 'settle'): 'tests/test_browser.py and tests/test_trust.py (a real Chromium)'}


def test_every_definition_is_followed_by_an_example_that_uses_it():
    "Each chapter alternates a definition and its example: after every exported definition, before the next, a code cell that names it."
    import re
    missing = []
    for name, cells in _chapters():
        for i, (kind, src) in enumerate(cells):
            if kind != 'code' or not src.startswith('#| export'): continue
            defs = re.findall(r'^(?:def|class) (\w+)', src, re.M)
            if not defs or (name, defs[0]) in RUN_ELSEWHERE: continue
            defined = set(defs) | set(re.findall(r'^([A-Za-z_]\w*)\s*=', src, re.M))   # a registry made in the same cell counts (FAMILIES, VIEWS)
            examples = []
            for k, s in cells[i + 1:]:
                if k == 'code' and s.startswith('#| export'): break
                if k == 'code' and not s.startswith('#|'): examples.append(s)
            names = set(re.findall(r'\w+', '\n'.join(examples)))
            commands = all(d.startswith(('cmd_', '_')) for d in defs)   # CLI commands run by name (`run('train', ...)`); a cell of private helpers is shown through their caller
            if not examples or not (commands or names & defined): missing.append(f"{name}: {', '.join(defs)}")
    assert not missing, missing
