"""Faults during training: a killed train stage of every kind resumes from its checkpoint; a failed checkpoint
write (disk full) leaves the previous checkpoint intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import yaml

from components.applications.overrides import apply_overrides
from components.versioning.dvc import dvc_env

pytestmark = pytest.mark.slow


def dvc(workspace, *args, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=workspace, capture_output=True, text=True, env=dvc_env()
    )
    if check:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def model_md5(workspace, stage, model_dir):
    lock = yaml.safe_load((workspace / "dvc.lock").read_text())
    return next(o["md5"] for o in lock["stages"][stage]["outs"] if o["path"] == model_dir)


# One run per kind, long enough (a few seconds of training after its first checkpoint) to be killed mid-run.
KINDS = {
    "text": (
        "sentences",
        "models/sentences/bsvae",
        "tokenize",
        {
            "sentences.model.embed_dim": 32,
            "sentences.model.hidden_dim": 64,
            "sentences.model.bsvae.latent_dim": 8,
            "sentences.dataset.max_oov_rate": 0.5,
            "sentences.train.epochs": 3,
            "sentences.train.max_steps": 0,
            "sentences.train.batch_size": 32,
            "sentences.train.checkpoint_every": 5,
            "sentences.train.threads": 1,
        },
    ),
    "translation": (
        "translation",
        "models/translation/transformer",
        "tokenize",
        {
            "translation.model.d_model": 64,
            "translation.model.ff_dim": 128,
            "translation.train.epochs": 30,
            "translation.train.max_steps": 0,
            "translation.train.batch_size": 16,
            "translation.train.checkpoint_every": 10,
            "translation.train.threads": 1,
        },
    ),
    "images": (
        "images",
        "models/images/bsvae",
        "preprocess",
        {
            "images.model.channels": 16,
            "images.train.epochs": 12,
            "images.train.max_steps": 0,
            "images.train.batch_size": 16,
            "images.train.checkpoint_every": 10,
            "images.train.threads": 1,
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_train_stage_killed_mid_run_resumes_and_ends_where_an_uninterrupted_run_does(workspace, kind):
    """For every kind: kill -9 the train stage (DVC and the trainer) after a checkpoint, rerun it: it says it resumes
    and its weights are the bits of an uninterrupted run of the same params."""
    app, model_dir, before, overrides = KINDS[kind]
    apply_overrides(workspace / "params.yaml", overrides)
    dvc(workspace, "repro", f"{app}-{before}")
    stage = f"{app}-train"
    checkpoint = workspace / "checkpoints" / app / "train.pt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dvc", "repro", "--single-item", stage],
        cwd=workspace,
        env=dvc_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # DVC and the training process with it, mid-run
    proc.wait()
    assert checkpoint.exists(), "training ended before a checkpoint could be interrupted"
    assert not (workspace / model_dir / "model.safetensors").exists()

    resumed = dvc(workspace, "repro", "--single-item", stage)
    assert f"resuming from checkpoints/{app}/train.pt at step" in resumed.stdout + resumed.stderr
    assert not checkpoint.exists()  # removed once the outputs are complete
    after_resume = model_md5(workspace, stage, model_dir)

    dvc(workspace, "repro", "--force", "--single-item", stage)  # the same training, uninterrupted
    assert model_md5(workspace, stage, model_dir) == after_resume


DISK_FULL = r"""
import resource, signal, sys, torch
from pathlib import Path
from components.core.errors import StageError
from components.engine.checkpoints import save_checkpoint
path = Path(sys.argv[1])
save_checkpoint(path, {"step": 1, "w": torch.zeros(10)})
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)            # a write past the limit fails with EFBIG instead
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # as a full disk would, part-way through the file
try:
    save_checkpoint(path, {"step": 2, "w": torch.zeros(100_000)})
except StageError as err:
    print(err)
    sys.exit(3)
"""


def test_a_failed_checkpoint_write_leaves_the_previous_checkpoint_intact(tmp_path):
    import torch

    path = tmp_path / "train.pt"
    proc = subprocess.run([sys.executable, "-c", DISK_FULL, str(path)], capture_output=True, text=True)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout.startswith(f"could not save checkpoint {path} at step 2:")
    state = torch.load(path, weights_only=True)
    assert state["step"] == 1 and torch.equal(state["w"], torch.zeros(10))
    assert [p.name for p in tmp_path.iterdir()] == ["train.pt"]  # no torn temporary file left behind
