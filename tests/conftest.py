"""Shared fixtures: a tiny synthetic cohort and a tiny run store, built once per test session.

Under `pytest -n 2` (what `make test` runs) the workers share them: the first worker to ask builds one in the common
temporary folder under a file lock, the other waits for it and reads it (the same files, so the same paths in every run).
"""
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')   # an accidental hub call fails fast
from pathlib import Path
import pandas as pd, pytest
from filelock import FileLock


def built_once(tmp_path_factory, name:str, build)->Path:
    "The folder `name`, made by `build(folder)` once for all pytest workers of this session (a marker says it finished)."
    worker = os.environ.get('PYTEST_XDIST_WORKER')
    root = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()   # xdist: the workers' common parent
    d, done = root/f'shared-{name}', root/f'shared-{name}.done'
    with FileLock(str(root/f'shared-{name}.lock')):
        if not done.exists():
            if d.exists(): import shutil; shutil.rmtree(d)   # a build that failed half-way in another worker
            d.mkdir(); build(d); done.touch()
    return d


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
    return built_once(tmp_path_factory, 'real', lambda d: write_real_cells(d/'blood9'))/'blood9'


@pytest.fixture(scope='session')
def cohort_dir(tmp_path_factory):
    from aml_nb.synth import generate_cohort
    return built_once(tmp_path_factory, 'cohort', lambda d: generate_cohort(d, n_patients=15, cells_per_patient=6, cell_px=32, progress=False))


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
    return built_once(tmp_path_factory, 'runs', lambda d: _build_run_store(d, cohort, real_small))


def _build_run_store(d:Path, cohort, real_small):
    from aml_nb.experiments import compare, ablate
    from aml_nb.fusion import fuse_run
    from aml_nb.mil import mil_run
    compare(cohort, d/'compare', 'quick', progress=False, **TINY)
    ablate(cohort, d/'ablation', 'convnext_atto', 'quick', ['no_mixup', 'no_balance'], progress=False, **TINY)
    fuse_run(d/'compare'/'convnext_atto-s0', cohort.attrs['root'] + '/patients.csv', epochs=5, subsets=2, progress=False)
    mil_run(d/'compare'/'resnet18-s0', epochs=5, progress=False)
    compare(real_small, d/'real', 'quick', archs=['resnet18'], progress=False,   # fp32: 3 epochs on 360 cells make a model whose answers the tests below pin down
            **(TINY | dict(img_size=64, epochs=3, batch_size=32, precision='fp32')))
    from aml_nb.synth import generate_cohort   # a synthetic-cohort model at the demo's 64 px that has learnt something (the OOD tests)
    from aml_nb.data import split_table
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    t = split_table(generate_cohort(d.parent/'cohort64', n_patients=30, cells_per_patient=10, cell_px=64, progress=False), seed=0)
    run_experiment(t, TrainConfig('resnet18', img_size=64, epochs=3, batch_size=32, workers=0), d/'synthetic64'/'resnet18-s0', progress=False)


def worker_port(port:int)->int:
    "A dashboard port of this pytest worker's own (`pytest -n 2`: gw1 starts 100 above gw0), so that two servers never race for one."
    return port + 100 * int(os.environ.get('PYTEST_XDIST_WORKER', 'gw0')[2:] or 0)
