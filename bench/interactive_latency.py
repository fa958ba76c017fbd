"""Predict + Grad-CAM of one uploaded cell through the dashboard's path
(`aml_nb.dashboard.predict_and_explain` on a `Predictor`) against bare timm + bare pytorch-grad-cam on the same
weights and input, measured interleaved in one process. Target: ours <= 1.2x bare.

    python bench/interactive_latency.py [--arch convnext_tiny] [--img-size 224] [--reps 7] [--out bench/results/interactive_cpu]
"""
import argparse, json, os, platform, statistics, time
from pathlib import Path
import numpy as np, torch, timm, pytorch_grad_cam
from PIL import Image
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from aml_nb.models import create_model, cam_target_layers
from aml_nb.infer import Predictor
from aml_nb.dashboard import predict_and_explain

a = argparse.ArgumentParser(); a.add_argument('--arch', default='convnext_tiny'); a.add_argument('--img-size', dest='size', type=int, default=224)
a.add_argument('--reps', type=int, default=7); a.add_argument('--out', default='bench/results/interactive_cpu'); a = a.parse_args()
classes = ['CBFB_MYH11', 'NPM1', 'PML_RARA', 'RUNX1_RUNX1T1', 'control']
model = create_model(a.arch, len(classes), img_size=a.size).eval()
pred = Predictor(model, classes, a.size, device='cpu', workers=0)
img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (363, 360, 3), np.uint8))   # an upload: a 360x363 cell crop

bare = timm.create_model(a.arch, num_classes=len(classes)).eval(); bare.load_state_dict(model.state_dict())
layers = cam_target_layers(bare, a.size)

def ours():
    return predict_and_explain(pred, [img], 'gradcam')

def baseline():
    x = pred.transform(img)[None]   # the same resize + normalisation; both paths then run the model and the CAM
    with torch.inference_mode(): k = int(bare(x).argmax())
    with GradCAM(bare, layers) as cam: return cam(x, [ClassifierOutputTarget(k)])

for f in (ours, baseline): f(); f()   # warm-up
t = {'aml_nb': [], 'bare': []}
for _ in range(a.reps):
    for name, f in (('aml_nb', ours), ('bare', baseline)):
        s = time.perf_counter(); f(); t[name].append(time.perf_counter() - s)
res = dict(arch=a.arch, size=a.size, reps=a.reps, aml_nb_s=statistics.median(t['aml_nb']), bare_s=statistics.median(t['bare']),
           device=f"CPU, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
           versions=dict(python=platform.python_version(), torch=torch.__version__, timm=timm.__version__, grad_cam=getattr(pytorch_grad_cam, '__version__', '?')))
res['ratio'] = res['aml_nb_s'] / res['bare_s']
Path(a.out).mkdir(parents=True, exist_ok=True); (Path(a.out)/f'{a.arch}_{a.size}.json').write_text(json.dumps(res, indent=1))
print(json.dumps(res, indent=1))
print(f"{'PASS' if res['ratio'] <= 1.2 else 'FAIL'}: aml_nb / bare = {res['ratio']:.3f} (target <= 1.2)")
