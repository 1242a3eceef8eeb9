"""Any application's params, by its kind: a text application's `Params`, a translation application's
`TranslationParams` (`kind: translation`) or an image application's `ImageParams` (`kind: images`). For the code
that handles every application alike (checking params.yaml after an edit, the flow); a stage reads its own kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.core.image_params import KIND as IMAGES
from components.core.image_params import ImageParams, image_params_from_dict
from components.core.params import PARAMS_FILE, Params, choose_application, load_with, params_from_dict, section_kind
from components.core.translation_params import KIND as TRANSLATION
from components.core.translation_params import TranslationParams, translation_params_from_dict

AnyParams = Params | TranslationParams | ImageParams


def application_params(raw: dict[str, Any], app: str | None = None) -> AnyParams:
    app = choose_application(raw, app)
    kind = section_kind(raw, app)
    from_dict = {TRANSLATION: translation_params_from_dict, IMAGES: image_params_from_dict}.get(kind, params_from_dict)
    return from_dict(raw, app)


def load_application_params(path: str | Path = PARAMS_FILE, app: str | None = None) -> AnyParams:
    return load_with(application_params, path, app)
