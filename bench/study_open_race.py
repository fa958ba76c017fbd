"Four processes open one fresh SQLite tuning study at the same instant, six rounds: `python bench/study_open_race.py` prints the failures."
import sys, subprocess, tempfile, os
from pathlib import Path
code = '''
import sys, time
from aml_nb.tune import open_study
t0 = float(sys.argv[2])
while time.time() < t0: pass
s = open_study(sys.argv[1], dict(arch='resnet18', q=1))
print(len(s.trials))
'''
bad = 0
for r in range(6):
    d = tempfile.mkdtemp()
    import time; t0 = time.time() + 4
    ps = [subprocess.Popen([sys.executable, '-c', code, d, str(t0)], stderr=subprocess.PIPE, stdout=subprocess.PIPE) for _ in range(4)]
    for p in ps:
        if p.wait() != 0: bad += 1; print(p.stderr.read().decode()[-300:])
print('failures', bad, 'of', 24)
