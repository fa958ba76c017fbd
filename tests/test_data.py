"Readers on the real samples, every bad-input case, and split properties."
import numpy as np, pandas as pd, pytest
from PIL import Image
from aml_nb.data import read_cells, read_class_folders, read_lmu, read_patient_folders, split_table, split_hash, detect_layout, summarize
from aml_nb.image_files import load_rgb
from aml_nb.images import CellDataset, cell_transforms


def test_blood9_presplit(real_cells):
    t = read_cells(real_cells)
    assert t.attrs['layout'] == 'folders' and t.attrs['report'] == []
    assert t.split.value_counts().to_dict() == {'train': 2830, 'test': 740, 'val': 360}
    assert t.label.nunique() == 9 and (t[t.split == 'train'].label == 'myeloblast').sum() == 80
    assert split_table(t) is t   # a pre-split collection keeps its split


def test_blood9_fullres_and_dataset(shared):
    t = read_class_folders(shared/'blood9_fullres')
    assert len(t) == 54 and t.split.isna().all()
    ds = CellDataset(t, sorted(t.label.unique()), cell_transforms(64, train=True))
    x, y = ds[0]
    assert x.shape == (3, 64, 64) and y == 0


def test_lmu_real_format(shared):
    t = read_lmu(shared/'lmu_sample')
    assert t.label.value_counts().to_dict() == {'myeloblast': 5, 'segmented neutrophil': 5}
    assert all(Image.open(p).size == (400, 400) for p in t.path)
    raw = read_lmu(shared/'lmu_sample', readable=False)
    assert set(raw.label) == {'MYO', 'NGS'}
    with pytest.raises(ValueError, match='only 1 class'): read_lmu(shared/'lmu_sample', annotation='reannotation_2')


def test_lmu_unc_and_unlisted(tmp_path):
    for c in ('MYO', 'NGS'): (tmp_path/c).mkdir()
    for n in ('MYO/MYO_1.tiff', 'MYO/MYO_2.tiff', 'NGS/NGS_1.tiff', 'NGS/NGS_2.tiff'): Image.new('RGB', (8, 8)).save(tmp_path/n)
    (tmp_path/'annotations.dat').write_text('MYO/MYO_1.tiff MYO nan nan\nNGS/NGS_1.tiff NGS UNC NGS\nMYO/MYO_2.tiff MYO MYO nan\n')
    t = read_lmu(tmp_path)
    assert sorted(t.label) == ['myeloblast', 'myeloblast', 'segmented neutrophil']
    probs = {r['problem'] for r in t.attrs['report']}
    assert probs == {'image not listed in annotations.dat'}
    with pytest.raises(ValueError, match='only 1 class'): read_lmu(tmp_path, annotation='reannotation_1')
    (tmp_path/'annotations.dat').write_text('MYO/MYO_1.tiff MYO\n')
    with pytest.raises(ValueError, match='line 1: expected 4 fields'): read_lmu(tmp_path)


def _folders(root, n=3):
    for c in ('a', 'b'):
        (root/c).mkdir(parents=True)
        for i in range(n): Image.fromarray(np.full((16, 16, 3), 40 * i, np.uint8)).save(root/c/f'{i}.png')


@pytest.mark.parametrize('name,content,problem', [
    ('zero.png', b'', 'empty file'),
    ('text.jpg', b'definitely not a jpeg', 'not an image'),
    ('trunc.png', 'TRUNC', 'corrupt or truncated'),
    ('bomb.png', 'BOMB', 'image too large'),
])
def test_bad_files_are_reported_by_name(tmp_path, name, content, problem):
    _folders(tmp_path)
    if content == 'TRUNC':
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(tmp_path/'a'/name)
        b = (tmp_path/'a'/name).read_bytes(); (tmp_path/'a'/name).write_bytes(b[:len(b) // 2])
    elif content == 'BOMB':
        Image.new('1', (20000, 20000)).save(tmp_path/'a'/name)   # 400 Mpx, tiny on disk
    else: (tmp_path/'a'/name).write_bytes(content)
    t = read_class_folders(tmp_path)
    assert len(t) == 6   # the good files are all kept
    [r] = t.attrs['report']
    assert r['path'].endswith(name) and problem in r['problem'] and r['action'] == 'skipped'
    with pytest.raises(ValueError, match=name): load_rgb(tmp_path/'a'/name)


def test_empty_class_single_class_and_duplicates(tmp_path):
    _folders(tmp_path); (tmp_path/'empty').mkdir()
    t = read_class_folders(tmp_path)
    assert t.attrs['report'][0]['problem'] == 'empty class folder (no images)'
    single = tmp_path/'single'; (single/'x').mkdir(parents=True); Image.new('RGB', (4, 4)).save(single/'x'/'1.png')
    with pytest.raises(ValueError, match='only 1 class'): read_class_folders(single)
    from aml_nb.data import validate_table
    with pytest.raises(ValueError, match='duplicate path'): validate_table(pd.concat([t, t.iloc[:1]]))


def test_metadata_missing_and_extra_patients(cohort_dir, tmp_path):
    pt = pd.read_csv(cohort_dir/'patients.csv')
    bad = pd.concat([pt.iloc[1:], pd.DataFrame([dict(patient_id='GHOST', sex='F', age=50, site='site_A')])])
    bad.to_csv(tmp_path/'meta.csv', index=False)
    t = read_patient_folders(cohort_dir, metadata=tmp_path/'meta.csv', validate=False)
    rep = {r['path']: r['problem'] for r in t.attrs['report']}
    assert 'no row in' in rep[pt.patient_id[0]] and 'has no images' in rep['GHOST']
    assert t[t.patient_id == pt.patient_id[0]].sex.isna().all() and t.sex.notna().sum() > 0
    pd.concat([pt, pt.iloc[:1]]).to_csv(tmp_path/'dup.csv', index=False)
    with pytest.raises(ValueError, match=r"dup.csv: 1 problem\(s\) in the patient table:\n  patient_id 'P0000' is in rows \[1, 16\]"): read_patient_folders(cohort_dir, metadata=tmp_path/'dup.csv')


@pytest.mark.parametrize('seed', [0, 1, 2, 3])
def test_patient_split_properties(cohort, seed):
    s = split_table(cohort, seed=seed, force=True)
    assert s.groupby('patient_id').split.nunique().max() == 1   # no patient in two splits
    assert split_hash(split_table(cohort, seed=seed, force=True)) == split_hash(s)   # same seed, same split
    assert all(set(g) == {'train', 'val', 'test'} for _, g in s.groupby('label').split)   # stratified: each subtype everywhere


def test_too_few_patients_is_a_clear_error(cohort):
    few = cohort[~cohort.patient_id.isin(cohort[cohort.label == 'PML_RARA'].patient_id.unique()[1:])]
    with pytest.raises(ValueError, match="class 'PML_RARA' has 1 patient"): split_table(few, force=True)


def test_image_modes_decode_to_rgb(tmp_path):
    modes = {'gray16.png': Image.fromarray((np.arange(256).reshape(16, 16) * 200).astype(np.uint16)),
             'rgba.png': Image.new('RGBA', (8, 8), (255, 0, 0, 128)), 'pal.bmp': Image.new('P', (8, 8)),
             'cmyk.jpg': Image.new('CMYK', (8, 8)), 'gray.tif': Image.new('L', (8, 8))}
    for n, im in modes.items():
        im.save(tmp_path/n); assert load_rgb(tmp_path/n).mode == 'RGB'


def test_summarize_cli_prints_counts_and_skips(shared, capsys):
    from aml_nb.cli import main
    assert main(['data', 'summarize', str(shared/'lmu_sample')]) == 0
    out = capsys.readouterr().out
    assert '10 cells, 2 classes' in out and '0 file(s) skipped' in out


def test_preset_files_match_the_package():
    import json
    from pathlib import Path
    from aml_nb.recipe import PRESETS, load_preset
    for name, p in PRESETS.items():
        f = Path(__file__).resolve().parent.parent/'configs'/f'{name}.json'
        assert json.loads(f.read_text()) == p and load_preset(str(f)) == load_preset(name)
