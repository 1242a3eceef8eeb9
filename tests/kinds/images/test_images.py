"""The image application: reading IDX / PNG folders / NPZ, the image contracts, splits, dataset checks, the four
families (each trains a few steps, samples, and scores what it can), FID/KID, and the stages through DVC, on
real Fashion-MNIST images shipped with the repo."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from components.applications.overrides import apply_overrides, resolve_overrides
from components.core.errors import StageError
from components.kinds.images.data.images import (
    assign_image_splits,
    failed_image_checks,
    image_dataset_report,
    image_violations,
    read_idx,
    read_images,
)
from components.kinds.images.evaluation.metrics import fid, kid
from components.kinds.images.models.base import logistic_log_prob, save_image_model
from components.kinds.images.models.factory import build_image_model, load_image_family
from components.kinds.images.params import load_image_params
from components.kinds.images.training.loop import ImageArrays, train_image_model
from tests.conftest import FASHION, write_fashion_slice, write_idx
from tests.imports import ROOT

PARAMS = load_image_params(ROOT / "params.yaml", "images")


def fashion(n: int, prefix: str = "train") -> tuple[np.ndarray, np.ndarray]:
    return read_idx(FASHION / f"{prefix}-images-idx3-ubyte.gz")[:n], read_idx(
        FASHION / f"{prefix}-labels-idx1-ubyte.gz"
    )[:n]


def png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


# --- reading and contracts ------------------------------------------------------------------
def test_the_shipped_idx_files_read_with_their_splits_and_labels():
    frame = read_images(PARAMS.data)
    assert frame["split"].value_counts().to_dict() == {"train": 60000, "test": 10000}
    assert sorted(frame["label"].unique()) == [str(i) for i in range(10)]
    assert set(frame["height"]) == {28} and set(frame["channels"]) == {1}


def test_an_idx_file_with_a_short_body_is_one_error(tmp_path):
    images, _ = fashion(3)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    (tmp_path / "train-images-idx3-ubyte").write_bytes((tmp_path / "train-images-idx3-ubyte").read_bytes()[:-10])
    with pytest.raises(StageError, match="IDX header says"):
        read_images(dataclasses.replace(PARAMS.data, corpus=str(tmp_path)))


def test_a_png_folder_quarantines_truncated_empty_rgb_and_constant_images_with_reasons(tmp_path):
    images, labels = fashion(6)
    for i, (img, label) in enumerate(zip(images, labels)):
        (tmp_path / str(label)).mkdir(exist_ok=True)
        (tmp_path / str(label) / f"{i}.png").write_bytes(png(img))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "truncated.png").write_bytes(png(images[0])[:60])
    (tmp_path / "bad" / "empty.png").write_bytes(b"")
    (tmp_path / "bad" / "rgb.png").write_bytes(png(np.stack([images[1]] * 3, axis=-1)))
    (tmp_path / "bad" / "black.png").write_bytes(png(np.zeros((28, 28), dtype=np.uint8)))
    (tmp_path / "bad" / "big.png").write_bytes(png(np.tile(images[2], (2, 2))))
    frame = read_images(dataclasses.replace(PARAMS.data, corpus=str(tmp_path), format="folder"))
    assert len(frame) == 11 and frame.loc[frame["id"] == "0/1.png", "label"].item() == "0"
    reasons = dict(zip(frame["id"], image_violations(frame, PARAMS.validate)))
    assert reasons["bad/truncated.png"].startswith("decodes:") and reasons["bad/empty.png"].startswith("decodes:")
    assert reasons["bad/rgb.png"] == "channels: 3, expected 1" and reasons["bad/black.png"] == "not_constant"
    assert reasons["bad/big.png"] == "size: 56x56, expected 28x28"
    assert sum(r is None for r in reasons.values()) == 6
    from components.kinds.images.data.images import conform

    resized = conform(frame, dataclasses.replace(PARAMS.validate, on_other_size="resize"))
    assert dict(zip(resized["id"], image_violations(resized, PARAMS.validate)))["bad/big.png"] is None


def test_an_npz_reads_and_out_of_range_pixels_are_quarantined(tmp_path):
    images, labels = fashion(4)
    bad = images.astype(np.float32)
    bad[2, 0, 0] = 300.0
    np.savez(tmp_path / "x.npz", images=bad, labels=labels)
    frame = read_images(dataclasses.replace(PARAMS.data, corpus=str(tmp_path / "x.npz")))
    assert image_violations(frame, PARAMS.validate).tolist() == [None, None, "pixel_range", None]
    np.savez(tmp_path / "y.npz", pictures=images)
    with pytest.raises(StageError, match="no array 'images'"):
        read_images(dataclasses.replace(PARAMS.data, corpus=str(tmp_path / "y.npz")))


def test_splits_keep_test_carve_valid_from_train_and_checks_see_leaks_and_drift():
    images, labels = fashion(400)
    test_images, test_labels = fashion(50, "t10k")
    frame = pd.DataFrame(
        {
            "pixels": [im[:, :, None].tobytes() for im in np.concatenate([images, test_images, images[:5]])],
            "label": [str(x) for x in np.concatenate([labels, test_labels, labels[:5]])],
            "split": pd.Series(["train"] * 400 + ["test"] * 55, dtype="string"),
        }
    )
    out = assign_image_splits(frame, 0.1, 0.1, "salt")
    assert (out["split"][400:] == "test").all() and 10 < (out["split"] == "valid").sum() < 80
    report = image_dataset_report(out, None)
    assert report["test_leak_rate"] == pytest.approx(5 / 55) and "intensity_drift" not in report
    failures = failed_image_checks(report, PARAMS.dataset)
    assert any("test images identical to train images" in f for f in failures)
    brighter = image_dataset_report(out, [1.0] + [0.0] * 15)
    assert brighter["intensity_drift"] > 0.3
    assert any("intensity histogram drifted" in f for f in failed_image_checks(brighter, PARAMS.dataset))


def test_a_fair_split_passes_the_balance_checks_and_a_test_split_of_one_kind_of_image_fails_them():
    images, labels = fashion(1000)
    frame = pd.DataFrame(
        {
            "pixels": [im[:, :, None].tobytes() for im in images],
            "label": [str(x) for x in labels],
            "split": pd.Series([None] * 1000, dtype="string"),
        }
    )
    fair = image_dataset_report(assign_image_splits(frame, 0.1, 0.1, "salt"), None)
    assert min(fair["intensity_shift_p_test"], fair["label_shift_p_test"]) > 0.01
    assert not failed_image_checks(fair, PARAMS.dataset) and fair["classes_missing"] == {"valid": [], "test": []}
    brightest = np.argsort([im.mean() for im in images])[-100:]  # test made of the brightest images
    skewed = frame.assign(split=pd.Series(["train"] * 1000, dtype="string"))
    skewed.loc[brightest, "split"] = "test"
    report = image_dataset_report(skewed, None)
    failures = failed_image_checks(report, PARAMS.dataset)
    assert any(
        f.startswith("test's mean intensities differ from train's past chance")
        and "dataset.intensity_shift_p=0.001" in f
        for f in failures
    )
    assert any("dataset.label_shift_p=0.001" in f for f in failures)  # bright images are a few classes


def test_unsplit_images_are_hash_split_and_one_provided_file_alone_says_how_to_declare_it_unsplit(tmp_path):
    images, labels = fashion(200)
    pixels = [im[:, :, None].tobytes() for im in images]
    unsplit = pd.DataFrame(
        {"pixels": pixels, "label": [str(x) for x in labels], "split": pd.Series([None] * 200, dtype="string")}
    )  # an NPZ without a split
    counts = assign_image_splits(unsplit, 0.1, 0.1, "salt")["split"].value_counts()
    assert set(counts.index) == {"train", "valid", "test"}
    only_test = unsplit.assign(split=pd.Series(["test"] * 200, dtype="string"))
    with pytest.raises(StageError, match=r"\{'test': 200\} came as provided splits") as refused:
        assign_image_splits(only_test, 0.1, 0.1, "salt", {"train": "train", "test": "t10k"})
    # the advice, followed from the command line as written, is a valid change of params.yaml
    advice = re.search(r"--set '([^']+)'", str(refused.value)).group(1)
    assert advice == "data.idx_splits={none: t10k}"
    params = tmp_path / "params.yaml"
    params.write_text((ROOT / "params.yaml").read_text())
    apply_overrides(params, resolve_overrides(yaml.safe_load(params.read_text()), "images", None, None, [advice]))
    assert yaml.safe_load(params.read_text())["images"]["data"]["idx_splits"] == {"none": "t10k"}


# --- models ---------------------------------------------------------------------------------
def test_the_discretised_logistic_gives_a_distribution_over_the_256_levels():
    grid = torch.arange(256).float().view(1, 1, 1, 256) / 127.5 - 1
    params = torch.cat([torch.full((1, 1, 1, 256), 0.3), torch.full((1, 1, 1, 256), -1.5)], dim=1)
    per_level = torch.stack([logistic_log_prob(grid[..., i : i + 1], params[..., i : i + 1]) for i in range(256)])
    assert float(per_level.exp().sum()) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize(
    "family,conditional",
    [
        ("bsvae", False),
        ("vae", False),
        ("vqvae", False),
        ("gan", False),
        ("bsvae", True),
        ("vqvae", True),
        ("gan", True),
    ],
)
def test_each_family_trains_samples_and_scores_what_it_defines(family, conditional, tmp_path):
    images, labels = fashion(256)
    arrays = ImageArrays(images[:, None], labels.astype(np.int64))
    mp = dataclasses.replace(
        PARAMS.model,
        family=family,
        channels=8,
        latent_dim=4,
        conditional=conditional,
        codebook_size=16,
        code_dim=8,
        prior_heads=2,
        prior_layers=1,
    )
    tp = dataclasses.replace(PARAMS.train, min_steps=0, epochs=2, max_steps=0, batch_size=64)
    result = train_image_model(
        lambda: build_image_model(mp, 1, 28, 28, 10), arrays, arrays.head(64), tp, torch.device("cpu")
    )
    model = result.model
    assert len(result.history) == 2
    wanted = torch.arange(4) if conditional else None
    samples = model.sample(4, wanted, torch.Generator().manual_seed(0))
    assert samples.shape == (4, 1, 28, 28) and samples.dtype == torch.uint8
    x = torch.from_numpy(images[:8, None].astype(np.float32)) / 127.5 - 1
    given = torch.from_numpy(labels[:8].astype(np.int64)) if conditional else None
    ll = model.log_likelihood(x, given, 3)
    assert (ll is None) == (family == "gan")
    if ll is not None:
        # under 8 bits a pixel: better than the uniform distribution over the 256 levels, so it learned something
        assert torch.isfinite(ll).all() and float((-ll / (784 * np.log(2))).mean()) < 8
    strip = model.interpolate(x[:1], x[1:2], 5, given[:1] if conditional else None)
    assert strip.shape == (5, 1, 28, 28) and strip.dtype == torch.uint8
    save_image_model(model, tmp_path / "m")
    loaded = load_image_family(tmp_path / "m")
    torch.manual_seed(1)
    again = loaded.sample(4, wanted, torch.Generator().manual_seed(0))
    assert torch.equal(again, samples) or family == "vqvae"  # the VQ prior samples through torch.multinomial
    with pytest.raises(ValueError, match="conditional" if conditional else "unconditional"):
        model.sample(2, None if conditional else torch.arange(2))


def test_a_conditional_vae_has_a_prior_per_class_and_samples_from_it():
    from torch.distributions import Normal, kl_divergence

    mp = dataclasses.replace(
        PARAMS.model, family="bsvae", channels=8, latent_dim=4, conditional=True, label_prior="learned"
    )
    torch.manual_seed(0)
    model = build_image_model(mp, 1, 28, 28, 10)
    images, labels = fashion(8)
    x, y = torch.from_numpy(images[:, None].astype(np.float32)) / 127.5 - 1, torch.from_numpy(labels.astype(np.int64))
    untrained = model.prior_params(y, 8)
    assert all(float(part.abs().max()) == 0 for part in untrained)  # N(0, I) for every class until it learns
    with torch.no_grad():
        model.prior.weight.normal_()
    mu, logvar = model.encode(x, y)
    prior_mu, prior_logvar = model.prior_params(y, 8)
    _, kl = model.terms(x, y)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(prior_mu, (0.5 * prior_logvar).exp()))
    assert torch.allclose(kl, expected, atol=1e-5)
    # Sampling draws z from the asked class's prior: moving class 3's mean changes class 3's samples only.
    wanted = torch.tensor([2, 3])
    before = model.sample(2, wanted, torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.prior.weight[3, :4] += 50
    after = model.sample(2, wanted, torch.Generator().manual_seed(0))
    assert torch.equal(before[0], after[0]) and not torch.equal(before[1], after[1])


def test_the_plain_vae_ignores_the_schedule_and_the_bsvae_follows_it():
    images, labels = fashion(64)
    x = torch.from_numpy(images[:, None].astype(np.float32)) / 127.5 - 1
    mp = dataclasses.replace(PARAMS.model, channels=8, latent_dim=4)
    for family, expected in (("bsvae", 0.25), ("vae", 1.0)):
        model = build_image_model(dataclasses.replace(mp, family=family), 1, 28, 28, 10)
        [(_, _, figures)] = model.training_losses(x, None, 0.25, 0.1)
        assert figures["beta"] == expected


def test_fid_is_zero_for_one_set_and_grows_with_a_shift_and_kid_follows():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(500, 8))
    assert fid(a, a) == pytest.approx(0.0, abs=1e-6)
    assert fid(a, a + 1.0) == pytest.approx(8.0, rel=0.05)
    assert kid(a, a + 1.0) > kid(a, rng.normal(size=(500, 8))) + 0.1


# --- the stages, through DVC -----------------------------------------------------------------
def test_dvc_repro_runs_the_image_application_on_a_fashion_mnist_slice(workspace):
    from components.versioning.dvc import dvc_env

    run = subprocess.run(
        [str(__import__("pathlib").Path(sys.executable).parent / "dvc"), "repro", "images-evaluate"],
        cwd=workspace,
        capture_output=True,
        text=True,
        env=dvc_env(),
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    metrics = json.loads((workspace / "metrics/images/eval.json").read_text())
    assert metrics["family"] == "bsvae" and {"nll", "bpd", "fid", "kid", "reconstruction_mse"} <= set(metrics)
    assert json.loads((workspace / "metrics/images/classifier.json").read_text())["classifier_test_accuracy"] > 0.3
    assert (workspace / "reports/images/samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    arrays = np.load(workspace / "data/images/arrays/train.images.npy", mmap_mode="r")
    assert arrays.dtype == np.uint8 and arrays.shape[1:] == (1, 28, 28)


def test_a_corrupt_corpus_stops_the_ingest_stage_with_one_line(tmp_path):
    import yaml

    write_fashion_slice(tmp_path / "fm", train=20, test=10)
    (tmp_path / "fm" / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["images"]["data"]["corpus"] = str(tmp_path / "fm")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "components.kinds.images.stages.ingest",
            "--app",
            "images",
            "--params",
            str(tmp_path / "params.yaml"),
            "--out",
            str(tmp_path / "out.parquet"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1 and not (tmp_path / "out.parquet").exists() and "Traceback" not in run.stderr
    assert (
        run.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: ingest: {tmp_path / 'fm' / 'train-images-idx3-ubyte.gz'}: cannot read")
    )


def test_a_conditional_image_model_asked_without_a_label_says_it_needs_one():
    from components.kinds.images.serving.generator import ImageGenerator

    mp = dataclasses.replace(PARAMS.model, family="bsvae", conditional=True)
    generator = ImageGenerator(build_image_model(mp, 1, 28, 28, 3), ["a", "b", "c"], torch.device("cpu"))
    with pytest.raises(ValueError, match=r"conditional: it needs a label \(--label\), one of \['a', 'b', 'c'\]"):
        generator.sample(2)
    with pytest.raises(ValueError, match=r"unknown label\(s\) \['d'\]"):
        generator.sample(2, label="d")
    assert generator.sample(2, label="b", seed=0).shape == (2, 1, 28, 28)


def test_image_paths_in_a_predict_input_are_read_relative_to_the_input_file(tmp_path):
    from components.applications.kind import kind_named

    (tmp_path / "shirt.png").write_bytes(b"\x89PNG fake")
    chunk = pd.DataFrame({"image": ["shirt.png", "aGVsbG8="]})
    read = kind_named("images").read_request_files(chunk, tmp_path)
    assert read["image"].tolist() == ["iVBORyBmYWtl", "aGVsbG8="]
    assert kind_named("text").read_request_files(chunk, tmp_path) is chunk  # a text model reads values as given
