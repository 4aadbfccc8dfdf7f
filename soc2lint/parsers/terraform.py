"""Terraform files (.tf, .tofu, .tf.json, .tfvars) -> blocks whose expressions stay unevaluated.

A file parses on its own (and is cached by content); evaluation needs the whole module, so it
happens in `soc2lint.evaluate.module`. Native syntax keeps python-hcl2's Lark tree, which carries
lines and columns; JSON syntax keeps the values with a locator into the document.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from ..model import Locator, Span
from . import ParseError
from .hclast import Converter
from .jsonspans import load_json
from .yamlspans import YamlLocator

FRAMEWORK = "terraform"
#: Longest line read: python-hcl2's parser takes about 180 bytes of memory per character of a
#: string literal (a 9 MB one peaked at 1.6 GB); a quoted string cannot span lines.
MAX_LINE_CHARS = 1024 * 1024
#: Most top-level blocks in one file: each costs milliseconds to parse and evaluate (150,000
#: took eight minutes and 2 GB); far more than a hand-written module holds.
MAX_BLOCKS = 10_000
_TOP_BLOCK = re.compile(r"^[ \t]*(?:resource|data|module|variable|output|provider|locals)\b", re.M)
_LABELLED = {"resource": 2, "data": 2, "module": 1, "variable": 1, "provider": 1, "output": 1}


@dataclass
class Attribute:
    """`name = expression`: a compact expression tree (native, see `hclast`) or a JSON value."""

    expression: Any
    span: Span
    text: str | None = None  # the file text, when it differs from its block's (an override)


@dataclass
class Body:
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[NestedBlock] = field(default_factory=list)


@dataclass
class NestedBlock:
    type: str
    labels: list[str]
    body: Body
    span: Span


@dataclass
class Block:
    """A top-level block: `resource "aws_s3_bucket" "logs" { ... }`."""

    kind: str
    labels: list[str]
    span: Span
    body: Body
    locator: Locator | None = None  # JSON syntax: positions come from the document


@dataclass
class TfFile:
    """One parsed file; `is_json` tells how its attribute expressions are written."""

    path: str
    text: str
    blocks: list[Block]
    is_json: bool = False

    @property
    def is_override(self) -> bool:
        stem = Path(self.path).name.split(".")[0]
        return stem == "override" or stem.endswith("_override")


def parse_file(path: str, text: str) -> TfFile:
    """Blocks of one Terraform file; raises ParseError with a line when it is malformed."""
    if path.endswith(".json"):
        blocks = list(_json_blocks(text))
        if len(blocks) > MAX_BLOCKS:
            raise ParseError(f"more than {MAX_BLOCKS:,} blocks in one file; not read")
        return TfFile(path, text, blocks, is_json=True)
    text = _normalise(text)
    converter = Converter(text, parse_expression)
    blocks = [_block(node, converter) for node in _hcl_tree(text).children[0].children
              if getattr(node, "data", None) == "block"]
    _check_read(blocks, text)
    return TfFile(path, text, blocks)


def parse_tfvars(path: str, text: str) -> dict[str, Any]:
    """Assignments of a .tfvars or .tfvars.json file, as literal values (UNKNOWN when not)."""
    from ..evaluate.expressions import Evaluator

    if path.endswith(".json"):
        data = load_json(text)
        if not isinstance(data, dict):
            raise ParseError("a .tfvars.json file must hold a JSON object")
        return dict(data)
    text = _normalise(text)
    evaluator = Evaluator(text, parse_expression=parse_expression)
    converter = Converter(text, parse_expression)
    values: dict[str, Any] = {}
    for node in _hcl_tree(text).children[0].children:
        if getattr(node, "data", None) == "attribute":
            try:
                value = evaluator.value(converter.convert(node.children[-1]))
            except RecursionError:
                raise ParseError("too deeply nested to read", node.meta.line) from None
            values[str(node.children[0].children[0])] = value
        elif getattr(node, "data", None) == "block":
            raise ParseError("a variables file holds only assignments, not blocks", node.meta.line)
    return values


def parse_expression(expression: str):
    """The Lark tree of one expression written as text (a template hole, a .tf.json string)."""
    tree = hcl_parser().parse(f"x = {expression}\n")
    return tree.children[0].children[0].children[-1]


_LABEL = r'(?:"[^"\n]*"|[A-Za-z_][\w-]*)'
_BLOCK_HEADER = re.compile(  # `resource "type" "name" {`, `data "type" "name" {`, `module "name" {`
    rf"^[ \t]*(?:(resource|data)[ \t]+{_LABEL}[ \t]*{_LABEL}|(module)[ \t]+{_LABEL})[ \t]*\{{", re.MULTILINE)


def _check_read(blocks: list[Block], text: str) -> None:
    """Raise ParseError when the tree missed what the text plainly holds (another grammar than
    python-hcl2's gives such trees): blocks written but none read, or blocks without their labels."""
    header = None if blocks else _BLOCK_HEADER.search(_without_block_comments(text))
    if header is not None:
        kind = header.group(1) or header.group(2)
        raise ParseError(f"a {kind} block is written here but no block was read (is the installed "
                         "hcl2 module python-hcl2?)", text.count("\n", 0, header.start()) + 1)
    for block in blocks:
        if len(block.labels) != _LABELLED.get(block.kind, len(block.labels)):
            raise ParseError(f"a {block.kind} block takes {_LABELLED[block.kind]} label(s), not "
                             f"{len(block.labels)}", block.span.line)


def _without_block_comments(text: str) -> str:
    """The text with `/* ... */` comments blanked, lines kept (a commented-out block is no block)."""
    return re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), text, flags=re.DOTALL)


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n")
    return text if text.endswith("\n") else text + "\n"


# -- native syntax -------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def hcl_parser():
    """python-hcl2's grammar; its LALR tables, which take about a second to build, are kept as
    data in the cache directory (see `cache.load_parser`: a bad entry is rebuilt, and a directory
    others may write to is not used)."""
    import hcl2

    from .cache import load_parser

    return load_parser(Path(hcl2.__file__).with_name("hcl2.lark"), cache_directory(),
                       propagate_positions=True, maybe_placeholders=False)


def cache_directory() -> Path:
    """Where soc2lint keeps caches: `SOC2LINT_CACHE_DIR` or the user cache directory (checked
    before use by `cache.check_directory`)."""
    return Path(os.environ.get("SOC2LINT_CACHE_DIR") or user_cache_dir("soc2lint"))


def _check_limits(text: str) -> None:
    """Raise ParseError, before the parser runs, for a line or a block count past the limits."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end
        if end - start > MAX_LINE_CHARS:
            raise ParseError(f"a line of {end - start:,} characters is longer than the "
                             f"{MAX_LINE_CHARS:,} read; not parsed", text.count("\n", 0, start) + 1)
        start = end + 1
    for count, match in enumerate(_TOP_BLOCK.finditer(text), 1):
        if count > MAX_BLOCKS:
            raise ParseError(f"more than {MAX_BLOCKS:,} blocks in one file; not parsed",
                             text.count("\n", 0, match.start()) + 1)


def _hcl_tree(text: str):
    from lark.exceptions import LarkError, UnexpectedInput

    _check_limits(text)
    try:
        return hcl_parser().parse(text)
    except UnexpectedInput as exc:
        token = getattr(exc, "token", None)
        line = getattr(token, "line", None) or getattr(exc, "line", None)
        raise ParseError(_lark_message(exc), line if line and line > 0 else None) from None
    except (LarkError, RecursionError) as exc:
        raise ParseError(f"cannot parse HCL: {type(exc).__name__}") from None


def _lark_message(exc: Exception) -> str:
    token = getattr(exc, "token", None)
    if token is not None and str(token):
        return f"unexpected '{str(token).strip()[:30] or token.type}'"
    char = getattr(exc, "char", None)
    if char:
        return f"unexpected character '{char}'"
    return "invalid HCL syntax"


def span_of(node) -> Span:
    meta = node.meta
    return Span(meta.line, meta.column, meta.end_line, max(meta.end_column - 1, 1))


def _labels(node, converter: Converter) -> list[str]:
    labels = []
    for child in node.children[1:-1]:
        if getattr(child, "data", None) == "identifier":
            labels.append(str(child.children[0]))
        elif getattr(child, "data", None) == "string":
            label = converter.convert(child)
            labels.append(str(label[2]) if label[0] == "lit" else converter.text[label[1][0]:label[1][1]])
    return labels


def _block(node, converter: Converter) -> Block:
    return Block(str(node.children[0].children[0]), _labels(node, converter), span_of(node),
                 _body(node.children[-1], converter))


def _body(node, converter: Converter) -> Body:
    body = Body()
    for child in node.children:
        kind = getattr(child, "data", None)
        if kind == "attribute":
            name = str(child.children[0].children[0])
            body.attributes[name] = Attribute(converter.convert(child.children[-1]), span_of(child))
        elif kind == "block":
            body.blocks.append(NestedBlock(str(child.children[0].children[0]), _labels(child, converter),
                                           _body(child.children[-1], converter), span_of(child)))
    return body


# -- JSON syntax ---------------------------------------------------------------------------
def _json_blocks(text: str) -> Iterator[Block]:
    root = load_json(text)
    if not isinstance(root, dict):
        raise ParseError("a .tf.json file must hold a JSON object")
    for kind, content in root.items():
        depth = _LABELLED.get(kind, 0)
        for labels, body, where in _json_labelled(content, depth, (kind,)):
            for index, item in enumerate(body if isinstance(body, list) else [body]):
                if not isinstance(item, dict):
                    continue
                item_path = where + ((index,) if isinstance(body, list) else ())
                locator = YamlLocator(root, item_path)
                span = locator.span(()) or Span(1)
                attributes = {str(k): Attribute(_plain(v), locator.span((k,)) or span)
                              for k, v in item.items()}
                yield Block(kind, list(labels), span, Body(attributes), locator=locator)


def _plain(value: Any) -> Any:
    """Drop the span-carrying container types so the value pickles small."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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


__all__ = ["FRAMEWORK", "Attribute", "Block", "Body", "NestedBlock", "TfFile", "cache_directory",
           "parse_expression", "parse_file", "parse_tfvars", "span_of"]
