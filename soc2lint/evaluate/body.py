"""A block's body as data: attributes evaluated, nested and `dynamic` blocks as lists, spans kept."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Span
from ..parsers.terraform import Attribute, Body
from .expressions import Evaluator
from .values import Unknown


def evaluate_body(body: Body, evaluator_for: Callable[[Attribute | None], Evaluator],
                  value_of: Callable[[Attribute, Evaluator], Any]) -> tuple[dict, dict]:
    """A block body as data (nested blocks as lists, dynamic blocks expanded) with spans."""
    data: dict[str, Any] = {}
    spans: dict[tuple, Span] = {}
    _fill(body, evaluator_for(None), evaluator_for, value_of, data, spans, ())
    return data, spans


def _fill(body: Body, evaluator: Evaluator, evaluator_for: Callable, value_of: Callable,
          data: dict, spans: dict, prefix: tuple) -> None:
    for name, attr in body.attributes.items():
        attr_evaluator = evaluator_for(attr) if attr.text else evaluator
        data[name] = value_of(name, attr, attr_evaluator) if not prefix else attr_evaluator.value(
            attr.expression)
        spans[(*prefix, name)] = attr.span
        _record_value_spans(attr.expression, attr_evaluator, spans, (*prefix, name))
    for nested in body.blocks:
        if nested.type == "dynamic" and nested.labels:
            _dynamic(nested, evaluator, evaluator_for, value_of, data, spans, prefix)
            continue
        items = data.setdefault(nested.type, [])
        if not isinstance(items, list):
            continue
        child: dict[str, Any] = {}
        spans.setdefault((*prefix, nested.type), nested.span)
        spans[(*prefix, nested.type, len(items))] = nested.span
        where = (*prefix, nested.type, len(items))
        _fill(nested.body, evaluator, evaluator_for, value_of, child, spans, where)
        items.append(child)


def _dynamic(nested: Any, evaluator: Evaluator, evaluator_for: Callable, value_of: Callable,
             data: dict, spans: dict, prefix: tuple) -> None:
    target = nested.labels[0]
    items = data.setdefault(target, [])
    if not isinstance(items, list):
        return
    spans.setdefault((*prefix, target), nested.span)
    attrs = nested.body.attributes
    collection = evaluator.value(attrs["for_each"].expression) if "for_each" in attrs else Unknown(
        f'dynamic "{target}" has no for_each')
    iterator = target
    if "iterator" in attrs and attrs["iterator"].expression[0] == "name":
        iterator = attrs["iterator"].expression[2]
    content = next((b for b in nested.body.blocks if b.type == "content"), None)
    if isinstance(collection, Unknown) or content is None:
        spans[(*prefix, target, len(items))] = nested.span
        reason = collection.reason if isinstance(collection, Unknown) else "no content block"
        items.append(Unknown(f'dynamic "{target}" block: {reason}'))
        return
    pairs = sorted(collection.items()) if isinstance(collection, dict) else list(enumerate(collection)) \
        if isinstance(collection, list) else []
    for key, value in pairs:
        inner = evaluator.bind({iterator: {"key": key, "value": value}})
        child: dict[str, Any] = {}
        where = (*prefix, target, len(items))
        spans[where] = nested.span
        _fill(content.body, inner, lambda a, inner=inner: inner, lambda n, a, ev: ev.value(a.expression),
              child, spans, where)
        items.append(child)


def _record_value_spans(expression: Any, evaluator: Evaluator, spans: dict, prefix: tuple) -> None:
    """Spans for the keys of object values and items of tuples, at every depth."""
    if not isinstance(expression, tuple):
        return
    if expression[0] == "object":
        for key_node, value_node, pos in expression[2]:
            key = evaluator.object_key(key_node)
            if not isinstance(key, Unknown):
                spans[(*prefix, key)] = _span(pos)
                _record_value_spans(value_node, evaluator, spans, (*prefix, key))
    elif expression[0] == "tuple":
        for position, item in enumerate(expression[2]):
            spans[(*prefix, position)] = _span(item[1])
            _record_value_spans(item, evaluator, spans, (*prefix, position))


def _span(pos: tuple) -> Span:
    return Span(pos[2], pos[3], pos[4], max(pos[5] - 1, 1))


def json_expression(value: Any, evaluator: Evaluator) -> Any:
    """A `.tf.json` value: strings are templates, so `"${var.x}"` is evaluated."""
    if isinstance(value, str):
        return evaluator.template(value, value) if "${" in value else value
    if isinstance(value, dict):
        return {k: json_expression(v, evaluator) for k, v in value.items()}
    if isinstance(value, list):
        return [json_expression(v, evaluator) for v in value]
    return value


__all__ = ["evaluate_body", "json_expression"]
