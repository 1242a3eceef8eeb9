"""The schema's checker: strict types, allowed values, bounds, unknown and missing keys, each one error naming the
key; and a section built by hand is held to the same rules as one read from params.yaml."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Annotated, Literal

import pytest

from components.core.schema import Fraction, ParamsError, Positive, Range, Section, build


@dataclass(frozen=True)
class Inner(Section):
    rate: Fraction
    channels: Literal[1, 3]


@dataclass(frozen=True)
class Outer(Section):
    steps: Positive
    scale: float
    name: str
    inner: Inner
    extra: Inner | None
    """An optional section: it may be left out."""
    sizes: list[Annotated[int, Range(ge=2)]]


GOOD = {"steps": 3, "scale": 2, "name": "x", "inner": {"rate": 0.5, "channels": 1}, "sizes": [2, 4]}


def test_a_good_mapping_builds_and_an_int_is_widened_where_a_float_belongs():
    outer = build(Outer, GOOD, "app")
    assert outer.scale == 2.0 and isinstance(outer.scale, float) and outer.extra is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        outer.steps = 4


@pytest.mark.parametrize(
    "change,message",
    [
        ({"steps": True}, r"^app.steps: expected an integer, got True$"),
        ({"steps": "3"}, r"^app.steps: expected an integer, got '3'$"),
        ({"steps": 0}, r"^app.steps: must be positive, got 0$"),
        ({"scale": float("nan")}, r"^app.scale: expected a finite number"),
        ({"name": 5}, r"^app.name: expected a string"),
        ({"inner": {"rate": 1.5, "channels": 1}}, r"^app.inner.rate: must be in \[0, 1\], got 1.5$"),
        ({"inner": {"rate": 0.5, "channels": True}}, r"^app.inner.channels: must be one of \[1, 3\], got True$"),
        ({"inner": {"rate": 0.5, "channels": 2}}, r"^app.inner.channels: must be one of \[1, 3\], got 2$"),
        ({"inner": {"rate": 0.5, "channels": 1, "depth": 2}}, r"^app.inner: unknown parameter\(s\) \['depth'\]$"),
        ({"sizes": [2, 1]}, r"^app.sizes\[1\]: must be at least 2, got 1$"),
        ({"sizes": "2"}, r"^app.sizes: expected a list"),
        ({"inner": None}, r"^app.inner: expected a mapping of parameters, got NoneType$"),
    ],
)
def test_each_fault_is_one_error_naming_its_key(change, message):
    with pytest.raises(ParamsError, match=message):
        build(Outer, {**GOOD, **change}, "app")


def test_every_missing_key_is_named_at_once():
    raw = {k: v for k, v in GOOD.items() if k not in ("steps", "name")}
    with pytest.raises(ParamsError, match=r"missing parameter\(s\) \['app.steps', 'app.name'\]"):
        build(Outer, raw, "app")


def test_a_section_built_by_hand_is_checked_too():
    inner = Inner(rate=0.5, channels=3)
    with pytest.raises(ParamsError, match="^rate: must be in"):
        dataclasses.replace(inner, rate=-0.1)


def test_bounds_read_as_words():
    assert [str(r) for r in (Range(gt=0), Range(ge=0), Range(ge=2), Range(gt=0, le=1), Range(ge=0, lt=1))] == [
        "positive",
        "at least 0",
        "at least 2",
        "in (0, 1]",
        "in [0, 1)",
    ]
