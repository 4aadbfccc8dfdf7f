"""Credentials written in Terraform, reported where they are written.

Each resource, provider block and registry-module call gets `hardcoded_secrets`: what
`secrets.judge` finds in its evaluated values, with the arguments that hold a credential taken
from `data/secret_arguments.yaml`, scripts (`user_data`, base64 or not) read as text and JSON
documents (`container_definitions`) read as data. An SSM parameter also gets
`named_like_a_secret`. A value that came from a variable's default or
from a module argument (a `Sourced` string) is reported there instead: on the variable or the
module call, naming the arguments it reaches (`used_by`).
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from ..evaluate.addresses import META_ARGUMENTS, is_local_source
from ..evaluate.values import Origin, Sourced, Template, decode_json
from ..model import DerivedLocator, Entity, Span, Unknown
from ..secrets import SecretHit, decoded_base64, find_in_text, is_secret_name, judge, string_leaves

# Arguments holding a script, read line by line (decoded first when base64).
SCRIPTS = frozenset({"user_data", "user_data_base64", "custom_data", "metadata_startup_script",
                     "startup-script", "startup_script"})
# Arguments holding a JSON document, read as data.
DOCUMENTS = frozenset({"container_definitions", "container_properties"})
_JUDGED = ("resource", "provider", "module")
# Maps whose keys are the user's own names, not the provider's arguments: a tag named `token` is
# not the provider's token argument (its value is still judged by its name and shape).
_FREE_FORM = frozenset({"tags", "tags_all", "labels", "annotations"})


@dataclasses.dataclass(frozen=True)
class Use:
    """A credential that reached `used_by` from a value written at `origin`."""

    origin: Origin
    context: str
    used_by: str
    kind: str
    redacted: str


@lru_cache(maxsize=1)
def _table() -> dict:
    text = resources.files("soc2lint").joinpath("data/secret_arguments.yaml").read_text("utf-8")
    return yaml.safe_load(text)["providers"]


@cache
def bearing_paths(kind: str, type_: str) -> tuple[frozenset[str], tuple[tuple[tuple[str, ...], dict], ...]]:
    """(argument names that hold a credential at any depth, ((path, when), ...)) for a resource
    type, or for a provider block (`kind` "provider") of a provider."""
    if kind == "provider":
        entries = [{"path": p} for p in _table().get(type_, {}).get("provider", [])]
        names: list[str] = []
    else:
        provider = _table().get(type_.split("_", 1)[0], {})
        entries = (provider.get("resources") or {}).get(type_, [])
        names = provider.get("arguments", [])
    names = [*names, *(e["path"] for e in entries if "." not in e["path"] and not e.get("when"))]
    paths = tuple((tuple(e["path"].split(".")), e.get("when") or {}) for e in entries
                  if "." in e["path"] or e.get("when"))
    return frozenset(names), paths


def _bears(path: tuple, names: frozenset[str], paths: tuple, data: Mapping) -> bool:
    keys = tuple(str(p) for p in path if not isinstance(p, int))
    if keys and keys[0] in _FREE_FORM:
        return False
    if keys and keys[-1] in names:
        return True
    return any(len(pattern) == len(keys) and all(p in ("*", k) for p, k in zip(pattern, keys, strict=True))
               and all(data.get(k) == v for k, v in when.items()) for pattern, when in paths)


def _found(entity: Entity) -> Iterator[tuple[tuple, Any, SecretHit]]:
    """(path of the argument, the value judged, the hit) for every credential in the entity."""
    data = entity.data
    names, paths = bearing_paths(entity.kind, entity.type)
    skip = META_ARGUMENTS if entity.kind == "module" else frozenset()
    for key, value in data.items():
        if key in skip or key == "hardcoded_secrets":
            continue
        if key in SCRIPTS and isinstance(value, str):
            text = decoded_base64(value) or value
            for hit in find_in_text(text, (key,), key):
                yield (key,), value, hit
            continue
        if key in DOCUMENTS:
            value = decode_json(value)
        for path, name, leaf in string_leaves(value, (key,), key):
            found = judge(name, leaf, _bears(path, names, paths, data))
            if found is not None:  # a value inside a document is located at its argument
                yield path, leaf, SecretHit(path if key not in DOCUMENTS else (key,), *found)


def with_secrets(entity: Entity, uses: list[Use]) -> Entity:
    """The entity with `hardcoded_secrets`; credentials written elsewhere go to `uses`. A local
    module call and a variable start with none: theirs arrive through `with_origins`."""
    if entity.framework != "terraform" or entity.kind not in (*_JUDGED, "variable"):
        return entity
    own: list[SecretHit] = []
    local_call = entity.kind == "module" and is_local_source(entity.data.get("source"))
    if entity.kind != "variable" and not local_call:
        for path, value, hit in _found(entity):
            if isinstance(value, Sourced):
                where = ".".join(str(p) for p in path if not isinstance(p, int))
                uses.append(Use(value.origin, entity.context, f"{entity.address}.{where}", hit.kind,
                                hit.redacted))
            else:
                own.append(hit)
    if entity.type == "aws_ssm_parameter":
        entity = dataclasses.replace(entity, data={
            **entity.data, "named_like_a_secret": named_like_a_secret(entity.data.get("name"))})
    return _with_hits(entity, [h.as_data() for h in own], [h.path for h in own])


def named_like_a_secret(name: Any) -> bool | Unknown:
    """Whether the last segment of a hierarchical name (`/prod/db/password`) is secret-like; a
    template is judged when its last segment is known (`/${var.env}/db/password`)."""
    if isinstance(name, Template) and isinstance(name.parts[-1], str) and "/" in name.parts[-1]:
        name = name.parts[-1]
    if isinstance(name, str):
        return is_secret_name(name.rstrip("/").rsplit("/", 1)[-1])
    return name if isinstance(name, Unknown) else False


def with_origins(entities: Iterable[Entity], uses: list[Use]) -> list[Entity]:
    """Variables and module calls with the credentials written in them that reached an argument
    (`uses`, from `with_secrets` over every entity of the scan, context included)."""
    by_owner: dict[tuple[str, str], dict[Origin, list[Use]]] = defaultdict(lambda: defaultdict(list))
    for use in uses:
        by_owner[(use.context, use.origin.owner)][use.origin].append(use)
    result = []
    for entity in entities:
        owned = by_owner.get((entity.context, entity.address)) \
            if entity.framework == "terraform" and entity.kind in ("variable", "module") else None
        if owned:
            origins = sorted(owned, key=lambda o: (o.span.line, o.span.column, o.argument))
            hits = [{"path": o.argument, "kind": owned[o][0].kind, "redacted": owned[o][0].redacted,
                     "used_by": sorted({u.used_by for u in owned[o]})} for o in origins]
            entity = _with_hits(entity, [*entity.data.get("hardcoded_secrets", []), *hits],
                                [o.span for o in origins])
        result.append(entity)
    return result


def _with_hits(entity: Entity, hits: list[dict], places: list[tuple | Span]) -> Entity:
    """`hits` as the entity's `hardcoded_secrets`, the last `places` locating the last hits."""
    first = len(hits) - len(places)
    sources = {("hardcoded_secrets", first + i): place for i, place in enumerate(places)}
    locator = entity.locator
    if sources:
        base = locator.base if isinstance(locator, DerivedLocator) else locator
        known = dict(locator.sources) if isinstance(locator, DerivedLocator) else {}
        locator = DerivedLocator(base, {**known, **sources})
    return dataclasses.replace(entity, data={**entity.data, "hardcoded_secrets": hits}, locator=locator)


__all__ = ["DOCUMENTS", "SCRIPTS", "Use", "bearing_paths", "named_like_a_secret", "with_origins",
           "with_secrets"]
