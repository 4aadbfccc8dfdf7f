"""Who a policy statement names as its principal, read once for the rules on trust and
resource policies: principals by type, the AWS accounts they belong to, and GitHub OIDC trust.

- `principal_aws`, `principal_service`, `principal_federated`: the principals of each type as
  flat lists (`"*"` alone counts as `principal_aws: ["*"]`); unresolved values stay UNKNOWN.
- `principal_accounts`: the 12-digit account ids of the AWS principals written literally
  (`123456789012`, `arn:aws:iam::123456789012:root`, a role ARN), except the account the root
  module's `aws` providers deploy to when they name exactly one (`allowed_account_ids`, or the
  account of `assume_role.role_arn`). A principal built from
  `data.aws_caller_identity`, or referring to a role, user or group of the same configuration, is
  the caller's own account and is left out; any other unresolved principal is an UNKNOWN item,
  since it may name another account.
- `github_oidc` (only on statements that trust GitHub's OIDC provider, by the federated
  principal, even partly known, or by conditions on `token.actions.githubusercontent.com:` keys,
  an enterprise's `token.actions.githubusercontent.com/<slug>:` too):
  `{subject_scope, subjects, audience}` where `subject_scope` is `missing` (no `:sub`
  condition), `one-repository` (every subject names one repository, any branch, tag or
  environment), `many-repositories` (a subject such as `repo:org/*`, `repo:*` or `*` matches
  several), or `custom` (a subject in a customised claim format); `audience` is `sts` when `:aud`
  allows only `sts.amazonaws.com`, `missing` or `other`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from ..evaluate.values import Ref, Template, Unknown
from ..model import Entity

GITHUB_ISSUER = "token.actions.githubusercontent.com"
_ACCOUNT = re.compile(r"^(?:\d{12}|arn:aws[\w-]*:(?:iam|sts)::(\d{12}):.*)$")
_ONE_REPOSITORY = re.compile(r"^repo:[^/*?:]+/[^/*?:]+(?::.*)?$")
# condition operators that allow only the values listed (negated and null tests do not narrow)
_ALLOWING = re.compile(r"^(?:for(?:anyvalue|allvalues):)?string(?:equals|like)(?:ignorecase)?(?:ifexists)?$")
# `token.actions.githubusercontent.com:sub`, or an enterprise's `…githubusercontent.com/acme:sub`
_GITHUB_KEY = re.compile(r"^token\.actions\.githubusercontent\.com(?:/[^:]+)?:(?P<claim>\w+)$")
# principals created in the same configuration belong to the account running it
_SAME_ACCOUNT_TYPES = ("aws_caller_identity", "aws_iam_role", "aws_iam_user", "aws_iam_group")


def principal_fields(principal: Any, conditions: list[Any]) -> dict[str, Any]:
    """The derived principal fields of one statement (see the module docstring)."""
    by_type = _by_type(principal)
    fields: dict[str, Any] = {
        "principal_aws": by_type.get("aws", []),
        "principal_service": by_type.get("service", []),
        "principal_federated": by_type.get("federated", []),
    }
    fields["principal_accounts"] = _accounts(fields["principal_aws"])
    github = _github_oidc(fields["principal_federated"], conditions)
    if github is not None:
        fields["github_oidc"] = github
    return fields


def _by_type(principal: Any) -> dict[str, list[Any]]:
    if principal is None:
        return {}
    if isinstance(principal, Unknown):
        return {"aws": [principal]}
    if not isinstance(principal, dict):
        return {"aws": [principal]}  # "*"
    found: dict[str, list[Any]] = {}
    for kind, values in principal.items():
        key = kind.lower() if isinstance(kind, str) and kind != "*" else "aws"
        found.setdefault(key, []).extend(values if isinstance(values, list) else [values])
    return found


def _accounts(principals: list[Any]) -> list[Any]:
    accounts: list[Any] = []
    for value in principals:
        if isinstance(value, str):
            match = _ACCOUNT.match(value)
            if match:
                accounts.append(match.group(1) or value)
        elif _same_account(value):
            continue
        elif isinstance(value, Unknown):
            accounts.append(value)
    return accounts


def _same_account(value: Any) -> bool:
    """A principal built from `data.aws_caller_identity`, or a role, user or group of the same
    configuration: the account running Terraform."""
    holes = value.holes if isinstance(value, Template) else (value,)
    return bool(holes) and all(
        isinstance(h, Ref) and any(f"{kind}." in h.address for kind in _SAME_ACCOUNT_TYPES)
        for h in holes)


def _github_oidc(federated: list[Any], conditions: list[Any]) -> dict[str, Any] | None:
    keyed = [(match["claim"], c) for c in conditions if isinstance(c, dict)
             and isinstance(c.get("key"), str) and (match := _GITHUB_KEY.match(c["key"]))]
    trusts = any(GITHUB_ISSUER in (f.fill("") if isinstance(f, Template) else f).lower()
                 for f in federated if isinstance(f, str | Template))
    if not trusts and not keyed:
        return None
    allowing = [(claim, c) for claim, c in keyed if isinstance(c.get("operator"), str)
                and _ALLOWING.match(c["operator"].lower())]
    subjects = [v for claim, c in allowing if claim == "sub" for v in c["values"]]
    audiences = [v for claim, c in allowing if claim == "aud" for v in c["values"]]
    return {"subject_scope": _subject_scope(subjects), "subjects": subjects,
            "audience": _audience(audiences)}


def _subject_scope(subjects: list[Any]) -> Any:
    if not subjects:
        return "missing"
    scopes = set()
    for subject in subjects:
        if isinstance(subject, Unknown):
            return Unknown(f"a {GITHUB_ISSUER}:sub value is not resolved")
        if not isinstance(subject, str):
            continue
        if _ONE_REPOSITORY.match(subject):
            scopes.add("one-repository")
        elif subject.startswith("repo:") or subject.strip("*?") == "":
            scopes.add("many-repositories")
        else:
            scopes.add("custom")
    for scope in ("many-repositories", "custom", "one-repository"):
        if scope in scopes:
            return scope
    return "missing"


def _audience(audiences: list[Any]) -> Any:
    if not audiences:
        return "missing"
    if any(isinstance(a, Unknown) for a in audiences):
        return Unknown(f"a {GITHUB_ISSUER}:aud value is not resolved")
    return "sts" if all(a == "sts.amazonaws.com" for a in audiences) else "other"


def own_accounts(entities: Iterable[Entity]) -> dict[str, str]:
    """Root module -> the AWS account its `aws` providers deploy to, when they name exactly one:
    by `allowed_account_ids` (one id) or the account of `assume_role.role_arn`."""
    found: dict[str, set[Any]] = {}
    for entity in entities:
        if entity.framework == "terraform" and entity.kind == "provider" and entity.type == "aws":
            found.setdefault(entity.context, set()).add(_provider_account(entity.data))
    return {root: next(iter(accounts)) for root, accounts in found.items()
            if len(accounts) == 1 and isinstance(next(iter(accounts)), str)}


def _provider_account(data: Any) -> str | None:
    allowed = data.get("allowed_account_ids")
    if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
        return allowed[0]
    roles = data.get("assume_role")
    first = roles[0] if isinstance(roles, list) and roles else None
    arn = first.get("role_arn") if isinstance(first, dict) else None
    match = _ACCOUNT.match(arn) if isinstance(arn, str) else None
    return match.group(1) if match else None


def without_account(entity: Entity, account: str) -> Entity:
    """The entity with `account` (its providers' own) left out of every `principal_accounts`."""
    statements = entity.data.get("iam_statements")
    if not isinstance(statements, list):
        return entity
    kept = [dict(s, principal_accounts=[a for a in s["principal_accounts"] if a != account])
            if isinstance(s, dict) and "principal_accounts" in s else s for s in statements]
    return dataclasses.replace(entity, data={**entity.data, "iam_statements": kept})
