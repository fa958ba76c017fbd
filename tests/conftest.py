"Shared fixtures: a tiny synthetic cohort and a tiny run store, built once per test session."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')   # an accidental hub call fails fast
from pathlib import Path
import pandas as pd, pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent/'shared'/'data'


@pytest.fixture(scope='session')
def shared():
    "The full-resolution and LMU-format samples beside the checkout (../shared/data); tests that need them skip without it."
    if not SHARED.exists(): pytest.skip(f"{SHARED} is not here (a fresh clone): this test needs the full-resolution or LMU-format samples")
    return SHARED


@pytest.fixture(scope='session')
def real_cells(tmp_path_factory):
    "The built-in real cells (blood9 at 80 px, shipped with aml_nb), written out as pre-split class folders."
    from aml_nb.data import write_real_cells
    d = tmp_path_factory.mktemp('real')/'blood9'
    write_real_cells(d)
    return d


@pytest.fixture(scope='session')
def cohort_dir(tmp_path_factory):
    from aml_nb.synth import generate_cohort
    d = tmp_path_factory.mktemp('cohort')
    generate_cohort(d, n_patients=15, cells_per_patient=6, cell_px=32, progress=False)
    return d


@pytest.fixture(scope='session')
def cohort(cohort_dir):
    from aml_nb.synth import read_cohort
    from aml_nb.data import split_table
    return split_table(read_cohort(cohort_dir), seed=0)


TINY = dict(img_size=32, epochs=1, batch_size=16, workers=0)


@pytest.fixture(scope='session')
def real_small(real_cells):
    "A small subset of the built-in real cells (per class: 40 train, 10 validation, 10 test), as a split CellTable."
    from aml_nb.data import read_cells
    t = read_cells(real_cells, validate=False)
    keep = pd.concat([g.head(dict(train=40, val=10, test=10)[s]) for (s, _), g in t.groupby(['split', 'label'])])
    keep.attrs = t.attrs
    return keep


@pytest.fixture(scope='session')
def run_store(tmp_path_factory, cohort, real_small):
    "A run store like `make demo` writes, at toy scale: a synthetic comparison, an ablation, a genomic fusion and MIL; a real-cell model."
    from aml_nb.experiments import compare, ablate
    from aml_nb.multimodal import fuse_run
    from aml_nb.mil import mil_run
    d = tmp_path_factory.mktemp('runs')
    compare(cohort, d/'compare', 'quick', progress=False, **TINY)
    ablate(cohort, d/'ablation', 'convnext_atto', 'quick', ['no_mixup', 'no_balance'], progress=False, **TINY)
    fuse_run(d/'compare'/'convnext_atto-s0', cohort.attrs['root'] + '/patients.csv', epochs=5, bags=2, progress=False)
    mil_run(d/'compare'/'resnet18-s0', epochs=5, progress=False)
    compare(real_small, d/'real', 'quick', archs=['resnet18'], progress=False, **(TINY | dict(img_size=64, epochs=3, batch_size=32)))
    from aml_nb.synth import generate_cohort   # a synthetic-cohort model at the demo's 64 px that has learnt something (the OOD tests)
    from aml_nb.data import split_table
    from aml_nb.experiments import run_experiment
    from aml_nb.train import TrainConfig
    t = split_table(generate_cohort(d.parent/'cohort64', n_patients=30, cells_per_patient=10, cell_px=64, progress=False), seed=0)
    run_experiment(t, TrainConfig('resnet18', img_size=64, epochs=3, batch_size=32, workers=0), d/'synthetic64'/'resnet18-s0', progress=False)
    return d
