"""Root-module entities, for rules of the form "a root module that declares X must contain Y".

For each root module evaluated (a directory Terraform would apply: scanned and called by no
other scanned directory) and each resource type X it declares, one entity of kind `root` and type
X, anchored at the first X in a reported file (by path, then line). Rules target it with
`target: {framework: terraform, kind: root, type: X}` and read Y through an `in_root` join.

Its data: `directory`, `declares` (X), `addresses` (every X evaluated from the root, module
instances included) and `declared_elsewhere`: false when the whole root was read, else UNKNOWN
naming why Y may exist unseen (a file of the root that did not parse, a block that could not be
evaluated, a registry or git module the root calls), so a rule `any: [Y found,
declared_elsewhere]` is undecided, never a false failure, when the root was not read whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence

from ..inventory import remote_modules
from ..model import Entity
from .values import Unknown


def root_entities(directory: str, entities: Sequence[Entity], reported: Callable[[str], bool],
                  unparsed: Sequence[str], failed: str | None = None) -> list[Entity]:
    """The `root` entities of one root module from the entities evaluated from it; `unparsed`
    are its files that did not parse, `failed` a file where a block could not be evaluated."""
    by_type: dict[str, list[Entity]] = defaultdict(list)
    for entity in entities:
        if entity.framework == "terraform" and entity.kind == "resource":
            by_type[entity.type].append(entity)
    elsewhere = _declared_elsewhere(entities, unparsed, failed)
    roots: list[Entity] = []
    for kind, declared in sorted(by_type.items()):
        anchored = sorted((e for e in declared if reported(e.path)),
                          key=lambda e: (e.path, e.span.line, e.span.column))
        if not anchored:
            continue  # none of them in a file this scan reports: nothing to anchor a finding at
        first = anchored[0]
        label = f"root module '{directory}'"
        roots.append(Entity(
            framework="terraform", kind="root", type=kind, address=f"root({directory}).{kind}",
            path=first.path, span=first.span, label=label, context=first.context, related=first.related,
            data={"directory": directory, "declares": kind,
                  "addresses": sorted({e.address for e in declared}),
                  "declared_elsewhere": elsewhere}))
    return roots


def _declared_elsewhere(entities: Sequence[Entity], unparsed: Sequence[str],
                        failed: str | None) -> bool | Unknown:
    if unparsed:
        return Unknown(f"{unparsed[0]} of the root module could not be parsed")
    if failed:
        return Unknown(f"a block in {failed} could not be evaluated")
    calls = remote_modules(entities)
    if calls:
        return Unknown(f"{calls[0].address} ({calls[0].source}) is not evaluated")
    return False
