"""Issue 42's evidence, measured here before any code changes: does bf16 (oneDNN's AMX/AVX512-BF16 kernels, under
`torch.autocast('cpu', torch.bfloat16)`) make this CPU faster, and does it keep the answers?

    python bench/cpu_bf16_probe.py [--out bench/results/cpu_bf16/probe.json] [--runs runs/demo]

1. Speed: timm models from scratch, batch 64, median of 7 timed repeats after 2 warm-ups, images per second, for
   inference (fp32; bf16 contiguous; bf16 channels_last) and a training step (fp32; bf16 with the better layout), at
   the sides aml_nb uses (`quick`/`cpu` 64 px, the shipped model's 80 px, blood9's 128 px).
2. Answers: the shipped reference model (`aml_nb/reference`, installed into a scratch store) and, with --runs, the
   real-cell and synthetic runs of a `make demo` store: every test cell scored in fp32 and in bf16 by the same
   Predictor path (its uint8 decode and resolution), the whole of `score_tensor` under autocast -- the naive way, the
   normalisation and stain normalisation included (`bench/cpu_bf16_mixed.py` shows that part must stay in fp32) --
   and the gate's arithmetic in float32 on the features either produced. Reported: the share of cells with the same
   predicted class, the same gate flag, and the balanced accuracy of each.
"""
import argparse, json, os, platform, statistics, tempfile, time
from pathlib import Path
import numpy as np, torch, timm

a = argparse.ArgumentParser(); a.add_argument('--out', default='bench/results/cpu_bf16/probe.json'); a.add_argument('--runs')
a.add_argument('--repeats', type=int, default=7); a = a.parse_args()
flags = set(open('/proc/cpuinfo').read().split()) if Path('/proc/cpuinfo').exists() else set()
res = dict(cpu=platform.processor() or platform.machine(), threads=torch.get_num_threads(), torch=torch.__version__,
           bf16_units=sorted(flags & {'amx_bf16', 'amx_tile', 'amx_int8', 'avx512_bf16'}), speed=[], answers=[])
print(res)


def timed(fn, n):
    for _ in range(2): fn()
    ts = []
    for _ in range(n): t = time.perf_counter(); fn(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)


torch.manual_seed(0)
for arch, side in [('resnet18', 64), ('resnet10t', 80), ('resnet18', 128), ('convnext_atto', 64), ('vit_tiny_patch16_224', 64)]:
    kw = dict(img_size=side) if arch.startswith('vit') else {}
    m = timm.create_model(arch, pretrained=False, num_classes=9, **kw)
    x = torch.randn(64, 3, side, side); y = torch.randint(0, 9, (64,))
    row = dict(arch=arch, side=side)
    m.eval()
    with torch.inference_mode():
        row['infer_fp32'] = 64 / timed(lambda: m(x), a.repeats)
        with torch.autocast('cpu', torch.bfloat16):
            row['infer_bf16'] = 64 / timed(lambda: m(x), a.repeats)
            mc, xc = m.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
            row['infer_bf16_cl'] = 64 / timed(lambda: mc(xc), a.repeats)
    m = m.to(memory_format=torch.contiguous_format).train(); opt = torch.optim.AdamW(m.parameters(), 1e-3)
    def step(bf16, cl):
        mm, xx = (m.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)) if cl else (m.to(memory_format=torch.contiguous_format), x)
        def go():
            with torch.autocast('cpu', torch.bfloat16, enabled=bf16): loss = torch.nn.functional.cross_entropy(mm(xx), y)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        return 64 / timed(go, a.repeats)
    row['train_fp32'] = step(False, False); row['train_bf16'] = step(True, False); row['train_bf16_cl'] = step(True, True)
    row = {k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}
    print(row, flush=True); res['speed'].append(row)


def answers(run, tag):
    "Every test cell of `run` in fp32 and bf16 through the Predictor's path; the gate in float32 on each."
    from aml_nb.infer import Predictor
    from aml_nb.evaluate import read_predictions, balanced_accuracy
    pr = Predictor.from_run(run, workers=0, device='cpu'); t = read_predictions(Path(run)/'predictions.csv')
    px = t.pixel_um.where(t.pixel_um_assumed == 0).tolist() if 'pixel_um_assumed' in t else None
    out = {}
    for prec in ('fp32', 'bf16'):
        probs, flags = [], []
        for xb, _, err in pr.cell_batches(t.path.tolist(), pixel_um=px):
            with torch.autocast('cpu', torch.bfloat16, enabled=prec == 'bf16'):
                p, s = pr.score_tensor(xb)
            probs.append(p); flags.append(s > pr.gate.threshold if s is not None else np.zeros(len(p), bool))
        out[prec] = (np.concatenate(probs), np.concatenate(flags))
    (p32, f32), (p16, f16) = out['fp32'], out['bf16']
    y = t.label.map({c: i for i, c in enumerate(pr.classes)}).to_numpy()
    row = dict(run=tag, cells=len(t), same_class=float((p32.argmax(1) == p16.argmax(1)).mean()), same_flag=float((f32 == f16).mean()),
               max_prob_change=float(np.abs(p32 - p16).max()), bal_acc_fp32=float(balanced_accuracy(y, p32.argmax(1))),
               bal_acc_bf16=float(balanced_accuracy(y, p16.argmax(1))), flagged_fp32=float(f32.mean()), flagged_bf16=float(f16.mean()))
    row = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
    print(row, flush=True); res['answers'].append(row)


from aml_nb.data import write_real_cells
from aml_nb.reference_model import install_reference
work = Path(tempfile.mkdtemp(prefix='aml_nb_bf16_'))
try:
    cells = write_real_cells(work/'real')
    answers(install_reference(work/'runs'/'ref', cells.attrs['root']), 'shipped reference (resnet10t, 80 px)')
    if a.runs:
        from aml_nb.store import find_runs
        for r in find_runs(a.runs): answers(r, str(Path(r).relative_to(a.runs)))
finally:
    import shutil; shutil.rmtree(work, ignore_errors=True)
Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(json.dumps(res, indent=1))
print('->', a.out)
