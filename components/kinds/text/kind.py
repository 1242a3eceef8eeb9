"""The text kind: applications over sentences (unconditional and conditional generation), their BPE or word
tokenizer, token arrays, the text families (BS-VAE, VQVAE-LM, LSTM and Transformer LMs) and their served pyfunc."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from components.applications.kind import AcceptsData, FineTunes, Kind, Scores, WarmStarts
from components.kinds.text.conditional import CONDITIONAL
from components.kinds.text.pretrain import PRETRAIN
from components.kinds.text.sentences import SENTENCES

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"


class TextKind(Kind, AcceptsData, WarmStarts, FineTunes, Scores):
    name = "text"
    shipped = (SENTENCES, CONDITIONAL, PRETRAIN)

    def params_from_dict(self, raw, app):
        from components.kinds.text.params import params_from_dict as build

        return build(raw, app)

    def check_params(self, params) -> None:
        """model.family is known and its own section (model.bsvae, ...) valid, with the family's rules across
        sections; imports the families' code (torch), which the schema's readers do not."""
        from components.kinds.text.models.families import check_families

        check_families(params)

    def application(self, name: str):
        from components.kinds.text.application import TextApplication

        return TextApplication(
            name=name,
            description="text generation",
            steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
        )

    def gate(self, metrics, params, lineage=None, champion=None):
        from components.kinds.text.gate import gate_metrics

        return gate_metrics(metrics, params, lineage=lineage, champion=champion)

    def served_model(self, workspace: Path, app, params, weights_sha256: str) -> dict:
        from components.kinds.text.data.labels import LABELS_FILE, read_labels
        from components.kinds.text.serving.signature import input_example, signature

        model_dir = app.model_dir(workspace, params.model.family)
        labels_file = model_dir / LABELS_FILE
        labels = read_labels(labels_file) if params.model.conditional and labels_file.is_file() else []
        return {
            "python_model": str(PYFUNC_CODE),
            "artifacts": {
                "model_dir": str(model_dir),
                "tokenizer": str(app.tokenizer(workspace)),
            },
            "model_config": {"weights_sha256": weights_sha256, "max_len": params.train.max_len},
            "signature": signature(),
            "input_example": input_example(labels[0] if labels else None),
        }

    def model_card(self, workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
        from components.kinds.text.card import model_card as card
        from components.kinds.text.card import read_samples

        samples = read_samples(workspace / app.output(workspace, "evaluate", "--samples"))
        return card(name, params, metrics, lineage, commit, samples)

    def run_artifacts(self, workspace: Path, app, history: list[dict]) -> list[tuple[Path, str]]:
        from components.kinds.text.evaluation.plots import write_plots

        plots = write_plots(
            workspace / app.reports("plots"), history, workspace / app.output(workspace, "evaluate", "--latent")
        )
        return [(plot, "plots") for plot in plots]

    def accept_data(self, workspace: Path, app) -> str:
        """The registered model's train vocabulary becomes the reference the next run's out-of-vocabulary rate is
        measured against."""
        from components.core.atomic import write_text
        from components.kinds.text.data.dataset_checks import accepted_vocab

        vocab = accepted_vocab(pd.read_parquet(app.splits(workspace)))
        write_text(app.reference_vocab(workspace), "\n".join(vocab) + "\n")
        return f"{len(vocab)} words"

    def prepare_warm_start(self, workspace: Path, params, client) -> str:
        from components.kinds.text.warm_start import prepare

        return prepare(workspace, params, client)

    def prepare_base(self, workspace: Path, params, client, version: str | None = None) -> str:
        from components.applications.catalog import application as app_named
        from components.kinds.text.base_model import materialise

        app = app_named(params.application, workspace / "params.yaml")
        return materialise(app.base_dir(workspace), params.train.init_from, client, version)

    def score(self, served, params, path: Path):
        from components.kinds.text.evaluation.score import score_text

        return score_text(served, params, path)

    def add_generation_options(self, parser: argparse.ArgumentParser) -> None:
        from components.kinds.text.serving.signature import PARAM_DEFAULTS

        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--n", type=int, default=5, help="sentences to sample from the prior (default 5)")
        mode.add_argument("--reconstruct", nargs="+", metavar="TEXT", help="sentences to encode and decode")
        mode.add_argument("--interpolate", nargs=2, metavar=("START", "END"), help="two sentences to walk between")
        parser.add_argument("--label", help="the condition, for a conditional model (e.g. noun.animal)")
        parser.add_argument("--prefix", help="text every sample continues")
        parser.add_argument("--reference", help="sample z from this sentence's posterior instead of the prior")
        for name, default in PARAM_DEFAULTS.items():
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=type(default), default=default)

    def generate(self, model, args: argparse.Namespace) -> str:
        from components.kinds.text.serving.signature import PARAM_DEFAULTS

        out = model.predict(text_request(args), params={k: getattr(args, k) for k in PARAM_DEFAULTS})
        return "\n".join(out["text"])


def text_request(args: argparse.Namespace) -> pd.DataFrame:
    """generate's options as the served text model's request: samples (given a label, prefix or reference),
    reconstructions or an interpolation."""
    label = {"label": [args.label]} if args.label is not None else {}
    if args.reconstruct:
        return pd.DataFrame(
            {"text": args.reconstruct, **({"label": label["label"] * len(args.reconstruct)} if label else {})}
        )
    if args.interpolate:
        return pd.DataFrame({"start": [args.interpolate[0]], "end": [args.interpolate[1]], **label})
    condition = {name: [value] for name in ("prefix", "reference") if (value := getattr(args, name)) is not None}
    return pd.DataFrame({"n": [args.n], **label, **condition})


KIND = TextKind()
