"""The translation kind: applications over sentence pairs, their tokenizers (joint or per side), the translation
families (Transformer, VQ latent translator) and their served pyfunc."""

from __future__ import annotations

from pathlib import Path

from components.kinds.registry import Kind
from components.kinds.translation.application import TRANSLATION

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"


def params_from_dict(raw, app):
    from components.kinds.translation.params import translation_params_from_dict

    return translation_params_from_dict(raw, app)


def gate(metrics, p, lineage=None, champion=None):
    from components.kinds.translation.gate import translation_gate_metrics

    return translation_gate_metrics(metrics, p, lineage=lineage, champion=champion)


def served_model(workspace: Path, app, params, weights_sha: str) -> dict:
    from components.kinds.translation.serving.signature import translation_input_example, translation_signature

    return {
        "python_model": str(PYFUNC_CODE),
        "artifacts": {"model_dir": str(app.model_dir(workspace, params.model.family))},
        "model_config": {"weights_sha256": weights_sha},
        "signature": translation_signature(),
        "input_example": translation_input_example(),
    }


def model_card(workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
    from components.kinds.translation.card import translation_card

    return translation_card(name, params, metrics, lineage, commit)


def accept_data(workspace: Path, app) -> str:
    """The registered model's train words, per side, become the reference the next run's data is checked against
    (dataset.max_reference_oov_rate)."""
    import pandas as pd

    from components.core.atomic import write_text
    from components.kinds.translation.data.checks import SIDES, accepted_vocab

    splits = pd.read_parquet(app.splits(workspace))
    counts = []
    for side in SIDES:
        vocab = accepted_vocab(splits, side)
        write_text(app.reference_dir(workspace) / f"vocab.{side}.txt", "\n".join(vocab) + "\n")
        counts.append(f"{len(vocab)} {side} words")
    return ", ".join(counts)


def application(name: str):
    from components.kinds.translation.application import TranslationApplication

    return TranslationApplication(
        name=name,
        description="machine translation",
        steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
        families=("transformer", "latent"),
    )


def score(served, params, path: Path):
    from components.kinds.translation.evaluation.score import score_translation

    return score_translation(served, params, path)


KIND = Kind(
    name="translation",
    params_from_dict=params_from_dict,
    gate=gate,
    served_model=served_model,
    model_card=model_card,
    accept_data=accept_data,
    score=score,
    application=application,
    shipped=(TRANSLATION,),
)
