"""Model-only GPU throughput of the Predictor (`Predictor.predict_tensor`, what `aml-nb predict`
and the dashboard run per batch) against bare timm on the same GPU, in one run: same model, batch, input size, bf16
autocast, channels_last, torch.compile. Target: Predictor >= 0.90 x bare for each model.

    python bench/model_throughput.py [--archs convnext_tiny resnet50 vit_small_patch16_224 --img-size 224 --batch-size 256]

Both sides get the same device-resident, channels_last batch; the two are timed alternately, three rounds each, and
the best round of each is kept (so that a clock ramp or a neighbour's burst does not favour either side).
"""
import argparse, json, os, platform, time
from pathlib import Path
import torch, timm

a = argparse.ArgumentParser(); a.add_argument('--archs', nargs='+', default=['convnext_tiny', 'resnet50', 'vit_small_patch16_224'])
a.add_argument('--img-size', dest='size', type=int, default=224); a.add_argument('--batch-size', type=int, default=256); a.add_argument('--iters', type=int, default=30)
a.add_argument('--no-compile', action='store_true'); a.add_argument('--device', default='cuda'); a.add_argument('--out', default='bench/results/model_gpu')
a = a.parse_args()

from aml_nb.models import create_model
from aml_nb.infer import Predictor

dev = torch.device(a.device); gpu = dev.type == 'cuda'
sync = torch.cuda.synchronize if gpu else (lambda: None)
compile_ = not a.no_compile
results = []
def save():
    "Write what has been measured so far (a run cut short keeps its finished models)."
    r = dict(results=results, size=a.size, batch_size=a.batch_size, bf16=gpu, channels_last=gpu, compiled=compile_, iters=a.iters,
             device=torch.cuda.get_device_name(0) if gpu else f'CPU, {os.cpu_count()} cores',
             versions=dict(python=platform.python_version(), torch=torch.__version__, timm=timm.__version__))
    Path(a.out).mkdir(parents=True, exist_ok=True); (Path(a.out)/'model_throughput.json').write_text(json.dumps(r, indent=1))

for arch in a.archs:
    pred = Predictor(create_model(arch, 5, img_size=a.size), [str(i) for i in range(5)], a.size, device=a.device, batch_size=a.batch_size, compile=compile_)
    bare_m = timm.create_model(arch, num_classes=5, img_size=a.size) if arch.startswith('vit') else timm.create_model(arch, num_classes=5)
    bare_m = bare_m.eval().to(dev, memory_format=torch.channels_last if gpu else torch.preserve_format)
    bare_net = torch.compile(bare_m) if compile_ else bare_m
    x = torch.randn(a.batch_size, 3, a.size, a.size, device=dev)
    if gpu: x = x.contiguous(memory_format=torch.channels_last)

    @torch.inference_mode()
    def bare():
        with torch.autocast('cuda', torch.bfloat16, enabled=gpu): return bare_net(x)

    def rate(f):
        sync(); t = time.perf_counter()
        for _ in range(a.iters): f()
        sync(); return a.iters * a.batch_size / (time.perf_counter() - t)

    t0 = time.perf_counter()
    for _ in range(3): pred.predict_tensor(x); bare()   # compile and warm up both
    sync(); warm_s = time.perf_counter() - t0
    rounds = [(rate(lambda: pred.predict_tensor(x)), rate(bare)) for _ in range(3)]
    p, b = max(r[0] for r in rounds), max(r[1] for r in rounds)
    row = dict(arch=arch, predictor_img_s=round(p), bare_timm_img_s=round(b), ratio=p / b, rounds=rounds, compile_and_warmup_s=round(warm_s, 1))
    results.append(row); print(json.dumps(row), flush=True); save()
    del pred, bare_m, bare_net; torch.cuda.empty_cache() if gpu else None

for row in results:
    print(f"{'PASS' if row['ratio'] >= .9 else 'FAIL'}: {row['arch']} Predictor / bare timm = {row['ratio']:.2f} "
          f"({row['predictor_img_s']} vs {row['bare_timm_img_s']} img/s; target >= 0.90)")
