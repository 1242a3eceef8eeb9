"""Any application's params, by its kind (components/kinds): a text application's `Params`, a translation
application's `TranslationParams` (`kind: translation`), an image application's `ImageParams` (`kind: images`) or
another kind's. For the code that handles every application alike (checking params.yaml after an edit, the flow);
a stage reads its own kind's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core.params import PARAMS_FILE, choose_application, load_with, read_params_file


def application_params(raw: dict[str, Any], app: str | None = None) -> Any:
    from components.kinds.registry import kind_of

    app = choose_application(raw, app)
    return kind_of(raw, app).params_from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> Any:
    return load_with(application_params, path, app)


def application_kind(path: str | Path = PARAMS_FILE, app: str | None = None):
    """The Kind (components/kinds) of application `app` in the params file at `path`."""
    from components.kinds.registry import kind_of

    raw = read_params_file(path)
    return kind_of(raw, choose_application(raw, app))
