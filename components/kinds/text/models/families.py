"""The text model families, registered once: adding a family is its module (model, config, its own params
section, its model card's lines, its `FAMILY` record) plus its line below. The factory, the params check, the
training loop and the model card ask this registry; nothing else names a family.

`model.family` names a registered family, or the module path of one defined elsewhere whose `FAMILY` is the family
(as a `kind:` may name a kind outside components/). A family's own knobs are its section of the model section
(model.bsvae, model.vqvae), checked here against its `params` schema when a model is built or the flow checks
params: the stages that never build a model (ingest ... tokenize) read the model section without them, and so
neither import torch nor depend on model code.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from components.core.schema import ParamsError, build, checked, schema
from components.kinds.text.models import bsvae, lstm_lm, transformer_lm, vqvae
from components.kinds.text.models.base import Family

FAMILIES: dict[str, Family] = {f.name: f for f in (bsvae.FAMILY, vqvae.FAMILY, lstm_lm.FAMILY, transformer_lm.FAMILY)}


def family_named(name: str) -> Family:
    """The family model.family names: a registered one, or the `FAMILY` of the module of that name."""
    if name in FAMILIES:
        return FAMILIES[name]
    try:
        family = getattr(importlib.import_module(name), "FAMILY", None)
    except ImportError:
        family = None
    if not isinstance(family, Family):
        raise ParamsError(
            f"model.family: must be one of {sorted(FAMILIES)} or the module path of a family (its FAMILY), got {name!r}"
        )
    return family


def section_types() -> dict[str, type | None]:
    """Each registered family's own section (None: it has no knobs of its own)."""
    return {name: family.params for name, family in FAMILIES.items()}


def family_params(model_params: Any, where: str = "model") -> Any:
    """The chosen family's own section, built and checked (None when it has no knobs)."""
    family = family_named(model_params.family)
    raw = model_params.families.get(family.name)
    if family.params is None:
        if raw:
            raise ParamsError(f"{where}.{family.name}: the {family.name} family takes no parameters of its own")
        return None
    if raw is None:
        raise ParamsError(f"missing parameter(s) ['{where}.{family.name}']: every key must be set in params.yaml")
    return build(family.params, raw, f"{where}.{family.name}")


def config_values(model_params: Any) -> dict[str, Any]:
    """The model section's knobs a config may take by name: the shared ones, then the family's own."""
    own = family_params(model_params)
    shared = {f.name: getattr(model_params, f.name) for f in dataclasses.fields(model_params) if f.name != "families"}
    return {**shared, **(dataclasses.asdict(own) if own is not None else {})}


def check_families(params: Any) -> None:
    """Everything about a text application's families that the schema alone cannot check: model.family is known,
    every family section is one a family has and valid, the chosen family's rules across sections hold, and the
    profiles' family knobs are known and valid. ParamsError naming the key with its application."""
    app, m = params.application, params.model
    where = f"{app}.model"
    try:
        family = family_named(m.family)
    except ParamsError as err:
        raise ParamsError(f"{app}.{err}") from None
    known = {**section_types(), family.name: family.params}
    for name, raw in m.families.items():
        if name not in known:
            raise ParamsError(f"{where}.{name}: no family has a section of that name (have {sorted(known)})")
        if known[name] is not None:
            build(known[name], raw, f"{where}.{name}")
    own = family_params(m, where)
    try:
        family.check(m, own, params.train)
    except ParamsError as err:
        raise ParamsError(f"{app}.{err}") from None
    for profile, knobs in params.profiles.items():
        for name, values in ((knobs or {}).get("model") or {}).items():
            if name not in known or not isinstance(values, dict):
                continue
            hints = schema(known[name]) if known[name] is not None else {}
            for key, value in values.items():
                if key not in hints:
                    raise ParamsError(f"{app}.profiles.{profile}: unknown parameter 'model.{name}.{key}'")
                checked(hints[key], value, f"{app}.profiles.{profile}.model.{name}.{key}")


def with_knobs(model_params: Any, **knobs: Any) -> Any:
    """A model section with `knobs` changed, each family knob (latent_dim, codes, ...) in the section of the family
    that has it (model.bsvae, model.vqvae), a shared one (embed_dim, family) in the section itself."""
    shared = {f.name for f in dataclasses.fields(model_params)}
    families = {name: dict(values) for name, values in model_params.families.items()}
    for key in [k for k in knobs if k not in shared]:
        owner = next(
            (n for n, cls in section_types().items() if cls and key in {f.name for f in dataclasses.fields(cls)}), None
        )
        if owner is None:
            raise ParamsError(f"model: no family has a knob {key!r}")
        families.setdefault(owner, {})[key] = knobs.pop(key)
    return dataclasses.replace(model_params, **knobs, families=families)
