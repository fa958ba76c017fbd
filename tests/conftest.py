"Shared fixtures: a tiny synthetic cohort and a tiny run store, built once per test session."
import os
os.environ.setdefault('HF_HUB_OFFLINE', '1')   # an accidental hub call fails fast
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent/'shared'/'data'


@pytest.fixture(scope='session')
def shared():
    "The real cell images beside the checkout (present on developer machines and in CI)."
    assert SHARED.exists(), f"{SHARED} is missing: the real-image tests need ../shared/data"
    return SHARED


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
def run_store(tmp_path_factory, cohort):
    "A run store like `make demo` writes, at toy scale: a comparison, an ablation and a genomic fusion."
    from aml_nb.experiments import compare, ablate
    d = tmp_path_factory.mktemp('runs')
    compare(cohort, d/'compare', 'quick', progress=False, **TINY)
    ablate(cohort, d/'ablation', 'convnext_atto', 'quick', ['no_mixup', 'no_balance'], progress=False, **TINY)
    from aml_nb.multimodal import fuse_run
    fuse_run(d/'compare'/'convnext_atto-s0', cohort.attrs['root'] + '/patients.csv', epochs=5, bags=2, progress=False)
    return d
