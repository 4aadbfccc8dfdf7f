"""How the reason of an unresolved value names an expression (a compact tree of
`soc2lint.parsers.hclast`): references, function names, numbers and operators as written, the
contents of string literals, heredocs and template literal parts as `…`.

Reasons reach every output, so the text of a literal (which may be a credential) is never copied.
"""

from __future__ import annotations

import re
from typing import Any

from .hclast import PRECEDENCE, Node


def describe(node: Node, text: str) -> str:
    """How a reason names an expression: references, function names, numbers and operators as
    written, the contents of string literals, heredocs and template literal parts as `…`.

    Reasons reach every output, so the text of a literal (which may be a credential) is never
    copied: `cidrsubnet("10.0.0.0/8", 1, var.n)` is shown as `cidrsubnet("…", 1, var.n)`.
    """
    try:
        return _show(node, text) or "<expression>"
    except RecursionError:
        return "<deeply nested expression>"


_PRIMARY, _UNARY, _COND = 7, 6, -1


def _rank(node: Node) -> int:
    """How tightly the node binds, to know where parentheses are needed."""
    kind = node[0]
    if kind == "binary":
        return PRECEDENCE[node[2]]
    return {"unary": _UNARY, "cond": _COND}.get(kind, _PRIMARY)


def _part(node: Node, text: str, rank: int) -> str:
    shown = _show(node, text)
    return f"({shown})" if _rank(node) < rank else shown


def _show(node: Node, text: str) -> str:
    kind = node[0]
    if kind == "lit":
        return _show_literal(node[2])
    if kind == "template":
        return _show_template(node[2], text)
    if kind == "name":
        return node[2]
    if kind == "attr":
        return f"{_part(node[2], text, _PRIMARY)}.{node[3]}"
    if kind == "index":
        return f"{_part(node[2], text, _PRIMARY)}[{_show(node[3], text)}]"
    if kind == "splat":
        steps = "".join(f".{arg}" if step == "attr" else f"[{_show(arg, text)}]" for step, arg in node[3])
        return f"{_part(node[2], text, _PRIMARY)}[*]{steps}"
    if kind == "call":
        args = ", ".join(_show(arg, text) for arg in node[3])
        return f"{node[2]}({args}{'...' if node[4] else ''})"
    if kind == "tuple":
        return "[" + ", ".join(_show(item, text) for item in node[2]) + "]"
    if kind == "object":
        return "{" + ", ".join(f"{_show_key(k, text)} = {_show(v, text)}" for k, v, _ in node[2]) + "}"
    if kind == "unary":
        return node[2] + _part(node[3], text, _UNARY)
    if kind == "binary":
        rank = PRECEDENCE[node[2]]
        return f"{_part(node[3], text, rank)} {node[2]} {_part(node[4], text, rank + 1)}"
    if kind == "cond":
        return f"{_part(node[2], text, 0)} ? {_show(node[3], text)} : {_show(node[4], text)}"
    if kind == "for":
        return _show_for(node, text)
    return mask_literals(_text_of(node, text))  # "unknown": a form not evaluated


def _show_literal(value: Any) -> str:
    if isinstance(value, str):
        return '"…"' if value else '""'
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _show_template(parts: tuple, text: str) -> str:
    shown: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            shown.append("${" + _show(part, text) + "}")
        elif part and (not shown or shown[-1] != "…"):
            shown.append("…")
    return '"' + "".join(shown) + '"'


def _show_key(key: Node, text: str) -> str:
    if key[0] == "key":
        return key[1]
    shown = _show(key, text)
    return shown if key[0] in ("lit", "template") else f"({shown})"


def _show_for(node: Node, text: str) -> str:
    _, _, names, collection, key, value, cond, grouping = node
    head = f"for {', '.join(names)} in {_show(collection, text)} : "
    body = _show(value, text) + ("..." if grouping else "")
    if key is not None:
        body = f"{_show(key, text)} => {body}"
    tail = f" if {_show(cond, text)}" if cond is not None else ""
    return ("{" + head + body + tail + "}") if key is not None else ("[" + head + body + tail + "]")


def _text_of(node: Node, text: str) -> str:
    pos = node[1]
    return pos[6] if len(pos) > 6 else text[pos[0]:pos[1]]


_HEREDOC_START = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)")
_CODE_END = re.compile(r"[\"{}#/<]")


def mask_literals(code: str) -> str:
    """HCL code with the contents of strings, heredocs and comments left out, holes kept:
    `provider::p::f("x-${var.a}")` -> `provider::p::f("…${var.a}")`; whitespace collapsed."""
    out: list[str] = []
    _code(code, 0, out, closing=False)
    return " ".join("".join(out).split())


def _code(code: str, i: int, out: list[str], closing: bool) -> int:
    """Copies code from `i` (strings masked); with `closing`, stops at the `}` ending a hole."""
    depth = 0
    while i < len(code):
        found = _CODE_END.search(code, i)
        end = found.start() if found else len(code)
        out.append(code[i:end])
        i = end
        if i >= len(code):
            break
        char = code[i]
        heredoc = _HEREDOC_START.match(code, i) if char == "<" else None
        if char == '"':
            i = _quoted(code, i + 1, out)
        elif heredoc:
            i = _heredoc(code, heredoc, out)
        elif char == "#" or code.startswith("//", i):
            newline = code.find("\n", i)
            i = len(code) if newline < 0 else newline
        elif code.startswith("/*", i):
            close = code.find("*/", i + 2)
            i = len(code) if close < 0 else close + 2
        elif char == "}" and closing and depth == 0:
            return i
        else:
            depth += {"{": 1, "}": -1}.get(char, 0)
            out.append(char)
            i += 1
    return i


def _quoted(code: str, i: int, out: list[str], end: str = '"') -> int:
    """A template's literal text as `…`, its `${}` and `%{}` holes as code; returns the index after
    the closing quote (or the end of the text)."""
    out.append('"')
    literal = False
    while i < len(code) and not code.startswith(end, i):
        if code.startswith(("$${", "%%{"), i) or code[i] == "\\":
            literal, i = True, i + (3 if code[i] != "\\" else 2)
        elif code.startswith(("${", "%{"), i):
            if literal:
                out.append("…")
                literal = False
            out.append(code[i:i + 2])
            i = _code(code, i + 2, out, closing=True)
            out.append("}")
            i += 1
        else:
            literal, i = True, i + 1
    out.append("…\"" if literal else '"')
    return i + len(end)


def _heredoc(code: str, start: re.Match, out: list[str]) -> int:
    """`<<EOT … EOT`, its holes kept."""
    marker = re.compile(rf"\n\s*{re.escape(start.group(2))}(?=\n|$)")
    close = marker.search(code, start.end())
    body_end = close.start() if close else len(code)
    out.append(f"<<{start.group(1)}{start.group(2)} ")
    inner: list[str] = []
    _quoted(code[:body_end], start.end(), inner, end="\0")
    out.append("".join(inner)[1:-1] + f" {start.group(2)}")
    return close.end() if close else len(code)

__all__ = ["describe", "mask_literals"]
