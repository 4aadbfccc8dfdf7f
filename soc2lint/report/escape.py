"""Escaping of values read from scanned files (paths, names, messages, justifications), which
may be hostile: in text for a terminal or a CI log, and in markdown that GitHub renders.

- `printable`: control characters are written as escapes (`\\n`, `\\x1b`, `\\u202e`), so no
  value starts a line of a log (where `::command::` lines run) or sends a terminal sequence.
- `markdown_cell`: one line of plain markdown text that renders as the value reads: no link,
  image, HTML, emphasis, heading or extra table column.
- `markdown_code`: a code span showing the value as it is, whatever backticks it holds.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL; line and paragraph separators; bidirectional embeddings, overrides
# and isolates, which reorder what follows; lone surrogates (undecodable bytes of a file name).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, *, keep: str = "") -> str:
    """`text` with every control character written as an escape, except those in `keep`."""
    return _UNPRINTABLE.sub(lambda m: m[0] if m[0] in keep else _visible(m[0]), text)


def _visible(char: str) -> str:
    """`\\n`, `\\x1b`, `\\u2028`: how a character reads as an escape."""
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def one_line(value: object) -> str:
    """The value as printable text on one line: runs of whitespace become one space."""
    return printable(re.sub(r"\s+", " ", str(value)))


_MARKDOWN = re.compile(
    r"(?P<punct>[\\`*~\[\]()!|$])"  # emphasis, strikethrough, links, images, code, table cells
    r"|(?P<entity>[<>&])"  # HTML, autolinks <...> and entities
    r"|(?P<under>_+)"  # emphasis, unless inside a word
    r"|(?P<scheme>:(?=//))"  # https://... autolinks
    r"|(?<=[wW]{3})(?<![^\W_][wW]{3})(?P<www>\.)"  # www.... autolinks
    r"|(?<!\S)(?P<hash>#)"  # a heading's opening or closing sequence
    r"|(?P<at>@)"  # e-mail and xmpp: autolinks, which no escape stops: broken by an empty element
    r"|^(?P<block>\s*(?:[+-]|\d{1,9}(?=\.(?:\s|$))))"  # a list or rule if a line starts with it
)
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def markdown_cell(value: object) -> str:
    """The value as plain markdown text on one line, safe in a table cell, heading or list item."""
    return _MARKDOWN.sub(_markdown_escape, one_line(value))


def _markdown_escape(m: re.Match) -> str:
    """The escape of one match of `_MARKDOWN`."""
    kind, text = m.lastgroup, m[0]
    if kind == "entity":
        return _ENTITIES[text]
    if kind == "under" and _inside_word(m):
        return text
    if kind == "block":
        return text[:-1] + "\\" + text[-1] if not text[-1].isdigit() else text + "\\"
    if kind == "at":
        return "@<wbr>"
    return "".join("\\" + c for c in text)


def _inside_word(m: re.Match) -> bool:
    """Whether the underscores have a letter or digit on both sides: then they are no emphasis."""
    before, after = m.string[m.start() - 1:m.start()], m.string[m.end():m.end() + 1]
    return bool(re.fullmatch(r"[^\W_]", before) and re.fullmatch(r"[^\W_]", after))


def markdown_code(value: object, table: bool = True) -> str:
    """The value as a markdown code span; in a table, with `|` escaped as GFM requires there."""
    text = printable(str(value))
    if not text:
        return ""
    if table:
        text = text.replace("|", "\\|")
    fence = fence_for(text)
    edges = text[0] + text[-1]
    pad = " " if "`" in edges or (edges == "  " and text.strip(" ")) else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def fence_for(text: str, shortest: int = 1) -> str:
    """A run of backticks longer than any in `text`, so a code span or block holding it cannot
    be closed early (a fenced block needs at least three)."""
    return "`" * max(shortest, max(map(len, re.findall("`+", text)), default=0) + 1)
