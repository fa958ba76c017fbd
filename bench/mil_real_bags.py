"""Does attention MIL find the blasts in real cells? Bags made of blood9 cells.

    python bench/mil_real_bags.py RUN OUT.json

RUN is a finished real-cell run (e.g. `make demo`'s runs/demo/real/resnet10t-s0); its model embeds every cell once.
A "patient" is a bag of 30 cells: a leukaemic one holds k myeloblasts (k = 3, then 2) among normal white cells
(neutrophils, lymphocytes, monocytes, eosinophils, basophils, immature granulocytes), a normal one only normal
cells. Bags for training draw from the training split's cells, bags for testing from the test split's, so no test
cell was ever seen by the cell model or the MIL model. Reported: patient-level balanced accuracy of MIL (one
attention head) and of a logistic regression on the mean embedding of the bag (the plain average), and the share of
attention the MIL model puts on the myeloblasts of leukaemic test bags, against their share of cells.
"""
import json, sys, time
from pathlib import Path
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from aml_nb.infer import Predictor
from aml_nb.mil import MILNet, Bags, fit_mil, predict_mil
from aml_nb.store import run_cells

NORMAL = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil', 'ig']

def make_bags(labels, n_bags, k_blasts, size=30, seed=0):
    "Rows of cells per bag, bag labels (1 = leukaemic), and which rows are blasts."
    rng = np.random.default_rng(seed); labels = np.asarray(labels)
    blasts, normal = np.flatnonzero(labels == 'myeloblast'), np.flatnonzero(np.isin(labels, NORMAL))
    rows, y = [], []
    for b in range(n_bags):
        sick = b % 2; k = k_blasts if sick else 0
        rows.append(np.concatenate([rng.choice(blasts, k, replace=False), rng.choice(normal, size - k, replace=False)])); y.append(sick)
    return rows, np.array(y)

def to_bags(emb, rows, y):
    "Bags over the stacked embeddings of the bags' cells (a cell may sit in several bags)."
    idx = np.concatenate(rows); pid = np.repeat(np.arange(len(rows)), [len(r) for r in rows])
    return Bags(emb[idx], [f'p{i}' for i in pid], {f'p{i}': int(v) for i, v in enumerate(y)})

if __name__ == '__main__':
    run, out = Path(sys.argv[1]), Path(sys.argv[2]); t0 = time.time()
    t = run_cells(run); pr = Predictor.from_run(run, workers=0)
    emb, _ = pr.embed_paths(t.path.tolist(), progress=False); emb = emb.astype(np.float32)
    res = []
    for k in (3, 2):
        split_emb = {s: (emb[(t.split == s).values], t.label[t.split == s].values) for s in ('train', 'val', 'test')}
        bags = {s: make_bags(lab, n, k, seed=i) for i, (s, n) in enumerate([('train', 240), ('val', 60), ('test', 200)]) for lab in [split_emb[s][1]]}
        B = {s: to_bags(split_emb[s][0], *bags[s]) for s in bags}
        net = MILNet(emb.shape[1], 2, heads='single')
        fit_mil(net, B['train'], B['val'], epochs=60, seed=0, device='cpu', progress=False)
        prob, att = predict_mil(net, B['test'], device='cpu')
        ytest = bags['test'][1]
        mean = lambda s: np.stack([split_emb[s][0][r].mean(0) for r in bags[s][0]])
        lr = LogisticRegression(max_iter=2000).fit(mean('train'), bags['train'][1])
        lab_test = split_emb['test'][1]
        share = [float(a[:, 0][lab_test[r] == 'myeloblast'].sum()) for a, r, yy in zip(att, bags['test'][0], ytest) if yy]
        row = dict(blasts_per_bag=k, bag_size=30, blast_share_of_cells=k / 30, train_bags=240, test_bags=200,
                   mil_balanced_accuracy=float(balanced_accuracy_score(ytest, prob.argmax(1))),
                   mean_embedding_balanced_accuracy=float(balanced_accuracy_score(ytest, lr.predict(mean('test')))),
                   attention_on_blasts_mean=float(np.mean(share)), attention_on_blasts_min=float(np.min(share)))
        print(json.dumps(row), flush=True); res.append(row)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(run=str(run), seconds=round(time.time() - t0, 1), results=res), indent=1))
