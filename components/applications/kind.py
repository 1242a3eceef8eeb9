"""The kinds of application (text, translation, images, or one defined elsewhere): the contract every kind
implements, and the registry that finds an application's kind. The code every application shares (the flow, the
registry, the commands) asks the kind for what differs and never branches on it.

A kind is a subclass of `Kind`: what every kind must say (its params, applications, gate, served model, model
card) as abstract methods, and what a person's commands ask of it (generation options, how to show an answer, how
to read a request's files) as methods with a default any kind may keep. A capability only some kinds have is a
small ABC of its own that a kind also subclasses (`AcceptsData`, `WarmStarts`, `FineTunes`, `Scores`); shared
code asks `isinstance(kind, FineTunes)`.

A params.yaml section names its kind (`kind: translation`; none means text). A built-in kind is found by its name
and imported lazily (a stage of one kind never imports another kind); any other name is a module path
(`kind: my_project.points`) whose `KIND` is the kind (the built-in ones: components/kinds/<name>/kind.py), so a kind
defined outside components/ registers itself by being named in params.yaml, as HuggingFace's Auto classes map a
config to its model. This module sits below the shared code that asks it (the registry, the commands, the flow)
and above what the contract names (an Application, a gate report): no import runs back up.
"""

from __future__ import annotations

import argparse
import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from components.applications.base import Application
from components.core.errors import StageError
from components.core.params import (
    PARAMS_FILE,
    ApplicationParams,
    choose_application,
    load_with,
    read_params_file,
)
from components.evaluation.gate import Champion, GateReport

BUILT_IN = {
    "text": "components.kinds.text.kind",
    "translation": "components.kinds.translation.kind",
    "images": "components.kinds.images.kind",
}
DEFAULT = "text"


class Kind(ABC):
    """What differs between kinds, as the methods shared code calls."""

    name: ClassVar[str]
    shipped: ClassVar[tuple[Application, ...]] = ()
    """The applications of this kind the project ships (components/applications/catalog.py lists them)."""

    # --- what every kind says -------------------------------------------------------------------------------
    @abstractmethod
    def params_from_dict(self, raw: dict[str, Any], app: str | None) -> ApplicationParams:
        """The checked params of application `app` in a parsed params.yaml (one ParamsError naming the key)."""

    @abstractmethod
    def application(self, name: str) -> Application:
        """The Application of this kind called `name` (for applications the catalog does not list)."""

    @abstractmethod
    def gate(
        self,
        metrics: dict[str, Any],
        params: Any,
        lineage: dict[str, str] | None = None,
        champion: Champion | None = None,
    ) -> GateReport:
        """The gate's checks of the evaluate stage's `metrics` against the application's gate `params` (and the
        champion's figures, when there is one)."""

    @abstractmethod
    def served_model(
        self, workspace: Path, app: Application, params: ApplicationParams, weights_sha256: str
    ) -> dict[str, Any]:
        """The keyword arguments of mlflow.pyfunc.log_model for the trained model (python_model, artifacts,
        model_config, signature, input_example)."""

    @abstractmethod
    def model_card(
        self,
        workspace: Path,
        app: Application,
        name: str,
        params: ApplicationParams,
        metrics: dict[str, Any],
        lineage: dict[str, str],
        commit: str,
    ) -> str:
        """The registered version's Markdown description."""

    def check_params(self, params: ApplicationParams) -> None:  # noqa: B027 (optional: nothing by default)
        """The checks beyond the schema that need the kind's own code (a text application's model family and its
        section), when they cost an import the schema's readers must not pay (torch): the flow calls it before it
        writes or runs anything, and the stages that build a model call their kind's. Nothing by default."""

    def run_artifacts(self, workspace: Path, app: Application, history: list[dict]) -> list[tuple[Path, str]]:
        """Extra files for the MLflow run, as (path, artifact folder): plots of the training history. None by
        default."""
        return []

    # --- what a person's commands ask (defaults: a model that samples `n` rows) ------------------------------
    def add_generation_options(self, parser: argparse.ArgumentParser) -> None:
        """The options `generate` takes for a model of this kind."""
        parser.add_argument("--n", type=int, default=5, help="samples to draw (default 5)")

    def generate(self, model: Any, args: argparse.Namespace) -> str:
        """Ask the loaded pyfunc `model` for what `generate`'s options say; what to print."""
        return model.predict(pd.DataFrame({"n": [args.n]})).to_csv(sep="\t", index=False).rstrip("\n")

    def read_request_files(self, chunk: pd.DataFrame, folder: Path) -> pd.DataFrame:
        """Rows of a `predict` input as the model reads them: a column whose values may name files (an image's
        path, relative to the input file's `folder`) is read here. As given by default."""
        return chunk


class AcceptsData(ABC):
    """A kind that keeps an accepted-data reference the check stage compares the next data with."""

    @abstractmethod
    def accept_data(self, workspace: Path, app: Application) -> str:
        """After a registration: write the registered data's reference (a vocabulary, an intensity histogram);
        return what it recorded, in words."""


class WarmStarts(ABC):
    """A kind whose train stage can start from the champion's weights (train.warm_start: champion)."""

    @abstractmethod
    def prepare_warm_start(self, workspace: Path, params: ApplicationParams, client: Any) -> str:
        """Fill warm_start/<application>/ with the champion's weights when they fit, or empty it; why, in words.
        `client` is an MLflow client, or None when params do not ask for a warm start."""


class FineTunes(ABC):
    """A kind whose train stage can fine-tune a registered model (train.init_from)."""

    @abstractmethod
    def prepare_base(self, workspace: Path, params: ApplicationParams, client: Any, version: str | None = None) -> str:
        """Fill base/<application>/ with the registered model train.init_from names (`version` pins the one a
        rebuild must use), or empty it; what it holds, in words."""


class Scores(ABC):
    """A kind that can score a registered version on new data."""

    @abstractmethod
    def score(self, served: Any, params: ApplicationParams, path: Path) -> tuple[dict[str, float], pd.DataFrame]:
        """(the evaluate stage's metrics on every usable row of the file at `path`, those rows) for the loaded
        pyfunc's python model `served`."""


def kind_named(name: str | None) -> Kind:
    """The kind called `name` (None: text): a built-in one, or the `KIND` of the module of that name."""
    module_name = BUILT_IN.get(name or DEFAULT, name or DEFAULT)
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise StageError(
            f"kind {name!r}: no such kind (built in: {sorted(BUILT_IN)}, or a module path): {err}"
        ) from err
    kind = getattr(module, "KIND", None)
    if not isinstance(kind, Kind):
        raise StageError(f"kind {name!r}: module {module_name} defines no KIND, an instance of a Kind subclass")
    return kind


def kind_of(raw: dict, app: str) -> Kind:
    """The kind of application `app` in a parsed params.yaml."""
    section = raw.get(app)
    return kind_named(section.get("kind") if isinstance(section, dict) else None)


def application_params(raw: dict, app: str | None = None) -> ApplicationParams:
    """Any application's checked params, read by its kind: a text application's `Params`, a translation
    application's `TranslationParams`, an image application's `ImageParams`, or another kind's. For the code that
    handles every application alike (checking params.yaml after an edit, the flow); a stage reads its own kind's."""
    app = choose_application(raw, app)
    return kind_of(raw, app).params_from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> ApplicationParams:
    return load_with(application_params, path, app)


def application_kind(path: str | Path = PARAMS_FILE, app: str | None = None) -> Kind:
    """The Kind of application `app` in the params file at `path`."""
    raw = read_params_file(path)
    return kind_of(raw, choose_application(raw, app))


KIND_METADATA = "kind"
"""The MLmodel metadata key naming the kind a version was registered by (params.yaml's `kind:`, text when absent):
the commands ask that kind how to talk to the model."""


def served_kind(model: Any) -> Kind:
    """The Kind of a loaded pyfunc model, from its MLmodel metadata (a version registered before the kind was
    recorded reads as a text model)."""
    metadata = getattr(model.metadata, "metadata", None) or {}
    return kind_named(metadata.get(KIND_METADATA))
