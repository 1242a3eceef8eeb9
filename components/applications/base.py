"""An application of the pipeline as a named unit: its stages, its outputs, its registered models.

Several applications live side by side in one checkout. Each has its own section of params.yaml
(`<name>:`), its own stages in dvc.yaml (`<name>-ingest`, `<name>-train`, ...), its own outputs
under `data/<name>/`, `models/<name>/<family>/`, `metrics/<name>/` and `reports/<name>/`, and its
own registered model per family (register.model_name, e.g. `<name>-bsvae`). `dvc repro` builds
them all; `dvc repro <name>-evaluate` (or `--glob '<name>-*'`) one alone; the flow takes one by name.

dvc.yaml stays the only definition of the stages: the paths below are the ones its commands pass,
and tests/applications/test_applications.py checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Application:
    name: str
    """Its top-level key in params.yaml and the prefix of its stages and outputs."""
    description: str
    steps: tuple[str, ...]
    """Its stages in dvc.yaml, in pipeline order, without the `<name>-` prefix."""
    families: tuple[str, ...]
    """The model families (model.family) it can train."""
    train_step: str = "train"
    """The step whose dependency warm_start/<name>/ the flow fills before it runs."""

    # --- stages -------------------------------------------------------------
    def stage(self, step: str) -> str:
        """The dvc.yaml name of one of its stages, e.g. sentences-train."""
        if step not in self.steps:
            raise KeyError(f"application {self.name!r} has no step {step!r} (has {list(self.steps)})")
        return f"{self.name}-{step}"

    @property
    def stages(self) -> list[str]:
        return [self.stage(step) for step in self.steps]

    # --- outputs ------------------------------------------------------------
    def data(self, relative: str) -> str:
        return f"data/{self.name}/{relative}"

    def metrics(self, name: str) -> str:
        return f"metrics/{self.name}/{name}.json"

    def reports(self, relative: str = "") -> str:
        return f"reports/{self.name}/{relative}".rstrip("/")

    def model_dir(self, family: str) -> str:
        return f"models/{self.name}/{family}"

    @property
    def reference_vocab(self) -> str:
        """The last accepted dataset's words (tracked in git; the flow rewrites it after a registration)."""
        return self.data("reference/vocab.txt")

    @property
    def warm_start_dir(self) -> str:
        return f"warm_start/{self.name}"

    @property
    def base_dir(self) -> str:
        """The registered model a fine-tuning run starts from (train.init_from), put there by the flow."""
        return f"base/{self.name}"

    @property
    def checkpoint(self) -> str:
        return f"checkpoints/{self.name}/train.pt"
