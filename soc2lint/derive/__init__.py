"""Derived fields computed once per entity, so rules read one normalised shape."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..model import Entity
from . import escalation, iam, network, principals


def derive(entities: Iterable[Entity], accounts: Mapping[str, str] | None = None) -> Iterator[Entity]:
    """Entities with their IAM statements and network exposure added where they have them;
    `accounts` (root module -> the one AWS account its providers deploy to, from
    `principals.own_accounts`) takes that account out of `principal_accounts`."""
    for entity in entities:
        if entity.framework == "terraform":
            entity = iam.with_statements(entity)
            if accounts and entity.context in accounts:
                entity = principals.without_account(entity, accounts[entity.context])
            entity = network.with_exposure(escalation.with_escalation(entity))
        yield entity


__all__ = ["derive"]
