"""Derived fields computed once per entity, so rules read one normalised shape."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..model import Entity
from . import escalation, iam, network


def derive(entities: Iterable[Entity]) -> Iterator[Entity]:
    """Entities with their IAM statements and network exposure added where they have them."""
    for entity in entities:
        if entity.framework == "terraform":
            entity = network.with_exposure(escalation.with_escalation(iam.with_statements(entity)))
        yield entity


__all__ = ["derive"]
