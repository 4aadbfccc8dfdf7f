"""Terraform expressions over python-hcl2's Lark parse tree, evaluated as Terraform would.

Names (`var`, `local`, resources, `each`...) come from a `Scope`; whatever cannot be known is an
`Unknown` naming its cause, never a guess. Evaluation errors Terraform would report raise
`EvalError` inside, which `try`/`can` catch and everything else turns into an Unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..parsers.hclast import Node
from ..parsers.hcldescribe import describe
from . import budget, functions
from .budget import BudgetExceeded, Meter
from .values import EvalError, Ref, Template, Unknown, kind_of, template


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


TemplateParser = Callable[[str], Any]


class Evaluator:
    """Evaluates the compact expression trees (`soc2lint.parsers.hclast`) of one file's text."""

    def __init__(self, text: str, scope: Scope | None = None, bindings: Mapping[str, Any] | None = None,
                 parse_expression: TemplateParser | None = None, path: str = "",
                 meter: Meter | None = None) -> None:
        self.text = text
        self.scope = scope or EmptyScope()
        self.bindings = dict(bindings or {})
        self.parse_expression = parse_expression
        self.path = path  # the file the text is from, where a limit reached is reported
        self.meter = meter or budget.current()

    def bind(self, names: Mapping[str, Any]) -> Evaluator:
        """An evaluator with extra local names (for-expression and iterator variables)."""
        return Evaluator(self.text, self.scope, {**self.bindings, **names}, self.parse_expression,
                         self.path, self.meter)

    def source(self, node: Node) -> str:
        """The node as reasons name it: references and calls, never a literal's text."""
        return describe(node, self.text)

    def value(self, node: Node) -> Any:
        """The node's value; an expression Terraform would reject is UNKNOWN, with the reason."""
        try:
            return self.settle(self.eval(node), node)
        except EvalError as exc:
            return Unknown(f"{self.source(node)}: {exc}")
        except RecursionError:
            return Unknown(f"{self.source(node)}: too deeply nested")
        except BudgetExceeded as exc:
            self.meter.report(exc, self.path, node[1][2] if len(node[1]) > 2 else None)
            return Unknown(f"{self.source(node)}: {exc}")

    def settle(self, value: Any, node: Node) -> Any:
        return value.whole(self.source(node)) if isinstance(value, Lazy) else value

    def strict(self, node: Node) -> Any:
        """Like `value`, but errors propagate (inside `try`, `can` and operators)."""
        return self.settle(self.eval(node), node)

    def eval(self, node: Node) -> Any:
        if node[0] == "lit":  # no work: literals stay known once the steps run out
            return node[2]
        meter = self.meter
        meter.steps += 1
        if meter.steps > meter.budgets.max_steps:
            raise BudgetExceeded("max_steps", meter.budgets)
        return meter.size(getattr(self, "_" + node[0])(node))

    # -- literals ------------------------------------------------------------------------
    def _unknown(self, node: Node) -> Any:
        return Unknown(f"{self.source(node)}: {node[2]}")

    def _name(self, node: Node) -> Any:
        name = node[2]
        if name in self.bindings:
            return self.bindings[name]
        return self.scope.lookup(name, name)

    def _template(self, node: Node) -> Any:
        parts = [p if isinstance(p, str) else self.value(p) for p in node[2]]
        return join_template(parts, self.source(node))

    def template(self, text: str, source: str) -> Any:
        """A template given as text (a `.tf.json` string): `${...}` holes evaluated."""
        from ..parsers.hclast import Converter

        converter = Converter(text, self.parse_expression)
        node = converter.template_text(text, (0, len(text), 1, 1, 1, 1))
        return Evaluator(text, self.scope, self.bindings, self.parse_expression, self.path,
                         self.meter).value(node)

    def _tuple(self, node: Node) -> Any:
        return [self.value(item) for item in node[2]]

    def _object(self, node: Node) -> Any:
        result: dict[str, Any] = {}
        for key_node, value_node, _pos in node[2]:
            key = self.object_key(key_node)
            if isinstance(key, Unknown):
                return key
            result[key] = self.value(value_node)
        return result

    def object_key(self, key_node: Node) -> Any:
        if key_node[0] == "key":
            return key_node[1]
        value = self.value(key_node)
        if isinstance(value, Unknown):
            return value
        try:
            return to_string(value)
        except EvalError as exc:
            return Unknown(f"{self.source(key_node)}: {exc}")

    # -- operators -----------------------------------------------------------------------
    def _unary(self, node: Node) -> Any:
        operand = self.strict(node[3])
        if isinstance(operand, Unknown):
            return operand
        if node[2] == "-":
            return -to_number(operand)
        return not to_bool(operand)

    def _binary(self, node: Node) -> Any:
        op = node[2]
        left = self.strict(node[3])
        if op in ("&&", "||"):
            return _logic(op, left, lambda: self.strict(node[4]))
        return binary(op, left, self.strict(node[4]))

    def _cond(self, node: Node) -> Any:
        test = self.strict(node[2])
        if isinstance(test, Unknown):
            a, b = self.value(node[3]), self.value(node[4])
            return a if a == b and not isinstance(a, Unknown) else test
        return self.eval(node[3]) if to_bool(test) else self.eval(node[4])

    # -- references ----------------------------------------------------------------------
    def _attr(self, node: Node) -> Any:
        return get_attr(self.eval(node[2]), node[3], self.source(node))

    def _index(self, node: Node) -> Any:
        return index(self.eval(node[2]), self.strict(node[3]), self.source(node))

    def _splat(self, node: Node) -> Any:
        base = self.eval(node[2])
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
        result = []
        for item in items:
            for kind, arg in node[3]:
                if kind == "attr":
                    item = get_attr(item, arg, source)
                else:
                    item = index(item, self.strict(arg), source)
            result.append(self.settle(item, node))
        return result

    def _call(self, node: Node) -> Any:
        _, _, name, arg_nodes, expand = node
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

    def _for(self, node: Node) -> Any:
        _, _, names, collection_node, key_node, value_node, cond, grouping = node
        collection = self.strict(collection_node)
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
            self.meter.step()  # binding the names is a step of its own
            inner = self.bind({names[0]: key, names[1]: item} if len(names) == 2 else {names[0]: item})
            if cond is not None:
                keep = inner.strict(cond)
                if isinstance(keep, Unknown):
                    return keep
                if not to_bool(keep):
                    continue
            if key_node is None:
                out_list.append(inner.value(value_node))
                continue
            out_key = inner.strict(key_node)
            if isinstance(out_key, Unknown):
                return out_key
            value = inner.value(value_node)
            if grouping:
                out_map.setdefault(to_string(out_key), []).append(value)
            else:
                out_map[to_string(out_key)] = value
        return out_list if key_node is None else out_map


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
        raise EvalError("no such key in the map")
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
    if isinstance(left, str) or isinstance(right, str):  # a Sourced string is a string
        return isinstance(left, str) and isinstance(right, str) and left == right
    return type(left) is type(right) and left == right


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    raise EvalError(f"a bool is required, got {kind_of(value)}")


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
    raise EvalError(f"a number is required, got {kind_of(value)}")


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
    return template(pieces)


__all__ = ["EmptyScope", "EvalError", "Evaluator", "Lazy", "Ref", "Scope", "join_template", "to_bool",
           "to_number", "to_string"]
