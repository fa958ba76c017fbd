"""The machine's speed in one number: a bare timm ResNet18 training step at 64 px, batch 64, AdamW, fp32, median of 7
after 3 warm-ups (compare the suite's times only between runs at like speeds).

    python bench/step_probe.py
"""
import time, torch, timm
m = timm.create_model('resnet18', num_classes=9).train(); opt = torch.optim.AdamW(m.parameters(), 1e-3)
x = torch.randn(64, 3, 64, 64); y = torch.randint(0, 9, (64,)); crit = torch.nn.CrossEntropyLoss()
def step(): loss = crit(m(x), y); opt.zero_grad(); loss.backward(); opt.step()
for _ in range(3): step()
t = []
for _ in range(7):
    t0 = time.perf_counter(); step(); t.append(time.perf_counter() - t0)
t.sort(); print(f"bare resnet18 @64 fp32 training step: {64 / t[3]:.0f} img/s (median of 7)")
