"""Terraform expression evaluation over python-hcl2's Lark parse tree.

Today literals are resolved and every other expression is UNKNOWN, named by its source text;
variables, locals, references and functions plug in here through `Scope`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lark import Token, Tree

from ..model import Unknown

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_DIRECTIVE_RE = re.compile(r"(?<!%)%\{")
_HEREDOC_RE = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\n?(.*)\n[ \t]*\1\n?\Z", re.S)


@dataclass
class Scope:
    """Names an expression may read; empty until variables and references are evaluated."""

    values: dict[str, Any] = field(default_factory=dict)


class Evaluator:
    """Evaluates expression trees of one file's text."""

    def __init__(self, text: str, scope: Scope | None = None) -> None:
        self.text = text
        self.scope = scope or Scope()

    def source(self, node: Tree | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        meta = node.meta
        if getattr(meta, "empty", True):
            return "<expression>"
        return self.text[meta.start_pos : meta.end_pos].strip()

    def value(self, node: Tree | Token) -> Any:
        if isinstance(node, Token):
            return self._token(node)
        handler = getattr(self, f"_eval_{node.data}", None)
        if handler is None:
            return Unknown(self.source(node))
        return handler(node)

    # -- literal forms -------------------------------------------------------------------
    def _token(self, token: Token) -> Any:
        if token.type in ("DECIMAL", "NEGATIVE_DECIMAL"):
            return int(token)
        return Unknown(str(token))

    def _eval_expr_term(self, node: Tree) -> Any:
        children = [c for c in node.children if not _is_layout(c)]
        if len(children) == 1:
            return self.value(children[0])
        inner = [c for c in children if not (isinstance(c, Token) and c.type in ("LPAR", "RPAR"))]
        if len(inner) == 1:
            return self.value(inner[0])
        return Unknown(self.source(node))

    def _eval_int_lit(self, node: Tree) -> Any:
        return int("".join(str(c) for c in node.children))

    def _eval_float_lit(self, node: Tree) -> Any:
        number = float("".join(str(c) for c in node.children))
        return int(number) if number.is_integer() else number

    def _eval_identifier(self, node: Tree) -> Any:
        name = str(node.children[0])
        if name in ("true", "false"):
            return name == "true"
        if name == "null":
            return None
        if name in self.scope.values:
            return self.scope.values[name]
        return Unknown(name)

    def _eval_string(self, node: Tree) -> Any:
        parts: list[str] = []
        for part in node.children:
            piece = part.children[0] if isinstance(part, Tree) else part
            if isinstance(piece, Tree):  # interpolation
                return Unknown(self.source(node))
            if piece.type == "ESCAPED_INTERPOLATION":
                parts.append(str(piece)[1:])
            elif _DIRECTIVE_RE.search(str(piece)):  # %{ if }...%{ endif }: a template
                return Unknown(self.source(node))
            else:
                parts.append(_unescape(str(piece)))
        return "".join(parts)

    def _eval_heredoc_template(self, node: Tree) -> Any:
        return self._heredoc(node, trim=False)

    def _eval_heredoc_template_trim(self, node: Tree) -> Any:
        return self._heredoc(node, trim=True)

    def _heredoc(self, node: Tree, trim: bool) -> Any:
        raw = str(node.children[0])
        match = _HEREDOC_RE.match(raw)
        if not match:
            return Unknown(self.source(node))
        body = match.group(2)
        if re.search(r"(?<!\$)\$\{|(?<!%)%\{", body):
            return Unknown(self.source(node))
        body = body.replace("$${", "${").replace("%%{", "%{")
        if trim:
            lines = body.split("\n")
            indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(indents, default=0)
            body = "\n".join(line[cut:] for line in lines)
        return body + "\n"

    def _eval_tuple(self, node: Tree) -> Any:
        return [self.value(c) for c in node.children if not _is_layout(c)]

    def _eval_object(self, node: Tree) -> Any:
        result: dict[str, Any] = {}
        for elem in node.children:
            if isinstance(elem, Tree) and elem.data == "object_elem":
                key = self.object_key(elem.children[0])
                if isinstance(key, Unknown):
                    return Unknown(self.source(node))
                result[str(key)] = self.value(elem.children[-1])
        return result

    def object_key(self, key_node: Tree) -> Any:
        inner = key_node.children[0]
        if isinstance(inner, Tree) and inner.data == "identifier":
            return str(inner.children[0])
        if isinstance(inner, Tree) and inner.data == "object_elem_key_dot_accessor":
            return ".".join(str(c.children[0]) for c in inner.children if isinstance(c, Tree))
        value = self.value(inner)
        if isinstance(value, bool):
            return str(value).lower()
        return value if isinstance(value, Unknown) else str(value)

    def _eval_unary_op(self, node: Tree) -> Any:
        op, operand = str(node.children[0]), self.value(node.children[1])
        if op == "-" and isinstance(operand, int | float) and not isinstance(operand, bool):
            return -operand
        if op == "!" and isinstance(operand, bool):
            return not operand
        return Unknown(self.source(node))


def _is_layout(node: Any) -> bool:
    return isinstance(node, Tree) and node.data == "new_line_or_comment"


def _unescape(text: str) -> str:
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(replace, text).replace("%%{", "%{")


def json_value(value: Any) -> Any:
    """A `.tf.json` value: strings holding `${...}` are expressions, so UNKNOWN for now."""
    if isinstance(value, str) and "${" in value.replace("$${", ""):
        return Unknown(value)
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


__all__ = ["Evaluator", "Scope", "json_value"]
