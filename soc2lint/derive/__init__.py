"""Derived fields computed once per entity, so rules read one normalised shape."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from ..model import Entity
from . import escalation, iam, network, principals, secrets


def derive(entities: Iterable[Entity], accounts: Mapping[str, str] | None = None,
           uses: list[secrets.Use] | None = None) -> Iterator[Entity]:
    """Entities with their credentials, IAM statements and network exposure added where they have
    them; `accounts` (root module -> the one AWS account its providers deploy to, from
    `principals.own_accounts`) takes that account out of `principal_accounts`; credentials
    written in a variable default or a module argument go to `uses` (see `secrets.with_origins`)."""
    for entity in entities:
        if entity.framework == "terraform":
            entity = secrets.with_secrets(entity, [] if uses is None else uses)
            entity = iam.with_statements(entity)
            if accounts and entity.context in accounts:
                entity = principals.without_account(entity, accounts[entity.context])
            entity = network.with_exposure(escalation.with_escalation(entity))
        yield entity


__all__ = ["derive"]
