"""The kinds of application (text, translation, images), as a registry: the code every application shares asks an
application's kind for what differs (its params, gate, served model, model card, accepted-data reference) and
never branches on it.

A params.yaml section names its kind (`kind: translation`; none means text). A built-in kind is found by its name
and imported lazily (a stage of one kind never imports another kind); any other name is a module path
(`kind: my_project.points`) whose `KIND` is the kind (the built-in ones: components/kinds/<name>/kind.py), so a kind
defined outside components/ registers itself by being named in params.yaml, as HuggingFace's Auto classes map a
config to its model.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core.errors import StageError
from components.core.params import PARAMS_FILE, choose_application, load_with, read_params_file

BUILT_IN = {
    "text": "components.kinds.text.kind",
    "translation": "components.kinds.translation.kind",
    "images": "components.kinds.images.kind",
}
DEFAULT = "text"


@dataclass(frozen=True)
class Kind:
    """What differs between kinds, as functions the shared code calls."""

    name: str
    params_from_dict: Callable[[dict, str | None], Any]
    """(raw params.yaml, application) -> the application's checked params."""
    gate: Callable[..., Any]
    """(eval metrics, gate params, lineage=None, champion=None) -> GateReport."""
    served_model: Callable[[Path, Any, Any, str], dict]
    """(workspace, application, params, weights SHA-256) -> keyword arguments of mlflow.pyfunc.log_model."""
    model_card: Callable[[Path, Any, str, Any, dict, dict, str], str]
    """(workspace, application, model name, params, metrics, lineage, commit) -> the version's Markdown card."""
    accept_data: Callable[[Path, Any], str] | None = None
    """(workspace, application) -> writes the accepted-data reference the check stage compares the next data with
    (after a registration); returns what it recorded, in words."""
    run_artifacts: Callable[[Path, Any, list[dict]], list[tuple[Path, str]]] | None = None
    """(workspace, application, train history) -> extra files for the MLflow run: (path, artifact folder)."""
    shipped: tuple = ()
    """The applications of this kind the project ships (components/applications/catalog.py lists them)."""
    application: Callable[[str], Any] | None = None
    """(name) -> the Application of this kind called `name` (for applications the catalog does not list)."""
    prepare_warm_start: Callable[[Path, Any, Any], str] | None = None
    """(workspace, params, MLflow client or None) -> fills warm_start/<application>/ with the champion's weights
    when they fit (train.warm_start: champion), or empties it; returns why, in words. None: the kind has no warm
    start."""
    score: Callable[[Any, Any, Path], tuple[dict, Any]] | None = None
    """(the loaded pyfunc's python model, application params, a data file) -> (the evaluate stage's metrics on
    every usable row of the file, those rows as a DataFrame): scoring a registered version on new data."""
    prepare_base: Callable[..., str] | None = None
    """(workspace, params, MLflow client or None, version=None) -> fills base/<application>/ with the registered
    model train.init_from names (fine-tuning; `version` pins the one a rebuild must use), or empties it; returns
    what it holds, in words. None: no fine-tuning."""


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
        raise StageError(f"kind {name!r}: module {module_name} defines no KIND = Kind(...)")
    return kind


def kind_of(raw: dict, app: str) -> Kind:
    """The kind of application `app` in a parsed params.yaml."""
    section = raw.get(app)
    return kind_named(section.get("kind") if isinstance(section, dict) else None)


def application_params(raw: dict, app: str | None = None) -> Any:
    """Any application's checked params, read by its kind: a text application's `Params`, a translation
    application's `TranslationParams`, an image application's `ImageParams`, or another kind's. For the code that
    handles every application alike (checking params.yaml after an edit, the flow); a stage reads its own kind's."""
    app = choose_application(raw, app)
    return kind_of(raw, app).params_from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> Any:
    return load_with(application_params, path, app)


def application_kind(path: str | Path = PARAMS_FILE, app: str | None = None) -> Kind:
    """The Kind of application `app` in the params file at `path`."""
    raw = read_params_file(path)
    return kind_of(raw, choose_application(raw, app))
