"""Joins between entities (`related:` in rules), through references or literal names.

`aws_s3_bucket_versioning.v.bucket = aws_s3_bucket.b.id` is a `Ref` to `aws_s3_bucket.b`; a
literal `bucket = "logs"` joins a bucket whose `bucket` is "logs" when the relation says `match`.
A candidate whose reference cannot be resolved may point at any target, so it joins as an
UNKNOWN item: the rule is then UNKNOWN rather than a false FAIL. Only entities evaluated from the
same root module are joined.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from .evaluate.values import Ref, Template
from .model import Entity, Relation, Unknown

_SUFFIX = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')


def base_address(entity: Entity) -> str:
    """The address without its instance key: `aws_s3_bucket.b["x"]` -> `aws_s3_bucket.b`."""
    return _SUFFIX.sub("", entity.address) if entity.instance_key is not None else entity.address


def _values(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [v for item in value for v in _values(item)]
    if isinstance(value, Template):
        refs = [h for h in value.holes if isinstance(h, Ref)]
        return refs or [value]
    return [value]


def _key_matches(ref: Ref, entity: Entity) -> bool:
    if ref.key is None or isinstance(ref.key, Unknown):
        return True
    return str(ref.key) == entity.instance_key


class _Index:
    """Candidates of one relation within one root: by referenced address and by literal."""

    def __init__(self, candidates: list[Entity], attribute: str) -> None:
        self.by_ref: dict[str, list[tuple[Ref, Entity]]] = defaultdict(list)
        self.by_literal: dict[str, list[Entity]] = defaultdict(list)
        self.unresolved: list[tuple[Entity, Unknown]] = []
        for candidate in candidates:
            for value in _values(candidate.data.get(attribute)):
                if isinstance(value, Ref):
                    self.by_ref[value.address].append((value, candidate))
                elif isinstance(value, Unknown):
                    self.unresolved.append((candidate, value))
                elif isinstance(value, str | int):
                    self.by_literal[str(value)].append(candidate)


class Joiner:
    """Answers `related` lists for rules, indexing the entities once per relation."""

    def __init__(self, entities: Iterable[Entity]) -> None:
        self.by_type: dict[tuple[str, str, str], list[Entity]] = defaultdict(list)
        for entity in entities:
            if entity.framework == "terraform":
                self.by_type[(entity.context, entity.kind, entity.type)].append(entity)
        self._indexes: dict[tuple, _Index] = {}
        self._by_base: dict[tuple, dict[str, list[Entity]]] = {}

    def _candidates(self, relation: Relation, context: str) -> list[Entity]:
        return [e for t in relation.types for e in self.by_type.get((context, relation.kind, t), [])]

    def related(self, entity: Entity, relations: Iterable[Relation]) -> dict[str, list[Any]]:
        return {r.name: self._related(entity, r) for r in relations}

    def _related(self, entity: Entity, relation: Relation) -> list[Any]:
        if relation.in_root:
            return [self._data(c, relation) for c in self._candidates(relation, entity.context)]
        if relation.by is not None:
            return self._pointing_here(entity, relation)
        return self._pointed_at(entity, relation)

    def _pointing_here(self, entity: Entity, relation: Relation) -> list[Any]:
        key = (relation, entity.context)
        if key not in self._indexes:
            self._indexes[key] = _Index(self._candidates(relation, entity.context), relation.by or "")
        index = self._indexes[key]
        found: list[Entity] = [c for ref, c in index.by_ref.get(base_address(entity), ())
                               if _key_matches(ref, entity)]
        for attribute in relation.match:
            value = entity.data.get(attribute)
            if isinstance(value, str | int) and not isinstance(value, bool):
                found.extend(index.by_literal.get(str(value), ()))
        items: list[Any] = [self._data(c, relation) for c in _unique(found)]
        names = [v for v in (entity.data.get(a) for a in relation.match) if isinstance(v, str)]
        items.extend(Unknown(f"{c.address}.{relation.by}: {u.reason}") for c, u in index.unresolved
                     if c not in found and not _cannot_name(u, names))
        return items

    def _pointed_at(self, entity: Entity, relation: Relation) -> list[Any]:
        key = (relation, entity.context)
        if key not in self._by_base:
            table: dict[str, list[Entity]] = defaultdict(list)
            for candidate in self._candidates(relation, entity.context):
                table[base_address(candidate)].append(candidate)
                for attribute in relation.match:
                    value = candidate.data.get(attribute)
                    if isinstance(value, str):
                        table["literal:" + value].append(candidate)
            self._by_base[key] = table
        table = self._by_base[key]
        items: list[Any] = []
        for value in _values(entity.data.get(relation.via or "")):
            if isinstance(value, Ref):
                items.extend(self._data(c, relation) for c in table.get(value.address, ())
                             if _key_matches(value, c))
            elif isinstance(value, Unknown):
                items.append(value)
            elif isinstance(value, str):
                items.extend(self._data(c, relation) for c in table.get("literal:" + value, ()))
        return items

    def _data(self, candidate: Entity, relation: Relation) -> Any:
        """A related entity's data, with its own joins when the relation has any."""
        if not relation.related:
            return candidate.data
        return with_related(candidate.data, self.related(candidate, relation.related))


def _cannot_name(value: Unknown, names: list[str]) -> bool:
    """A partly known string (`"logs-${var.env}"`) that can equal none of the target's names
    cannot refer to it by name (it may still be a reference, but then it would not be a string)."""
    return isinstance(value, Template) and bool(names) and not any(value.could_be(n) for n in names)


def _unique(entities: list[Entity]) -> list[Entity]:
    seen: set[int] = set()
    return [e for e in entities if not (id(e) in seen or seen.add(id(e)))]


def with_related(data: Mapping[str, Any], related: dict[str, list[Any]]) -> Mapping[str, Any]:
    return {**data, "related": related} if related else data


__all__ = ["Joiner", "base_address", "with_related"]
