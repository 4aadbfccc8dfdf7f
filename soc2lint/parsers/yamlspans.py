"""One YAML loader for every YAML input: positions recorded, `on:` kept a string, aliases bounded."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from ..model import Span

try:
    _BaseLoader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _BaseLoader = yaml.SafeLoader

#: Largest number of nodes a document may expand to through aliases (go-yaml refuses such too).
MAX_EXPANDED_NODES = 1_000_000


class YDict(dict):
    """A mapping that remembers where each key and value stood."""

    __slots__ = ("key_spans", "span", "value_spans")


class YList(list):
    """A sequence that remembers where each item stood."""

    __slots__ = ("item_spans", "span")


class AliasBombError(ValueError):
    """A document refused for what its aliases expand to; `line` is where it starts (1-based)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


#: What PyYAML's constructors raise for a value they cannot build (`!!int abc`, `2001-13-45`).
_CONSTRUCT_FAILURES = (ValueError, TypeError, AttributeError, KeyError, IndexError, OverflowError)
_SHORT_TAG = "tag:yaml.org,2002:"


def _short(tag: str) -> str:
    """`!!int` for `tag:yaml.org,2002:int`; other tags as they are."""
    return "!!" + tag[len(_SHORT_TAG):] if tag.startswith(_SHORT_TAG) else tag


def _unreadable(node: yaml.Node) -> yaml.constructor.ConstructorError:
    """The error for a node whose tag's constructor refused it, placed at the node."""
    tag = _short(node.tag)
    if isinstance(node, yaml.ScalarNode):
        value = node.value if len(node.value) <= 40 else \
            f"{node.value[:40]}… ({len(node.value):,} characters)"
        problem = f"cannot read '{value}' as {tag}"
    else:
        kind = "mapping" if isinstance(node, yaml.MappingNode) else "sequence"
        problem = f"cannot read a {kind} as {tag}"
    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def _span(node: yaml.Node) -> Span:
    start, end = node.start_mark, node.end_mark
    end_line, end_col = end.line + 1, end.column
    # A block collection ends at the start of the next line; pull it back to the last char.
    if end_col == 0 and end_line > start.line + 1:
        end_line -= 1
        end_col = 1
    return Span(start.line + 1, start.column + 1, end_line, max(end_col, 1))


class SpanLoader(_BaseLoader):
    """Safe loader recording spans; plain `on`/`yes`/`no` keys stay strings; duplicates noted."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []
        self.python_tags: list[tuple[str, int]] = []  # `!!python/...` tags met, read as plain data

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except _CONSTRUCT_FAILURES:
            raise _unreadable(node) from None

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, yaml.MappingNode):
            raise _unreadable(node)
        self.flatten_mapping(node)
        mapping = YDict()
        mapping.key_spans, mapping.value_spans = {}, {}
        mapping.span = _span(node)
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:bool" and not key_node.style:
                key = key_node.value
            else:
                key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                key = str(key)
            if key in mapping:
                self.duplicates.append((str(key), key_node.start_mark.line + 1))
            mapping[key] = self.construct_object(value_node, deep=deep)
            mapping.key_spans[key] = _span(key_node)
            mapping.value_spans[key] = _span(value_node)
        return mapping

    def construct_yaml_map(self, node):
        data = self.construct_mapping(node)
        yield data

    def construct_sequence(self, node, deep=False):
        if not isinstance(node, yaml.SequenceNode):
            raise _unreadable(node)
        items = YList(self.construct_object(child, deep=deep) for child in node.value)
        items.item_spans = [_span(child) for child in node.value]
        items.span = _span(node)
        return items

    def construct_yaml_seq(self, node):
        yield self.construct_sequence(node)

    def construct_undefined(self, node):
        # Unknown tags (!Ref, !!python/object) are read as their plain value, never executed;
        # a Python tag is said, since someone meant it to run code.
        if node.tag.startswith(_SHORT_TAG + "python/"):
            self.python_tags.append((_short(node.tag), node.start_mark.line + 1))
        if isinstance(node, yaml.MappingNode):
            return self.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return self.construct_sequence(node)
        return self.construct_scalar(node)


SpanLoader.add_constructor("tag:yaml.org,2002:map", SpanLoader.construct_yaml_map)
SpanLoader.add_constructor("tag:yaml.org,2002:seq", SpanLoader.construct_yaml_seq)
SpanLoader.add_constructor(None, SpanLoader.construct_undefined)


def _shown_tag(tag: str) -> str:
    """A tag as it can be printed: at most 60 characters of it."""
    return tag if len(tag) <= 60 else tag[:57] + "..."


@dataclass(frozen=True)
class Document:
    data: object
    span: Span
    index: int


def load_documents(text: str, loader_class: type[SpanLoader] | None = None
                   ) -> tuple[list[Document], list[str]]:
    """Load every document of a stream; returns documents and warnings (duplicate keys).

    Raises yaml.YAMLError for a malformed stream (documents before the error are lost only
    when the error is in the first one; callers report it) and AliasBombError.
    """
    loader = (loader_class or SpanLoader)(text)
    docs: list[Document] = []
    warnings: list[str] = []
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            size = _expanded_size(node)
            if isinstance(size, yaml.Node):
                raise AliasBombError(f"document {index + 1} holds an alias inside the node it "
                                     "names, so it never ends; refusing it as Kubernetes does",
                                     size.start_mark.line + 1)
            if size > MAX_EXPANDED_NODES:
                raise AliasBombError(
                    f"document {index + 1} expands to more than {MAX_EXPANDED_NODES:,} nodes "
                    "through aliases; refusing it as Kubernetes does", node.start_mark.line + 1
                )
            try:
                data = loader.construct_document(node)
            except _CONSTRUCT_FAILURES:  # a generator finished after its node (`!!set`, `!!omap`)
                raise _unreadable(node) from None
            docs.append(Document(data, _span(node), index))
            index += 1
        for key, line in loader.duplicates:
            warnings.append(f"duplicate key '{key}' at line {line}; the last value is used")
        for tag, line in loader.python_tags:
            warnings.append(f"YAML tag '{_shown_tag(tag)}' at line {line} is read as plain data; "
                            "nothing it names is run")
    finally:
        loader.dispose()
    return docs, warnings


def _expanded_size(root: yaml.Node) -> int | yaml.Node:
    """Number of nodes the document would have with every alias expanded, or the node that an
    alias inside it names (`&a [*a]`: it would never end); linear time."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # entered and not finished: the ancestors of what is on top
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_nodes:
            return node
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = (
            [c for pair in node.value for c in pair]
            if isinstance(node, yaml.MappingNode)
            else list(node.value)
        )
        if done:
            sizes[id(node)] = 1 + sum(sizes.get(id(c), 1) for c in children)
            open_nodes.discard(id(node))
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


@dataclass(frozen=True)
class YamlLocator:
    """Locates key paths inside data loaded by SpanLoader, relative to `base`."""

    root: object
    base: tuple = ()
    extra: dict | None = None

    def span(self, path: tuple) -> Span | None:
        if self.extra and path in self.extra:
            target = self.extra[path]
            return target if isinstance(target, Span) else self._walk(target)
        return self._walk(self.base + tuple(path))

    def _walk(self, path: tuple) -> Span | None:
        node, span = self.root, getattr(self.root, "span", None)
        for step in path:
            if isinstance(node, YDict) and step in node:
                span = node.key_spans[step]
                value_span = node.value_spans[step]
                span = Span(span.line, span.column, value_span.end_line, value_span.end_column)
                node = node[step]
            elif isinstance(node, YList) and isinstance(step, int) and 0 <= step < len(node):
                span = node.item_spans[step]
                node = node[step]
            else:
                return None
        return span


def item_span(root: object, path: tuple) -> Span | None:
    """A mapping's span starting at its first key (a list item's dash is left out)."""
    locator = YamlLocator(root)
    whole = locator.span(path)
    node = root
    for step in path:
        node = node[step]
    if whole and isinstance(node, YDict) and node:
        first = next(iter(node.key_spans.values()))
        return Span(first.line, first.column, whole.end_line, whole.end_column)
    return whole
