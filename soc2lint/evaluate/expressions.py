"""Terraform expressions over python-hcl2's Lark parse tree, evaluated as Terraform would.

Names (`var`, `local`, resources, `each`...) come from a `Scope`; whatever cannot be known is an
`Unknown` naming its cause, never a guess. Evaluation errors Terraform would report raise
`EvalError` inside, which `try`/`can` catch and everything else turns into an Unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from lark import Token, Tree

from . import functions
from .values import EvalError, Ref, Template, Unknown

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)")
_DIRECTIVE_RE = re.compile(r"(?<!%)%\{")
_HEREDOC_RE = re.compile(r"<<-?([A-Za-z][A-Za-z0-9._-]*)\n?(.*)\n[ \t]*\1\n?\Z", re.S)
_PRECEDENCE = {"||": 0, "&&": 1, "==": 2, "!=": 2, "<": 3, ">": 3, "<=": 3, ">=": 3,
               "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}


class Lazy:
    """A value resolved piece by piece (`aws_s3_bucket.x`, `var`, `module.m`)."""

    def get(self, name: str, source: str) -> Any:
        raise EvalError(f"unsupported attribute '{name}'")

    def at(self, key: Any, source: str) -> Any:
        raise EvalError("cannot index this value")

    def whole(self, source: str) -> Any:
        return Unknown(source)

    def splat(self, source: str) -> Any:
        """The items `[*]` iterates over."""
        return [self.whole(source)]


class Scope(Protocol):
    def lookup(self, name: str, source: str) -> Any: ...


class EmptyScope:
    """No names: every reference is UNKNOWN (a file evaluated on its own)."""

    def lookup(self, name: str, source: str) -> Any:
        return Unknown(source)


TemplateParser = Callable[[str], Tree]


class Evaluator:
    """Evaluates expression trees of one file's text in a scope."""

    def __init__(self, text: str, scope: Scope | None = None, bindings: Mapping[str, Any] | None = None,
                 parse_expression: TemplateParser | None = None) -> None:
        self.text = text
        self.scope = scope or EmptyScope()
        self.bindings = dict(bindings or {})
        self.parse_expression = parse_expression

    def bind(self, names: Mapping[str, Any]) -> Evaluator:
        """An evaluator with extra local names (for-expression and iterator variables)."""
        return Evaluator(self.text, self.scope, {**self.bindings, **names}, self.parse_expression)

    def source(self, node: Tree | Token) -> str:
        if isinstance(node, Token):
            return str(node)
        meta = node.meta
        if getattr(meta, "empty", True):
            return "<expression>"
        return " ".join(self.text[meta.start_pos: meta.end_pos].split())

    def value(self, node: Tree | Token) -> Any:
        """The node's value; an expression Terraform would reject is UNKNOWN, with the reason."""
        try:
            return self.settle(self.eval(node), node)
        except EvalError as exc:
            return Unknown(f"{self.source(node)}: {exc}")
        except RecursionError:
            return Unknown(f"{self.source(node)}: too deeply nested")

    def settle(self, value: Any, node: Tree | Token) -> Any:
        return value.whole(self.source(node)) if isinstance(value, Lazy) else value

    def strict(self, node: Tree | Token) -> Any:
        """Like `value`, but errors propagate (inside `try`, `can` and operators)."""
        return self.settle(self.eval(node), node)

    def eval(self, node: Tree | Token) -> Any:
        if isinstance(node, Token):
            if node.type in ("DECIMAL", "NEGATIVE_DECIMAL"):
                return int(node)
            return Unknown(str(node))
        handler = getattr(self, f"_eval_{node.data}", None)
        if handler is None:
            return Unknown(self.source(node))
        return handler(node)

    # -- literals ------------------------------------------------------------------------
    def _eval_expr_term(self, node: Tree) -> Any:
        inner = [c for c in node.children if not _is_layout(c)
                 and not (isinstance(c, Token) and c.type in ("LPAR", "RPAR"))]
        if len(inner) == 1:
            return self.eval(inner[0])
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
        if name in self.bindings:
            return self.bindings[name]
        return self.scope.lookup(name, name)

    def _eval_string(self, node: Tree) -> Any:
        parts: list[Any] = []
        for part in node.children:
            piece = part.children[0] if isinstance(part, Tree) else part
            if isinstance(piece, Tree):  # interpolation
                parts.append(self.value(piece.children[0]))
            elif piece.type == "ESCAPED_INTERPOLATION":
                parts.append(str(piece)[1:])
            elif _DIRECTIVE_RE.search(str(piece)):  # %{ if }...%{ endif }: a template directive
                return Unknown(f"{self.source(node)}: template directives are not evaluated")
            else:
                parts.append(_unescape(str(piece)))
        return join_template(parts, self.source(node))

    def _eval_heredoc_template(self, node: Tree) -> Any:
        return self._heredoc(node, trim=False)

    def _eval_heredoc_template_trim(self, node: Tree) -> Any:
        return self._heredoc(node, trim=True)

    def _heredoc(self, node: Tree, trim: bool) -> Any:
        match = _HEREDOC_RE.match(str(node.children[0]))
        if not match:
            return Unknown(self.source(node))
        body = match.group(2)
        if trim:
            lines = body.split("\n")
            indents = [len(line) - len(line.lstrip(" \t")) for line in lines if line.strip()]
            cut = min(indents, default=0)
            body = "\n".join(line[cut:] for line in lines)
        return self.template(body + "\n", self.source(node))

    def template(self, text: str, source: str) -> Any:
        """A template string (heredoc body, `.tf.json` string): `${...}` holes evaluated."""
        if _DIRECTIVE_RE.search(text):
            return Unknown(f"{source}: template directives are not evaluated")
        parts: list[Any] = []
        for literal, expression in split_template(text):
            if literal:
                parts.append(literal.replace("$${", "${").replace("%%{", "%{"))
            if expression is not None:
                parts.append(self.expression_text(expression))
        return join_template(parts, source)

    def expression_text(self, expression: str) -> Any:
        """Evaluate expression source text in this scope (a template hole)."""
        if self.parse_expression is None:
            return Unknown(expression)
        try:
            tree = self.parse_expression(expression)
        except Exception:
            return Unknown(f"{expression}: cannot parse")
        return Evaluator(f"x = {expression}\n", self.scope, self.bindings, self.parse_expression).value(tree)

    def _eval_tuple(self, node: Tree) -> Any:
        return [self.value(c) for c in node.children if not _is_layout(c)]

    def _eval_object(self, node: Tree) -> Any:
        result: dict[str, Any] = {}
        for elem in node.children:
            if isinstance(elem, Tree) and elem.data == "object_elem":
                key = self.object_key(elem.children[0])
                if isinstance(key, Unknown):
                    return key
                result[str(key)] = self.value(elem.children[-1])
        return result

    def object_key(self, key_node: Tree) -> Any:
        inner = key_node.children[0]
        if isinstance(inner, Tree) and inner.data == "identifier":
            return str(inner.children[0])
        if isinstance(inner, Tree) and inner.data == "object_elem_key_dot_accessor":
            return ".".join(str(c.children[0]) for c in inner.children if isinstance(c, Tree))
        if isinstance(inner, Tree) and inner.data == "object_elem_key_expression":
            inner = next(c for c in inner.children if isinstance(c, Tree))
        value = self.value(inner)
        if isinstance(value, Unknown):
            return value
        return to_string(value)

    # -- operators -----------------------------------------------------------------------
    def _eval_unary_op(self, node: Tree) -> Any:
        op, operand = str(node.children[0]), self.strict(node.children[1])
        if isinstance(operand, Unknown):
            return operand
        if op == "-":
            return -to_number(operand)
        return not to_bool(operand)

    def _eval_binary_op(self, node: Tree) -> Any:
        operands: list[Any] = []
        operators: list[str] = []
        _flatten(node, operands, operators)
        # shunting-yard over the flat chain: the grammar itself has no precedence
        values: list[Any] = [operands[0]]
        ops: list[str] = []
        for op, operand in zip(operators, operands[1:], strict=True):
            while ops and _PRECEDENCE[ops[-1]] >= _PRECEDENCE[op]:
                self._reduce(values, ops)
            ops.append(op)
            values.append(operand)
        while ops:
            self._reduce(values, ops)
        return self._force(values[0])

    def _reduce(self, values: list, ops: list) -> None:
        op = ops.pop()
        right, left = values.pop(), values.pop()
        values.append(("op", op, left, right))

    def _force(self, item: Any) -> Any:
        if isinstance(item, tuple) and item and item[0] == "op":
            _, op, left, right = item
            if op in ("&&", "||"):
                return _logic(op, self._force(left), lambda: self._force(right))
            return binary(op, self._force(left), self._force(right))
        return self.strict(item)

    def _eval_conditional(self, node: Tree) -> Any:
        cond, yes, no = (c for c in node.children if not _is_layout(c))
        test = self.strict(cond)
        if isinstance(test, Unknown):
            a, b = self.value(yes), self.value(no)
            return a if a == b and not isinstance(a, Unknown) else test
        return self.eval(yes) if to_bool(test) else self.eval(no)

    # -- references ----------------------------------------------------------------------
    def _eval_get_attr_expr_term(self, node: Tree) -> Any:
        base = self.eval(node.children[0])
        name = str(node.children[1].children[0].children[0])
        return get_attr(base, name, self.source(node))

    def _eval_index_expr_term(self, node: Tree) -> Any:
        base = self.eval(node.children[0])
        return index(base, self._index_key(node.children[1]), self.source(node))

    def _index_key(self, index_node: Tree) -> Any:
        inner = [c for c in index_node.children if not _is_layout(c)]
        if len(inner) == 1 and isinstance(inner[0], Tree):
            return self.strict(inner[0])
        return int("".join(str(c) for c in inner))

    def _eval_attr_splat_expr_term(self, node: Tree) -> Any:
        return self._splat(node)

    def _eval_full_splat_expr_term(self, node: Tree) -> Any:
        return self._splat(node)

    def _splat(self, node: Tree) -> Any:
        base = self.eval(node.children[0])
        source = self.source(node)
        if isinstance(base, Lazy):
            items = base.splat(source)
        elif isinstance(base, Unknown):
            return base
        elif base is None:
            items = []
        else:
            items = base if isinstance(base, list) else [base]
        if isinstance(items, Unknown):
            return items
        steps = [c for c in node.children[1].children if isinstance(c, Tree)]
        result = []
        for item in items:
            for step in steps:
                if step.data == "get_attr":
                    item = get_attr(item, str(step.children[0].children[0]), source)
                else:
                    item = index(item, self._index_key(step), source)
            result.append(self.settle(item, node))
        return result

    def _eval_function_call(self, node: Tree) -> Any:
        name = str(node.children[0].children[0])
        args_node = next((c for c in node.children[1:] if isinstance(c, Tree) and c.data == "arguments"),
                         None)
        arg_nodes = [c for c in args_node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"
                     ] if args_node is not None else []
        expand = args_node is not None and any(isinstance(c, Token) and str(c) == "..."
                                               for c in args_node.children)
        source = self.source(node)
        if name in functions.LAZY:
            return functions.call(name, [lambda n=n: self.strict(n) for n in arg_nodes], source)
        args = [self.strict(n) for n in arg_nodes]
        if expand and args:
            last = args.pop()
            if isinstance(last, Unknown):
                return last
            args.extend(last if isinstance(last, list) else [last])
        return functions.call(name, args, source)

    def _eval_provider_function_call(self, node: Tree) -> Any:
        return Unknown(f"{self.source(node)}: provider functions are not evaluated")

    def _eval_for_tuple_expr(self, node: Tree) -> Any:
        return self._for(node, as_object=False)

    def _eval_for_object_expr(self, node: Tree) -> Any:
        return self._for(node, as_object=True)

    def _for(self, node: Tree, as_object: bool) -> Any:
        trees = [c for c in node.children if isinstance(c, Tree) and not _is_layout(c)]
        intro, rest = trees[0], trees[1:]
        cond = rest.pop() if rest and rest[-1].data == "for_cond" else None
        grouping = any(isinstance(c, Token) and str(c) == "..." for c in node.children)
        names = [str(c.children[0]) for c in intro.children if isinstance(c, Tree) and c.data == "identifier"]
        collection = self.strict(next(c for c in intro.children if isinstance(c, Tree)
                                      and c.data != "identifier" and not _is_layout(c)))
        if isinstance(collection, Unknown):
            return collection
        if isinstance(collection, dict):
            pairs = sorted(collection.items())
        elif isinstance(collection, list):
            pairs = list(enumerate(collection))
        else:
            raise EvalError("a for expression needs a list, set, map or object")
        out_list: list[Any] = []
        out_map: dict[str, Any] = {}
        for key, item in pairs:
            bound = dict(zip(names, [key, item], strict=False)) if len(names) == 2 else {names[0]: item}
            inner = self.bind(bound)
            if cond is not None:
                test = next(c for c in cond.children if isinstance(c, Tree) and not _is_layout(c))
                keep = inner.strict(test)
                if isinstance(keep, Unknown):
                    return keep
                if not to_bool(keep):
                    continue
            if not as_object:
                out_list.append(inner.value(rest[0]))
                continue
            out_key = inner.strict(rest[0])
            if isinstance(out_key, Unknown):
                return out_key
            value = inner.value(rest[1])
            if grouping:
                out_map.setdefault(to_string(out_key), []).append(value)
            else:
                out_map[to_string(out_key)] = value
        return out_map if as_object else out_list


# -- value operations ------------------------------------------------------------------------
def get_attr(base: Any, name: str, source: str) -> Any:
    if isinstance(base, Lazy):
        return base.get(name, source)
    if isinstance(base, Unknown):
        return base
    if isinstance(base, dict):
        if name in base:
            return base[name]
        raise EvalError(f"no attribute '{name}'")
    if base is None:
        raise EvalError(f"cannot read '{name}' of null")
    raise EvalError(f"cannot read attribute '{name}' of a {type(base).__name__}")


def index(base: Any, key: Any, source: str) -> Any:
    if isinstance(key, Unknown):
        return base if isinstance(base, Unknown) else key
    if isinstance(base, Lazy):
        return base.at(key, source)
    if isinstance(base, Unknown):
        return base
    if isinstance(base, list):
        position = int(to_number(key))
        if 0 <= position < len(base):
            return base[position]
        raise EvalError(f"index {position} out of range")
    if isinstance(base, dict):
        text = to_string(key)
        if text in base:
            return base[text]
        raise EvalError(f"no key {text!r}")
    raise EvalError("cannot index this value")


def binary(op: str, left: Any, right: Any) -> Any:
    for side in (left, right):
        if isinstance(side, Unknown):
            return side
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    a, b = to_number(left), to_number(right)
    if op in ("<", ">", "<=", ">="):
        return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
    if op in ("/", "%") and b == 0:
        raise EvalError("division by zero")
    result = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
              "%": lambda: a % b}[op]()
    return int(result) if isinstance(result, float) and result.is_integer() else result


def _logic(op: str, left: Any, right: Callable[[], Any]) -> Any:
    if not isinstance(left, Unknown):
        left = to_bool(left)
        if (op == "&&" and not left) or (op == "||" and left):
            return left
    value = right()
    if isinstance(value, Unknown):
        return value
    value = to_bool(value)
    if isinstance(left, Unknown):
        if (op == "&&" and not value) or (op == "||" and value):
            return value
        return left
    return value


def _equal(left: Any, right: Any) -> bool:
    numbers = (int, float)
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, numbers) and isinstance(right, numbers):
        return left == right
    return type(left) is type(right) and left == right


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise EvalError(f"a bool is required, not {value!r}"[:80])


def to_number(value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            return int(number) if number.is_integer() else number
    raise EvalError(f"a number is required, not {value!r}"[:80])


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise EvalError("a string is required" if value is not None else "a null value in a string")


def join_template(parts: list[Any], source: str) -> Any:
    """The value of a template: one hole alone keeps its value; unknown holes keep the rest."""
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]
    pieces: list[Any] = []
    for part in parts:
        if isinstance(part, Template):
            pieces.extend(part.parts)
        elif isinstance(part, Unknown):
            pieces.append(part)
        else:
            try:
                pieces.append(to_string(part))
            except EvalError as exc:
                return Unknown(f"{source}: {exc}")
    merged: list[Any] = []
    for piece in pieces:
        if merged and isinstance(piece, str) and isinstance(merged[-1], str):
            merged[-1] += piece
        else:
            merged.append(piece)
    if all(isinstance(p, str) for p in merged):
        return "".join(merged)
    if not any(isinstance(p, str) and p for p in merged):
        return next(p for p in merged if isinstance(p, Unknown))
    holes = list(dict.fromkeys(p.reason for p in merged if isinstance(p, Unknown)))
    return Template("; ".join(holes), tuple(merged))


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
        term = node.children[1]
        parts = [c for c in term.children if not _is_layout(c)]
        operators.append(str(parts[0].children[0]))
        _flatten(parts[1], operands, operators)
    else:
        operands.append(node)


def _is_layout(node: Any) -> bool:
    return isinstance(node, Tree) and node.data == "new_line_or_comment"


def _unescape(text: str) -> str:
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _ESCAPES.get(code, "\\" + code)

    return _ESCAPE_RE.sub(replace, text).replace("%%{", "%{")


__all__ = ["EmptyScope", "EvalError", "Evaluator", "Lazy", "Ref", "Scope", "join_template",
           "split_template", "to_bool", "to_number", "to_string"]
