"""Write a JSON object piece by piece: the text `json.dumps(indent=2)` gives, without holding it.

A member whose value is an iterator (not a list) is written as an array one item at a time, so
a report of millions of results never exists as one dict or one string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

INDENT = 2


def stream_object(members: Iterable[tuple[str, Any]]) -> Iterator[str]:
    """Chunks of the indented JSON object with these members, in order."""
    yield "{"
    first = True
    for key, value in members:
        yield ("\n" if first else ",\n") + " " * INDENT + _dump(key, 0) + ": "
        first = False
        if isinstance(value, Iterator):
            yield from _stream_array(value)
        else:
            yield _dump(value, INDENT)
    yield "}" if first else "\n}"


def _stream_array(items: Iterator[Any]) -> Iterator[str]:
    pad = " " * (2 * INDENT)
    first = True
    for item in items:
        yield ("[\n" if first else ",\n") + pad + _dump(item, 2 * INDENT)
        first = False
    yield "[]" if first else "\n" + " " * INDENT + "]"


def _dump(value: Any, depth: int) -> str:
    """`value` as it reads nested `depth` spaces deep in an indented document."""
    text = json.dumps(value, indent=INDENT, ensure_ascii=False)
    return text.replace("\n", "\n" + " " * depth) if depth else text
