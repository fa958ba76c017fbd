"The synthetic cohort: determinism, layout round trip, masks, prevalences."
import numpy as np, pandas as pd
from PIL import Image
from aml_nb.synth import generate_cohort, SUBTYPES, sample_patients, sample_genomics, MUTATION_RATES
from aml_nb.data import read_cells


def test_same_seed_same_bytes(tmp_path):
    a = generate_cohort(tmp_path/'a', n_patients=15, cells_per_patient=2, cell_px=32, progress=False)
    b = generate_cohort(tmp_path/'b', n_patients=15, cells_per_patient=2, cell_px=32, progress=False)
    for p, q in zip(a.path, b.path): assert open(p, 'rb').read() == open(q, 'rb').read()
    assert (tmp_path/'a'/'patients.csv').read_bytes() == (tmp_path/'b'/'patients.csv').read_bytes()
    c = generate_cohort(tmp_path/'c', n_patients=15, cells_per_patient=2, cell_px=32, seed=1, progress=False)
    assert open(a.path[0], 'rb').read() != open(c.path[0], 'rb').read()


def test_round_trip_through_the_patient_reader(cohort_dir):
    t = read_cells(cohort_dir)
    assert t.attrs['layout'] == 'patients' and t.attrs['report'] == []
    pts = t.groupby('patient_id').label.first().value_counts()
    assert set(pts.index) == set(SUBTYPES) and pts.sum() == 15 and pts.min() >= 3
    assert t.groupby('patient_id').size().eq(6).all()
    assert t[['sex', 'age', 'site']].notna().all().all()


def test_masks_align_with_cells(cohort_dir):
    t = read_cells(cohort_dir)
    for p, m in zip(t.path[:20], t.mask_path[:20]):
        im, mk = np.asarray(Image.open(p)).astype(float), np.asarray(Image.open(m))
        assert mk.shape == im.shape[:2] and set(np.unique(mk)) <= {0, 1, 2}
        assert im[mk == 2].mean() < im[mk == 0].mean() - 30   # the stained nucleus is darker than the background
        assert (mk[mk.shape[0] // 2 - 2:mk.shape[0] // 2 + 2, mk.shape[1] // 2 - 2:mk.shape[1] // 2 + 2] > 0).mean() > .5   # cell is central


def test_genomic_prevalences_within_sampling_error():
    pts = sample_patients(3000, seed=5)
    g = pts.merge(sample_genomics(pts, seed=5), on='patient_id')
    for s in SUBTYPES:
        sub = g[g.subtype == s]
        for m in ('FLT3_ITD', 'KIT', 'DNMT3A'):
            obs, n, p = sub[m].mean(), sub[m].notna().sum(), MUTATION_RATES[s][m]
            assert abs(obs - p) <= 4 * np.sqrt(p * (1 - p) / n) + 1e-9, (s, m, obs, p)
    assert g.wbc.isna().mean() > .1   # realistic missingness
