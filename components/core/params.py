"""The sections every application shares (split, the engine's train knobs, register, orchestrate) and the reading of
params.yaml, the one place where parameter values live.

Every section is declared in components/core/schema.py's terms (types, allowed values, bounds, a docstring per
field, cross-field checks); the kinds declare theirs in components/kinds/<kind>/params.py. Types, bounds and checks
live in code, never default values: a key deleted from params.yaml is an error naming it. docs/parameters.md is
generated from these declarations (`python -m components.commands.parameters_doc`).
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml

from components.core.schema import (
    Count,
    Device,
    NonNegative,
    ParamsError,
    Positive,
    Precision,
    Range,
    Section,
    build,
    checked,
    schema,
    section_type,
)

PARAMS_FILE = "params.yaml"


def check_template(key: str, value: str, *fields: str) -> None:
    """A name with {placeholders}: only the given fields may appear."""
    if not value.strip():
        raise ParamsError(f"{key}: must not be empty")
    try:
        value.format(**{f: f for f in fields})
    except (KeyError, IndexError, ValueError) as err:
        raise ParamsError(
            f"{key}: {value!r} may only use the placeholders {['{' + f + '}' for f in fields]} ({err})"
        ) from None


# --- the sections every kind shares ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SplitParams(Section):
    valid_fraction: Annotated[float, Range(gt=0, lt=0.5)]
    """Share of rows hashed into valid."""
    test_fraction: Annotated[float, Range(gt=0, lt=0.5)]
    """Share of rows hashed into test."""
    salt: str
    """Part of the hash that assigns splits; changing it reshuffles every row."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.valid_fraction + self.test_fraction >= 0.5:
            raise ParamsError("valid_fraction + test_fraction must be below 0.5")


TORCHRUN_OPTIONS = {
    "--standalone": False,
    "--nproc-per-node": True,
    "--nnodes": True,
    "--node-rank": True,
    "--rdzv-backend": True,
    "--rdzv-endpoint": True,
    "--rdzv-id": True,
    "--master-addr": True,
    "--master-port": True,
    "--max-restarts": True,
}
"""The torchrun options a launcher may carry (either spelling, - or _), and whether each takes a value."""
LAUNCHER_VALUE = re.compile(r"^[A-Za-z0-9_.:-]+$")


def check_launcher(launcher: str) -> None:
    """`python3`, `python`, or `torchrun` with its own options only. dvc.yaml puts the launcher in front of the
    stage's command in a shell, so anything else (a `;`, `--no-python bash`, another program) would run code on
    the worker for whoever can start a flow run with overrides."""
    words = launcher.split()
    if words in (["python3"], ["python"]):
        return
    if not words or words[0] != "torchrun":
        raise ParamsError(f"launcher must be python3, python or torchrun with its options, got {launcher!r}")
    rest = iter(words[1:])
    for word in rest:
        name, has_value, value = word.partition("=")
        takes = TORCHRUN_OPTIONS.get(name.replace("_", "-"))
        if takes is None:
            raise ParamsError(
                f"launcher: {word!r} is not a torchrun option this pipeline runs "
                f"(allowed: {', '.join(TORCHRUN_OPTIONS)})"
            )
        if not takes and has_value:
            raise ParamsError(f"launcher: {name} takes no value, got {word!r}")
        if takes and not has_value:
            value = next(rest, "")
        if takes and not LAUNCHER_VALUE.match(value):
            raise ParamsError(f"launcher: {name} {value!r} is not a plain value (letters, digits, . _ : -)")


@dataclass(frozen=True)
class EngineParams(Section):
    """The training engine's knobs (components/engine/engine.py), which every kind's train section has."""

    seed: int
    """Seeds initialisation, batching and sampling: the same seed and data give the same model."""
    epochs: Positive
    """Passes over train (more when min_steps asks for them)."""
    max_steps: Count
    """Stop after this many optimiser steps; 0: train all epochs."""
    min_steps: Count
    """Train at least this many optimiser steps, repeating epochs when the data is small (0: epochs decide); the
    best weights on valid are kept, so the extra epochs cannot leave a worse model."""
    batch_size: Positive
    """Rows per optimiser step (split into grad_accum micro-batches)."""
    lr: Annotated[float, Range(gt=0, le=1)]
    """Peak learning rate (Adam)."""
    grad_clip: NonNegative
    """Largest gradient norm (0: no clipping)."""
    grad_accum: Positive
    """Micro-batches per optimiser step: batch_size rows are split so that fewer sit in memory at once."""
    patience: Count
    """Stop when the validation figure the engine watches has not improved for this many epochs (0: never); the
    best epoch is kept."""
    checkpoint_every: Count
    """Save the resumable training state at most this many optimiser steps apart (and at each epoch end); 0: at
    epoch ends only."""
    min_checkpoints: Count
    """... and at least this many times a run however short, so a killed tiny run resumes too (0: no such floor)."""
    device: Device
    """auto (CUDA when present), cpu or cuda."""
    threads: Count
    """CPU threads for torch; 0 keeps torch's default."""
    precision: Precision
    """fp32, or bf16 autocast where the hardware runs every op of the model in bf16 (a GPU; a CPU with AVX-512 BF16
    or AMX); elsewhere the run trains in fp32 and says so in one warning line (components/engine/precision.py)."""
    compile: bool
    """torch.compile the model (GPU)."""
    launcher: str
    """How dvc.yaml starts the train stage: python3, or e.g. `torchrun --standalone --nproc-per-node 8` for
    data-parallel training on 8 GPUs (one process each)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_launcher(self.launcher)


@dataclass(frozen=True)
class RegisterParams(Section):
    model_name: str
    """Registered model name; {application} and {family} are filled in (e.g. sentences-bsvae)."""
    experiment: str
    """MLflow experiment of the runs; {application} and {family} are filled in."""
    alias: str
    """The alias a registered version gets (champion and previous-champion are the manager's)."""
    auto_promote: bool
    """Move `champion` to the new version when it beats the champion by promote_margin."""
    promote_margin: NonNegative
    """In the gate's main figure: nats per sentence, BLEU, bits per dimension."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_template("model_name", self.model_name, "application", "family")
        check_template("experiment", self.experiment, "application", "family")
        if not self.alias.strip() or self.alias in ("champion", "previous-champion"):
            raise ParamsError(f"alias: {self.alias!r} is empty or reserved for promotion")


@dataclass(frozen=True)
class OrchestrateParams(Section):
    """How the Prefect flow runs around the DVC stages (no stage reads this section)."""

    default_application: str
    """The application a command or flow works on when no --app is given."""
    deployment: str
    """Name of the deployment `python -m flows.serve --app NAME` creates; {application} is filled in."""
    cron: str
    """When the deployment runs (cron syntax: minute hour day month weekday, in `timezone`)."""
    timezone: str
    """An IANA time zone (UTC, Europe/Paris)."""
    update_imports: bool
    """`dvc update` every imported source (dvc import / import-url) before the stages run: picks up new data."""
    push: bool
    """`dvc push` the run's data and model to the default DVC remote after registration."""
    lock_timeout_s: NonNegative
    """How long a run waits for another run on the same workspace to finish; 0: refuse at once."""
    server_startup_timeout_s: Positive
    """How long `python -m flows.retrain` waits for its temporary Prefect API server to start (a loaded machine
    can take well over Prefect's own 20 s); no effect when PREFECT_API_URL names a server."""
    retries: Count
    """Retries of the tasks that talk to MLflow or a DVC remote, after transient failures only."""
    retry_delay_s: NonNegative
    """First retry delay; each further retry waits 4 times longer (5, 20, 80 s ...)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        check_template("deployment", self.deployment, "application")
        if len(self.cron.split()) != 5:
            raise ParamsError(f"cron: must have 5 fields (minute hour day month weekday), got {self.cron!r}")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParamsError(f"timezone: unknown time zone {self.timezone!r} (e.g. UTC, Europe/Paris)") from None


@dataclass(frozen=True)
class ApplicationParams(Section):
    """What every application's params hold besides its kind's own sections, and the names derived from them."""

    application: str
    """The application's name: its top-level key in params.yaml (e.g. sentences)."""
    kind: str
    """Its kind: text (when absent), translation, images, or a module path whose KIND is the kind."""
    register: RegisterParams
    orchestrate: OrchestrateParams
    profiles: dict[str, dict[str, Any]]
    """Presets (tiny, gpu), each holding only the knobs it changes; `flows.retrain --profile NAME` writes one into
    the sections over the committed values, `--profile default` returns to those."""

    @property
    def model_name(self) -> str:
        """The registered model's name: register.model_name with the application and family filled in."""
        return self.register.model_name.format(application=self.application, family=self.model.family)

    @property
    def experiment_name(self) -> str:
        return self.register.experiment.format(application=self.application, family=self.model.family)

    @property
    def deployment_name(self) -> str:
        return self.orchestrate.deployment.format(application=self.application)


# --- reading params.yaml ---------------------------------------------------------------------------------------
SHARED_SECTIONS = ("orchestrate",)
"""Top-level sections every application shares; every other top-level key of params.yaml is an application."""


def read_params_file(path: str | Path = PARAMS_FILE) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: parameters file not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of sections")
    return raw


def load_with(from_dict, path: str | Path, app: str | None):
    """`from_dict(raw, app)` on the file at `path`, its errors prefixed with the file."""
    try:
        return from_dict(read_params_file(path), app)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from err


def application_names(raw: dict[str, Any]) -> list[str]:
    return [key for key in raw if key not in SHARED_SECTIONS]


def choose_application(raw: dict[str, Any], app: str | None) -> str:
    """`app` if params.yaml has it; with no `app`, orchestrate.default_application (or the only application)."""
    names = application_names(raw)
    if app is None:
        app = (raw.get("orchestrate") or {}).get("default_application")
        if app is None and len(names) == 1:
            return names[0]
        if app is None:
            raise ParamsError(f"params.yaml holds the applications {names}: say which one (--app NAME)")
    if app not in names:
        raise ParamsError(f"no application {app!r} in params.yaml (have {names})")
    return app


def kind_params_from_dict(raw: dict[str, Any], app: str | None, params_cls: type, kind: str) -> Any:
    """One application's params of the kind `kind` (its sections' schema `params_cls`, an ApplicationParams) with
    the shared orchestrate section, its profiles checked against the same schema; errors name the key."""
    app = choose_application(raw, app)
    section = raw[app]
    if not isinstance(section, dict):
        raise ParamsError(f"{app}: expected a mapping of sections, got {type(section).__name__}")
    if (section.get("kind") or "text") != kind:
        raise ParamsError(
            f"{app} is a {section.get('kind') or 'text'} application: its parameters are not a {kind} application's"
        )
    orchestrate = build(OrchestrateParams, raw.get("orchestrate") or {}, "orchestrate")
    sections = {k: v for k, v in section.items() if k != "kind"}
    params = build(params_cls, sections, app, given={"application": app, "kind": kind, "orchestrate": orchestrate})
    check_profiles(params.profiles, params_cls, f"{app}.profiles")
    return params


def check_profiles(profiles: dict[str, dict[str, Any]], params_cls: type, where: str) -> None:
    """Each profile's knobs are known ones of the right type within their bounds; `default` is no profile's name
    (it means the committed values, which the sections hold)."""
    for name, knobs in profiles.items():
        if name == "default":
            raise ParamsError(f"{where}: 'default' is the committed values themselves, not a profile to list")
        for dotted, value in flatten(knobs or {}).items():
            check_value(params_cls, dotted, value, f"{where}.{name}")


def check_value(params_cls: type, dotted: str, value: Any, where: str) -> None:
    """Type- and bound-check one dotted key (train.epochs) against the schema without building the rest."""
    section_name, _, name = dotted.partition(".")
    hints = schema(params_cls)
    section = section_type(hints[section_name])[0] if section_name in hints else None
    fields = {f.name for f in dataclasses.fields(section)} if section is not None else set()
    if section is not None and getattr(section, "open_sections", None) and name.partition(".")[0] not in fields:
        return  # a registry's sub-section (model.bsvae.latent_dim): the registry checks it
    if section is None or section_name in SHARED_SECTIONS or name not in fields:
        raise ParamsError(f"{where}: unknown parameter {dotted!r}")
    checked(schema(section)[name], value, f"{where}.{dotted}")


def parse_assignment(text: str) -> tuple[str, Any]:
    """'train.epochs=3' -> ('train.epochs', 3); the value is read as YAML, so types survive."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ParamsError(f"--set expects KEY=VALUE, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out
