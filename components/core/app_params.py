"""Any application's params, by its kind: a text application's `Params`, a translation application's
`TranslationParams` (`kind: translation`) or an image application's `ImageParams` (`kind: images`). For the code
that handles every application alike (checking params.yaml after an edit, the flow); a stage reads its own kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core.image_params import ImageParams, image_params_from_dict, is_images
from components.core.params import (
    PARAMS_FILE,
    Params,
    ParamsError,
    choose_application,
    params_from_dict,
    read_params_file,
)
from components.core.translation_params import TranslationParams, is_translation, translation_params_from_dict

AnyParams = Params | TranslationParams | ImageParams


def application_params(raw: dict[str, Any], app: str | None = None) -> AnyParams:
    app = choose_application(raw, app)
    if is_translation(raw, app):
        return translation_params_from_dict(raw, app)
    if is_images(raw, app):
        return image_params_from_dict(raw, app)
    return params_from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> AnyParams:
    raw = read_params_file(path)
    try:
        return application_params(raw, app)
    except ParamsError as err:
        raise ParamsError(f"{path}: {err}") from err
