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
