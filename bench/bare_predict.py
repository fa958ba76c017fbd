"""A bare PIL + timm scoring script, the ceiling `aml-nb predict` is measured against (issue 42): JPEGs decoded and
resized by Pillow in DataLoader workers, a timm model from scratch, batch 64, fp32 or bf16 (autocast, channels_last).
No gate, no resolution, no stain normalisation, no file written but a count.

    python bench/bare_predict.py LIST_OF_PATHS.txt --precision fp32|bf16 [--arch resnet18 --img-size 64 --workers N]
"""
import argparse, time
import numpy as np, torch, timm
from PIL import Image
from torch.utils.data import Dataset, DataLoader

a = argparse.ArgumentParser(); a.add_argument('paths'); a.add_argument('--precision', default='fp32'); a.add_argument('--arch', default='resnet18')
a.add_argument('--img-size', type=int, default=64); a.add_argument('--workers', type=int, default=1); a.add_argument('--classes', type=int, default=9)
a = a.parse_args()
paths = open(a.paths).read().split('\n')[:-1]


class Cells(Dataset):
    def __len__(self): return len(paths)
    def __getitem__(self, i):
        im = Image.open(paths[i]); im.draft('RGB', (a.img_size, a.img_size))   # JPEG decoded at reduced scale, as aml_nb does
        return torch.from_numpy(np.asarray(im.convert('RGB').resize((a.img_size, a.img_size), Image.BILINEAR))).permute(2, 0, 1)


bf16 = a.precision == 'bf16'
model = timm.create_model(a.arch, num_classes=a.classes).eval()
if bf16: model = model.to(memory_format=torch.channels_last)
mean, std = torch.tensor([.485, .456, .406]).view(1, 3, 1, 1) * 255, torch.tensor([.229, .224, .225]).view(1, 3, 1, 1) * 255
t0, n = time.perf_counter(), 0
with torch.inference_mode():
    for x in DataLoader(Cells(), 64, num_workers=a.workers):
        x = (x.float() - mean) / std
        if bf16: x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast('cpu', torch.bfloat16, enabled=bf16): p = model(x).float().softmax(-1)
        n += len(p)
print(f"{n} cells in {time.perf_counter() - t0:.1f} s")
