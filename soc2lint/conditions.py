"""The condition language: paths, operators, all/any/not/each/some, Kleene three-valued logic.

A truth value is True, False or None (UNKNOWN).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .evaluate.values import Ref, Template
from .model import Unknown

Truth = bool | None
MAX_VALUES = 10_000
_SEGMENT = re.compile(r"\[\*\]|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]|\.?([^.\[\]]+)")


class ConditionError(ValueError):
    """A malformed condition (raised at rule load, never during a scan)."""


@dataclass
class Context:
    """What an evaluation learnt besides its truth value."""

    unresolved: list[str] = field(default_factory=list)
    culprits: list[tuple] = field(default_factory=list)
    undecided: list[tuple] = field(default_factory=list)

    def unknown(self, value: Unknown) -> None:
        if value.reason not in self.unresolved:
            self.unresolved.append(value.reason)


@functools.lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple:
    """`a.b[*].c["x.y"][0]` -> (("key","a"), ("key","b"), ("all",), ...)."""
    segments: list[tuple] = []
    pos = 0
    for match in _SEGMENT.finditer(path):
        if match.start() != pos:
            raise ConditionError(f"invalid path '{path}'")
        pos = match.end()
        if match.group(0) == "[*]":
            segments.append(("all",))
        elif match.group(1) is not None:
            segments.append(("index", int(match.group(1))))
        else:
            key = next(g for g in match.groups()[1:] if g is not None)
            segments.append(("key", key))
    if pos != len(path) or not segments:
        raise ConditionError(f"invalid path '{path}'")
    return tuple(segments)


def resolve(root: Any, path: str | tuple) -> list[tuple[tuple, Any]]:
    """Every (concrete path, value) the path (text or parsed) reaches; UNKNOWN values stop the
    walk and are kept. A key applied to a list applies to each item; nulls count as absent.
    """
    current: list[tuple[tuple, Any]] = [((), root)]
    for segment in parse_path(path) if isinstance(path, str) else path:
        nxt: list[tuple[tuple, Any]] = []
        for where, value in current:
            if isinstance(value, Unknown):
                nxt.append((where, value))
            elif segment[0] == "key":
                _step_key(nxt, where, value, segment[1])
            elif segment[0] == "all":
                if isinstance(value, list):
                    nxt.extend(((*where, i), item) for i, item in enumerate(value))
                elif isinstance(value, dict):
                    nxt.extend(((*where, k), item) for k, item in value.items())
            elif isinstance(value, list) and -len(value) <= segment[1] < len(value):
                nxt.append(((*where, segment[1]), value[segment[1]]))
            if len(nxt) > MAX_VALUES:
                return [(where, Unknown(f"more than {MAX_VALUES} values at '{path}'"))]
        current = nxt
    return [(where, value) for where, value in current if value is not None]


def _step_key(out: list, where: tuple, value: Any, key: str) -> None:
    if isinstance(value, dict):
        if key in value:
            out.append(((*where, key), value[key]))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, Unknown):
                out.append(((*where, index), item))
            elif isinstance(item, dict) and key in item:
                out.append(((*where, index, key), item[key]))


# -- operators ---------------------------------------------------------------------------
def loose_equal(value: Any, expected: Any) -> bool:
    """Equality with Terraform's conversions: "true" == True, "90" == 90."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return _as_bool(value) == _as_bool(expected) and _as_bool(value) is not None
    if _is_number(value) or _is_number(expected):
        a, b = _as_number(value), _as_number(expected)
        return a is not None and a == b
    return value == expected


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _as_number(value: Any) -> float | None:
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def _text(value: Any) -> str | None:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _contains(value: Any, item: Any) -> Truth:
    if isinstance(value, list):
        if any(loose_equal(v, item) for v in value if not isinstance(v, Unknown)):
            return True
        undecided = [v for v in value
                     if isinstance(v, Unknown) and _on_template("equals", v, item) is not False]
        return None if undecided else False
    if isinstance(value, dict):
        return item in value
    if isinstance(value, str):
        return str(item) in value
    return False


def _compare(fn: Callable[[float, float], bool]) -> Callable[[Any, Any], Truth]:
    def op(value: Any, expected: Any) -> Truth:
        a, b = _as_number(value), _as_number(expected)
        return a is not None and b is not None and fn(a, b)

    return op


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, list | dict | str) else None


def _is_empty(value: Any) -> Truth:
    """A list holding only UNKNOWN items (a `dynamic` block) may be empty or not."""
    if isinstance(value, list) and value and all(isinstance(v, Unknown) for v in value):
        return None
    return _length(value) == 0


def _length_gte(value: Any, n: Any) -> Truth:
    if isinstance(value, list):
        known = sum(1 for v in value if not isinstance(v, Unknown))
        if known >= n:
            return True
        return None if known < len(value) else False
    return (_length(value) or 0) >= n


OPERATORS: dict[str, Callable[[Any, Any], Truth]] = {
    "equals": loose_equal,
    "not_equals": lambda v, x: not loose_equal(v, x),
    "in": lambda v, xs: any(loose_equal(v, x) for x in xs),
    "not_in": lambda v, xs: not any(loose_equal(v, x) for x in xs),
    "matches": lambda v, rx: _text(v) is not None and re.search(rx, _text(v)) is not None,
    "not_matches": lambda v, rx: _text(v) is None or re.search(rx, _text(v)) is None,
    "gte": _compare(lambda a, b: a >= b),
    "lte": _compare(lambda a, b: a <= b),
    "gt": _compare(lambda a, b: a > b),
    "lt": _compare(lambda a, b: a < b),
    "contains": _contains,
    "not_contains": lambda v, x: _not(_contains(v, x)),
    "length_gte": _length_gte,
}
# Operators that judge every value the path reaches together, not each value on its own.
COLLECTIVE = {"internet_wide"}
LEAF_KEYS = {"path", "default", "exists", "empty", *OPERATORS, *COLLECTIVE}
COMBINATORS = {"all", "any", "not", "each", "some"}


# -- Kleene logic ------------------------------------------------------------------------
def _not(value: Truth) -> Truth:
    return None if value is None else not value


def kleene_and(values: list[Truth]) -> Truth:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def kleene_or(values: list[Truth]) -> Truth:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def evaluate(cond: Mapping[str, Any], root: Any, ctx: Context, prefix: tuple = (),
             negated: bool = False) -> Truth:
    """Evaluate a condition on `root`; `prefix` places root inside the entity for culprits."""
    if "all" in cond:
        return kleene_and([evaluate(c, root, ctx, prefix, negated) for c in cond["all"]])
    if "any" in cond:
        return kleene_or([evaluate(c, root, ctx, prefix, negated) for c in cond["any"]])
    if "not" in cond:
        return _not(evaluate(cond["not"], root, ctx, prefix, not negated))
    if "each" in cond or "some" in cond:
        return _quantified(cond, root, ctx, prefix, negated)
    if "internet_wide" in cond:
        return _internet_wide(cond, root, ctx, prefix, negated)
    return _leaf(cond, root, ctx)


def _quantified(cond: Mapping, root: Any, ctx: Context, prefix: tuple, negated: bool) -> Truth:
    every = "each" in cond
    results: list[Truth] = []
    for where, item in _items(root, cond["each" if every else "some"]):
        marks = len(ctx.culprits), len(ctx.undecided)
        if isinstance(item, Unknown):
            ctx.unknown(item)
            value: Truth = None
        else:
            value = evaluate(cond["assert"], item, ctx, prefix + where, negated)
        results.append(value)
        # The item that decides the outcome against the rule is the one to point at, after any
        # more precise place found inside it; an item that holds for the rule (true under each,
        # false under a negated some) points nowhere, whatever its parts recorded.
        if (every and not negated and value is False) or (not every and negated and value):
            ctx.culprits.append(prefix + where)
        elif value is None:
            ctx.undecided.append(prefix + where)
        elif every is not negated and value is every:
            del ctx.culprits[marks[0]:], ctx.undecided[marks[1]:]
    return kleene_and(results) if every else kleene_or(results)


def _items(root: Any, path: str) -> list[tuple[tuple, Any]]:
    items: list[tuple[tuple, Any]] = []
    for where, value in resolve(root, path):
        if isinstance(value, list):
            items.extend(((*where, i), v) for i, v in enumerate(value) if v is not None)
        else:
            items.append((where, value))
    return items


def _leaf(cond: Mapping, root: Any, ctx: Context) -> Truth:
    found = resolve(root, cond["path"])
    if not found and "default" in cond:
        found = [((), cond["default"])]
    unknowns = [v for _, v in found if isinstance(v, Unknown)]
    known = [v for _, v in found if not isinstance(v, Unknown)]
    if "exists" in cond:
        # a reference to a provider-computed attribute or a partly known string is not null;
        # an empty string is absent (providers read "" for an optional attribute as unset)
        present: Truth = True if any(v != "" for v in known) or any(
            _is_present(v) for v in unknowns) else (None if unknowns else False)
        result = present if cond["exists"] else _not(present)
    elif "empty" in cond:
        empties = [_is_empty(v) for v in known]
        is_empty: Truth = kleene_and([*empties, *([None] * len(unknowns))]) if found else True
        result = is_empty if cond["empty"] else _not(is_empty)
    else:
        op_name = next(k for k in cond if k in OPERATORS)
        if not found:
            return False
        partial = [_on_template(op_name, v, cond[op_name]) for v in unknowns]
        result = kleene_and([OPERATORS[op_name](v, cond[op_name]) for v in known] + partial)
        unknowns = [v for v, truth in zip(unknowns, partial, strict=True) if truth is None]
    if result is None:
        for value in unknowns:
            ctx.unknown(value)
        for value in known:  # a list whose unknown items left the operator undecided
            for item in value if isinstance(value, list) else ():
                if isinstance(item, Unknown):
                    ctx.unknown(item)
    return result


def _internet_wide(cond: Mapping, root: Any, ctx: Context, prefix: tuple, negated: bool) -> Truth:
    """Whether all the sources the path reaches (lists flattened), taken together, let the
    whole internet in; see soc2lint.derive.internet. No source at all is not internet-wide."""
    from .derive.internet import WideLimits, judge

    found = resolve(root, cond["path"])
    if len(found) == 1 and isinstance(found[0][1], list):
        sources = found[0][1]  # one list, judged as it is (a derived list is shared and cached)
    else:
        sources = [x for _, value in found for x in (value if isinstance(value, list) else [value])]
    verdict = judge(sources, WideLimits.parse(cond["internet_wide"]))
    if verdict.wide is None:
        for index in verdict.deciding:
            ctx.unknown(sources[index])
            ctx.undecided.append(prefix + _place(found, index))
    elif verdict.wide and negated:  # the source that opens it is the place to point at
        ctx.culprits.append(prefix + _place(found, verdict.deciding[0]))
    return verdict.wide


def _place(found: list[tuple[tuple, Any]], index: int) -> tuple:
    """The path of the index-th value once lists are flattened."""
    for where, value in found:
        size = len(value) if isinstance(value, list) else 1
        if index < size:
            return (*where, index) if isinstance(value, list) else where
        index -= size
    return ()


def _is_present(value: Unknown) -> bool:
    return isinstance(value, Ref | Template)


def _on_template(op: str, value: Unknown, expected: Any) -> Truth:
    """Decide an operator on a string with unknown holes from its known parts, when they suffice."""
    if not isinstance(value, Template):
        return None
    if op in ("not_equals", "not_in", "not_matches", "not_contains"):
        return _not(_on_template(op[4:], value, expected))
    if op == "equals":
        return could_equal(value, expected)
    if op == "in":
        return kleene_or([could_equal(value, x) for x in expected])
    if op == "matches":
        # a match in the known text that holds whether the holes are empty or full decides it;
        # no match proves nothing, since a hole may hold what the pattern needs
        found = all(re.search(expected, value.fill(filler)) for filler in ("", "\uE000"))
        return True if found else None
    if op == "contains" and isinstance(expected, str):
        return True if any(isinstance(p, str) and expected in p for p in value.parts) else None
    return None


def could_equal(value: Template, expected: Any) -> Truth:
    if not isinstance(expected, str):
        return False if _as_number(expected) is None and _as_bool(expected) is None else None
    return None if value.could_be(expected) else False


def check(cond: Any, where: str = "assert") -> None:
    """Raise ConditionError naming the key path of the first malformed part."""
    if not isinstance(cond, dict) or not cond:
        raise ConditionError(f"{where}: a condition must be a non-empty mapping")
    combinators = COMBINATORS & cond.keys()
    if combinators:
        name = combinators.pop()
        allowed = {name, "assert"} if name in ("each", "some") else {name}
        extra = set(cond) - allowed
        if extra:
            raise ConditionError(f"{where}: unexpected key(s) {sorted(extra)} beside '{name}'")
        if name in ("all", "any"):
            if not isinstance(cond[name], list) or not cond[name]:
                raise ConditionError(f"{where}.{name}: must be a non-empty list")
            for i, sub in enumerate(cond[name]):
                check(sub, f"{where}.{name}[{i}]")
        elif name == "not":
            check(cond[name], f"{where}.not")
        else:
            parse_path(str(cond[name]))
            if "assert" not in cond:
                raise ConditionError(f"{where}: '{name}' needs an 'assert'")
            check(cond["assert"], f"{where}.assert")
        return
    unknown = set(cond) - LEAF_KEYS
    if unknown:
        raise ConditionError(f"{where}: unknown key(s) {sorted(unknown)}")
    if "path" not in cond:
        raise ConditionError(f"{where}: a leaf needs 'path'")
    try:
        parse_path(str(cond["path"]))
    except ConditionError as exc:
        raise ConditionError(f"{where}.path: {exc}") from None
    ops = [k for k in cond if k not in ("path", "default")]
    if len(ops) != 1:
        raise ConditionError(f"{where}: a leaf needs exactly one operator, found {ops}")
    if ops[0] in ("matches", "not_matches"):
        try:
            re.compile(cond[ops[0]])
        except (re.error, TypeError) as exc:
            raise ConditionError(f"{where}.{ops[0]}: invalid regular expression: {exc}") from None
    if ops[0] in ("in", "not_in") and not isinstance(cond[ops[0]], list):
        raise ConditionError(f"{where}.{ops[0]}: must be a list")
    if ops[0] == "internet_wide":
        from .derive.internet import WideLimits

        try:
            WideLimits.parse(cond[ops[0]])
        except (ValueError, TypeError) as exc:
            raise ConditionError(f"{where}.{exc}") from None
