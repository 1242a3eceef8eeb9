"""The translation kind: applications over sentence pairs, their tokenizers (joint or per side), the translation
families (Transformer, VQ latent translator) and their served pyfunc."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from components.applications.kind import AcceptsData, Kind, Scores
from components.kinds.translation.application import TRANSLATION

PYFUNC_CODE = Path(__file__).resolve().parent / "serving" / "pyfunc.py"


class TranslationKind(Kind, AcceptsData, Scores):
    name = "translation"
    shipped = (TRANSLATION,)

    def params_from_dict(self, raw, app):
        from components.kinds.translation.params import translation_params_from_dict

        return translation_params_from_dict(raw, app)

    def application(self, name: str):
        from components.kinds.translation.application import TranslationApplication

        return TranslationApplication(
            name=name,
            description="machine translation",
            steps=("ingest", "validate", "split", "check", "tokenize", "train", "evaluate"),
            families=("transformer", "latent"),
        )

    def gate(self, metrics, params, lineage=None, champion=None):
        from components.kinds.translation.gate import translation_gate_metrics

        return translation_gate_metrics(metrics, params, lineage=lineage, champion=champion)

    def served_model(self, workspace: Path, app, params, weights_sha256: str) -> dict:
        from components.kinds.translation.serving.signature import translation_input_example, translation_signature

        return {
            "python_model": str(PYFUNC_CODE),
            "artifacts": {"model_dir": str(app.model_dir(workspace, params.model.family))},
            "model_config": {"weights_sha256": weights_sha256},
            "signature": translation_signature(),
            "input_example": translation_input_example(),
        }

    def model_card(self, workspace: Path, app, name: str, params, metrics: dict, lineage: dict, commit: str) -> str:
        from components.kinds.translation.card import translation_card

        return translation_card(name, params, metrics, lineage, commit)

    def accept_data(self, workspace: Path, app) -> str:
        """The registered model's train words, per side, become the reference the next run's data is checked
        against (dataset.max_reference_oov_rate)."""
        from components.core.atomic import write_text
        from components.kinds.translation.data.checks import SIDES, accepted_vocab

        splits = pd.read_parquet(app.splits(workspace))
        counts = []
        for side in SIDES:
            vocab = accepted_vocab(splits, side)
            write_text(app.reference_dir(workspace) / f"vocab.{side}.txt", "\n".join(vocab) + "\n")
            counts.append(f"{len(vocab)} {side} words")
        return ", ".join(counts)

    def score(self, served, params, path: Path):
        from components.kinds.translation.evaluation.score import score_translation

        return score_translation(served, params, path)

    def add_generation_options(self, parser: argparse.ArgumentParser) -> None:
        from components.kinds.translation.serving.signature import TRANSLATION_PARAM_DEFAULTS

        parser.add_argument("--translate", nargs="+", metavar="TEXT", required=True, help="sentences to translate")
        parser.add_argument(
            "--decoder",
            default=TRANSLATION_PARAM_DEFAULTS["decoder"],
            help="latent, greedy or beam (default: the model's own)",
        )
        parser.add_argument("--beam-size", dest="beam_size", type=int, default=TRANSLATION_PARAM_DEFAULTS["beam_size"])

    def generate(self, model, args: argparse.Namespace) -> str:
        from components.kinds.translation.serving.signature import TRANSLATION_PARAM_DEFAULTS

        out = model.predict(
            pd.DataFrame({"text": args.translate}), params={k: getattr(args, k) for k in TRANSLATION_PARAM_DEFAULTS}
        )
        return "\n".join(out["translation"])


KIND = TranslationKind()
