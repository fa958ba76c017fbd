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
