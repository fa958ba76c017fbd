"A run trained with stain normalisation applies it wherever its model sees a cell; a run's robustness is sealed and keyed to it."
import json
import numpy as np, torch, pytest
from PIL import Image
from conftest import TINY, built_once


@pytest.fixture(scope='session')
def normed_run(tmp_path_factory, real_small):
    "A tiny real-cell run trained with Reinhard stain normalisation and stain augmentation (once for all pytest workers)."
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    cfg = TrainConfig('resnet18', **(TINY | dict(img_size=48, epochs=1)), stain_norm='reinhard', stain=.5, scale_jitter=.3)
    return built_once(tmp_path_factory, 'stain', lambda d: run_experiment(real_small, cfg, d/'run', progress=False))/'run'


def _without_norm(pr):
    "The same Predictor with its stain normalisation taken away (what a path that forgot it would compute)."
    from aml_nb.images import StainNorm
    from aml_nb.infer import Predictor
    m = pr.model; saved = m.stain_norm; m.stain_norm = StainNorm()
    try: return Predictor(m, pr.classes, pr.img_size, workers=0, gate=pr.gate)
    finally: m.stain_norm = saved


def test_the_model_file_records_its_normalisation(normed_run):
    from aml_nb.models import load_model, model_stain
    m, info = load_model(normed_run/'model.safetensors')
    assert info['stain_norm']['method'] == 'reinhard' and len(info['stain_norm']['target']) == 6
    assert model_stain(m).method == 'reinhard'
    assert json.loads((normed_run/'config.json').read_text())['train']['stain_norm'] == 'reinhard'   # and the run's identity


def test_scoring_files_applies_it(normed_run, real_small):
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(normed_run, workers=0)
    cells = real_small[real_small.split == 'test'].path.tolist()[:24]
    x = next(pr.cell_batches(cells))[0]
    with_norm, without = pr.predict_tensor(x), _without_norm(pr).predict_tensor(x)
    assert not torch.allclose(with_norm, without, atol=1e-4)
    from aml_nb.images import lab_stats
    m, s = (torch.tensor(v).view(1, 3, 1, 1) for v in (pr.mean, pr.std))
    seen = pr._to_device(x) * s + m   # what the model sees, back in [0, 1]: every cell in the training cells' mean LAB colours
    assert torch.allclose(lab_stats(seen).mean(0), pr.stain_norm.target, atol=1.) and not torch.allclose(lab_stats(x.float() / 255).mean(0), pr.stain_norm.target, atol=1.)


def test_uploaded_images_get_the_same_as_files(normed_run, real_small):
    from aml_nb.infer import Predictor
    from aml_nb.image_files import load_rgb
    pr = Predictor.from_run(normed_run, workers=0)
    cells = real_small[real_small.split == 'test'].path.tolist()[:8]
    from_files = np.concatenate([pr.predict_tensor(x).numpy() for x, _, _ in pr.cell_batches(cells)])
    decoded = [load_rgb(p, decode_size=pr.decode_side()) for p in cells]   # as the Predict page decodes an upload
    uploads = pr.predict_images(decoded)
    np.testing.assert_allclose(uploads, from_files, atol=2e-3)
    assert not np.allclose(_without_norm(pr).predict_images(decoded), uploads, atol=1e-4)


def test_the_gate_reads_normalised_cells(normed_run, real_small):
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(normed_run, workers=0)
    cells = real_small[real_small.split == 'test'].path.tolist()[:16]
    f = pr.gate_paths(cells, progress=False); g = _without_norm(pr).gate_paths(cells, progress=False)
    assert not np.allclose(f['pixels'], g['pixels'], atol=1e-4) and not np.allclose(f['embedding'], g['embedding'], atol=1e-4)


def test_grad_cam_explains_the_normalised_cell(normed_run, real_small):
    from aml_nb.models import load_model
    from aml_nb.image_files import load_rgb
    from aml_nb.images import StainNorm
    from aml_nb.explain import explain_cells
    m, info = load_model(normed_run/'model.safetensors')
    ims = [load_rgb(p) for p in real_small[real_small.split == 'test'].path.tolist()[:4]]
    cams, _ = explain_cells(m, ims, img_size=info['img_size'])
    m.stain_norm = StainNorm(); cams0, _ = explain_cells(m, ims, img_size=info['img_size'])
    assert not np.allclose(cams, cams0, atol=1e-4)


def test_the_dashboard_analyses_normalised_cells(normed_run, real_small):
    from aml_nb.infer import Predictor
    from aml_nb.image_files import load_rgb
    from aml_nb.dashboard import analyse_cells
    pr = Predictor.from_run(normed_run, workers=0)
    ims = [load_rgb(p) for p in real_small[real_small.split == 'test'].path.tolist()[:4]]
    a = analyse_cells(pr, ims)
    np.testing.assert_allclose(a['probs'], pr.predict_images(ims), atol=1e-5)
    assert not np.allclose(a['probs'], analyse_cells(_without_norm(pr), ims)['probs'], atol=1e-4)


def test_fusion_and_mil_embed_through_the_predictor(normed_run, real_small):
    "Fusion and MIL embed cells with `Predictor.embed_paths`: the same normalised input as scoring."
    from aml_nb.infer import Predictor
    pr = Predictor.from_run(normed_run, workers=0)
    cells = real_small[real_small.split == 'test'].path.tolist()[:8]
    e, p = pr.embed_paths(cells, progress=False)
    np.testing.assert_allclose(p, np.concatenate([pr.predict_tensor(x).numpy() for x, _, _ in pr.cell_batches(cells)]), atol=1e-5)
    e0, _ = _without_norm(pr).embed_paths(cells, progress=False)
    assert not np.allclose(e, e0, atol=1e-4)


def test_robustness_is_written_sealed_and_keyed_to_the_run(normed_run):
    from aml_nb.store import manifest, artefact_problem
    rob = json.loads((normed_run/'robustness.json').read_text())
    assert 'robustness.json' in manifest(normed_run)['files'] and artefact_problem(normed_run) is None
    assert rob['sites'] == ['Barcelona', 'Munich'] and 1.25 < rob['site_pixel_um']['Barcelona'] / rob['site_pixel_um']['Munich'] < 1.28   # the built-in cells' two labs
    s = rob['shifts']; assert {'as_scanned', 'site_colours', 'site_colours_scale', 'pixel_size_withheld', 'stain_amount', 'blur', 'gamma', 'jpeg'} == set(s)
    assert s['as_scanned']['drop'] == 0 and 'blast' in s['site_colours'] and s['site_colours']['blast']['cls'] == 'myeloblast'
    metrics = json.loads((normed_run/'metrics.json').read_text())
    assert abs(s['as_scanned']['balanced_accuracy'] - metrics['cell']['balanced_accuracy']) < 1e-9
