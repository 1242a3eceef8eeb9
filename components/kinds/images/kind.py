"""The images kind: applications over labelled images, their arrays, the image families (convolutional BS-VAE,
VAE, VQ-VAE with a prior, DCGAN), the FID classifier and their served pyfunc."""

from __future__ import annotations

from pathlib import Path

from components.kinds.images.application import IMAGES
from components.kinds.registry import Kind

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"


def params_from_dict(raw, app):
    from components.kinds.images.params import image_params_from_dict

    return image_params_from_dict(raw, app)


def gate(metrics, p, lineage=None, champion=None):
    from components.kinds.images.gate import image_gate_metrics

    return image_gate_metrics(metrics, p, lineage=lineage, champion=champion)


def served_model(workspace: Path, app, params, weights_sha: str) -> dict:
    from components.kinds.images.serving.signature import image_input_example, image_signature

    return {
        "python_model": str(PYFUNC_CODE),
        "artifacts": {"model_dir": str(app.model_dir(workspace, params.model.family))},
        "model_config": {"weights_sha256": weights_sha},
        "signature": image_signature(),
        "input_example": image_input_example(),
    }


def model_card(workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
    from components.kinds.images.card import image_card

    return image_card(name, params, metrics, lineage, commit)


def accept_data(workspace: Path, app) -> str:
    """The registered model's train images' intensity histogram becomes the reference the next run's data is
    checked against (dataset.max_intensity_drift)."""
    import pandas as pd

    from components.core.atomic import write_json
    from components.kinds.images.data.images import intensity_histogram

    splits = pd.read_parquet(app.splits(workspace))
    train = splits[splits["split"] == "train"]
    write_json(app.histogram_reference(workspace), intensity_histogram(train))
    return f"intensity histogram of {len(train)} train images"


def application(name: str):
    from components.kinds.images.application import ImageApplication

    return ImageApplication(
        name=name,
        description="image generation",
        steps=("ingest", "validate", "split", "check", "preprocess", "classifier", "train", "evaluate"),
        families=("bsvae", "vae", "vqvae", "gan"),
    )


def score(served, params, path: Path):
    from components.kinds.images.evaluation.score import score_images

    return score_images(served, params, path)


KIND = Kind(
    name="images",
    params_from_dict=params_from_dict,
    gate=gate,
    served_model=served_model,
    model_card=model_card,
    accept_data=accept_data,
    score=score,
    application=application,
    shipped=(IMAGES,),
)
