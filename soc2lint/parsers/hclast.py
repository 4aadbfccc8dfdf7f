"""python-hcl2's Lark tree -> a compact expression tree of plain tuples.

Lark's trees carry an object per token and per position record; they are slow to copy between
processes or to load from a cache (as slow as parsing again). The evaluator needs much less, so
each expression becomes nested tuples `(kind, pos, *fields)`, where `pos` is
`(start, end, line, column, end_line, end_column)` in the file's text, with a seventh item, the
node's own text, when its positions do not index the file (a template hole parsed on its own):

    ("lit", pos, value)                   number, bool, null, or a string without holes
    ("template", pos, parts)              parts: str or node (`"a-${x}"`, heredocs)
    ("unknown", pos, reason)              a form that is not evaluated (template directives); the
                                          reason never quotes the expression's text
    ("name", pos, name)                   `var`, `aws_s3_bucket`, `each`, a for variable
    ("attr", pos, base, name)             `base.name`
    ("index", pos, base, key)             `base[key]`, `base.0`
    ("splat", pos, base, steps)           `base[*].a`, `base.*.a`; steps: ("attr", name) | ("index", node)
    ("call", pos, name, args, expand)     `f(a, b...)`
    ("provider_call", pos)                `provider::x::f()`
    ("tuple", pos, items)
    ("object", pos, elems)                elems: (key_node, value_node, pos); key ("key", name) for bare names
    ("unary", pos, op, operand)
    ("binary", pos, op, left, right)      precedence resolved here: the grammar has none
    ("cond", pos, test, yes, no)
    ("for", pos, names, collection, key, value, cond, grouping)

`soc2lint.parsers.hcldescribe` names an expression for the reason of an unresolved value without
its literal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lark import Token, Tree

from . import ParseError

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_DIRECTIVE_RE = re.compile(r"(?<!%)%\{")
_HEREDOC_RE = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\n?(.*)\n[ \t]*\2\n?\Z", re.S)
PRECEDENCE = {"||": 0, "&&": 1, "==": 2, "!=": 2, "<": 3, ">": 3, "<=": 3, ">=": 3,
               "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}

Node = tuple
ParseHole = Callable[[str], Tree]  # parses one expression written as text


def pos_of(node: Tree) -> tuple:
    meta = node.meta
    if getattr(meta, "empty", True):
        return (0, 0, 0, 0, 0, 0)
    return (meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def _token_pos(token: Token) -> tuple:
    start = token.start_pos or 0
    return (start, token.end_pos or start + len(token), token.line or 0, token.column or 0,
            token.end_line or token.line or 0, token.end_column or token.column or 0)


def _integer(digits: str, line: int | None) -> int:
    """An integer literal; one longer than Python converts (4,300 digits) is a ParseError."""
    try:
        return int(digits)
    except ValueError:
        raise ParseError(f"a number of {len(digits):,} digits is more than Python reads",
                         line or None) from None


def _is_layout(node: Any) -> bool:
    return isinstance(node, Tree) and node.data == "new_line_or_comment"


def _trees(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree) and not _is_layout(c)]


class Converter:
    """Converts expression trees of one file; `parse_hole` parses heredoc template holes."""

    def __init__(self, text: str, parse_hole: ParseHole | None = None) -> None:
        self.text = text
        self.parse_hole = parse_hole

    def convert(self, node: Tree | Token) -> Node:
        if isinstance(node, Token):
            if node.type in ("DECIMAL", "NEGATIVE_DECIMAL"):
                return ("lit", _token_pos(node), _integer(str(node), node.line))
            return ("unknown", (*_token_pos(node), "…"), f"'{node.type}' is not evaluated")
        handler = getattr(self, f"_{node.data}", None)
        if handler is None:
            return ("unknown", pos_of(node), f"'{node.data}' is not evaluated")
        return handler(node)

    def _expr_term(self, node: Tree) -> Node:
        inner = [c for c in node.children if not _is_layout(c)
                 and not (isinstance(c, Token) and c.type in ("LPAR", "RPAR"))]
        if len(inner) == 1:
            return self.convert(inner[0])
        return ("unknown", pos_of(node), "unexpected expression")

    def _int_lit(self, node: Tree) -> Node:
        return ("lit", pos_of(node), _integer("".join(str(c) for c in node.children), node.meta.line))

    def _float_lit(self, node: Tree) -> Node:
        number = float("".join(str(c) for c in node.children))
        return ("lit", pos_of(node), int(number) if number.is_integer() else number)

    def _identifier(self, node: Tree) -> Node:
        name = str(node.children[0])
        if name in ("true", "false"):
            return ("lit", pos_of(node), name == "true")
        if name == "null":
            return ("lit", pos_of(node), None)
        return ("name", pos_of(node), name)

    def _string(self, node: Tree) -> Node:
        parts: list[Any] = []
        for part in node.children:
            piece = part.children[0] if isinstance(part, Tree) else part
            if isinstance(piece, Tree):  # interpolation
                parts.append(self.convert(piece.children[0]))
            elif piece.type == "ESCAPED_INTERPOLATION":
                parts.append(str(piece)[1:])
            elif _DIRECTIVE_RE.search(str(piece)):
                return ("unknown", pos_of(node), "template directives are not evaluated")
            else:
                try:
                    parts.append(unescape(str(piece)))
                except ValueError:  # HCL rejects an escape past the last code point too
                    raise ParseError("invalid escape sequence: a \\U escape past U+10FFFF",
                                     getattr(piece, "line", None)) from None
        return _template(pos_of(node), parts)

    def _heredoc_template(self, node: Tree) -> Node:
        return self._heredoc(node)

    def _heredoc_template_trim(self, node: Tree) -> Node:
        return self._heredoc(node)

    def _heredoc(self, node: Tree) -> Node:
        pos = pos_of(node)
        match = _HEREDOC_RE.match(str(node.children[0]))
        if not match:
            return ("unknown", (*pos, "<<…"), "unreadable heredoc")
        body = match.group(3)
        if match.group(1):  # <<-: strip the common indentation
            lines = body.split("\n")
            indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(indents, default=0)
            body = "\n".join(line[cut:] for line in lines)
        if _DIRECTIVE_RE.search(body):
            return ("unknown", pos, "template directives are not evaluated")
        return self.template_text(body + "\n", pos)

    def template_text(self, text: str, pos: tuple) -> Node:
        """A template written as text (heredoc body, `.tf.json` string) with its `${}` holes."""
        parts: list[Any] = []
        for literal, expression in split_template(text):
            if literal:
                parts.append(literal.replace("$${", "${").replace("%%{", "%{"))
            if expression is not None:
                parts.append(self.hole(expression, pos))
        return _template(pos, parts)

    def hole(self, expression: str, pos: tuple) -> Node:
        """An expression given as text; its positions become those of the enclosing template."""
        own = (*pos[:6], expression)  # the hole's own text, for `describe`
        if self.parse_hole is None:
            return ("unknown", own, "not evaluated")
        try:
            tree = self.parse_hole(expression)
        except Exception:
            return ("unknown", own, "cannot parse")
        return _relocate(Converter(f"x = {expression}\n", self.parse_hole).convert(tree), pos, expression)

    def _tuple(self, node: Tree) -> Node:
        return ("tuple", pos_of(node), tuple(self.convert(c) for c in node.children if not _is_layout(c)))

    def _object(self, node: Tree) -> Node:
        elems = []
        for elem in node.children:
            if isinstance(elem, Tree) and elem.data == "object_elem":
                elems.append((self._object_key(elem.children[0]), self.convert(elem.children[-1]),
                              pos_of(elem)))
        return ("object", pos_of(node), tuple(elems))

    def _object_key(self, key_node: Tree) -> Node:
        inner = key_node.children[0]
        if isinstance(inner, Tree) and inner.data == "identifier":
            return ("key", str(inner.children[0]))
        if isinstance(inner, Tree) and inner.data == "object_elem_key_dot_accessor":
            return ("key", ".".join(str(c.children[0]) for c in inner.children if isinstance(c, Tree)))
        if isinstance(inner, Tree) and inner.data == "object_elem_key_expression":
            inner = _trees(inner)[0]
        return self.convert(inner)

    def _unary_op(self, node: Tree) -> Node:
        return ("unary", pos_of(node), str(node.children[0]), self.convert(node.children[1]))

    def _binary_op(self, node: Tree) -> Node:
        operands: list[Any] = []
        operators: list[str] = []
        _flatten(node, operands, operators)
        last = operands[-1]
        if isinstance(last, Tree) and last.data == "conditional":
            # `a != null ? x : y` parses as `a != (null ? x : y)`; the conditional binds loosest
            test, yes, no = (c for c in last.children if not _is_layout(c))
            operands.pop()
            _flatten(test, operands, operators)
            chain = self._chain(operands, operators)
            return ("cond", pos_of(node), chain, self.convert(yes), self.convert(no))
        return self._chain(operands, operators)

    def _chain(self, operands: list, operators: list[str]) -> Node:
        """A flat `a op b op c` chain as a tree, by precedence (left-associative)."""
        values: list[Any] = [self.convert(operands[0])]
        ops: list[str] = []

        def reduce() -> None:
            op = ops.pop()
            right, left = values.pop(), values.pop()
            pos = (left[1][0], right[1][1], *left[1][2:4], *right[1][4:6])
            values.append(("binary", pos, op, left, right))

        for op, operand in zip(operators, operands[1:], strict=True):
            while ops and PRECEDENCE[ops[-1]] >= PRECEDENCE[op]:
                reduce()
            ops.append(op)
            values.append(self.convert(operand))
        while ops:
            reduce()
        return values[0]

    def _conditional(self, node: Tree) -> Node:
        test, yes, no = (self.convert(c) for c in node.children if not _is_layout(c))
        return ("cond", pos_of(node), test, yes, no)

    def _get_attr_expr_term(self, node: Tree) -> Node:
        return ("attr", pos_of(node), self.convert(node.children[0]),
                str(node.children[1].children[0].children[0]))

    def _index_expr_term(self, node: Tree) -> Node:
        return ("index", pos_of(node), self.convert(node.children[0]), self._index_key(node.children[1]))

    def _index_key(self, index_node: Tree) -> Node:
        inner = [c for c in index_node.children if not _is_layout(c)]
        if len(inner) == 1 and isinstance(inner[0], Tree):
            return self.convert(inner[0])
        return ("lit", pos_of(index_node), _integer("".join(str(c) for c in inner), index_node.meta.line))

    def _attr_splat_expr_term(self, node: Tree) -> Node:
        return self._splat(node)

    def _full_splat_expr_term(self, node: Tree) -> Node:
        return self._splat(node)

    def _splat(self, node: Tree) -> Node:
        steps = []
        for step in _trees(node.children[1]):
            if step.data == "get_attr":
                steps.append(("attr", str(step.children[0].children[0])))
            else:
                steps.append(("index", self._index_key(step)))
        return ("splat", pos_of(node), self.convert(node.children[0]), tuple(steps))

    def _function_call(self, node: Tree) -> Node:
        name = str(node.children[0].children[0])
        args = next((c for c in node.children[1:] if isinstance(c, Tree) and c.data == "arguments"), None)
        nodes = tuple(self.convert(c) for c in _trees(args)) if args is not None else ()
        expand = args is not None and any(isinstance(c, Token) and str(c) == "..." for c in args.children)
        return ("call", pos_of(node), name, nodes, expand)

    def _provider_function_call(self, node: Tree) -> Node:
        return ("unknown", pos_of(node), "provider functions are not evaluated")

    def _for_tuple_expr(self, node: Tree) -> Node:
        return self._for(node, as_object=False)

    def _for_object_expr(self, node: Tree) -> Node:
        return self._for(node, as_object=True)

    def _for(self, node: Tree, as_object: bool) -> Node:
        trees = _trees(node)
        intro, rest = trees[0], trees[1:]
        cond = rest.pop() if rest and rest[-1].data == "for_cond" else None
        grouping = any(isinstance(c, Token) and str(c) == "..." for c in node.children)
        names = tuple(str(c.children[0]) for c in _trees(intro) if c.data == "identifier")
        collection = next(c for c in _trees(intro) if c.data != "identifier")
        key = self.convert(rest[0]) if as_object else None
        value = self.convert(rest[-1])
        test = self.convert(_trees(cond)[0]) if cond is not None else None
        return ("for", pos_of(node), names, self.convert(collection), key, value, test, grouping)


def _template(pos: tuple, parts: list[Any]) -> Node:
    if all(isinstance(p, str) for p in parts):
        return ("lit", pos, "".join(parts))
    return ("template", pos, tuple(parts))


def _relocate(node: Any, pos: tuple, source: str) -> Any:
    """Nodes parsed from a hole's own text: point them at the enclosing template, and keep
    their source text (their positions no longer index the file)."""
    if isinstance(node, tuple) and node and isinstance(node[0], str) and len(node) > 1 and \
            isinstance(node[1], tuple) and len(node[1]) == 6:
        start, end = node[1][0] - 4, node[1][1] - 4  # "x = " precedes the expression
        text = source[max(start, 0):max(end, 0)] if end > start else source
        return (node[0], (*pos[:6], text), *(_relocate(f, pos, source) for f in node[2:]))
    if isinstance(node, tuple):
        return tuple(_relocate(f, pos, source) for f in node)
    return node


def unescape(text: str) -> str:
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(replace, text).replace("%%{", "%{")


def split_template(text: str) -> list[tuple[str, str | None]]:
    """`a${x}b` -> [("a", "x"), ("b", None)]; braces and strings inside holes are balanced."""
    out: list[tuple[str, str | None]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$${", i):
            literal.append("$${")
            i += 3
        elif text.startswith("${", i):
            end = _hole_end(text, i + 2)
            if end is None:
                literal.append(text[i:])
                break
            out.append(("".join(literal), text[i + 2: end].strip()))
            literal = []
            i = end + 1
        else:
            literal.append(text[i])
            i += 1
    out.append(("".join(literal), None))
    return out


def _hole_end(text: str, start: int) -> int | None:
    depth, i, quote = 0, start, False
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = False
        elif ch == '"':
            quote = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    return None


def _flatten(node: Any, operands: list, operators: list) -> None:
    if isinstance(node, Tree) and node.data == "binary_op":
        _flatten(node.children[0], operands, operators)
        parts = [c for c in node.children[1].children if not _is_layout(c)]
        operators.append(str(parts[0].children[0]))
        _flatten(parts[1], operands, operators)
    else:
        operands.append(node)


__all__ = ["Converter", "Node", "split_template", "unescape"]
