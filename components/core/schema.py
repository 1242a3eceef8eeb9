"""The schema language of params.yaml's sections: a section is a frozen dataclass whose annotations are its schema.

The type (strict: no string for a number, no bool for an int, finite floats), the allowed values (`Literal`), the
bounds (`Annotated[float, Range(gt=0, le=1)]`), a docstring under every field (docs/parameters.md is generated from
them) and cross-field checks in `__post_init__`. `build` reads a mapping into a section, refusing unknown and missing
keys; every failure is one ParamsError naming the key's full path (`sentences.train.lr: must be in (0, 1], got 2.0`).

Why not pydantic, which does this too: the GPU machines this project trains on carry torch, numpy, pandas, pyarrow,
pyyaml and tokenizers only, and every stage, training included, reads its params there. The standard library's
dataclasses and typing carry the same declarations; the code below is the one piece that reads them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal


class ParamsError(ValueError):
    """A parameter is missing, unknown, mistyped or out of range."""


@dataclass(frozen=True)
class Range:
    """Bounds on a number: `Annotated[float, Range(gt=0, le=1)]`."""

    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    def holds(self, value: float) -> bool:
        return not (
            (self.ge is not None and value < self.ge)
            or (self.gt is not None and value <= self.gt)
            or (self.le is not None and value > self.le)
            or (self.lt is not None and value >= self.lt)
        )

    def __str__(self) -> str:
        """In words: "positive", "at least 2", "in (0, 1]"."""
        if self.le is None and self.lt is None:
            if self.gt is not None:
                return "positive" if self.gt == 0 else f"above {self.gt:g}"
            return f"at least {self.ge:g}"
        low = f"[{self.ge:g}" if self.ge is not None else f"({self.gt:g}" if self.gt is not None else "(-inf"
        high = f"{self.le:g}]" if self.le is not None else f"{self.lt:g})"
        return f"in {low}, {high}"


Positive = Annotated[int, Range(gt=0)]
Count = Annotated[int, Range(ge=0)]
"""An integer where 0 usually switches something off."""
PositiveFloat = Annotated[float, Range(gt=0)]
NonNegative = Annotated[float, Range(ge=0)]
Fraction = Annotated[float, Range(ge=0, le=1)]
"""A share or a probability, 0 and 1 included."""
Rate = Annotated[float, Range(ge=0, lt=1)]
"""A dropout or decay rate: 1 would drop or keep everything."""
Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["fp32", "bf16"]


class Section:
    """Base of every section: checks each field against its annotation after construction, so a section built by
    hand (a test, `dataclasses.replace`) is held to the schema as one read from params.yaml is."""

    open_sections: typing.ClassVar[str | None] = None
    """The name of a `dict[str, dict]` field that collects sub-sections a registry names rather than the schema
    (a text model's family sections: model.bsvae, model.vqvae). `build` keeps them as read; the registry checks them
    when the code that uses them asks (it may import what the section's other readers must not), and
    `open_section_types` names them for the generated reference."""

    @classmethod
    def open_section_types(cls) -> dict[str, type]:
        """The sub-sections `open_sections` may hold, by name (their schema classes; None for one with no knobs)."""
        return {}

    def __post_init__(self) -> None:
        hints = schema(type(self))
        for f in dataclasses.fields(self):
            value = checked(hints[f.name], getattr(self, f.name), f.name)
            object.__setattr__(self, f.name, value)  # an int where a float belongs becomes a float


@functools.cache
def schema(cls: type) -> dict[str, Any]:
    """A section's field annotations, bounds included."""
    return typing.get_type_hints(cls, include_extras=True)


def checked(hint: Any, value: Any, key: str) -> Any:
    """`value` if it is of type `hint` (within its bounds), an int widened for a float; ParamsError naming `key`."""
    ranges = []
    if typing.get_origin(hint) is Annotated:
        hint, *extras = typing.get_args(hint)
        ranges = [r for r in extras if isinstance(r, Range)]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        return checked(hint, value, key)
    if origin is Literal:
        if value not in args or type(value) not in {type(a) for a in args}:
            raise ParamsError(f"{key}: must be one of {list(args)}, got {value!r}")
        return value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, hint):
            raise ParamsError(f"{key}: expected a {hint.__name__}, got {type(value).__name__}")
        return value
    expected = {bool: "true or false", int: "an integer", float: "a finite number", str: "a string"}
    if hint in expected:
        ok = isinstance(value, hint) and (hint is bool or not isinstance(value, bool))
        if hint is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok or (hint is float and not math.isfinite(value)):
            raise ParamsError(f"{key}: expected {expected[hint]}, got {value!r}")
        for r in ranges:
            if not r.holds(value):
                raise ParamsError(f"{key}: must be {r}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ParamsError(f"{key}: expected a list, got {value!r}")
        return [checked(args[0], item, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected a mapping, got {value!r}")
        return {checked(args[0], k, key): checked(args[1], v, f"{key}.{k}") for k, v in value.items()}
    if hint is Any:
        return value
    raise TypeError(f"{key}: the schema has no rule for {hint!r}")  # a programming error, not a user's


def build(cls: type, raw: Any, where: str, given: dict[str, Any] | None = None) -> Any:
    """The section `cls` from the mapping `raw` found at `where` (a dotted path), sub-sections built first; `given`
    holds fields that do not come from the file (the application's name). An `X | None` section may be absent."""
    if not isinstance(raw, dict):
        raise ParamsError(f"{where}: expected a mapping of parameters, got {type(raw).__name__}")
    given = dict(given or {})
    hints = schema(cls)
    open_field = getattr(cls, "open_sections", None)
    if open_field:  # mappings the schema does not name: a registry's sub-sections, kept as read (build_open_section)
        given[open_field] = {k: v for k, v in raw.items() if k not in schema(cls) and isinstance(v, dict)}
    names = [f.name for f in dataclasses.fields(cls) if f.name not in given]
    unknown = sorted(set(raw) - set(names) - set(given.get(open_field, ())))
    if unknown:
        raise ParamsError(f"{where}: unknown parameter(s) {unknown}")
    missing = [f"{where}.{name}" for name in names if name not in raw and not all(section_type(hints[name]))]
    if missing:
        raise ParamsError(
            f"missing parameter(s) {missing}: every key must be set in params.yaml (the shipped file lists them)"
        )
    values = dict(given)
    for name in names:
        section, optional = section_type(hints[name])
        value = raw.get(name)
        read = section is not None and not (optional and value is None)  # `data: null` is no mapping either
        values[name] = build(section, value, f"{where}.{name}") if read else value
    try:
        return cls(**values)
    except ParamsError as err:
        raise ParamsError(f"{where}.{err}") from None


def section_type(hint: Any) -> tuple[type | None, bool]:
    """(the dataclass a field holds, whether it may be None), or (None, _) for a plain value."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return (inner[0] if dataclasses.is_dataclass(inner[0]) else None), True
    return (hint if dataclasses.is_dataclass(hint) else None), False
