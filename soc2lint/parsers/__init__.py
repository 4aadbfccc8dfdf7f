"""Parsers: one module per input language, each turning a file's text into entities."""

from __future__ import annotations


class ParseError(Exception):
    """A file that cannot be parsed; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
