"""A view of the gate, a model family and a data layout are each one entry in one registry (issue 30): each test
registers a toy entry and uses it through the paths a user runs (training, the gate, tuning, the CLI), editing
nothing else."""
import contextlib, io
from pathlib import Path
import numpy as np, pandas as pd, torch
from PIL import Image
from conftest import TINY


def test_a_gate_view_is_one_entry(monkeypatch, cohort, tmp_path):
    from aml_nb.gate import VIEWS, View, Gate
    from aml_nb.infer import Predictor
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    monkeypatch.setitem(VIEWS, 'brightness', View(lambda x, e, t: x.float().mean((2, 3))))   # toy view: each cell's mean colour
    run_experiment(cohort, TrainConfig(arch='resnet18', **TINY), tmp_path/'run', progress=False)
    gate = Gate.load(tmp_path/'run')
    assert set(gate.means) == {'embedding', 'middle', 'pixels', 'size', 'brightness'} and gate.means['brightness'].shape == (1, 3)   # one Gaussian
    p = Predictor.from_run(tmp_path/'run', workers=0)
    cells = torch.stack([p.transform(Image.open(f).convert('RGB')) for f in cohort.path[:4]])
    feats, _ = p.gate_features(cells)
    d = gate.distances(feats)
    assert d['brightness'].shape == (4,) and np.isfinite(d['brightness']).all()   # scored like every other view
    gate.scale['brightness'] /= 1e6   # the toy view alone now puts every cell far away...
    assert gate.flag(feats).all()     # ...and the gate flags them: the view counts in the score


def test_a_model_family_is_one_entry(cohort, tmp_path):
    from aml_nb.models import FAMILIES, Family, family, cam_target_layers
    from aml_nb.tune import search_space, check_space, COMMON
    from aml_nb.experiments import run_experiment
    from aml_nb.recipe import TrainConfig
    toy = Family('mobilenet', ('mobilenetv3_',), ((32, lambda m: m.blocks[-1]),), lambda m: m.blocks[2], search=(('lr', 1e-3, 1e-2),))
    FAMILIES.append(toy)
    try:
        assert family('mobilenetv3_small_050') is toy
        space = search_space('mobilenet'); check_space(space)
        assert [(q.low, q.high) for q in space if q.name == 'lr'] == [(1e-3, 1e-2)] and len(space) == len(COMMON)
        r = run_experiment(cohort, TrainConfig(arch='mobilenetv3_small_050', **TINY), tmp_path/'run', progress=False, explain=2)
        assert 0 <= r['metrics']['cell']['balanced_accuracy'] <= 1
        assert (tmp_path/'run'/'ood.json').exists() and (tmp_path/'run'/'explain.json').exists()   # its gate and its Grad-CAM
    finally:
        FAMILIES.remove(toy)


def test_a_data_layout_is_one_entry(monkeypatch, cohort, tmp_path):
    from aml_nb.data import READERS, cell_table, read_cells
    from aml_nb.cli import main
    def read_cell_list(root, validate=True):   # toy layout: a cells.csv of file names and labels
        t = pd.read_csv(Path(root)/'cells.csv')
        return cell_table([dict(path=str(Path(root)/f), label=l) for f, l in zip(t.file, t.label)])
    monkeypatch.setitem(READERS, 'cell_list', read_cell_list)
    (tmp_path/'cells.csv').write_text('file,label\n' + ''.join(f'{f},{l}\n' for f, l in zip(cohort.path[:6], cohort.label[:6])))
    t = read_cells(tmp_path, 'cell_list', validate=False)
    assert t.label.tolist() == cohort.label[:6].tolist() and t.attrs['layout'] == 'cell_list'
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(['data', 'summarize', str(tmp_path), '--layout', 'cell_list'])   # the CLI accepts it at once
    assert code == 0 and '6 cells' in out.getvalue()
