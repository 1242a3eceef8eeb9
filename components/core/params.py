"""Typed, strict views of params.yaml, the one place where parameter values live.

Every stage reads its section through these dataclasses, so a typo in params.yaml
(an unknown or missing key, a string where a number belongs, an absurd value) fails at
load time with the key's full path instead of surfacing as a strange model later.
The dataclasses hold types, allowed values and checks, never default values: a key
deleted from params.yaml is an error naming it, not a silent fallback to another value.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = "params.yaml"


class ParamsError(ValueError):
    """A parameter is missing, unknown, mistyped or out of range."""


@dataclass(frozen=True)
class SplitParams:
    valid_fraction: float
    test_fraction: float
    salt: str
    """Part of the hash that assigns splits; changing it reshuffles every sentence."""

    def check(self) -> None:
        _fraction("split.valid_fraction", self.valid_fraction, open_zero=True)
        _fraction("split.test_fraction", self.test_fraction, open_zero=True)
        if self.valid_fraction + self.test_fraction >= 0.5:
            raise ParamsError("split: valid_fraction + test_fraction must be below 0.5")


def check_engine_fields(p) -> None:
    """The training engine's knobs, which every kind's train section has (components/engine/engine.py)."""
    _at_least("train.max_steps", p.max_steps, 0)
    _at_least("train.threads", p.threads, 0)
    _at_least("train.checkpoint_every", p.checkpoint_every, 0)
    _at_least("train.min_checkpoints", p.min_checkpoints, 0)
    _at_least("train.patience", p.patience, 0)
    _positive("train.grad_accum", p.grad_accum)
    _at_least("train.grad_clip", p.grad_clip, 0.0)
    _one_of("train.device", p.device, ("auto", "cpu", "cuda"))
    _one_of("train.precision", p.precision, ("fp32", "bf16"))
    check_launcher(p.launcher)


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
        raise ParamsError(f"train.launcher must be python3, python or torchrun with its options, got {launcher!r}")
    rest = iter(words[1:])
    for word in rest:
        name, has_value, value = word.partition("=")
        takes = TORCHRUN_OPTIONS.get(name.replace("_", "-"))
        if takes is None:
            raise ParamsError(
                f"train.launcher: {word!r} is not a torchrun option this pipeline runs "
                f"(allowed: {', '.join(TORCHRUN_OPTIONS)})"
            )
        if not takes and has_value:
            raise ParamsError(f"train.launcher: {name} takes no value, got {word!r}")
        if takes and not has_value:
            value = next(rest, "")
        if takes and not LAUNCHER_VALUE.match(value):
            raise ParamsError(f"train.launcher: {name} {value!r} is not a plain value (letters, digits, . _ : -)")


@dataclass(frozen=True)
class RegisterParams:
    model_name: str
    """Registered model name; {application} and {family} are filled in (e.g. sentences-bsvae)."""
    experiment: str
    """MLflow experiment of the runs; {application} and {family} are filled in."""
    alias: str
    auto_promote: bool
    """Move `champion` to the new version when it beats the champion's NLL by promote_margin."""
    promote_margin: float

    def check(self) -> None:
        for name in ("model_name", "experiment", "alias"):
            if not getattr(self, name).strip():
                raise ParamsError(f"register.{name} must not be empty")
        for name in ("model_name", "experiment"):
            _template(f"register.{name}", getattr(self, name), "application", "family")
        if self.alias in ("champion", "previous-champion"):
            raise ParamsError(f"register.alias {self.alias!r} is reserved for promotion")
        _at_least("register.promote_margin", self.promote_margin, 0.0)


@dataclass(frozen=True)
class OrchestrateParams:
    """How the Prefect flow runs around the DVC stages (no stage reads this section)."""

    default_application: str
    """The application a command or flow works on when no --app is given."""
    deployment: str
    """Name of the deployment `python -m flows.serve --app NAME` creates; {application} is filled in."""
    cron: str
    """When the deployment runs (cron syntax, in `timezone`)."""
    timezone: str
    update_imports: bool
    """`dvc update` every imported source (dvc import / import-url) before the stages run: picks up new data."""
    push: bool
    """`dvc push` the run's data and model to the default DVC remote after registration."""
    lock_timeout_s: float
    """How long a run waits for another run on the same workspace to finish; 0: refuse at once."""
    server_startup_timeout_s: int
    """How long `python -m flows.retrain` waits for its temporary Prefect API server to start (a loaded
    machine can take well over Prefect's own 20 s); no effect when PREFECT_API_URL names a server."""
    retries: int
    """Retries of the tasks that talk to MLflow or a DVC remote, after transient failures only."""
    retry_delay_s: float
    """First retry delay; each further retry waits 4 times longer (5, 20, 80 s ...)."""

    def check(self) -> None:
        if not self.deployment.strip():
            raise ParamsError("orchestrate.deployment must not be empty")
        _template("orchestrate.deployment", self.deployment, "application")
        fields = self.cron.split()
        if len(fields) != 5:
            raise ParamsError(f"orchestrate.cron must have 5 fields (minute hour day month weekday), got {self.cron!r}")
        _at_least("orchestrate.lock_timeout_s", self.lock_timeout_s, 0.0)
        _positive("orchestrate.server_startup_timeout_s", self.server_startup_timeout_s)
        _at_least("orchestrate.retries", self.retries, 0)
        _at_least("orchestrate.retry_delay_s", self.retry_delay_s, 0.0)
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ParamsError(
                f"orchestrate.timezone: unknown time zone {self.timezone!r} (e.g. UTC, Europe/Paris)"
            ) from None


class ApplicationNames:
    """The names an application's params give its registered model, experiment and deployment (every kind:
    each has `application`, `model.family`, `register` and `orchestrate`)."""

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


SHARED_SECTIONS = ("orchestrate",)
"""Top-level sections every application shares; every other top-level key of params.yaml is an application."""


def load_with(from_dict, path: str | Path, app: str | None):
    """`from_dict(raw, app)` on the file at `path`, its errors prefixed with the file."""
    raw = read_params_file(path)
    try:
        return from_dict(raw, app)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from err


def section_kind(raw: dict[str, Any], app: str) -> str | None:
    """An application section's `kind:` (translation, images); None for a text application."""
    section = raw.get(app)
    return section.get("kind") if isinstance(section, dict) else None


def kind_params_from_dict(raw: dict[str, Any], app: str | None, params_cls: type, kind: str) -> Any:
    """Build and check the params of an application of another kind (`kind: translation`, `kind: images`):
    its own sections' dataclasses (`params_cls`), the shared orchestrate section, the same checks."""
    app = choose_application(raw, app)
    if section_kind(raw, app) != kind:
        raise ParamsError(f"{app} is not a {kind} application (its section has no `kind: {kind}`)")
    orchestrate = _build(OrchestrateParams, raw.get("orchestrate") or {}, "orchestrate")
    orchestrate.check()
    params = _build(
        params_cls,
        {**raw[app], "application": app, "orchestrate": orchestrate},
        app,
        skip=("application", "orchestrate"),
    )
    check_sections(params, app)
    return params


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


def check_sections(params: Any, app: str) -> None:
    """Run every section's own checks and the profiles' (errors name the application: sentences.train.lr)."""
    try:
        for section in dataclasses.fields(params):
            value = getattr(params, section.name)
            if hasattr(value, "check") and section.name != "orchestrate":
                value.check()
        check_profiles(params.profiles, type(params))
    except ParamsError as err:
        raise ParamsError(f"{app}.{err}") from err  # each check names its key (train.lr): say whose it is


def check_profiles(profiles: dict[str, dict[str, Any]], params_cls: type) -> None:
    """Every profile must set the same knobs, so switching between profiles is reversible."""
    keysets = {name: frozenset(flatten(p or {})) for name, p in profiles.items()}
    if len(set(keysets.values())) > 1:
        ref_name, ref = next(iter(keysets.items()))
        for name, keys in keysets.items():
            if keys != ref:
                diff = sorted(keys ^ ref)
                raise ParamsError(f"profiles: {name!r} and {ref_name!r} set different keys: {diff}")
    for name, keys in keysets.items():
        for key in keys:
            params_from_dict_partial(key, flatten(profiles[name])[key], where=f"profiles.{name}", params_cls=params_cls)


def parse_assignment(text: str) -> tuple[str, Any]:
    """'train.epochs=3' -> ('train.epochs', 3); the value is read as YAML, so types survive."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ParamsError(f"--set expects KEY=VALUE, got {text!r}")
    return key.strip(), yaml.safe_load(value)


def params_from_dict_partial(dotted: str, value: Any, where: str, params_cls: type) -> None:
    """Type-check one dotted key against the dataclasses without building the rest."""
    section, _, name = dotted.partition(".")
    cls = _section_types(params_cls).get(section)
    if cls is None or name not in {f.name for f in dataclasses.fields(cls)}:
        raise ParamsError(f"{where}: unknown parameter {dotted!r}")
    _coerce(typing.get_type_hints(cls)[name], value, f"{where}.{dotted}")


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _section_types(params_cls: type) -> dict[str, type]:
    """Section name -> its dataclass (an optional section's `X | None` counts as X)."""
    types_ = {}
    for name, hint in typing.get_type_hints(params_cls).items():
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        if dataclasses.is_dataclass(hint) and name not in SHARED_SECTIONS:
            types_[name] = hint
    return types_


def _build(cls: type, raw: Any, where: str, skip: tuple[str, ...] = ()) -> Any:
    if not isinstance(raw, dict):
        raise ParamsError(f"{where or 'top level'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ParamsError(f"{where or 'top level'}: unknown parameter(s) {unknown}")
    missing = [name for name in known if name not in raw and name not in skip]
    if missing:
        keys = [f"{where}.{name}" if where else name for name in missing]
        raise ParamsError(
            f"missing parameter(s) {keys}: every key must be set in params.yaml "
            "(the shipped params.yaml lists them all)"
        )
    values = {}
    for name, value in raw.items():
        key = f"{where}.{name}" if where else name
        values[name] = value if name in skip else _coerce(hints[name], value, key)
    return cls(**values)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value or {}, key)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType) and value is not None:
        inner = next(a for a in typing.get_args(hint) if a is not type(None))
        if dataclasses.is_dataclass(inner):
            return _build(inner, value, key)
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected a mapping")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{key}: expected true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParamsError(f"{key}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParamsError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"{key}: expected a string, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ParamsError(f"{key}: expected a list, got {value!r}")
        return value
    return value


def _template(key: str, value: str, *fields: str) -> None:
    """A name with {placeholders}: only the given fields may appear."""
    try:
        value.format(**{f: f for f in fields})
    except (KeyError, IndexError, ValueError) as err:
        raise ParamsError(
            f"{key}: {value!r} may only use the placeholders {['{' + f + '}' for f in fields]} ({err})"
        ) from None


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParamsError(f"{key} must be one of {list(allowed)}, got {value!r}")


def _positive(key: str, value: float) -> None:
    if value <= 0:
        raise ParamsError(f"{key} must be positive, got {value}")


def _at_least(key: str, value: float, low: float) -> None:
    if value < low:
        raise ParamsError(f"{key} must be at least {low}, got {value}")


def _fraction(key: str, value: float, open_zero: bool = False, closed_one: bool = True) -> None:
    low_ok = value > 0 if open_zero else value >= 0
    high_ok = value <= 1 if closed_one else value < 1
    if not (low_ok and high_ok):
        raise ParamsError(
            f"{key} must be a fraction in {'(' if open_zero else '['}0, 1{']' if closed_one else ')'}, got {value}"
        )
