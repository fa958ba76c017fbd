"""Issue 42's second probe: where bf16 changes the shipped model's answers on CPU, and which mixes keep them.

    python bench/cpu_bf16_mixed.py [--out bench/results/cpu_bf16/mixed.json]

The shipped reference model (ResNet10-T, 80 px, its gate), installed into a scratch store, scores its 740 built-in
test cells through the Predictor's decode at its resolution, in fp32 and in these mixes (bf16 under
`torch.autocast('cpu', torch.bfloat16)`, channels_last):
- `bf16`: everything in bf16, the gate's views as they come out;
- `bf16, input views fp32`: the views the gate reads from the input itself (`pixels`, `size`) computed outside autocast;
- `fp32 stem, bf16 rest, input views fp32`: also the stem convolution (`conv1`, the first layer the image meets) in fp32;
- `fp32 stem+layer1, bf16 rest, input views fp32`.
For each: the share of cells with the same class and the same gate flag as fp32, the balanced accuracy, the share
flagged, and the time of the whole pass against fp32's. Issue 42's targets: same class >= 99.5%, same flag >= 99%,
balanced accuracy within 0.005. Layers are put in fp32 by wrapping their forward (a probe, not the package's way).
"""
import argparse, json, shutil, tempfile, time
from pathlib import Path
import numpy as np, torch
from aml_nb.data import write_real_cells
from aml_nb.reference_model import install_reference
from aml_nb.infer import Predictor
from aml_nb.evaluate import read_predictions, balanced_accuracy
from aml_nb.gate import VIEWS, view_features
from aml_nb.models import model_norm

a = argparse.ArgumentParser(); a.add_argument('--out', default='bench/results/cpu_bf16/mixed.json'); a = a.parse_args()
work = Path(tempfile.mkdtemp(prefix='aml_nb_mixed_'))
try:
    cells = write_real_cells(work/'real'); run = install_reference(work/'runs'/'ref', cells.attrs['root'])
    pr = Predictor.from_run(run, workers=0, device='cpu'); t = read_predictions(run/'predictions.csv'); m = pr.model
    px = t.pixel_um.where(t.pixel_um_assumed == 0).tolist()
    batches = [xb for xb, _, _ in pr.cell_batches(t.path.tolist(), pixel_um=px)]
    y = t.label.map({c: i for i, c in enumerate(pr.classes)}).to_numpy()
    mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in model_norm(m))

    def in_fp32(mod):
        "Run `mod` in float32 whatever autocast says."
        f = mod.forward
        def fwd(x, *r, **k):
            with torch.autocast('cpu', enabled=False): return f(x.float(), *r, **k)
        mod.forward = fwd

    @torch.inference_mode()
    def score(bf16:bool, input_views_fp32:bool=False):
        probs, flags, t0 = [], [], time.perf_counter()
        m.to(memory_format=torch.channels_last if bf16 else torch.contiguous_format)
        for xb in batches:
            x = pr._to_device(xb)
            if bf16: x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast('cpu', torch.bfloat16, enabled=bf16):
                f, e = view_features(m, x); p = m.get_classifier()(e).float().softmax(-1)
            if input_views_fp32:   # the views of the input itself, outside autocast
                rgb = (x * std + mean).clamp(0, 1)
                f |= {k: v.take(rgb if v.rgb else x, e.float(), None) for k, v in VIEWS.items() if v.tap is None and k != 'embedding'}
            s = pr.gate.score({k: v.float().numpy() for k, v in f.items()})
            probs.append(p.numpy()); flags.append(s > pr.gate.threshold)
        return np.concatenate(probs), np.concatenate(flags), time.perf_counter() - t0

    p32, f32, t32 = score(False); rows = []
    def report(name, p, f, tt):
        r = dict(mix=name, same_class=round(float((p.argmax(1) == p32.argmax(1)).mean()), 4), same_flag=round(float((f == f32).mean()), 4),
                 bal_acc=round(float(balanced_accuracy(y, p.argmax(1))), 4), bal_acc_fp32=round(float(balanced_accuracy(y, p32.argmax(1))), 4),
                 flagged=round(float(f.mean()), 4), flagged_fp32=round(float(f32.mean()), 4), speedup=round(t32 / tt, 2))
        print(r, flush=True); rows.append(r)
    score(True)   # a warm-up of the bf16 kernels
    report('bf16', *score(True))
    report('bf16, input views fp32', *score(True, True))
    in_fp32(m.conv1); report('fp32 stem, bf16 rest, input views fp32', *score(True, True))
    in_fp32(m.layer1); report('fp32 stem+layer1, bf16 rest, input views fp32', *score(True, True))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(dict(run='shipped reference (resnet10t, 80 px)', cells=len(t), fp32_seconds=round(t32, 2), mixes=rows), indent=1))
    print('->', a.out)
finally:
    shutil.rmtree(work, ignore_errors=True)
