"""Terraform (.tf, .tofu, .tf.json) -> block entities with attribute spans, via the Lark tree."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from ..evaluate import Evaluator, json_value
from ..model import DictLocator, Entity, Locator, Span, Unknown
from ..secrets import find_secrets
from . import ParseError
from .yamlspans import YamlLocator, load_documents

FRAMEWORK = "terraform"
_LABELLED = {"resource": 2, "data": 2, "module": 1, "variable": 1, "provider": 1, "output": 1}


@dataclass
class Block:
    """A block with its evaluated body and the span of every key path inside it."""

    kind: str
    labels: list[str]
    span: Span
    data: dict[str, Any] = field(default_factory=dict)
    spans: dict[tuple, Span] = field(default_factory=dict)
    locator: Locator | None = None  # replaces `spans` where positions come from elsewhere


def parse(path: str, text: str) -> list[Entity]:
    """Entities for one Terraform file; raises ParseError with a line when it is malformed."""
    blocks = list(_json_blocks(path, text)) if path.endswith(".json") else list(_hcl_blocks(text))
    return [entity for block in blocks for entity in _entities(path, block)]


# -- native syntax -------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _hcl_parser():
    """python-hcl2's grammar with the LALR tables cached in the user cache directory.

    Building the tables takes seconds; the cache file is keyed by the grammar and options
    (Lark checks its hash on load, so it is never stale) and is safe to delete.
    """
    import hcl2
    import lark

    cache_dir = Path(os.environ.get("SOC2LINT_CACHE_DIR") or user_cache_dir("soc2lint"))
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache: str | bool = str(cache_dir / f"hcl2-{hcl2.__version__}-lark-{lark.__version__}.grammar")
    except OSError:
        cache = False
    return lark.Lark.open("hcl2.lark", rel_to=hcl2.__file__, parser="lalr", cache=cache,
                          propagate_positions=True, maybe_placeholders=False)


def _hcl_blocks(text: str) -> Iterator[Block]:
    from lark.exceptions import LarkError, UnexpectedInput

    text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    try:
        tree = _hcl_parser().parse(text)
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        line = getattr(token, "line", None) or getattr(exc, "line", None)
        raise ParseError(_lark_message(exc), line if line and line > 0 else None) from None
    except (LarkError, RecursionError) as exc:
        raise ParseError(f"cannot parse HCL: {type(exc).__name__}") from None
    evaluator = Evaluator(text)
    body = tree.children[0]
    for node in body.children:
        if getattr(node, "data", None) == "block":
            yield _block(node, evaluator)


def _lark_message(exc: Exception) -> str:
    token = getattr(exc, "token", None)
    if token is not None and str(token):
        return f"unexpected '{str(token).strip()[:30] or token.type}'"
    char = getattr(exc, "char", None)
    if char:
        return f"unexpected character '{char}'"
    return "invalid HCL syntax"


def _span_of(node) -> Span:
    meta = node.meta
    return Span(meta.line, meta.column, meta.end_line, max(meta.end_column - 1, 1))


def _block(node, evaluator: Evaluator) -> Block:
    kind = str(node.children[0].children[0])
    labels = []
    for child in node.children[1:-1]:
        if getattr(child, "data", None) == "identifier":
            labels.append(str(child.children[0]))
        elif getattr(child, "data", None) == "string":
            labels.append(str(evaluator.value(child)))
    block = Block(kind, labels, _span_of(node))
    _fill_body(node.children[-1], evaluator, block.data, block.spans, ())
    return block


def _fill_body(body, evaluator: Evaluator, data: dict, spans: dict, prefix: tuple) -> None:
    for node in body.children:
        kind = getattr(node, "data", None)
        if kind == "attribute":
            name = str(node.children[0].children[0])
            expression = node.children[-1]
            data[name] = evaluator.value(expression)
            spans[(*prefix, name)] = _span_of(node)
            _record_value_spans(expression, evaluator, spans, (*prefix, name))
        elif kind == "block":
            name = str(node.children[0].children[0])
            labels = [c for c in node.children[1:-1] if getattr(c, "data", None) == "string"]
            if name == "dynamic" and labels:
                target = str(evaluator.value(labels[0]))
                items = data.setdefault(target, [])
                spans.setdefault((*prefix, target), _span_of(node))
                spans[(*prefix, target, len(items))] = _span_of(node)
                items.append(Unknown(f"dynamic \"{target}\" block"))
                continue
            items = data.setdefault(name, [])
            if not isinstance(items, list):
                continue
            child: dict[str, Any] = {}
            spans.setdefault((*prefix, name), _span_of(node))
            spans[(*prefix, name, len(items))] = _span_of(node)
            _fill_body(node.children[-1], evaluator, child, spans, (*prefix, name, len(items)))
            items.append(child)


def _record_value_spans(expression, evaluator: Evaluator, spans: dict, prefix: tuple) -> None:
    """Spans for the keys of object values and items of tuples, one level at a time."""
    node = expression
    while getattr(node, "data", None) == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    if getattr(node, "data", None) == "object":
        for elem in node.children:
            if getattr(elem, "data", None) == "object_elem":
                key = evaluator.object_key(elem.children[0])
                if not isinstance(key, Unknown):
                    spans[(*prefix, str(key))] = _span_of(elem)
                    _record_value_spans(elem.children[-1], evaluator, spans, (*prefix, str(key)))
    elif getattr(node, "data", None) == "tuple":
        items = [c for c in node.children if getattr(c, "data", None) != "new_line_or_comment"]
        for index, item in enumerate(items):
            spans[(*prefix, index)] = _span_of(item)


# -- JSON syntax ---------------------------------------------------------------------------
def _json_blocks(path: str, text: str) -> Iterator[Block]:
    import yaml

    try:
        docs, _ = load_documents(_join_surrogates(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ParseError(f"invalid JSON: {getattr(exc, 'problem', exc)}",
                         mark.line + 1 if mark else None) from None
    if not docs or not isinstance(docs[0].data, dict):
        raise ParseError("a .tf.json file must hold a JSON object")
    root = docs[0].data
    for kind, content in root.items():
        depth = _LABELLED.get(kind, 0)
        for labels, body, where in _json_labelled(content, depth, (kind,)):
            for index, item in enumerate(body if isinstance(body, list) else [body]):
                if not isinstance(item, dict):
                    continue
                item_path = where + ((index,) if isinstance(body, list) else ())
                locator = YamlLocator(root, item_path)
                span = locator.span(()) or Span(1)
                yield Block(kind, list(labels), span, json_value(dict(item)), locator=locator)


_SURROGATE_PAIR = re.compile(r"\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})", re.I)


def _join_surrogates(text: str) -> str:
    """JSON writes characters beyond the BMP as escaped surrogate pairs, which YAML refuses."""
    def join(match: re.Match) -> str:
        high, low = int(match.group(1), 16), int(match.group(2), 16)
        return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))

    return _SURROGATE_PAIR.sub(join, text)


def _json_labelled(content: Any, depth: int, where: tuple):
    if depth == 0:
        yield [], content, where
        return
    if isinstance(content, list):
        for index, item in enumerate(content):
            yield from _json_labelled(item, depth, (*where, index))
        return
    if isinstance(content, dict):
        for label, inner in content.items():
            for labels, body, inner_where in _json_labelled(inner, depth - 1, (*where, label)):
                yield [label, *labels], body, inner_where


# -- entities ------------------------------------------------------------------------------
def _entities(path: str, block: Block) -> list[Entity]:
    labels = block.labels
    if block.kind in ("resource", "data") and len(labels) >= 2:
        etype, name = labels[0], labels[1]
        address = f"{etype}.{name}" if block.kind == "resource" else f"data.{etype}.{name}"
    elif block.kind in ("module", "variable", "output") and labels:
        etype, address = labels[0], f"{block.kind}.{labels[0]}"
    elif block.kind == "provider" and labels:
        alias = block.data.get("alias")
        etype = labels[0]
        address = f"provider.{etype}" + (f".{alias}" if isinstance(alias, str) else "")
    elif block.kind in ("locals", "terraform"):
        etype, address = block.kind, f"{block.kind}@{block.span.line}"
    else:
        return []
    if _has_no_instances(block.data):
        return []
    data = dict(block.data)
    base = block.locator or DictLocator(block.spans)
    hits = find_secrets(_string_leaves(block.data))
    data["hardcoded_secrets"] = [hit.as_data() for hit in hits]
    extra = {("hardcoded_secrets", i): base.span(hit.path) for i, hit in enumerate(hits)}
    locator = _Overlay(base, {k: v for k, v in extra.items() if v})
    return [
        Entity(FRAMEWORK, block.kind, etype, address, path, block.span, data, locator, address)
    ]


def _has_no_instances(data: dict) -> bool:
    count, for_each = data.get("count"), data.get("for_each")
    if isinstance(count, int) and not isinstance(count, bool) and count == 0:
        return True
    return isinstance(for_each, dict | list) and len(for_each) == 0


def _string_leaves(data: Any, prefix: tuple = (), name: str = "") -> Iterator[tuple]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _string_leaves(value, (*prefix, key), str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _string_leaves(value, (*prefix, index), name)
    elif isinstance(data, str):
        yield prefix, name, data


@dataclass(frozen=True)
class _Overlay:
    """Spans of derived fields over the block's own locator."""

    base: Locator
    extra: dict

    def span(self, path: tuple) -> Span | None:
        return self.extra.get(path) or self.base.span(path)


__all__ = ["FRAMEWORK", "Block", "parse"]
