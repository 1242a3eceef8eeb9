"""The text kind: applications over sentences (unconditional and conditional generation), their BPE or word
tokenizer, token arrays, the text families (BS-VAE, VQVAE-LM, LSTM and Transformer LMs) and their served pyfunc."""

from __future__ import annotations

from pathlib import Path

from components.kinds.registry import Kind
from components.kinds.text.conditional import CONDITIONAL
from components.kinds.text.pretrain import PRETRAIN
from components.kinds.text.sentences import SENTENCES

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"


def params_from_dict(raw, app):
    from components.kinds.text.params import params_from_dict as build

    return build(raw, app)


def gate(metrics, p, lineage=None, champion=None):
    from components.kinds.text.gate import gate_metrics

    return gate_metrics(metrics, p, lineage=lineage, champion=champion)


def served_model(workspace: Path, app, params, weights_sha: str) -> dict:
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
        "model_config": {"weights_sha256": weights_sha, "max_len": params.train.max_len},
        "signature": signature(),
        "input_example": input_example(labels[0] if labels else None),
    }


def model_card(workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
    from components.kinds.text.card import model_card as card
    from components.kinds.text.card import read_samples

    return card(
        name, params, metrics, lineage, commit, read_samples(workspace / app.output(workspace, "evaluate", "--samples"))
    )


def accept_data(workspace: Path, app) -> str:
    """The registered model's train vocabulary becomes the reference the next run's out-of-vocabulary rate is
    measured against."""
    import pandas as pd

    from components.core.atomic import write_text
    from components.kinds.text.data.dataset_checks import accepted_vocab

    vocab = accepted_vocab(pd.read_parquet(app.splits(workspace)))
    write_text(app.reference_vocab(workspace), "\n".join(vocab) + "\n")
    return f"{len(vocab)} words"


def run_artifacts(workspace: Path, app, history: list[dict]) -> list[tuple[Path, str]]:
    from components.kinds.text.evaluation.plots import write_plots

    plots = write_plots(
        workspace / app.reports("plots"), history, workspace / app.output(workspace, "evaluate", "--latent")
    )
    return [(plot, "plots") for plot in plots]


def prepare_warm_start(workspace: Path, params, client) -> str:
    from components.kinds.text.warm_start import prepare

    return prepare(workspace, params, client)


def prepare_base(workspace: Path, params, client, version: str | None = None) -> str:
    from components.applications.catalog import application as app_named
    from components.kinds.text.base_model import materialise

    app = app_named(params.application, workspace / "params.yaml")
    return materialise(app.base_dir(workspace), params.train.init_from, client, version)


def application(name: str):
    from components.kinds.text.application import TextApplication

    return TextApplication(
        name=name,
        description="text generation",
        steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
        families=("bsvae", "vqvae", "lm", "transformer_lm"),
    )


def score(served, params, path: Path):
    from components.kinds.text.evaluation.score import score_text

    return score_text(served, params, path)


KIND = Kind(
    name="text",
    params_from_dict=params_from_dict,
    gate=gate,
    served_model=served_model,
    model_card=model_card,
    accept_data=accept_data,
    score=score,
    run_artifacts=run_artifacts,
    application=application,
    prepare_warm_start=prepare_warm_start,
    prepare_base=prepare_base,
    shipped=(SENTENCES, CONDITIONAL, PRETRAIN),
)
