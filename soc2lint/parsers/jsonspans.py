"""JSON text (.tf.json, .tfvars.json) -> data with the span index YAML's loader gives, read as JSON.

Python's json module decodes; its pure-Python scanner is given object and array readers that
record where each key, value and item stood, so `YamlLocator` finds them as in YAML.
"""

from __future__ import annotations

import bisect
import json.decoder
import json.scanner
import re
from dataclasses import dataclass
from typing import Any

from ..model import Span
from . import ParseError
from .yamlspans import YDict, YList

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True)
class _Lines:
    """Turns offsets in the text into 1-based lines and columns."""

    starts: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> _Lines:
        return cls((0, *(m.end() for m in re.finditer("\n", text))))

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    def span(self, start: int, end: int) -> Span:
        line, end_line = self.line(start), self.line(max(end - 1, start))
        return Span(line, start - self.starts[line - 1] + 1, end_line,
                    max(end - 1, start) - self.starts[end_line - 1] + 1)


def load_json(text: str) -> Any:
    """The JSON value `text` holds, objects as YDict and arrays as YList; raises ParseError with
    a line for anything that is not JSON (Python's limits on numbers and nesting included)."""
    lines = _Lines.of(text)
    reader = _Reader(lines)
    scan = json.scanner.py_make_scanner(reader)
    start = json.decoder.WHITESPACE.match(text, 0).end()
    try:
        value, end = reader.located(scan, text, start)
        end = json.decoder.WHITESPACE.match(text, end).end()
        if end != len(text):
            raise ParseError("invalid JSON: extra data after the value", lines.line(end))
    except StopIteration as exc:
        raise ParseError("invalid JSON: expecting a value", lines.line(exc.value)) from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg}", exc.lineno) from None
    except RecursionError:
        raise ParseError("invalid JSON: too deeply nested to read") from None
    return value


class _Reader:
    """The context `py_make_scanner` reads its settings and readers from."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float

    def __init__(self, lines: _Lines) -> None:
        self.lines = lines
        self.memo: dict = {}

    def located(self, scan_once, text: str, index: int) -> tuple[Any, int]:
        """`scan_once`, with a number too long for Python placed at its line."""
        try:
            return scan_once(text, index)
        except ParseError as exc:
            if exc.line is None:
                raise ParseError(exc.message, self.lines.line(index)) from None
            raise

    @staticmethod
    def parse_int(digits: str) -> int:
        try:
            return int(digits)
        except ValueError:
            raise ParseError(f"invalid JSON: a number of {len(digits):,} digits is more than "
                             "Python reads") from None

    @staticmethod
    def parse_constant(name: str) -> Any:
        raise ParseError(f"invalid JSON: '{name}' is not a JSON value")

    @staticmethod
    def parse_string(text: str, end: int, strict: bool = True) -> tuple[str, int]:
        value, after = json.decoder.scanstring(text, end, strict)
        if _LONE_SURROGATE.search(value):
            raise json.JSONDecodeError("a \\u escape names half a character (a lone surrogate)",
                                       text, end)
        return value, after

    def parse_object(self, s_and_end, strict, scan_once, object_hook, object_pairs_hook,
                     memo=None):
        text, start = s_and_end
        spans: list[tuple[int, int]] = []

        def scan(string: str, index: int) -> tuple[Any, int]:
            value, end = self.located(scan_once, string, index)
            spans.append((index, end))
            return value, end

        def pairs(items: list[tuple[str, Any]]) -> YDict:
            mapping = YDict()
            mapping.key_spans, mapping.value_spans = {}, {}
            for (key, value), (begin, end) in zip(items, spans, strict=True):
                mapping[key] = value
                close = text.rfind('"', 0, text.rfind(":", 0, begin))
                mapping.key_spans[key] = self.lines.span(_string_start(text, close), close + 1)
                mapping.value_spans[key] = self.lines.span(begin, end)
            return mapping

        mapping, end = json.decoder.JSONObject(s_and_end, strict, scan, None, pairs, memo)
        mapping.span = self.lines.span(start - 1, end)
        return mapping, end

    def parse_array(self, s_and_end, scan_once):
        start = s_and_end[1]
        spans: list[tuple[int, int]] = []

        def scan(string: str, index: int) -> tuple[Any, int]:
            value, end = self.located(scan_once, string, index)
            spans.append((index, end))
            return value, end

        values, end = json.decoder.JSONArray(s_and_end, scan)
        items = YList(values)
        items.item_spans = [self.lines.span(begin, after) for begin, after in spans]
        items.span = self.lines.span(start - 1, end)
        return items, end


def _string_start(text: str, close: int) -> int:
    """Where the JSON string ending at the quote `close` opens."""
    index = close
    while True:
        index = text.rfind('"', 0, index)
        slashes = 0
        while index - slashes > 0 and text[index - slashes - 1] == "\\":
            slashes += 1
        if index <= 0 or slashes % 2 == 0:
            return max(index, 0)


__all__ = ["load_json"]
