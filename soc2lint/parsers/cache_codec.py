"""Parsed Terraform files and Lark's parser tables as plain JSON data, and back.

Decoding rebuilds only an allow-list of types (`TfFile`, `Block`, `Body`, `Attribute`,
`NestedBlock`, `Span`, `YamlLocator`, `YDict`, `YList`, tuples and JSON scalars) from data whose
every field is checked; anything else raises `Invalid`. Encoding refuses a value outside that list
the same way, so it is simply not stored.
"""

from __future__ import annotations

from typing import Any

from ..model import Span
from .terraform import Attribute, Block, Body, NestedBlock, TfFile
from .yamlspans import YamlLocator, YDict, YList

_SCALARS = frozenset({str, int, float, bool, type(None)})


class Invalid(ValueError):
    """An entry, or a value to store, outside what the cache accepts."""


# TfFile -> [path, text, is_json, yaml_roots, blocks]
# Block  -> [kind, labels, span, body, locator]     locator: null | [index in yaml_roots, base path]
# Body   -> [{name: [expression, span, text]}, [[type, labels, body, span], ...]]
# Span   -> [line, column, end_line, end_column]
# An expression is a tree of tuples and scalars (native syntax, see `hclast`), stored as nested
# arrays, or a plain JSON value (JSON syntax). A locator's document is a scalar, {"m": [span,
# [[key, value, key span, value span], ...]]} for a mapping or {"s": [span, [[item, span], ...]]}.
def encode_file(tf: TfFile) -> list:
    """A parsed file as plain data; raises ValueError for a value outside the allow-list."""
    expect(type(tf) is TfFile and type(tf.path) is str and type(tf.text) is str
            and type(tf.is_json) is bool)
    roots: dict[int, int] = {}
    documents: list = []

    def locator(found: Any) -> list | None:
        if found is None:
            return None
        expect(type(found) is YamlLocator and found.extra is None)
        if id(found.root) not in roots:
            roots[id(found.root)] = len(documents)
            documents.append(_yaml_out(found.root, set()))
        return [roots[id(found.root)], [scalar(step) for step in found.base]]

    expression = _plain_out if tf.is_json else _tree_out
    blocks = [[_str(b.kind), _strs(b.labels), _span_out(b.span), _body_out(b.body, expression),
               locator(b.locator)] for b in tf.blocks]
    return [tf.path, tf.text, tf.is_json, documents, blocks]


def decode_file(data: Any) -> TfFile:
    """The parsed file encoded as `data`; raises ValueError when it is not well formed."""
    path, text, is_json, documents, blocks = _fields(data, 5)
    expect(type(path) is str and type(text) is str and type(is_json) is bool
            and type(documents) is list and type(blocks) is list)
    roots = [_yaml_in(document) for document in documents]
    expression = _plain_in if is_json else _tree_in
    return TfFile(path, text, [_block_in(b, roots, expression) for b in blocks], is_json)


def expect(condition: bool) -> None:
    if not condition:
        raise Invalid("unexpected shape")


def _fields(data: Any, count: int) -> list:
    expect(type(data) is list and len(data) == count)
    return data


def _str(value: Any) -> str:
    expect(type(value) is str)
    return value


def _strs(values: Any) -> list[str]:
    expect(type(values) is list and all(type(v) is str for v in values))
    return list(values)


def scalar(value: Any) -> Any:
    expect(type(value) in _SCALARS)
    return value


def _span_out(span: Any) -> list[int]:
    expect(type(span) is Span)
    return _ints([span.line, span.column, span.end_line, span.end_column])


def _span_in(data: Any) -> Span:
    return Span(*_ints(data))


def _ints(values: Any) -> list[int]:
    expect(type(values) is list and len(values) == 4 and all(type(v) is int for v in values))
    return values


def _body_out(body: Body, expression) -> list:
    expect(type(body) is Body and type(body.attributes) is dict and type(body.blocks) is list)
    attributes = {}
    for name, attr in body.attributes.items():
        expect(type(name) is str and type(attr) is Attribute and type(attr.text) in (str, type(None)))
        attributes[name] = [expression(attr.expression), _span_out(attr.span), attr.text]
    nested = []
    for block in body.blocks:
        expect(type(block) is NestedBlock)
        nested.append([_str(block.type), _strs(block.labels), _body_out(block.body, expression),
                       _span_out(block.span)])
    return [attributes, nested]


def _block_in(data: Any, roots: list, expression) -> Block:
    kind, labels, span, body, locator = _fields(data, 5)
    if locator is not None:
        index, base = _fields(locator, 2)
        expect(type(index) is int and 0 <= index < len(roots) and type(base) is list)
        locator = YamlLocator(roots[index], tuple(scalar(step) for step in base))
    return Block(_str(kind), _strs(labels), _span_in(span), _body_in(body, expression), locator)


def _body_in(data: Any, expression) -> Body:
    attributes, nested = _fields(data, 2)
    expect(type(attributes) is dict and type(nested) is list)
    body = Body()
    for name, item in attributes.items():
        value, span, text = _fields(item, 3)
        expect(text is None or type(text) is str)
        body.attributes[name] = Attribute(expression(value), _span_in(span), text)
    for item in nested:
        kind, labels, inner, span = _fields(item, 4)
        body.blocks.append(NestedBlock(_str(kind), _strs(labels), _body_in(inner, expression),
                                       _span_in(span)))
    return body


def _tree_out(node: Any) -> tuple:
    """A native expression tree, checked to hold only tuples and scalars."""
    expect(type(node) is tuple)
    stack = [node]
    while stack:
        for item in stack.pop():
            if type(item) is tuple:
                stack.append(item)
            else:
                expect(type(item) in _SCALARS)
    return node


def _tree_in(data: Any) -> tuple:
    expect(type(data) is list)
    return _tuples(data)


def _tuples(items: list) -> tuple:
    """Arrays back to tuples, in one pass; a JSON object anywhere is not a tree."""
    out = []
    for item in items:
        kind = type(item)
        if kind is list:
            item = _tuples(item)
        elif kind is dict:
            raise Invalid("an object in an expression tree")
        out.append(item)
    return tuple(out)


def _plain_out(value: Any) -> Any:
    """A JSON-syntax value, checked to hold only dicts with string keys, lists and scalars."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            expect(all(type(k) is str for k in item))
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
        else:
            expect(type(item) in _SCALARS)
    return value


def _plain_in(data: Any) -> Any:
    return data  # decoded JSON holds such values and nothing else


def _yaml_out(node: Any, seen: set[int]) -> Any:
    """A locator's document; one whose nodes are shared (YAML aliases) is not stored."""
    if type(node) in _SCALARS:
        return node
    expect(id(node) not in seen)
    seen.add(id(node))
    if type(node) is YDict:
        return {"m": [_span_out(node.span), [
            [scalar(k), _yaml_out(v, seen), _span_out(node.key_spans[k]),
             _span_out(node.value_spans[k])] for k, v in node.items()]]}
    expect(type(node) is YList and len(node.item_spans) == len(node))
    return {"s": [_span_out(node.span), [[_yaml_out(v, seen), _span_out(s)]
                                         for v, s in zip(node, node.item_spans, strict=True)]]}


def _yaml_in(data: Any) -> Any:
    if type(data) is not dict:
        return scalar(data)
    expect(len(data) == 1)
    tag, content = next(iter(data.items()))
    span, items = _fields(content, 2)
    expect(tag in ("m", "s") and type(items) is list)
    if tag == "m":
        mapping = YDict()
        mapping.span, mapping.key_spans, mapping.value_spans = _span_in(span), {}, {}
        for item in items:
            key, value, key_span, value_span = _fields(item, 4)
            mapping[scalar(key)] = _yaml_in(value)
            mapping.key_spans[key], mapping.value_spans[key] = _span_in(key_span), _span_in(value_span)
        return mapping
    sequence = YList()
    sequence.span, sequence.item_spans = _span_in(span), []
    for item in items:
        value, item_span = _fields(item, 2)
        sequence.append(_yaml_in(value))
        sequence.item_spans.append(_span_in(item_span))
    return sequence


# -- the grammar's tables --------------------------------------------------------------------
# Lark serialises a parser to plain data but for tuples and dicts keyed by numbers; in JSON these
# become {"\u0000t": [items]} and {"\u0000k": [[key, value], ...]} (no key of Lark's starts so).
_TUPLE, _PAIRS = "\x00t", "\x00k"


def to_typed_json(value: Any) -> Any:
    """Lark's serialised parser as JSON, tuples and dicts not keyed by strings tagged."""
    kind = type(value)
    if kind is list:
        return [to_typed_json(v) for v in value]
    if kind is tuple:
        return {_TUPLE: [to_typed_json(v) for v in value]}
    if kind is dict:
        if all(type(k) is str and not k.startswith("\x00") for k in value):
            return {k: to_typed_json(v) for k, v in value.items()}
        return {_PAIRS: [[to_typed_json(k), to_typed_json(v)] for k, v in value.items()]}
    return scalar(value)


def from_typed_json(obj: dict) -> Any:
    """The JSON decoder's hook: a tagged object back to its tuple or dict."""
    if _TUPLE in obj:
        expect(len(obj) == 1 and type(obj[_TUPLE]) is list)
        return tuple(obj[_TUPLE])
    if _PAIRS in obj:
        expect(len(obj) == 1 and type(obj[_PAIRS]) is list
                and all(type(p) is list and len(p) == 2 for p in obj[_PAIRS]))
        return dict(obj[_PAIRS])
    return obj
