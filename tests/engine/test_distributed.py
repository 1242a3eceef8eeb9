"""Data-parallel training under torchrun (gloo, 2 CPU processes) gives the loss of one process, for every kind,
and gradient accumulation gives the loss of the whole batch at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from components.applications.overrides import apply_overrides
from components.versioning.dvc import dvc_env

pytestmark = pytest.mark.slow


def train(workspace, name, launcher, params="params.yaml"):
    cmd = [
        *launcher,
        "-m",
        "components.kinds.text.stages.train",
        "--params",
        params,
        "--out-dir",
        f"models/{name}",
        "--tokens",
        "data/sentences/tokens",
        "--tokenizer",
        "data/sentences/tokenizer/tokenizer.json",
        "--warm-start",
        "warm_start/sentences",
        "--metrics",
        f"metrics/{name}.json",
        "--history",
        f"metrics/{name}_history.json",
        "--checkpoint",
        f"checkpoints/{name}.pt",
        "--timing",
        f"reports/{name}_timing.json",
    ]
    proc = subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, env=dvc_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    history = json.loads((workspace / f"metrics/{name}_history.json").read_text())
    return history, load_file(str(workspace / f"models/{name}/model.safetensors"))


def assert_same_training(a, b, rtol):
    (hist_a, weights_a), (hist_b, weights_b) = a, b
    for row_a, row_b in zip(hist_a, hist_b, strict=True):
        for key in ("train_loss", "train_rec", "valid_nelbo"):
            assert row_a[key] == pytest.approx(row_b[key], rel=rtol), key
    for name, tensor in weights_a.items():
        torch.testing.assert_close(tensor, weights_b[name], rtol=1e-3, atol=1e-4)


@pytest.fixture
def tokenized(workspace):
    """The LM baseline (no sampling noise, so one process and two must agree), tiny, tokenized."""
    apply_overrides(
        workspace / "params.yaml",
        {
            "sentences.model.family": "lm",
            "sentences.model.embed_dim": 32,
            "sentences.model.hidden_dim": 64,
            "sentences.dataset.max_oov_rate": 0.5,
            "sentences.train.epochs": 1,
            "sentences.train.max_steps": 40,
            "sentences.train.batch_size": 32,
            "sentences.train.checkpoint_every": 0,
            "sentences.train.threads": 1,
        },
    )
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "sentences-tokenize"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return workspace


def test_two_gloo_processes_under_torchrun_train_like_one(tokenized):
    one = train(tokenized, "single", [sys.executable])
    two = train(
        tokenized, "ddp", [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    )
    assert json.loads((tokenized / "metrics/ddp.json").read_text())["processes"] == 2
    assert_same_training(one, two, rtol=1e-4)


def test_gradient_accumulation_trains_like_the_whole_batch(tokenized):
    shutil.copy(tokenized / "params.yaml", tokenized / "params_accum.yaml")
    apply_overrides(tokenized / "params_accum.yaml", {"sentences.train.grad_accum": 4})
    assert_same_training(
        train(tokenized, "whole", [sys.executable]),
        train(tokenized, "accum", [sys.executable], "params_accum.yaml"),
        rtol=1e-4,
    )


def test_dvc_runs_the_train_stage_through_torchrun_when_params_say_so(tokenized):
    apply_overrides(tokenized / "params.yaml", {"sentences.train.launcher": "torchrun --standalone --nproc-per-node 2"})
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", "--single-item", "sentences-train"],
        cwd=tokenized,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "torchrun --standalone --nproc-per-node 2 -m components.kinds.text.stages.train" in proc.stdout
    assert json.loads((tokenized / "metrics/sentences/train.json").read_text())["processes"] == 2


def test_a_vqvae_trains_under_torchrun_with_one_codebook(tokenized):
    """The codebook's counts are all-reduced and its init (after the warm-up) and restarts broadcast: two
    processes train a VQ-VAE with two residual levels (no hang on any level's collective calls) to about the
    loss of one."""
    apply_overrides(
        tokenized / "params.yaml",
        {
            "sentences.model.family": "vqvae",
            "sentences.model.vqvae.codes": 4,
            "sentences.model.vqvae.codebook_size": 32,
            "sentences.model.vqvae.code_dim": 8,
            "sentences.model.word_dropout": 0.0,
            "sentences.model.vqvae.codebook_warmup": 10,
            "sentences.model.vqvae.codebook_levels": 2,
        },
    )
    one = train(tokenized, "vq_single", [sys.executable])
    two = train(
        tokenized, "vq_ddp", [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    )
    assert two[0][-1]["valid_nelbo"] == pytest.approx(one[0][-1]["valid_nelbo"], rel=0.1)


STAGES = {  # kind -> (application, stage module, its input flags, the step that makes its inputs, params)
    "translation": (
        "translation",
        "components.kinds.translation.stages.train",
        ["--tokens", "data/translation/tokens", "--tokenizer-dir", "data/translation/tokenizer"],
        "tokenize",
        {
            "translation.model.dropout": 0.0,
            "translation.train.epochs": 2,
            "translation.train.max_steps": 0,
            "translation.train.batch_size": 32,
            "translation.train.threads": 1,
        },
        1e-4,
    ),
    "images": (
        "images",
        "components.kinds.images.stages.train",
        ["--arrays", "data/images/arrays"],
        "preprocess",
        {
            "images.model.family": "vqvae",
            "images.model.dead_code_threshold": 0.0,
            "images.train.epochs": 1,
            "images.train.max_steps": 0,
            "images.train.batch_size": 32,
            "images.train.threads": 1,
        },
        0.02,
    ),
}


def train_kind(workspace, kind, name, launcher):
    app, module, inputs, _, _, _ = STAGES[kind]
    cmd = [
        *launcher,
        "-m",
        module,
        "--app",
        app,
        *inputs,
        "--out-dir",
        f"models/{name}",
        "--metrics",
        f"metrics/{name}.json",
        "--history",
        f"metrics/{name}_history.json",
        "--checkpoint",
        f"checkpoints/{name}.pt",
        "--timing",
        f"reports/{name}_timing.json",
    ]
    proc = subprocess.run(cmd, cwd=workspace, capture_output=True, text=True, env=dvc_env(), timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    history = json.loads((workspace / f"metrics/{name}_history.json").read_text())
    return history, load_file(str(workspace / f"models/{name}/model.safetensors"))


@pytest.mark.parametrize("kind", sorted(STAGES))
def test_every_kind_trains_under_torchrun_like_one_process(workspace, kind):
    """The engine's data parallelism is the same for translation and images as for text: two gloo processes
    under torchrun give the losses and weights of one (translation without dropout). Every image family draws
    something per rank: the VQ-VAE (no dead-code restarts here) draws the least, its codebook's k-means start from
    rank 0's rows, half a batch under two processes, so its figures agree to 2% and its weights are not compared."""
    app, _, _, before, overrides, tolerance = STAGES[kind]
    apply_overrides(workspace / "params.yaml", overrides)
    proc = subprocess.run(
        [sys.executable, "-m", "dvc", "repro", f"{app}-{before}"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (hist_one, weights_one) = train_kind(workspace, kind, f"{kind}_single", [sys.executable])
    (hist_two, weights_two) = train_kind(
        workspace,
        kind,
        f"{kind}_ddp",
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"],
    )
    assert json.loads((workspace / f"metrics/{kind}_ddp.json").read_text())["processes"] == 2
    for row_one, row_two in zip(hist_one, hist_two, strict=True):
        compared = (
            [k for k in row_one if k.startswith(("train_", "valid_"))]
            if tolerance <= 1e-4
            else ["train_loss", "valid_nelbo"]
        )  # the bound; how it splits between prior and decoder follows the codes
        for key in compared:
            assert row_two[key] == pytest.approx(row_one[key], rel=tolerance), key
    if tolerance <= 1e-4:
        for name, tensor in weights_one.items():
            torch.testing.assert_close(tensor, weights_two[name], rtol=1e-3, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (NCCL reduces CUDA tensors only)")
def test_reductions_stay_on_the_gpu_under_nccl(tokenized):
    """Under torchrun on GPUs the process group is NCCL, which rejects CPU tensors: every reduction the training
    loop makes must be on the training device."""
    apply_overrides(tokenized / "params.yaml", {"sentences.train.device": "cuda"})
    history, _ = train(
        tokenized,
        "nccl",
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc-per-node",
            str(min(torch.cuda.device_count(), 2)),
        ],
    )
    assert history and json.loads((tokenized / "metrics/nccl.json").read_text())["device"] == "cuda"
