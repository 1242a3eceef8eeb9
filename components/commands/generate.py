"""Generate text with a registered model from the command line.

    python -m components.commands.generate --model models:/sentences-bsvae@champion --n 5 --temperature 0.8
    python -m components.commands.generate --model models:/sentences-bsvae@champion --reconstruct "a small dog"
    python -m components.commands.generate --model models:/sentences-bsvae@champion --interpolate "a cat" "a large ship"
    python -m components.commands.generate --model models:/sentences-bsvae@champion --prefix "a small" --n 3
    python -m components.commands.generate --model models:/conditional-bsvae@champion --label noun.animal --n 5
    python -m components.commands.generate --model models:/translation-transformer@champion \
        --translate "Ein Hund rennt über die Wiese." --decoder greedy
    python -m components.commands.generate --model models:/images-bsvae@champion --n 16 --out samples.png
    python -m components.commands.generate --model models:/images-bsvae@champion --image shirt.png --out rec.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from components.kinds.text.serving.signature import PARAM_DEFAULTS
from components.kinds.translation.serving.signature import TRANSLATION_PARAM_DEFAULTS


def request(args: argparse.Namespace) -> pd.DataFrame:
    condition = {
        name: [value] for name in ("label", "prefix", "reference") if (value := getattr(args, name)) is not None
    }
    if args.reconstruct:
        label = condition.get("label", [None]) * len(args.reconstruct)
        return pd.DataFrame({"text": args.reconstruct, **({"label": label} if args.label is not None else {})})
    if args.interpolate:
        return pd.DataFrame(
            {
                "start": [args.interpolate[0]],
                "end": [args.interpolate[1]],
                **({"label": [args.label]} if args.label is not None else {}),
            }
        )
    return pd.DataFrame({"n": [args.n], **condition})


def write_images(model, args: argparse.Namespace) -> int:
    """An image model's samples (or the reconstruction of --image) as one PNG grid at --out."""
    import base64

    import numpy as np

    from components.core.atomic import write_bytes
    from components.kinds.images.data.images import encode_png
    from components.kinds.images.evaluation.metrics import grid

    if not args.out:
        raise ValueError("--image needs --out: where to write the reconstruction")
    if args.image:
        request = pd.DataFrame({"image": [base64.b64encode(Path(args.image).read_bytes()).decode("ascii")]})
    else:
        request = pd.DataFrame({"n": [args.n], **({"label": [args.label]} if args.label is not None else {})})
    out = model.predict(request, params={"output": "array", "seed": args.seed})
    if "image" not in out.columns:
        raise ValueError(f"{args.model} is not an image model: --out and --image need one")
    images = np.asarray(out["image"].tolist(), dtype=np.uint8)
    write_bytes(args.out, encode_png(grid(images)))
    print(f"wrote {len(images)} image(s) to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model URI, e.g. models:/NAME@champion")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--n", type=int, default=5, help="sentences to sample from the prior (default 5)")
    mode.add_argument("--reconstruct", nargs="+", metavar="TEXT", help="sentences to encode and decode")
    mode.add_argument("--interpolate", nargs=2, metavar=("START", "END"), help="two sentences to walk between")
    mode.add_argument("--translate", nargs="+", metavar="TEXT", help="sentences to translate (a translation model)")
    parser.add_argument(
        "--decoder",
        default=TRANSLATION_PARAM_DEFAULTS["decoder"],
        help="translation: latent, greedy or beam (default: the model's own)",
    )
    parser.add_argument("--beam-size", dest="beam_size", type=int, default=TRANSLATION_PARAM_DEFAULTS["beam_size"])
    mode.add_argument("--image", help="an image file to reconstruct (an image model)")
    parser.add_argument("--out", help="image models: write the images as one PNG grid here")
    parser.add_argument("--label", help="the condition, for a conditional model (e.g. noun.animal)")
    parser.add_argument("--prefix", help="text every sample continues")
    parser.add_argument("--reference", help="sample z from this sentence's posterior instead of the prior")
    for name, default in PARAM_DEFAULTS.items():
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default), default=default)
    parser.add_argument("--workspace", default=".", help="project root whose mlruns/ to use (default: .)")
    args = parser.parse_args(argv)

    from mlflow.exceptions import MlflowException

    from components.core.errors import StageError, error_line
    from components.registry.tracking import connect

    try:
        from components.registry.model_files import load_pyfunc

        model = load_pyfunc(args.model, connect(Path(args.workspace)))
        if args.out or args.image:
            return write_images(model, args)
        if args.translate:
            out = model.predict(
                pd.DataFrame({"text": args.translate}), params={k: getattr(args, k) for k in TRANSLATION_PARAM_DEFAULTS}
            )
            if "translation" not in out.columns:
                raise ValueError(f"{args.model} is not a translation model: --translate needs one")
            out = out.rename(columns={"text": "source", "translation": "text"})
        else:
            out = model.predict(request(args), params={k: getattr(args, k) for k in PARAM_DEFAULTS})
    except (MlflowException, StageError, OSError, ValueError) as err:
        print(error_line("generate", getattr(err, "message", err)), file=sys.stderr)
        return 1
    for text in out["text"]:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
