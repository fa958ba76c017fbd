"Cells in micrometres: every path that hands a cell to a model brings it to the run's physical resolution first, from its pixel size."
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch
from PIL import Image
from conftest import TINY, built_once, ROOT
from test_app import _app


def disc(pixel_um:float, diameter_um:float=12., field:float=40.)->Image.Image:
    "A dark disc of `diameter_um` on a pale field of `field` micrometres, drawn at `pixel_um`."
    n = round(field / pixel_um); yy, xx = (np.mgrid[:n, :n] + .5) * pixel_um - field / 2
    return Image.fromarray(np.where(np.hypot(xx, yy)[..., None] <= diameter_um / 2, [90, 40, 150], [240, 225, 210]).astype(np.uint8))


def diameter_um(a:np.ndarray, um_per_px:float)->float:
    "The dark disc's equivalent diameter in micrometres, in an (H, W, 3) uint8 image."
    return 2 * np.sqrt((a[..., 1] < (40 + 225) / 2).sum() / np.pi) * um_per_px


@pytest.mark.parametrize('pixel_um', [.1, .2, .35])
def test_resampling_is_exact_on_a_disc_of_known_size(pixel_um, tmp_path):
    "A 12 µm disc drawn at three pixel sizes measures 12 µm at the run's resolution, from a file (Pillow), as a decoded tensor (the GPU path) and as a JPEG."
    from aml_nb.images import to_field, load_cell, decode_jpegs
    from torchvision.transforms import v2 as T
    im = disc(pixel_um); im.save(tmp_path/'d.png'); im.save(tmp_path/'d.jpg', quality=95)
    um = 30 / 64
    for got in (load_cell(tmp_path/'d.png', 64, pixel_um, 30.), to_field(T.functional.pil_to_tensor(im), pixel_um, 30., 64),
                load_cell(tmp_path/'d.jpg', 64, pixel_um, 30.), decode_jpegs([(tmp_path/'d.jpg').read_bytes()], 64, 'cpu', [pixel_um], 30.)[0]):
        assert got.shape == (3, 64, 64)
        assert abs(diameter_um(got.permute(1, 2, 0).numpy(), um) - 12) < .6   # within about a pixel of the model's input
    whole = load_cell(tmp_path/'d.png', 64)   # without a resolution: the whole 40 µm image resized, as runs made before did
    assert abs(diameter_um(whole.permute(1, 2, 0).numpy(), 40 / 64) - 12) < .8


@pytest.fixture(scope='session')
def res_run(run_store):
    "The toy store's real-cell run: trained on the built-in cells, whose pixel sizes are known, so at a physical resolution."
    return run_store/'real'/'resnet18-s0'


def expected_inputs(pr, paths, pixel_um):
    "The uint8 inputs `pr`'s model should get: each file brought to its resolution from `pixel_um` (the run's default where NaN)."
    from aml_nb.images import load_cell
    px = pr.pixel_sizes(pixel_um, len(paths))[0]
    return torch.stack([load_cell(p, pr.img_size, float(u), pr.resolution.field_um) for p, u in zip(paths, px)])


def test_the_run_records_its_resolution(res_run):
    from aml_nb.models import load_model, model_resolution
    c = json.loads((res_run/'config.json').read_text())['resolution']
    assert (c['field_um'], c['default_pixel_um'], c['unknown_cells']) == (29.4, .4653, 0)   # Munich's 80 px field; Barcelona's pixel size, the most common
    m, info = load_model(res_run/'model.safetensors')
    assert model_resolution(m).field_um == 29.4 and info['resolution']['default_pixel_um'] == .4653


def test_training_decodes_every_cell_at_the_resolution(real_small, tmp_path):
    "Training cells (memory loader), validation cells, and the per-cell loader's cells are each the file at the run's resolution."
    from aml_nb.train import Trainer
    from aml_nb.recipe import TrainConfig
    from aml_nb.images import decode_cells
    t = real_small.groupby(['split', 'label']).head(3); t.attrs = real_small.attrs
    tr = Trainer(TrainConfig('resnet18', **(TINY | dict(img_size=32))), t, tmp_path/'run', progress=False)
    assert tr.resolution.field_um == 29.4 and tr.memory
    train, val = t[t.split == 'train'], t[t.split == 'val']
    np.testing.assert_array_equal(tr.train_x[:6].numpy(), decode_cells(train.path[:6].tolist(), tr.augment.decode_size, pixel_um=train.pixel_um[:6], field_um=29.4).numpy())
    np.testing.assert_array_equal(tr.val_x.numpy(), decode_cells(val.path.tolist(), 32, pixel_um=val.pixel_um, field_um=29.4).numpy())
    whole = decode_cells(val.path.tolist(), 32)
    assert (tr.val_x.float() - whole.float()).abs().mean() > 5   # not the whole image resized
    from aml_nb.images import to_field, load_rgb
    shown = tr.val_ds.image(0)   # the per-cell (streaming) loader
    assert shown.size == (32, 32) and np.array_equal(np.asarray(shown), np.asarray(to_field(load_rgb(val.path.iloc[0]), val.pixel_um.iloc[0], 29.4, 32)))


def test_predict_applies_it_from_each_cells_pixel_size(res_run, real_small, tmp_path):
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(res_run, workers=0)
    cells = real_small[real_small.split == 'test'].groupby('site').head(3)
    px = {p: u for p, u in zip(cells.path, cells.pixel_um)} | {cells.path.iloc[0]: np.nan}   # one cell without its pixel size
    got = pr.predict_paths(cells.path.tolist(), tmp_path/'p.csv', progress=False, pixel_um=px).set_index('path').loc[cells.path]
    want = pr.predict_tensor(expected_inputs(pr, cells.path.tolist(), [px[p] for p in cells.path])).numpy()
    np.testing.assert_allclose(got.filter(like='p_').to_numpy(float), want, atol=1e-5)
    assert got.pixel_um_assumed.tolist() == [1] + [0] * (len(cells) - 1) and got.pixel_um.iloc[0] == pr.resolution.default_pixel_um
    munich = cells[cells.site == 'Munich'].path.tolist()
    as_barcelona = pr.predict_tensor(expected_inputs(pr, munich, [.4653] * len(munich))).numpy()
    assert not np.allclose(got.loc[munich].filter(like='p_').to_numpy(float), as_barcelona, atol=1e-3)   # its own pixel size made a difference


def _run_cli(capsys, *args):
    "`aml-nb ARGS`, in this process: (exit code, what it printed, its errors)."
    from aml_nb.cli import main
    capsys.readouterr(); code = main([str(a) for a in args]); r = capsys.readouterr()
    return code, r.out, r.err


def _folder_with_sites(real_small, d:Path, n:int=4)->tuple[list[Path], dict]:
    "`n` Munich test cells copied under names no rule knows, with a sites.csv beside them giving all but the last a pixel size."
    cells = real_small[(real_small.split == 'test') & (real_small.site == 'Munich')].head(n)
    d.mkdir(parents=True); files = []
    for i, p in enumerate(cells.path): shutil.copy(p, d/f'cell{i}.png'); files.append(d/f'cell{i}.png')
    sizes = {f'cell{i}.png': u for i, u in enumerate(cells.pixel_um[:-1])}
    pd.DataFrame(dict(path=list(sizes), site='lab M', pixel_um=list(sizes.values()))).to_csv(d/'sites.csv', index=False)
    return files, sizes


def test_predict_reads_sites_csv_beside_the_images_and_names_the_unknown(res_run, real_small, tmp_path, capsys):
    files, sizes = _folder_with_sites(real_small, tmp_path/'cells')
    code, out, err = _run_cli(capsys, 'predict', res_run, tmp_path/'cells', '--out', tmp_path/'p.csv', '--workers', 0)
    assert code == 0, err
    p = pd.read_csv(tmp_path/'p.csv').set_index('path')
    for name, u in sizes.items(): assert p.loc[str(tmp_path/'cells'/name), 'pixel_um'] == pytest.approx(u, rel=1e-5)   # read from sites.csv
    assert p.loc[str(files[-1]), 'pixel_um_assumed'] == 1 and p.pixel_um_assumed.sum() == 1
    assert '1 of 4 cells had no pixel size: each was taken to be at 0.4653 µm a pixel' in out   # named in the summary
    code, out, err = _run_cli(capsys, 'predict', res_run, tmp_path/'cells', '--out', tmp_path/'q.csv', '--workers', 0, '--pixel-um', .3675)
    assert code == 0 and 'had no pixel size' not in out and pd.read_csv(tmp_path/'q.csv').pixel_um_assumed.sum() == 0, err


def test_differential_applies_it_and_counts_the_unknown(res_run, real_small, tmp_path):
    from aml_nb.differential import write_differential
    from aml_nb.infer import Predictor
    files, sizes = _folder_with_sites(real_small, tmp_path/'cells')
    tab = write_differential(res_run, [tmp_path/'cells'], tmp_path/'d.csv', progress=False, workers=0)
    assert tab.pixel_um_assumed.iloc[0] == 1 and pd.read_csv(tmp_path/'d.csv').pixel_um_assumed.iloc[0] == 1
    pr = Predictor.from_run(res_run, workers=0)
    got = pd.read_csv(tmp_path/'d.csv.predictions.csv').set_index('path').loc[[str(f) for f in files]]
    want = pr.predict_tensor(expected_inputs(pr, files, [sizes.get(f.name, np.nan) for f in files])).numpy()
    np.testing.assert_allclose(got.filter(like='p_').to_numpy(float), want, atol=1e-5)


def test_explain_shows_what_the_model_sees(res_run, real_small, tmp_path, capsys):
    from aml_nb.models import load_model
    from aml_nb.explain import explain_cells, explained_cells
    files, sizes = _folder_with_sites(real_small, tmp_path/'cells', 2)
    code, out, err = _run_cli(capsys, 'explain', res_run, *files, '--out', tmp_path/'cams')
    assert code == 0 and '1 of 2 cells had no pixel size: each was taken to be at 0.4653' in out, err
    scores = pd.read_csv(tmp_path/'cams'/'scores.csv')
    assert scores.pixel_um_assumed.tolist() == [0, 1] and scores.pixel_um[0] == pytest.approx(sizes['cell0.png'])
    m, info = load_model(res_run/'model.safetensors')
    ims = explained_cells(m, [str(f) for f in files], info['img_size'], [sizes['cell0.png'], np.nan])
    assert all(im.size == (64, 64) for im in ims)
    want = pd.DataFrame(explain_cells(m, ims, img_size=info['img_size'])[1])
    np.testing.assert_allclose(scores[want.columns].to_numpy(float), want.to_numpy(float), atol=1e-5)


def test_the_gate_reads_cells_at_the_resolution(res_run, real_small):
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(res_run, workers=0)
    cells = real_small[real_small.split == 'val'].head(6)
    f = pr.gate_paths(cells.path.tolist(), False, pixel_um=cells.pixel_um)
    want, _ = pr.gate_features(expected_inputs(pr, cells.path.tolist(), cells.pixel_um))
    for k in f: np.testing.assert_allclose(f[k], want[k], atol=1e-4)
    assert 'size' in pr.gate.means   # and it measures the white cell's size, the guard for a wrong pixel size


def test_robustness_scores_the_runs_own_inputs_and_undoes_a_declared_scale(res_run):
    rob = json.loads((res_run/'robustness.json').read_text()); m = json.loads((res_run/'metrics.json').read_text())
    assert rob['shifts']['as_scanned']['balanced_accuracy'] == pytest.approx(m['cell']['balanced_accuracy'], abs=1e-9)   # as every path scores
    assert rob['site_pixel_um']['Barcelona'] / rob['site_pixel_um']['Munich'] == pytest.approx(1.266, abs=.01)            # the true 1.26, from pixel sizes
    assert rob['single_site']['myeloblast'] == 'Munich' and 'pixel_size_withheld' in rob['shifts']
    s = rob['shifts']   # with its pixel size given, the other lab's scale is undone: as the colours alone, up to resampling
    assert abs(s['site_colours_scale']['balanced_accuracy'] - s['site_colours']['balanced_accuracy']) < .1


@pytest.fixture(scope='session')
def patient_run(tmp_path_factory, real_cells):
    "A tiny run on real cells in the patient layout, two 'subtypes', pixel sizes from a sites.csv per site: for MIL and fusion."
    def build(d:Path):
        from aml_nb.data import read_cells, split_table
        from aml_nb.experiments import run_experiment
        from aml_nb.recipe import TrainConfig
        t = read_cells(real_cells, validate=False); rows = []
        for k, (label, site) in enumerate([('neutrophil', 'lab A'), ('lymphocyte', 'lab B')]):
            for i, p in enumerate(t[t.label == label].path[:24]):
                f = d/'cells'/f'sub{k}'/f'P{k}{i // 4}'/Path(p).name; f.parent.mkdir(parents=True, exist_ok=True); shutil.copy(p, f)
                rows.append(dict(path=f.relative_to(d/'cells').as_posix(), site=site))
        per_site = pd.DataFrame(dict(path=[None, None], site=['lab A', 'lab B'], pixel_um=[.46, .37]))
        per_file = pd.DataFrame(rows)[['path', 'site']].assign(pixel_um=np.nan)
        pd.concat([per_file, per_site]).to_csv(d/'cells'/'sites.csv', index=False)
        run_experiment(split_table(read_cells(d/'cells'), seed=0), TrainConfig('resnet18', **TINY), d/'run', progress=False)
    return built_once(tmp_path_factory, 'patients_res', build)/'run'


def test_mil_and_fusion_embed_cells_at_the_resolution(patient_run):
    from aml_nb.mil import mil_inputs
    from aml_nb.fusion import fusion_inputs
    from aml_nb.genomics import read_genomics
    from aml_nb.infer import Predictor
    inp = mil_inputs(patient_run, progress=False, device='cpu')
    t = inp['table']; assert set(t.pixel_um) == {.46, .37}
    pr = Predictor.from_run(patient_run, workers=0)
    assert pr.resolution is not None
    e, _ = pr.features_tensor(expected_inputs(pr, t.path.tolist()[:8], t.pixel_um[:8]))
    np.testing.assert_allclose(inp['emb'][:8], e.numpy(), atol=1e-4)
    g = read_genomics(pd.DataFrame(dict(patient_id=sorted(t.patient_id.unique()), FLT3_ITD=0)))
    fi = fusion_inputs(patient_run, g, progress=False, device='cpu')
    np.testing.assert_allclose(fi.emb[:8], e.numpy(), atol=1e-4)


def test_the_predict_page_asks_for_the_pixel_size_and_applies_it(monkeypatch, run_store, real_small, res_run):
    "An upload of a Munich cell, as the page's pixel size choices give it: with Munich's it is answered as that file at the run's resolution;"
    "without one, the page says it was taken to be at the default."
    from aml_nb.infer import Predictor
    cell = real_small[(real_small.split == 'test') & (real_small.label == 'myeloblast')].path.iloc[0]
    at = _app(monkeypatch, run_store, 'pages/1_Predict.py')
    assert Path(at.selectbox(key='model').value).resolve() == res_run.resolve()
    choice = at.selectbox(key='pixel_size_pick')
    assert choice.options[0].startswith('not given: taken to be at 0.4653')
    at.file_uploader(key='upload').set_value([('cell.png', Path(cell).read_bytes(), 'image/png')]).run()
    assert not at.exception, at.exception
    assert any('**1 of 1 cell(s) had no pixel size**' in w.value for w in at.warning)
    at.selectbox(key='pixel_size_pick').set_value(next(o for o in choice.options if 'Munich' in o)).run()
    assert not at.exception, at.exception
    assert not any('had no pixel size' in w.value for w in at.warning)
    assert any('sees every cell 29.4 µm across' in c.value for c in at.caption)
    pr = Predictor.from_run(res_run, workers=0)
    p = pr.predict_tensor(expected_inputs(pr, [cell], [.3675])).numpy()[0]
    top = pr.classes[int(p.argmax())]
    assert any(f"- **{top}**: {p.max():.1%}" in m.value for m in at.markdown)   # the same answer as the file at its pixel size
    assert at.session_state['pixel_size_kept'].startswith('as the training cells of Munich')   # kept for the session


def test_a_run_made_before_loads_and_predicts_as_it_did(real_cells, tmp_path):
    "The shipped real-cell model as it was before pixel sizes (tests/fixtures): no resolution, and its recorded test predictions reproduced."
    from aml_nb.reference_model import install_reference
    from aml_nb.infer import Predictor
    from aml_nb.evaluate import read_predictions, prob_matrix
    run = install_reference(tmp_path/'old', real_cells, ROOT/'tests'/'fixtures'/'run_before_resolution')
    assert 'resolution' not in json.loads((run/'config.json').read_text())
    pr = Predictor.from_run(run, workers=0)
    assert pr.resolution is None
    rec = read_predictions(run/'predictions.csv')
    got = pr.predict_paths(rec.path.tolist(), tmp_path/'now.csv', progress=False, pixel_um=.1).set_index('path').loc[rec.path]   # a pixel size changes nothing for it
    np.testing.assert_allclose(prob_matrix(got.reset_index(), pr.classes), prob_matrix(rec, pr.classes), atol=5e-3)   # its weights ship in half precision
    assert (got.predicted.to_numpy() == rec.predicted.to_numpy()).all() and 'pixel_um' not in got


def test_background_normalisation_is_idempotent_and_keeps_shapes_and_ranges(real_small):
    from aml_nb.images import StainNorm, decode_cells
    cells = decode_cells(real_small.groupby('label').head(4).path.tolist(), 48)
    sn = StainNorm.fit('background', cells)
    y = sn(cells)
    assert y.shape == cells.shape and y.dtype == torch.float32 and y.min() >= 0 and y.max() <= 1
    assert (sn(y) - y).abs().mean() < 2e-3   # a second pass changes next to nothing
    u8 = sn.apply_uint8(cells); assert u8.dtype == torch.uint8 and u8.shape == cells.shape
