"""Markdown reference of params.yaml written from the schema itself (components/core/schema.py): every knob's type,
allowed values and meaning, taken from the section dataclasses' annotations and the docstring under each field, so
docs/parameters.md cannot say what the code does not check.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
import types
import typing
from typing import Annotated, Any, Literal

from components.core.schema import Range, schema, section_type


def field_docs(cls: type) -> dict[str, str]:
    """Each field's docstring (the string literal under it in the class body), inherited ones included."""
    docs: dict[str, str] = {}
    for klass in reversed([k for k in cls.__mro__ if dataclasses.is_dataclass(k)]):
        body = ast.parse(textwrap.dedent(inspect.getsource(klass))).body[0].body
        for node, after in zip(body, body[1:] + [None]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
            ):
                docs[node.target.id] = " ".join(str(after.value.value).split())
    return docs


def describe(hint: Any) -> tuple[str, str]:
    """(type, allowed values) of an annotation in words: ("integer", "at least 0"), ("text", "word, bpe")."""
    allowed = []
    if typing.get_origin(hint) is Annotated:
        hint, *extras = typing.get_args(hint)
        allowed = [str(r) for r in extras if isinstance(r, Range)]
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        kind, rule = describe(next(a for a in args if a is not type(None)))
        return kind, ", ".join(filter(None, [rule, "or null"]))
    if origin is Literal:
        names = {str: "text", int: "integer", bool: "true or false"}
        return names.get(type(args[0]), "value"), ", ".join(f"`{a}`" for a in args)
    if origin is list:
        kind, rule = describe(args[0])
        return f"list of {kind}", rule
    if origin is dict:
        key, key_rule = describe(args[0])
        value, value_rule = describe(args[1])
        return f"mapping {key} -> {value}", "; ".join(
            filter(None, [f"keys {key_rule}" if key_rule else "", value_rule])
        )
    names = {int: "integer", float: "number", bool: "true or false", str: "text", Any: "value"}
    return names.get(hint, getattr(hint, "__name__", str(hint))), ", ".join(allowed)


def section_table(cls: type, skip: set[str] = frozenset()) -> str:
    """One row per plain field of the section `cls` (fields in `skip` left out)."""
    docs, hints = field_docs(cls), schema(cls)
    rows = ["| key | type | allowed | meaning |", "|---|---|---|---|"]
    for f in dataclasses.fields(cls):
        if f.name in skip or section_type(hints[f.name])[0]:
            continue
        kind, allowed = describe(hints[f.name])
        rows.append(f"| `{f.name}` | {kind} | {allowed} | {docs.get(f.name, '').replace('|', '/')} |")
    return "\n".join(rows)


def sections(cls: type) -> list[tuple[str, type]]:
    """(name, dataclass) of each section an application's params class holds, in declaration order."""
    hints = schema(cls)
    return [(f.name, t) for f in dataclasses.fields(cls) if (t := section_type(hints[f.name])[0])]


def class_doc(cls: type) -> str:
    """A section's own docstring, if it has one (not one inherited from the base)."""
    doc = cls.__dict__.get("__doc__") or ""
    return "" if doc.startswith(cls.__name__ + "(") else " ".join(doc.split())


def parameters_markdown(kinds: dict[str, tuple[type, list[str]]], shared: dict[str, type], header: str) -> str:
    """The reference: `header`, then each shared section (`shared`: name -> dataclass, or a base whose fields a
    kind's section of that name inherits), then each kind's sections (`kinds`: kind -> (params class, its
    applications in params.yaml)). A kind's section that extends a shared base lists only the fields it adds."""
    out = [header.rstrip(), ""]
    for name, cls in shared.items():
        out += [f"## Shared `{name}`", ""]
        if doc := class_doc(cls):
            out += [doc, ""]
        out += [section_table(cls), ""]
    for kind, (params_cls, apps) in kinds.items():
        names = [f"`{n}`" + (" (shared)" if shared.get(n) is c else "") for n, c in sections(params_cls)]
        names = [n for n in names if n != "`orchestrate` (shared)"]  # top level, not in the application's section
        out += [f"## The {kind} kind", "", f"Applications in params.yaml: {', '.join(f'`{a}`' for a in apps)}.", ""]
        out += [f"Sections: {', '.join(names)}.", ""]
        base_fields = {f.name for f in dataclasses.fields(params_cls.__mro__[1])}
        top = section_table(params_cls, skip={"application", "orchestrate"} | (base_fields - {"kind", "profiles"}))
        out += [f"### {kind}: the application's own keys", "", top, ""]
        for name, cls in sections(params_cls):
            if shared.get(name) is cls:
                continue
            base = next((b for b in cls.__mro__[1:] if b in shared.values()), None)
            out += [f"### {kind} `{name}`", ""]
            if doc := class_doc(cls):
                out += [doc, ""]
            if base is not None:
                base_name = next(n for n, c in shared.items() if c is base)
                out += [f"Every key of the shared [`{base_name}`](#shared-{base_name}), and:", ""]
            skip = {f.name for f in dataclasses.fields(base)} if base is not None else set()
            if getattr(cls, "open_sections", None):
                skip.add(cls.open_sections)
            out += [section_table(cls, skip), ""]
            for sub_name, sub in (cls.open_section_types() if getattr(cls, "open_sections", None) else {}).items():
                if sub is None:
                    continue
                out += [f"### {kind} `{name}.{sub_name}`", ""]
                if doc := class_doc(sub):
                    out += [doc, ""]
                out += [section_table(sub), ""]
    return "\n".join(out).rstrip() + "\n"
