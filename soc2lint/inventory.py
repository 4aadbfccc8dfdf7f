"""Outside organisations the scanned code depends on, and the remote Terraform modules it calls.

An auditor uses this as the first list of carved-out subservice organisations, whose own SOC 2
reports they will ask for. Remote modules are listed because soc2lint evaluates only modules
with a local `./` or `../` source. The mapping data is in data/subservices.yaml.
"""

from __future__ import annotations

import functools
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from .model import Entity, Notification

DATA_FILE = Path(__file__).parent / "data" / "subservices.yaml"
MAX_EVIDENCE = 20
RESOURCE_TYPES = "terraform resource types"
_MISSING = object()
_REGISTRY_MODULE = re.compile(
    r"^(?:(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?)/)?(?P<namespace>[a-z0-9][a-z0-9_-]*)/"
    r"[a-z0-9][a-z0-9_-]*/[a-z0-9]+(?://.*)?$", re.IGNORECASE)
_SCP_URL = re.compile(r"^[\w.-]+@(?P<host>[\w.-]+):")
_INSTANCE_KEY = re.compile(r'\[(?:\d+|"(?:[^"\\]|\\.)*")\]$')

Org = tuple[str, str]  # (name, category)


@dataclass(frozen=True)
class Evidence:
    """One place that shows the reliance."""

    via: str
    detail: str
    path: str
    line: int


@dataclass(frozen=True)
class Subservice:
    """An outside organisation, with up to MAX_EVIDENCE places of `count` found."""

    name: str
    category: str
    evidence: tuple[Evidence, ...]
    count: int


@dataclass(frozen=True)
class RemoteModule:
    """A Terraform module call whose source soc2lint did not evaluate."""

    path: str
    line: int
    address: str
    source: str
    version: str | None


@dataclass(frozen=True)
class Inventory:
    subservices: tuple[Subservice, ...]
    remote_modules: tuple[RemoteModule, ...]


def take_inventory(entities: Iterable[Entity]) -> Inventory:
    """The organisations and remote modules the scanned entities show."""
    entities = list(entities)
    declared = _declared_providers(entities)
    found: dict[Org, set[Evidence]] = defaultdict(set)
    for entity in entities:
        if entity.framework == "terraform":
            pairs = _terraform(entity, declared)
        elif entity.framework == "kubernetes":
            pairs = _kubernetes(entity)
        elif entity.framework == "github-actions":
            pairs = _github_actions(entity)
        else:
            continue
        for org, evidence in pairs:
            if org is not None:
                found[org].add(evidence)
    subservices = []
    for (name, category), places in found.items():
        ordered = sorted(_count_resource_types(places), key=lambda e: (e.path, e.line, e.via, e.detail))
        subservices.append(Subservice(name, category, tuple(ordered[:MAX_EVIDENCE]), len(ordered)))
    subservices.sort(key=lambda s: (s.name.lower(), s.name))
    return Inventory(tuple(subservices), remote_modules(entities))


def remote_modules(entities: Iterable[Entity]) -> tuple[RemoteModule, ...]:
    """The module calls with a registry or remote (git, HTTP...) source, once per `module` block
    (under its first address), in file order."""
    remote: dict[tuple[str, int], RemoteModule] = {}
    for entity in entities:
        module = _remote_module(entity) if entity.framework == "terraform" else None
        if module is not None:
            key = (module.path, module.line)
            if key not in remote or module.address < remote[key].address:
                remote[key] = module
    return tuple(sorted(remote.values(), key=lambda m: (m.path, m.line)))


def unevaluated_calls_note(calls: tuple[RemoteModule, ...]) -> list[Notification]:
    """A note saying how many module calls are not evaluated (none when none)."""
    if not calls:
        return []
    count, are, they = ("1 module call", "is", "it creates") if len(calls) == 1 else (
        f"{len(calls)} module calls", "are", "they create")
    return [Notification("", f"{count} with a registry or remote (git, HTTP...) source {are} not "
                         f"evaluated: the resources {they} are not checked (listed in the JSON "
                         "and audit reports)", "note")]


# -- mapping data ---------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _data() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(DATA_FILE, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=loader)


def _lookup(table: str, key: str, glob: bool = False) -> Any:
    """The organisation for `key` in a table: an Org, None (not an outside one) or _MISSING."""
    entries = _data()[table]
    key = key.lower()
    found = entries.get(key, _MISSING)
    if found is _MISSING and glob:
        found = next((v for pattern, v in entries.items() if fnmatchcase(key, pattern)), _MISSING)
    if found is None or found is _MISSING:
        return found
    org = _data()["organisations"][found]
    return org["name"], org["category"]


def _known(table: str, key: str, unknown: Org, glob: bool = False) -> Org | None:
    found = _lookup(table, key, glob)
    return unknown if found is _MISSING else found


# -- Terraform -----------------------------------------------------------------------------------
def _required_providers(entity: Entity) -> Iterator[tuple[tuple, str, Any]]:
    """(locator path, local name, entry) of each required_providers entry of a terraform block."""
    value = entity.data.get("required_providers")
    blocks = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for index, block in blocks:
        if isinstance(block, dict):
            base = ("required_providers",) if index is None else ("required_providers", index)
            for name, entry in block.items():
                yield (*base, name), str(name), entry


def _declared_providers(entities: list[Entity]) -> dict[str, dict[str, str]]:
    """Provider sources by local name, for each module directory and each root ("root:<dir>")."""
    declared: dict[str, dict[str, str]] = defaultdict(dict)
    for entity in entities:
        if entity.framework == "terraform" and entity.kind == "terraform":
            for _, name, entry in _required_providers(entity):
                source = entry.get("source") if isinstance(entry, dict) else None
                if isinstance(source, str):
                    declared[posixpath.dirname(entity.path)][name] = source
                    declared.setdefault(f"root:{entity.context}", {}).setdefault(name, source)
    return declared


def _provider_org(source: str) -> Org | None:
    """The organisation of a provider source address such as `registry.terraform.io/hashicorp/aws`."""
    short = "/".join(source.strip().lower().split("/")[-2:])
    return _known("terraform_providers", short, (f"Terraform provider '{short}'", "Terraform provider"))


def _local_name_org(name: str, entity: Entity, declared: dict[str, dict[str, str]]) -> Org | None:
    """The organisation behind a provider local name, as declared where the entity is."""
    source = declared.get(posixpath.dirname(entity.path), {}).get(name) or declared.get(
        f"root:{entity.context}", {}).get(name)
    if source is not None:
        return _provider_org(source)
    found = _lookup("provider_names", name)
    return _provider_org(f"hashicorp/{name}") if found is _MISSING else found  # Terraform's default


def _terraform(entity: Entity, declared: dict[str, dict[str, str]]) -> Iterator[tuple[Org | None, Evidence]]:
    kind, path = entity.kind, entity.path
    if kind == "terraform":
        for where, name, entry in _required_providers(entity):
            source = entry.get("source") if isinstance(entry, dict) else None
            if isinstance(source, str):
                yield _provider_org(source), Evidence("terraform provider", source.strip(), path,
                                                      _line(entity, (*where, "source")))
            else:
                yield _local_name_org(name, entity, declared), Evidence(
                    "terraform provider", name, path, _line(entity, where))
    elif kind == "provider":
        yield _local_name_org(entity.type, entity, declared), Evidence(
            "terraform provider", entity.address, path, entity.span.line)
    elif kind in ("resource", "data"):
        detail = entity.type if kind == "resource" else f"data.{entity.type}"
        yield _local_name_org(entity.type.split("_", 1)[0], entity, declared), Evidence(
            RESOURCE_TYPES, detail, path, entity.span.line)
    elif kind == "module":
        source = entity.data.get("source")
        if isinstance(source, str) and not source.startswith(("./", "../")):
            org, detail = _module_org(source.strip())
            yield org, Evidence("terraform module", detail, path, _line(entity, ("source",)))


def _remote_module(entity: Entity) -> RemoteModule | None:
    source = entity.data.get("source")
    if entity.kind != "module" or not isinstance(source, str) or source.startswith(("./", "../")):
        return None
    version = entity.data.get("version")
    address = _INSTANCE_KEY.sub("", entity.address) if entity.instance_key is not None else entity.address
    return RemoteModule(entity.path, entity.span.line, address, source,
                        version if isinstance(version, str) else None)


def _module_org(source: str) -> tuple[Org | None, str]:
    """The organisation serving a remote module source, and the evidence detail."""
    getter, forced, rest = source.partition("::")
    if not forced:
        getter, rest = "", source
    if getter:
        org = _lookup("module_getters", getter)
        if org is not _MISSING:
            return org, source
    registry = None if getter or "://" in rest else _REGISTRY_MODULE.match(rest)
    if registry and (registry["host"] or "").lower() not in ("github.com", "bitbucket.org"):
        host = (registry["host"] or "registry.terraform.io").lower().split(":")[0]
        return _host_org(host), f"{source} (registry module published by '{registry['namespace']}')"
    if "://" in rest:
        host = _url_host(rest)
    elif scp := _SCP_URL.match(rest):
        host = scp["host"].lower()
    else:
        first = rest.split("/", 1)[0].lower().split(":")[0]
        host = first if "." in first else None
    return (_host_org(host) if host else None), source


def _url_host(url: str) -> str | None:
    """The host of a URL, or None when urllib cannot parse it (`https://[bad/x`)."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _host_org(host: str) -> Org | None:
    return _known("module_hosts", host, (f"Terraform module host '{host}'", "module source"), glob=True)


def _count_resource_types(places: set[Evidence]) -> list[Evidence]:
    """Resource type evidence folded into one item per type and file: `aws_s3_bucket (3)`."""
    folded: dict[tuple[str, str], set[int]] = defaultdict(set)
    others = []
    for place in places:
        if place.via == RESOURCE_TYPES:
            folded[(place.detail, place.path)].add(place.line)
        else:
            others.append(place)
    return others + [Evidence(RESOURCE_TYPES, f"{detail} ({len(lines)})", path, min(lines))
                     for (detail, path), lines in folded.items()]


# -- container images ----------------------------------------------------------------------------
def _image(image: Any, entity: Entity, where: tuple) -> Iterator[tuple[Org | None, Evidence]]:
    """Evidence for a container image reference; images built from expressions are skipped."""
    if not isinstance(image, str) or not image.strip() or any(c in image for c in "${}"):
        return
    image = image.strip()
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first.lower() == "localhost"):
        host = first.lower().split(":")[0]
    else:
        host = "docker.io"
        image = "docker.io/" + ("" if slash else "library/") + image
    org = _known("registries", host, (f"Container registry '{host}'", "container registry"), glob=True)
    yield org, Evidence("container image", image, entity.path, _line(entity, where))


def _kubernetes(entity: Entity) -> Iterator[tuple[Org | None, Evidence]]:
    if entity.kind == "container":
        yield from _image(entity.data.get("image"), entity, ("image",))


# -- GitHub Actions ------------------------------------------------------------------------------
def _github_actions(entity: Entity) -> Iterator[tuple[Org | None, Evidence]]:
    data, path = entity.data, entity.path
    uses = data.get("uses_ref") if isinstance(data.get("uses_ref"), dict) else {}
    if entity.kind == "step" and uses.get("kind") == "docker":
        yield from _image(uses.get("action"), entity, ("uses",))
    elif entity.kind == "step" and uses.get("kind") == "action":
        yield _action_owner(uses), Evidence("github action", data["uses"].strip(), path,
                                            _line(entity, ("uses",)))
    elif entity.kind == "job":
        if uses.get("kind") in ("workflow", "action"):
            yield _action_owner(uses), Evidence("github actions workflow", data["uses"].strip(), path,
                                                _line(entity, ("uses",)))
        elif "runs-on" in data:
            labels = _runner_labels(data["runs-on"])
            if "self-hosted" not in (label.lower() for label in labels):
                yield _lookup("action_owners", "github"), Evidence(
                    "github actions workflow", "runs-on: " + ", ".join(labels), path,
                    _line(entity, ("runs-on",)))
        container = data.get("container")
        yield from _image(container.get("image") if isinstance(container, dict) else container,
                          entity, ("container", "image") if isinstance(container, dict) else ("container",))
        services = data.get("services") if isinstance(data.get("services"), dict) else {}
        for name, service in services.items():
            if isinstance(service, dict):
                yield from _image(service.get("image"), entity, ("services", name, "image"))
    elif entity.kind == "action":
        runs = data.get("runs") if isinstance(data.get("runs"), dict) else {}
        image = runs.get("image")
        if isinstance(image, str) and image.startswith("docker://"):
            yield from _image(image[len("docker://"):], entity, ("runs", "image"))


def _action_owner(uses: dict) -> Org | None:
    owner = str(uses.get("owner", ""))
    return _known("action_owners", owner,
                  (f"GitHub Actions publisher '{owner.lower()}'", "third-party CI action"))


def _runner_labels(runs_on: Any) -> list[str]:
    """The labels of a `runs-on:` value (a label, a list of labels, or a group with labels)."""
    if isinstance(runs_on, dict):
        group, labels = runs_on.get("group"), runs_on.get("labels")
        return ([f"group {group}"] if isinstance(group, str) else []) + _runner_labels(labels)
    if isinstance(runs_on, list):
        return [str(label) for label in runs_on]
    return [str(runs_on)] if runs_on is not None else []


def _line(entity: Entity, where: tuple) -> int:
    return (entity.locator.span(where) or entity.span).line


__all__ = ["Evidence", "Inventory", "RemoteModule", "Subservice", "remote_modules", "take_inventory",
           "unevaluated_calls_note"]
