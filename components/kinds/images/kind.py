"""The images kind: applications over labelled images, their arrays, the image families (convolutional BS-VAE,
VAE, VQ-VAE with a prior, DCGAN), the FID classifier and their served pyfunc."""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import pandas as pd

from components.applications.kind import AcceptsData, Kind, Scores
from components.kinds.images.application import IMAGES

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"
FILE_COLUMN = "image"
"""The request column whose values may name image files (predict reads them; the model takes base64)."""


class ImageKind(Kind, AcceptsData, Scores):
    name = "images"
    shipped = (IMAGES,)

    def params_from_dict(self, raw, app):
        from components.kinds.images.params import image_params_from_dict

        return image_params_from_dict(raw, app)

    def application(self, name: str):
        from components.kinds.images.application import ImageApplication

        return ImageApplication(
            name=name,
            description="image generation",
            steps=("ingest", "validate", "split", "check", "preprocess", "classifier", "train", "evaluate"),
            families=("bsvae", "vae", "vqvae", "gan"),
        )

    def gate(self, metrics, params, lineage=None, champion=None):
        from components.kinds.images.gate import image_gate_metrics

        return image_gate_metrics(metrics, params, lineage=lineage, champion=champion)

    def served_model(self, workspace: Path, app, params, weights_sha256: str) -> dict:
        from components.kinds.images.serving.signature import image_input_example, image_signature

        return {
            "python_model": str(PYFUNC_CODE),
            "artifacts": {"model_dir": str(app.model_dir(workspace, params.model.family))},
            "model_config": {"weights_sha256": weights_sha256},
            "signature": image_signature(),
            "input_example": image_input_example(),
        }

    def model_card(self, workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
        from components.kinds.images.card import image_card

        return image_card(name, params, metrics, lineage, commit)

    def accept_data(self, workspace: Path, app) -> str:
        """The registered model's train images' intensity histogram becomes the reference the next run's data is
        checked against (dataset.max_intensity_drift)."""
        from components.core.atomic import write_json
        from components.kinds.images.data.images import intensity_histogram

        splits = pd.read_parquet(app.splits(workspace))
        train = splits[splits["split"] == "train"]
        write_json(app.histogram_reference(workspace), intensity_histogram(train))
        return f"intensity histogram of {len(train)} train images"

    def score(self, served, params, path: Path):
        from components.kinds.images.evaluation.score import score_images

        return score_images(served, params, path)

    def add_generation_options(self, parser: argparse.ArgumentParser) -> None:
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--n", type=int, default=5, help="images to sample (default 5)")
        mode.add_argument("--image", help="an image file to reconstruct")
        parser.add_argument("--label", help="the class, for a conditional model")
        parser.add_argument("--out", required=True, help="write the images as one PNG grid here")
        parser.add_argument("--seed", type=int, default=-1)

    def generate(self, model, args: argparse.Namespace) -> str:
        """The samples (or the reconstruction of --image) as one PNG grid at --out."""
        import numpy as np

        from components.core.atomic import write_bytes
        from components.kinds.images.data.images import encode_png
        from components.kinds.images.evaluation.metrics import grid

        if args.image:
            request = pd.DataFrame({"image": [base64.b64encode(Path(args.image).read_bytes()).decode("ascii")]})
        else:
            request = pd.DataFrame({"n": [args.n], **({"label": [args.label]} if args.label is not None else {})})
        out = model.predict(request, params={"output": "array", "seed": args.seed})
        images = np.asarray(out["image"].tolist(), dtype=np.uint8)
        write_bytes(args.out, encode_png(grid(images)))
        return f"wrote {len(images)} image(s) to {args.out}"

    def read_request_files(self, chunk: pd.DataFrame, folder: Path) -> pd.DataFrame:
        """An `image` column of file paths (absolute, or relative to the input's folder) as the base64 the model
        reads; a value naming no file is left as it is (already base64)."""
        if FILE_COLUMN not in chunk.columns:
            return chunk
        images = []
        for value in chunk[FILE_COLUMN]:
            path = Path(str(value)) if Path(str(value)).is_absolute() else folder / str(value)
            is_file = len(str(value)) < 4096 and path.is_file()
            images.append(base64.b64encode(path.read_bytes()).decode("ascii") if is_file else value)
        return chunk.assign(**{FILE_COLUMN: images})


KIND = ImageKind()
