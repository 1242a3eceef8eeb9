"""An application of the pipeline as a named unit: its stages, its outputs, its registered models.

Several applications live side by side in one checkout. Each has its own section of params.yaml
(`<name>:`), its own stages in dvc.yaml (`<name>-ingest`, `<name>-train`, ...), its own outputs
under `data/<name>/`, `models/<name>/<family>/`, `metrics/<name>/` and `reports/<name>/`, and its
own registered model per family (register.model_name, e.g. `<name>-bsvae`). `dvc repro` builds
them all; `dvc repro <name>-evaluate` (or `--glob '<name>-*'`) one alone; the flow takes one by name.

dvc.yaml stays the only definition of the stages and the one place their paths are spelled: the outputs
below are read from its commands (components/versioning/stage_file.py), so code that reads a stage's output
afterwards finds it where dvc.yaml puts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from components.versioning.stage_file import stage_argument, stage_arguments, stages


@dataclass(frozen=True)
class Application:
    name: str
    """Its top-level key in params.yaml and the prefix of its stages and outputs."""
    description: str
    steps: tuple[str, ...]
    """Its stages in dvc.yaml, in pipeline order, without the `<name>-` prefix."""
    families: tuple[str, ...] = ()
    """The model families (model.family) it can train, when the application lists them (see model_families)."""
    train_step: str = "train"
    """The step whose dependency warm_start/<name>/ the flow fills before it runs."""

    def model_families(self) -> tuple[str, ...]:
        """The model families (model.family) it can train: its own list by default; a kind with a family registry
        asks it."""
        return self.families

    # --- stages -------------------------------------------------------------
    def stage(self, step: str) -> str:
        """The dvc.yaml name of one of its stages, e.g. sentences-train."""
        if step not in self.steps:
            raise KeyError(f"application {self.name!r} has no step {step!r} (has {list(self.steps)})")
        return f"{self.name}-{step}"

    @property
    def stages(self) -> list[str]:
        return [self.stage(step) for step in self.steps]

    # --- outputs: as dvc.yaml's commands spell them ------------------------------
    def output(self, workspace: str | Path, step: str, flag: str, family: str | None = None) -> str:
        """The path its stage `<name>-<step>` passes as `flag` in the workspace's dvc.yaml, relative to the
        workspace as dvc.yaml (and dvc.lock) spell it; `family` fills `${<name>.model.family}`."""
        values = {f"{self.name}.model.family": family} if family else None
        return stage_argument(Path(workspace), self.stage(step), flag, values)

    def lineage_flags(self) -> dict[str, tuple[str, str]]:
        """Version tag -> (step, flag) of the outputs whose dvc.lock hashes identify a run (the kind's to say)."""
        return {
            "data.corpus_md5": ("ingest", "--out"),
            "data.splits_md5": ("split", "--out"),
            "model.md5": ("train", "--out-dir"),
        }

    def lineage_outputs(self, workspace: str | Path, family: str) -> dict[str, tuple[str, str]]:
        """Version tag -> (stage, output as dvc.lock names it) of the run's data, vocabularies and model."""
        return {
            tag: (self.stage(step), self.output(workspace, step, flag, family))
            for tag, (step, flag) in self.lineage_flags().items()
        }

    def optional_output(self, workspace: str | Path, step: str, flag: str) -> Path | None:
        """The path its stage `<name>-<step>` passes as `flag`, or None when the command takes no such path (only
        text applications warm-start; not every stage times itself)."""
        value = stage_arguments(Path(workspace), self.stage(step)).get(flag)
        return Path(workspace) / value if value else None

    def model_dir(self, workspace: str | Path, family: str) -> Path:
        return Path(workspace) / self.output(workspace, self.train_step, "--out-dir", family)

    def splits(self, workspace: str | Path) -> Path:
        """The split table (every validated row with its split)."""
        return Path(workspace) / self.output(workspace, "split", "--out")

    def eval_metrics(self, workspace: str | Path) -> Path:
        return Path(workspace) / self.output(workspace, "evaluate", "--metrics")

    def train_history(self, workspace: str | Path) -> Path:
        return Path(workspace) / self.output(workspace, self.train_step, "--history")

    def timing(self, workspace: str | Path, step: str) -> Path | None:
        """The timing file (wall time, peak memory) stage `step` writes, if its command writes one."""
        return self.optional_output(workspace, step, "--timing")

    def report_files(self, workspace: str | Path) -> list[Path]:
        """What the evaluate stage reports for people (samples, translations, pictures, latent dimensions): the
        files it declares as outputs and plots, and those in the folder its command gives as --reports."""
        entry = stages(Path(workspace)).get(self.stage("evaluate"), {})
        declared = [
            next(iter(e)) if isinstance(e, dict) else e for key in ("outs", "plots") for e in entry.get(key, [])
        ]
        folder = self.optional_output(workspace, "evaluate", "--reports")
        found = sorted(folder.glob("*.*")) if folder else []
        return [p for p in dict.fromkeys([*(Path(workspace) / d for d in declared), *found]) if p.is_file()]

    def warm_start_dir(self, workspace: str | Path) -> Path:
        """The champion's weights the flow puts where the train stage reads them (train.warm_start: champion)."""
        return Path(workspace) / self.output(workspace, self.train_step, "--warm-start")

    def base_dir(self, workspace: str | Path) -> Path:
        """The registered model a fine-tuning run starts from (train.init_from), put there by the flow."""
        return Path(workspace) / self.output(workspace, self.train_step, "--base")

    def reports(self, relative: str = "") -> str:
        """The flow's own reports (the gate's, the run log, plots), beside the stages' reports."""
        return f"reports/{self.name}/{relative}".rstrip("/")
