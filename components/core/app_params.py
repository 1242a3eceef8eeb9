"""Any application's params, by its kind: a text application's `Params`, or a translation application's
`TranslationParams` (its section says `kind: translation`). For the code that handles every application
alike (checking params.yaml after an edit, listing what is there); a stage reads its own kind directly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core.params import (
    PARAMS_FILE,
    Params,
    ParamsError,
    choose_application,
    params_from_dict,
    read_params_file,
)
from components.core.translation_params import TranslationParams, is_translation, translation_params_from_dict


def application_params(raw: dict[str, Any], app: str | None = None) -> Params | TranslationParams:
    app = choose_application(raw, app)
    return translation_params_from_dict(raw, app) if is_translation(raw, app) else params_from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> Params | TranslationParams:
    raw = read_params_file(path)
    try:
        return application_params(raw, app)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from err
