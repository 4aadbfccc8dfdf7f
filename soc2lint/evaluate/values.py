"""Values the Terraform evaluator produces besides plain Python data.

Known values are `str`, `int`/`float`, `bool`, `None`, `list` (tuples, lists and sets) and
`dict` (objects and maps). Everything the evaluator cannot know is an `Unknown` (from the
model), possibly one of the richer kinds below, which keep what *is* known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..model import Span, Unknown


class EvalError(Exception):
    """An expression Terraform itself would reject (wrong type, missing key): `try` catches it."""


class Ref(Unknown):
    """A computed attribute of another block: `aws_s3_bucket.logs.id`.

    `address` is module-qualified (`module.a.aws_s3_bucket.logs`), `key` the instance key when
    the reference names one, so joins can link the two entities.
    """

    __slots__ = ("address", "attribute", "key")

    def __init__(self, reason: str, address: str, key: Any = None, attribute: str = "") -> None:
        super().__init__(reason)
        self.address = address
        self.key = key
        self.attribute = attribute

    def __repr__(self) -> str:
        return f"Ref({self.address!r}, key={self.key!r}, attribute={self.attribute!r})"


class Template(Unknown):
    """A string with unknown holes: `"arn:${data.p.partition}:s3:::b/*"` keeps its known parts."""

    __slots__ = ("parts",)

    def __init__(self, reason: str, parts: tuple) -> None:
        super().__init__(reason)
        self.parts = parts

    def fill(self, filler: str) -> str:
        """The string with every hole replaced by `filler`."""
        return "".join(filler if isinstance(p, Unknown) else p for p in self.parts)

    @property
    def holes(self) -> tuple[Unknown, ...]:
        return tuple(p for p in self.parts if isinstance(p, Unknown))

    def could_be(self, text: str) -> bool:
        """Whether some filling of the holes gives exactly `text`."""
        pattern = "".join(re.escape(p) if isinstance(p, str) else ".*" for p in self.parts)
        return re.fullmatch(pattern, text, re.S) is not None


def template(parts: Iterable[Any], reason: str | None = None) -> Any:
    """Known text and holes as one value: a str when all is known, the hole itself when it stands
    alone, else a Template (named by `reason`, or by its holes' reasons)."""
    merged: list[Any] = []
    for part in parts:
        for piece in part.parts if isinstance(part, Template) else (part,):
            if isinstance(piece, str) and merged and isinstance(merged[-1], str):
                merged[-1] += piece
            elif piece != "":
                merged.append(piece)
    holes = [p for p in merged if isinstance(p, Unknown)]
    if not holes:
        return merged[0] if len(merged) == 1 else "".join(merged)  # "${var.x}" keeps its origin
    if len(merged) == 1:
        return merged[0]
    return Template(reason or "; ".join(dict.fromkeys(h.reason for h in holes)), tuple(merged))


@dataclass(frozen=True)
class Origin:
    """Where a string used elsewhere was written: a variable's default or a module argument.
    `owner` is the address of the block it was written in (`variable.x`, `module.m["a"]`)."""

    path: str
    span: Span
    owner: str
    argument: str  # "default", or the module argument's name


class Sourced(str):
    """A string with the place it was written, kept through references, so a credential in a
    variable default is reported at the default and not at every resource it reaches."""

    origin: Origin

    def __new__(cls, text: str, origin: Origin) -> Sourced:
        made = super().__new__(cls, text)
        made.origin = origin
        return made


def sourced(value: Any, origin: Origin) -> Any:
    """`value` with each string in it that has no origin yet given `origin`."""
    if isinstance(value, Sourced | Unknown):
        return value
    if isinstance(value, str):
        return Sourced(value, origin)
    if isinstance(value, dict):
        return {k: sourced(v, origin) for k, v in value.items()}
    if isinstance(value, list):
        return [sourced(v, origin) for v in value]
    return value


class Encoded(Unknown):
    """`jsonencode(...)` of a value with unknown parts: the structure stays readable."""

    __slots__ = ("decoded",)

    def __init__(self, reason: str, decoded: Any) -> None:
        super().__init__(reason)
        self.decoded = decoded


def kind_of(value: Any) -> str:
    """The Terraform type name of a known value, for messages that must not quote the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "map" if isinstance(value, dict) else type(value).__name__


def is_known(value: Any) -> bool:
    """True when the value holds no Unknown anywhere."""
    if isinstance(value, Unknown):
        return False
    if isinstance(value, dict):
        return all(is_known(v) for v in value.values())
    if isinstance(value, list):
        return all(is_known(v) for v in value)
    return True


def first_unknown(value: Any) -> Unknown | None:
    """The first Unknown inside a value, to name it."""
    if isinstance(value, Unknown):
        return value
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for item in items:
        found = first_unknown(item)
        if found is not None:
            return found
    return None


def decode_json(value: Any) -> Any:
    """A policy-like document given as a JSON string, `jsonencode(...)` or a plain object.

    A JSON string with unknown holes (a heredoc with `${var.env}` inside a value) is decoded with
    the holes kept: each string holding one becomes a Template, the rest stays known.
    """
    if isinstance(value, Encoded):
        return value.decoded
    if isinstance(value, Template):
        return _decode_template(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            return Unknown(f"not valid JSON (line {exc.lineno}, column {exc.colno})")
        except ValueError:
            return Unknown("not valid JSON")
    return value


_HOLE = "\ue000{}\ue001"
_HOLE_RE = re.compile("\ue000(\\d+)\ue001")


def _decode_template(value: Template) -> Any:
    holes = [p for p in value.parts if isinstance(p, Unknown)]
    text = "".join(_HOLE.format(holes.index(p)) if isinstance(p, Unknown) else p for p in value.parts)
    try:
        decoded = json.loads(text)
    except ValueError:  # a hole outside a string value: the structure itself is unknown
        return value
    return _restore(decoded, holes)


def _restore(node: Any, holes: list[Unknown]) -> Any:
    if isinstance(node, dict):
        return {k: _restore(v, holes) for k, v in node.items()}
    if isinstance(node, list):
        return [_restore(v, holes) for v in node]
    if isinstance(node, str) and "\ue000" in node:
        return template(holes[int(piece)] if i % 2 else piece for i, piece in enumerate(_HOLE_RE.split(node)))
    return node


__all__ = ["Encoded", "EvalError", "Origin", "Ref", "Sourced", "Template", "Unknown", "decode_json",
           "first_unknown", "is_known", "kind_of", "sourced", "template"]
