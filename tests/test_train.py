"Training under real faults and real processes: SIGKILL + resume, DDP with 2 gloo processes, checkpoint checks."
import os, signal, subprocess, sys, time, json
from pathlib import Path
import pytest, torch
from safetensors.torch import load_file
from aml_nb.models import load_model, save_model, create_model

CLI = [sys.executable, '-c', 'import sys; from aml_nb.cli import main; sys.exit(main(sys.argv[1:]))']
TRAIN = ['train', '--preset', 'quick', '--arch', 'convnext_atto', '--img-size', '32', '--epochs', '4', '--batch-size', '8', '--workers', '0']


def _weights(run): return load_file(str(Path(run)/'model.safetensors'))


def test_sigkill_then_resume_reaches_the_same_weights(cohort_dir, tmp_path):
    env = dict(os.environ, HF_HUB_OFFLINE='1')
    subprocess.run(CLI + TRAIN + ['--data', str(cohort_dir), '--out', str(tmp_path/'full')], check=True, env=env, capture_output=True)
    p = subprocess.Popen(CLI + TRAIN + ['--data', str(cohort_dir), '--out', str(tmp_path/'cut')], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    side = tmp_path/'cut'/'checkpoint'/'checkpoint.json'
    t0 = time.time()
    while time.time() - t0 < 300:
        if side.exists() and json.loads(side.read_text())['epoch'] >= 2: break
        assert p.poll() is None, 'training ended before it could be killed'
        time.sleep(.05)
    p.send_signal(signal.SIGKILL); p.wait()
    assert not (tmp_path/'cut'/'model.safetensors').exists()   # it really was interrupted
    r = subprocess.run(CLI + TRAIN + ['--data', str(cohort_dir), '--out', str(tmp_path/'cut')], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a, b = _weights(tmp_path/'full'), _weights(tmp_path/'cut')
    assert a.keys() == b.keys()
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=0, atol=1e-6)


DDP_SCRIPT = '''
import sys, json
from aml_nb.synth import read_cohort
from aml_nb.data import split_table
from aml_nb.train import train_run
from aml_nb.recipe import TrainConfig
t = split_table(read_cohort(sys.argv[1]), seed=0)
cfg = TrainConfig('convnext_atto', img_size=32, epochs=2, batch_size=16, mixup=0, aug='none', swa=False, workers=0, lr=1e-3)
train_run(t, cfg, sys.argv[2], progress=False)
'''


def test_ddp_two_gloo_processes_match_one(cohort_dir, tmp_path):
    (tmp_path/'ddp.py').write_text(DDP_SCRIPT)
    env = dict(os.environ, HF_HUB_OFFLINE='1', OMP_NUM_THREADS='1')
    one = subprocess.run([sys.executable, tmp_path/'ddp.py', cohort_dir, tmp_path/'one'], env=env, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29517',
                          tmp_path/'ddp.py', cohort_dir, tmp_path/'two'], env=env, capture_output=True, text=True)
    assert two.returncode == 0, two.stderr[-3000:]
    assert json.loads((tmp_path/'two'/'train.json').read_text())['world_size'] == 2
    a, b = _weights(tmp_path/'one'), _weights(tmp_path/'two')
    for k in a: torch.testing.assert_close(a[k], b[k], rtol=1e-3, atol=1e-4)


def test_checkpoint_refuses_other_classes_or_arch(tmp_path):
    save_model(create_model('resnet18', 2), tmp_path/'m.safetensors', 'resnet18', ['x', 'y'], 32)
    with pytest.raises(ValueError, match=r'm.safetensors: classes \[.x., .y.\] do not match'): load_model(tmp_path/'m.safetensors', classes=['y', 'x'])
    with pytest.raises(ValueError, match='architecture is resnet18, expected convnext_tiny'): load_model(tmp_path/'m.safetensors', arch='convnext_tiny')
    (tmp_path/'junk.safetensors').write_bytes(b'junk')
    with pytest.raises(ValueError, match='junk.safetensors: not a readable safetensors'): load_model(tmp_path/'junk.safetensors')
