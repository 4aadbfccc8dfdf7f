"""Terraform's built-in functions over evaluated values, keeping what is known of unknowns.

`call(name, args, source)` applies one function. Lists stand for tuples, lists and sets (a set
is a deduplicated list; sets of strings, numbers or bools are sorted, unknown items last); dicts
for objects and maps (results that are maps have sorted keys, as Terraform iterates them).
A result that depends on an Unknown argument is that same Unknown, except that a Template or
Encoded standing for a value of another kind becomes a plain Unknown with its reason.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import inspect
import json
import math
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import quote_plus

import re2

from . import budget
from .values import Encoded, EvalError, Template, Unknown, first_unknown, is_known, template
from .values import kind_of as _kind

LAZY = frozenset({"try", "can"})  # these receive zero-argument callables, not values
FUNCTIONS: dict[str, Callable[..., Any]] = {}  # call them through `call`
_LENIENT: set[str] = set()  # take Unknown arguments themselves
_SOURCED: set[str] = set()  # take the call's source text first
_SIGNATURES: dict[str, inspect.Signature] = {}
_MISSING = object()


def call(name: str, args: list[Any], source: str) -> Any:
    """Apply the built-in `name`; raise EvalError where Terraform would reject the call."""
    func = FUNCTIONS.get(name)
    if func is None:
        return Unknown(f"{source}: function '{name}' is not evaluated")
    full = [source, *args] if name in _SOURCED else list(args)
    try:
        _SIGNATURES[name].bind(*full)
    except TypeError:
        raise EvalError(f"{name}: wrong number of arguments ({len(args)})") from None
    if name not in _LENIENT:
        hole = next((arg for arg in args if isinstance(arg, Unknown)), None)
        if hole is not None:
            return _opaque(hole)
    try:
        return func(*full)
    except ArithmeticError as exc:
        raise EvalError(f"{name}: {exc}") from None
    except ValueError:  # its message may quote the argument
        raise EvalError(f"{name}: an argument has no valid value") from None


def _fn(name: str, lenient: bool = False, sourced: bool = False) -> Callable:
    def register(func: Callable) -> Callable:
        FUNCTIONS[name] = func
        _SIGNATURES[name] = inspect.signature(func)
        if lenient:
            _LENIENT.add(name)
        if sourced:
            _SOURCED.add(name)
        return func

    return register


def _opaque(value: Unknown) -> Unknown:
    """An Unknown for a result of another kind: a Template or Encoded would claim its text."""
    return Unknown(value.reason) if isinstance(value, Template | Encoded) else value


def _hole(items: Iterable[Any]) -> Unknown | None:
    """The Unknown inside the first item that is not wholly known."""
    return next((first_unknown(item) for item in items if not is_known(item)), None)


# -- conversions ---------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _whole(number: float) -> int | float:
    return int(number) if number.is_integer() else number


def _num_str(number: float) -> str:
    """A number as Terraform writes it: no exponent, no trailing `.0`."""
    if isinstance(number, float):
        if number.is_integer():
            return str(int(number))
        return format(Decimal(repr(number)), "f")
    return str(number)


def _str(value: Any, fn: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _num_str(value)
    raise EvalError(f"{fn}: a string is required, got {_kind(value)}")


def _num(value: Any, fn: str) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        return int(value) if value.lstrip("+-").isdigit() else _whole(float(value))
    raise EvalError(f"{fn}: a number is required, got {_kind(value)}")


def _int(value: Any, fn: str) -> int:
    number = _num(value, fn)
    if isinstance(number, float) and not number.is_integer():
        raise EvalError(f"{fn}: an integer is required, got {number}")
    return int(number)


def _bool(value: Any, fn: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "1", "false", "0"):
        return value in ("true", "1")
    raise EvalError(f"{fn}: a bool is required, got {_kind(value)}")


def _list(value: Any, fn: str) -> list:
    if not isinstance(value, list):
        raise EvalError(f"{fn}: a list is required, got {_kind(value)}")
    return value


def _map(value: Any, fn: str) -> dict:
    if not isinstance(value, dict):
        raise EvalError(f"{fn}: a map is required, got {_kind(value)}")
    return value


def _sorted(mapping: dict) -> dict:
    return {key: mapping[key] for key in sorted(mapping)}


def _unify(items: list, fn: str) -> list:
    """Items of one type, as Terraform converts them: mixed with strings, primitives become strings."""
    kinds = {_kind(item) for item in items if item is not None and not isinstance(item, Unknown)}
    if len(kinds) <= 1:
        return list(items)
    if "string" in kinds and kinds <= {"string", "number", "bool"}:
        return [item if item is None or isinstance(item, Unknown) else _str(item, fn) for item in items]
    raise EvalError(f"{fn}: all elements must have the same type, got {', '.join(sorted(kinds))}")


def _key(value: Any) -> Any:
    """A hashable identity for a known value: 1 == 1.0, but 1 != true and 1 != "1"."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, list):
        return ("list", tuple(_key(item) for item in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((k, _key(v)) for k, v in value.items())))
    return (_kind(value), value)


def _equal(a: Any, b: Any) -> bool:
    """Equality after Terraform's conversion of a number or bool compared with a string."""
    primitive = str | int | float | bool
    if isinstance(a, primitive) and isinstance(b, primitive) and isinstance(a, str) != isinstance(b, str):
        return _str(a, "") == _str(b, "")
    return _key(a) == _key(b)


def _set(items: list, fn: str) -> list:
    """A Terraform set: unified, deduplicated, primitives sorted, unknown items kept last."""
    known: list = []
    unknown: list = []
    seen: set = set()
    for item in _unify(items, fn):
        if not is_known(item):
            if not any(item is other for other in unknown):
                unknown.append(item)
        elif _key(item) not in seen:
            seen.add(_key(item))
            known.append(item)
    if len({_kind(item) for item in known}) == 1 and _kind(known[0]) in ("string", "number", "bool"):
        known.sort()
    return known + unknown


# -- strings with holes --------------------------------------------------------------------
def _template(source: str, parts: Iterable[Any]) -> Any:
    """Known text and holes as one value: a str when known, the hole itself when alone."""
    parts = list(parts)
    budget.current().check_length(sum(len(p) for p in parts if isinstance(p, str)))
    return template(parts, source)


def _text_parts(value: Any, fn: str) -> list:
    if isinstance(value, Template):
        return list(value.parts)
    return [value] if isinstance(value, Unknown) else [_str(value, fn)]


_HTML = {ord(c): f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"}


def _json_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).translate(_HTML)


def _json(value: Any) -> str:
    """Compact JSON as Terraform's jsonencode writes it: sorted keys, `<>&` escaped."""
    if isinstance(value, str):
        return _json_str(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float):
        return _num_str(value)
    if isinstance(value, list):
        return "[" + ",".join(_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_str(str(k))}:{_json(value[k])}" for k in sorted(value, key=str)) + "}"
    raise EvalError(f"jsonencode: cannot encode {_kind(value)}")


def _g(number: float) -> str:
    """Go's shortest `%g`: exponent form below 1e-4 and from 1e6."""
    exact = Decimal(number) if isinstance(number, int) else Decimal(repr(float(number)))
    exponent = exact.adjusted() if exact else 0
    if -4 <= exponent < 6:
        return _num_str(number)
    digits = "".join(map(str, exact.normalize().as_tuple().digits))
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if exact < 0 else ''}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"


_VERB = re.compile(r"%%|%([-+# 0]*)([1-9]\d*)?(\.\d*)?(?:\[([1-9]\d*)\])?([A-Za-z])")


MAX_FORMAT_WIDTH = 4096  # `%.999999999f` would take minutes and gigabytes


def _format(fmt: str, args: list, source: str, fn: str) -> Any:
    """Terraform's printf: verbs %v %s %q %t %d %b %o %x %X %e %E %f %g %G, flags, width, [n]."""
    parts: list = []
    pos, following, highest = 0, 1, 0
    while (start := fmt.find("%", pos)) >= 0:
        parts.append(fmt[pos:start])
        match = _VERB.match(fmt, start)
        if match is None:
            raise EvalError(f"{fn}: invalid format verb at offset {start}")
        pos = match.end()
        if match.group(0) == "%%":
            parts.append("%")
            continue
        flags, width, prec, index, verb = match.groups()
        number = int(index) if index else following
        if number > len(args):
            raise EvalError(f"{fn}: not enough arguments for the verb at offset {start}")
        following, highest = number + 1, max(highest, number)
        precision = int(prec[1:] or 0) if prec else None
        parts.extend(_verb(verb, flags, int(width) if width else 0, precision, args[number - 1], fn))
    parts.append(fmt[pos:])
    if highest < len(args):
        raise EvalError(f"{fn}: too many arguments; {highest} used by the format string")
    return _template(source, parts)


def _verb(verb: str, flags: str, width: int, prec: int | None, arg: Any, fn: str) -> list:
    if verb not in "vtsqbdoxXeEfgG":
        raise EvalError(f"{fn}: unsupported format verb")
    if width > MAX_FORMAT_WIDTH or (prec or 0) > MAX_FORMAT_WIDTH:
        raise EvalError(f"{fn}: a width or precision above {MAX_FORMAT_WIDTH} is not evaluated")
    if not is_known(arg):
        return list(arg.parts) if isinstance(arg, Template) and verb in "sv" else [first_unknown(arg)]
    if arg is None and verb != "v":
        raise EvalError(f"{fn}: null value cannot be formatted by %{verb}")
    if verb == "t":
        return ["true" if _bool(arg, fn) else "false"]
    if verb == "v":
        plain = "" if "#" in flags else _kind(arg)
        text = arg if plain == "string" else _g(arg) if plain == "number" else _json(arg)
    elif verb in "sq":
        text = _str(arg, fn)[:prec or None]
        text = _json_str(text) if verb == "q" else text
    elif verb in "gG" and prec is None:
        text = _g(_num(arg, fn))
        text = text.upper() if verb == "G" else text
    else:
        number = _int(arg, fn) if verb in "bdoxX" else float(_num(arg, fn))
        align = "<" if "-" in flags else ""
        sign = "+" if "+" in flags else " " if " " in flags else ""
        zero = "0" if "0" in flags and not align else ""
        dot = f".{prec}" if prec is not None and verb not in "bdoxX" else ""
        return [format(number, f"{align}{sign}{'#' * ('#' in flags)}{zero}{width or ''}{dot}{verb}")]
    pad = ("0" if "0" in flags else " ") * (width - len(text))
    return [text + pad if "-" in flags else pad + text]


# -- lazy, unknown-aware and general functions --------------------------------------------
@_fn("try", lenient=True)
def _try(first: Callable[[], Any], *rest: Callable[[], Any]) -> Any:
    """The first expression that evaluates without error; an Unknown result stays unknown."""
    for thunk in (first, *rest):
        try:
            return thunk()
        except EvalError:
            continue
    raise EvalError("try: no expression succeeded")


@_fn("can", lenient=True)
def _can(thunk: Callable[[], Any]) -> Any:
    """True if the expression evaluates; Unknown if its value is not wholly known."""
    try:
        value = thunk()
    except EvalError:
        return False
    return True if is_known(value) else first_unknown(value)


@_fn("coalesce", lenient=True)
def _coalesce(first: Any, *rest: Any) -> Any:
    values = (first, *rest)
    for value in values:
        if value is None or (isinstance(value, str) and value == ""):
            continue
        if _kind(value) in ("number", "bool") and any(isinstance(v, str) for v in values):
            return _str(value, "coalesce")
        return value
    raise EvalError("coalesce: no non-null, non-empty-string arguments")


@_fn("coalescelist", lenient=True)
def _coalescelist(first: Any, *rest: Any) -> Any:
    for value in (first, *rest):
        if isinstance(value, Unknown):
            return _opaque(value)
        if value is not None and _list(value, "coalescelist"):
            return value
    raise EvalError("coalescelist: no non-empty list arguments")


@_fn("lookup", lenient=True)
def _lookup(mapping: Any, key: Any, default: Any = _MISSING) -> Any:
    for arg in (mapping, key):
        if isinstance(arg, Unknown):
            return _opaque(arg)
    mapping, key = _map(mapping, "lookup"), _str(key, "lookup")
    if key in mapping:
        return mapping[key]
    if default is _MISSING:
        raise EvalError("lookup: the key is not in the map and no default is given")
    return default


@_fn("jsonencode", lenient=True, sourced=True)
def _jsonencode(source: str, value: Any) -> Any:
    if is_known(value):
        return _json(value)
    if isinstance(value, Unknown) and not isinstance(value, Template | Encoded):
        return value
    return Encoded(source, value)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@_fn("jsondecode", lenient=True)
def _jsondecode(text: Any) -> Any:
    if isinstance(text, Encoded):
        return text.decoded
    if isinstance(text, Unknown):
        return _opaque(text)
    try:
        return json.loads(_str(text, "jsondecode"), parse_constant=_no_constant,
                          parse_float=lambda s: _whole(float(s)))
    except ValueError as exc:
        raise EvalError(f"jsondecode: invalid JSON: {exc}") from None


@_fn("format", lenient=True, sourced=True)
def _format_fn(source: str, fmt: Any, *args: Any) -> Any:
    if isinstance(fmt, Unknown):
        return _opaque(fmt)
    return _format(_str(fmt, "format"), list(args), source, "format")


@_fn("formatlist", lenient=True, sourced=True)
def _formatlist(source: str, fmt: Any, *args: Any) -> Any:
    hole = next((arg for arg in (fmt, *args) if isinstance(arg, Unknown)), None)
    if hole is not None:
        return _opaque(hole)
    lengths = {len(arg) for arg in args if isinstance(arg, list)}
    if len(lengths) > 1:
        raise EvalError(f"formatlist: list arguments have different lengths {sorted(lengths)}")
    count = lengths.pop() if lengths else 1
    rows = [[arg[i] if isinstance(arg, list) else arg for arg in args] for i in range(count)]
    return [_format(_str(fmt, "formatlist"), row, source, "formatlist") for row in rows]


@_fn("join", lenient=True, sourced=True)
def _join(source: str, sep: Any, first: Any, *rest: Any) -> Any:
    hole = next((seq for seq in (first, *rest) if isinstance(seq, Unknown)), None)
    if hole is not None:
        return _opaque(hole)
    parts: list = []
    for i, item in enumerate(item for seq in (first, *rest) for item in _list(seq, "join")):
        if item is None:
            raise EvalError(f"join: element {i} is null")
        if i:
            parts.extend(_text_parts(sep, "join"))
        parts.extend(_text_parts(item, "join"))
    return _template(source, parts)


def _case(name: str, convert: Callable[[str], str]) -> None:
    @_fn(name, lenient=True, sourced=True)
    def apply(source: str, text: Any) -> Any:
        if isinstance(text, Template):
            return _template(source, [convert(p) if isinstance(p, str) else p for p in text.parts])
        return _opaque(text) if isinstance(text, Unknown) else convert(_str(text, name))


def _affix(name: str, at_end: bool) -> None:
    @_fn(name, lenient=True)
    def test(text: Any, affix: Any) -> Any:
        if isinstance(affix, Unknown) or (isinstance(text, Unknown) and not isinstance(text, Template)):
            return _opaque(affix if isinstance(affix, Unknown) else text)
        affix = _str(affix, name)
        if isinstance(text, Template):  # decided when the known edge is long enough
            edge = text.parts[-1 if at_end else 0]
            edge = edge[::-1 if at_end else 1] if isinstance(edge, str) else ""
            affix = affix[::-1 if at_end else 1]
            if len(edge) >= len(affix) or not affix.startswith(edge):
                return edge.startswith(affix)
            return _opaque(text)
        text = _str(text, name)
        return text.endswith(affix) if at_end else text.startswith(affix)


_case("lower", str.lower)
_case("upper", str.upper)
_affix("startswith", at_end=False)
_affix("endswith", at_end=True)


@_fn("tostring", lenient=True)
def _tostring(value: Any) -> Any:
    return value if value is None or isinstance(value, Unknown) else _str(value, "tostring")


@_fn("tomap")
def _tomap(value: Any) -> Any:
    if value is None:
        return None
    mapping = _sorted(_map(value, "tomap"))
    return dict(zip(mapping, _unify(list(mapping.values()), "tomap"), strict=True))


@_fn("merge")
def _merge(*maps: Any) -> dict:
    result: dict = {}
    for mapping in maps:
        if mapping is not None:
            result.update(_map(mapping, "merge"))
    return _sorted(result)


@_fn("flatten")
def _flatten(seq: Any) -> list:
    out: list = []
    meter = budget.current()
    stack = [iter(_list(seq, "flatten"))]
    while stack:
        item = next(stack[-1], _MISSING)
        if item is _MISSING:
            stack.pop()
        elif isinstance(item, list):
            stack.append(iter(item))
        else:
            out.append(item)
            if len(out) % 1024 == 0:
                meter.check_count(len(out))
    return out


@_fn("contains")
def _contains(seq: Any, value: Any) -> Any:
    items = _list(seq, "contains")
    if not is_known(value):
        return first_unknown(value)
    if any(_equal(item, value) for item in items if is_known(item)):
        return True
    hole = _hole(items)
    return False if hole is None else hole


@_fn("index")
def _index(seq: Any, value: Any) -> Any:
    items = _list(seq, "index")
    if not is_known(value):
        return first_unknown(value)
    for i, item in enumerate(items):
        if not is_known(item):
            return first_unknown(item)
        if _equal(item, value):
            return i
    raise EvalError("index: item not found")


@_fn("length")
def _length(value: Any) -> int:
    if isinstance(value, list | dict | str):
        return len(value)
    raise EvalError(f"length: a string, list or map is required, got {_kind(value)}")


@_fn("element")
def _element(seq: Any, index: Any) -> Any:
    items, i = _list(seq, "element"), _int(index, "element")
    if not items:
        raise EvalError("element: cannot use element function with an empty list")
    if i < 0:
        raise EvalError("element: cannot use element function with a negative index")
    return items[i % len(items)]


@_fn("zipmap")
def _zipmap(keys: Any, values: Any) -> Any:
    keys, values = _list(keys, "zipmap"), _list(values, "zipmap")
    if len(keys) != len(values):
        raise EvalError(f"zipmap: {len(keys)} keys but {len(values)} values")
    hole = _hole(keys)
    if hole is not None:
        return _opaque(hole)
    return _sorted({_str(k, "zipmap"): v for k, v in zip(keys, values, strict=True)})


@_fn("replace", lenient=True)
def _replace(text: Any, search: Any, replacement: Any) -> Any:
    if isinstance(text, Encoded) and isinstance(search, str) and search and not (
            search[0] == search[-1] == "/" or set(search) & set('"\\{}[]:,')):
        # a JSON document with unknown parts (a policy): replace inside its strings, where a
        # plain search text without JSON syntax is all it can match
        return Encoded(text.reason, _map_strings(text.decoded, lambda parts: _replace_parts(
            parts, search, replacement)))
    for value in (text, search, replacement):
        if isinstance(value, Unknown):
            return _opaque(value)
    text, search, replacement = (_str(v, "replace") for v in (text, search, replacement))
    if len(search) > 1 and search[0] == search[-1] == "/":
        return _regex_replace(_regex(search[1:-1], "replace"), text, replacement)
    # an empty search matches len(text) + 1 times, which is what str.count says too
    budget.current().check_length(len(text) + text.count(search) * (len(replacement) - len(search)))
    return text.replace(search, replacement)


def _regex_replace(pattern: Any, text: str, replacement: str) -> str:
    """`pattern` replaced in `text`, stopping once the result would pass the string limit."""
    meter = budget.current()
    grown = [len(text)]

    def expand(match: Any) -> str:
        out = _expand(replacement, match)
        grown[0] += len(out) - (match.end() - match.start())
        meter.check_length(grown[0])
        return out

    return pattern.sub(expand, text)


def _map_strings(value: Any, change: Callable[[list], Any]) -> Any:
    """`value` with every string (and the known parts of every Template) passed to `change`."""
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    if isinstance(value, str):
        return change([value])
    if isinstance(value, Template):
        return change(list(value.parts))
    return value


def _replace_parts(parts: list, search: str, replacement: Any) -> Any:
    out: list[Any] = []
    for part in parts:
        if not isinstance(part, str):
            out.append(part)
            continue
        pieces = part.split(search)
        for i, piece in enumerate(pieces):
            if i:
                out.append(replacement if isinstance(replacement, Unknown) else _str(replacement, "replace"))
            out.append(piece)
    return template(out)


@_fn("substr")
def _substr(text: Any, offset: Any, length: Any) -> str:
    text, start, count = _str(text, "substr"), _int(offset, "substr"), _int(length, "substr")
    start = max(0, len(text) + start) if start < 0 else start
    return text[start:] if count < 0 else text[start : start + count]


def _b64decode(text: str) -> str:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise EvalError("base64decode: not valid base64 of UTF-8 text") from None


_STRING_OPS: dict[str, Callable[..., str]] = {
    "trimspace": str.strip,
    "chomp": lambda s: s.rstrip("\r\n"),
    "strrev": lambda s: s[::-1],
    "title": lambda s: re.sub(r"(?<!\w)\w", lambda m: m.group().upper(), s),
    "base64encode": lambda s: base64.b64encode(s.encode()).decode("ascii"),
    "base64decode": _b64decode,
    "md5": lambda s: hashlib.md5(s.encode()).hexdigest(),
    "sha1": lambda s: hashlib.sha1(s.encode()).hexdigest(),
    "sha256": lambda s: hashlib.sha256(s.encode()).hexdigest(),
    "urlencode": lambda s: quote_plus(s, safe=""),
    "trim": lambda s, cutset: s.strip(cutset),
    "trimprefix": str.removeprefix,
    "trimsuffix": str.removesuffix,
}


def _string_op(name: str, op: Callable[..., str]) -> None:
    if name in ("trim", "trimprefix", "trimsuffix"):
        _fn(name)(lambda text, other: op(_str(text, name), _str(other, name)))
    else:
        _fn(name)(lambda text: op(_str(text, name)))


for _name, _op in _STRING_OPS.items():
    _string_op(_name, _op)


_SIMPLE: dict[str, Callable[..., Any]] = {
    "tonumber": lambda v: None if v is None else _num(v, "tonumber"),
    "tobool": lambda v: None if v is None else _bool(v, "tobool"),
    "tolist": lambda v: None if v is None else _unify(_list(v, "tolist"), "tolist"),
    "toset": lambda v: None if v is None else _set(_list(v, "toset"), "toset"),
    "concat": lambda *lists: _concat([_list(seq, "concat") for seq in lists]),
    "keys": lambda m: sorted(_map(m, "keys")),
    "values": lambda m: list(_sorted(_map(m, "values")).values()),
    "reverse": lambda seq: _list(seq, "reverse")[::-1],
    "max": lambda first, *rest: max(_num(n, "max") for n in (first, *rest)),
    "min": lambda first, *rest: min(_num(n, "min") for n in (first, *rest)),
    "abs": lambda n: abs(_num(n, "abs")),
    "ceil": lambda n: math.ceil(_num(n, "ceil")),
    "floor": lambda n: math.floor(_num(n, "floor")),
}
for _name, _impl in _SIMPLE.items():
    _fn(_name)(_impl)


def _concat(lists: list[list]) -> list:
    budget.current().check_count(sum(len(seq) for seq in lists))
    return [item for seq in lists for item in seq]


@_fn("split")
def _split(sep: Any, text: Any) -> list:
    sep, text = _str(sep, "split"), _str(text, "split")
    return text.split(sep) if sep else list(text)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors become EvalError, not lines on standard error


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> Any:
    """An RE2 pattern, as Terraform's (Go's) regexp: linear time, no backreferences or lookaround."""
    return re2.compile(re.sub(r"\(\?<(?=[A-Za-z_])", "(?P<", pattern), _RE2_OPTIONS)


def _regex(pattern: str, fn: str) -> Any:
    try:
        return _compile(pattern)
    except re2.error:
        # the message can quote the pattern, a literal: say only that RE2 rejects it
        raise EvalError(f"{fn}: invalid regular expression (RE2 syntax: no backreferences or "
                        "lookaround)") from None


_DOLLAR = re.compile(r"\$(?:(\$)|\{(\w+)\}|(\w+))")


def _expand(template: str, match: Any) -> str:
    """Go's replacement syntax: `$1`, `${1}`, `${name}`, `$$`."""
    def group(ref: re.Match) -> str:
        if ref.group(1):
            return "$"
        name = ref.group(2) or ref.group(3)
        try:
            return match.group(int(name) if name.isdigit() else name) or ""
        except IndexError:
            return ""

    return _DOLLAR.sub(group, template)


def _captures(pattern: Any, match: Any) -> Any:
    if pattern.groupindex and len(pattern.groupindex) < pattern.groups:
        raise EvalError("regex: cannot mix named and unnamed capture groups")
    if pattern.groupindex:
        return _sorted(match.groupdict())
    return list(match.groups()) if pattern.groups else match.group(0)


@_fn("regex")
def _regex_fn(pattern: Any, text: Any) -> Any:
    compiled = _regex(_str(pattern, "regex"), "regex")
    match = compiled.search(_str(text, "regex"))
    if match is None:
        raise EvalError("regex: pattern did not match any part of the given string")
    return _captures(compiled, match)


@_fn("regexall")
def _regexall(pattern: Any, text: Any) -> list:
    compiled = _regex(_str(pattern, "regexall"), "regexall")
    return [_captures(compiled, m) for m in compiled.finditer(_str(text, "regexall"))]


@_fn("compact")
def _compact(seq: Any) -> list:
    items = _list(seq, "compact")
    return [i if isinstance(i, Unknown) else _str(i, "compact") for i in items if i is not None and i != ""]


@_fn("distinct")
def _distinct(seq: Any) -> list:
    out: list = []
    seen: set = set()
    for item in _list(seq, "distinct"):
        if is_known(item):
            if _key(item) in seen:
                continue
            seen.add(_key(item))
        out.append(item)
    return out


@_fn("range")
def _range(*bounds: Any) -> list:
    if not 1 <= len(bounds) <= 3:
        raise EvalError(f"range: 1 to 3 arguments are required, got {len(bounds)}")
    nums = [_num(b, "range") for b in bounds]
    start, limit = (0, nums[0]) if len(nums) == 1 else (nums[0], nums[1])
    step = nums[2] if len(nums) == 3 else (1 if limit >= start else -1)
    if step == 0:
        raise EvalError("range: step must not be zero")
    out: list = []
    value = start
    while value < limit if step > 0 else value > limit:
        if len(out) >= 1024:
            raise EvalError("range: more than 1024 values were generated")
        out.append(value)
        value = start + len(out) * step
    return out


@_fn("one")
def _one(seq: Any) -> Any:
    items = _list(seq, "one")
    if len(items) > 1:
        raise EvalError(f"one: a list with zero or one elements is required, got {len(items)}")
    return items[0] if items else None


def _truths(seq: Any, fn: str) -> tuple[list[bool], Unknown | None]:
    items = _list(seq, fn)
    return [False if i is None else _bool(i, fn) for i in items if is_known(i)], _hole(items)


@_fn("alltrue")
def _alltrue(seq: Any) -> Any:
    truths, hole = _truths(seq, "alltrue")
    return False if not all(truths) else True if hole is None else hole


@_fn("anytrue")
def _anytrue(seq: Any) -> Any:
    truths, hole = _truths(seq, "anytrue")
    return True if any(truths) else False if hole is None else hole


@_fn("slice")
def _slice(seq: Any, start: Any, end: Any) -> list:
    items, first, last = _list(seq, "slice"), _int(start, "slice"), _int(end, "slice")
    if not 0 <= first <= last <= len(items):
        raise EvalError(f"slice: [{first}:{last}] is out of range for length {len(items)}")
    return items[first:last]


@_fn("sort")
def _sort(seq: Any) -> Any:
    items = _list(seq, "sort")
    hole = _hole(items)
    return _opaque(hole) if hole is not None else sorted(_str(i, "sort") for i in items)


@_fn("setunion")
def _setunion(first: Any, *rest: Any) -> list:
    return _set([item for s in (first, *rest) for item in _list(s, "setunion")], "setunion")


@_fn("setintersection")
def _setintersection(first: Any, *rest: Any) -> Any:
    sets = [_set(_list(s, "setintersection"), "setintersection") for s in (first, *rest)]
    hole = _hole(item for s in sets for item in s)
    if hole is not None:
        return hole
    return [i for i in sets[0] if all(any(_equal(i, x) for x in other) for other in sets[1:])]


@_fn("setsubtract")
def _setsubtract(a: Any, b: Any) -> Any:
    left, right = _set(_list(a, "setsubtract"), "setsubtract"), _set(_list(b, "setsubtract"), "setsubtract")
    hole = _hole(right)
    if hole is not None:
        return hole
    return [i for i in left if not is_known(i) or not any(_equal(i, x) for x in right)]


def _register_unknowable(names: tuple[str, ...], why: str) -> None:
    for name in names:
        _fn(name, lenient=True, sourced=True)(lambda source, *args: Unknown(f"{source}: {why}"))


_register_unknowable(("timestamp", "plantimestamp", "uuid", "bcrypt"), "not known until apply")
_register_unknowable(("file", "templatefile", "filebase64", "fileexists", "fileset", "filemd5", "filesha1",
                      "filesha256", "filesha512", "filebase64sha256", "filebase64sha512"),
                     "file contents are not read")

__all__ = ["FUNCTIONS", "LAZY", "call"]
