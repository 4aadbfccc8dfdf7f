"""IAM policy documents -> one list of statements, whatever form the policy was written in.

A policy may be a JSON string, a heredoc, `jsonencode({...})`, or the `.json` of an
`aws_iam_policy_document` data source. Each becomes `iam_statements`: dicts with `effect`,
`actions`, `not_actions`, `resources`, `not_resources`, `principals` and `conditions`
(`{operator, key, values}`), actions lowercased for case-insensitive matching. Parts that cannot
be resolved stay UNKNOWN items.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ..evaluate.values import Encoded, Ref, Template, Unknown, decode_json, is_known
from ..model import DerivedLocator, Entity
from .principals import principal_fields

# attribute holding the policy, per resource type
POLICY_ATTRIBUTES = {
    "aws_s3_bucket": "policy",  # provider 3.x inline bucket policy
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_s3_bucket_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_kms_key": "policy",
    "aws_sqs_queue_policy": "policy",
    "aws_sns_topic_policy": "policy",
    "aws_ecr_repository_policy": "policy",
    "aws_sqs_queue": "policy",  # inline queue policy
    "aws_sns_topic": "policy",  # inline topic policy
    "aws_kms_key_policy": "policy",
    "aws_secretsmanager_secret": "policy",  # inline secret policy (deprecated by the provider)
    "aws_secretsmanager_secret_policy": "policy",
    "aws_glacier_vault": "access_policy",
    "aws_opensearch_domain": "access_policies",
    "aws_opensearch_domain_policy": "access_policies",
    "aws_elasticsearch_domain": "access_policies",
    "aws_elasticsearch_domain_policy": "access_policies",
}


def with_statements(entity: Entity) -> Entity:
    if entity.kind == "data" and entity.type == "aws_iam_policy_document":
        document = decode_json(policy_document_json(dict(entity.data), entity.address))
        where = "statement"
    elif entity.kind == "resource" and entity.type in POLICY_ATTRIBUTES:
        where = POLICY_ATTRIBUTES[entity.type]
        if where not in entity.data:
            return entity
        document = decode_json(entity.data[where])
    else:
        return entity
    data = dict(entity.data)
    data["iam_statements"] = statements(document)
    # statements are located at the attribute, or the data source's `statement` block, they came from
    sources: dict[tuple, tuple] = {("iam_statements",): (where,)}
    if where == "statement":
        sources.update({("iam_statements", i): ("statement", i) for i in range(len(data["iam_statements"]))})
    return dataclasses.replace(entity, data=data, locator=DerivedLocator(entity.locator, sources))


def statements(document: Any) -> list[Any]:
    """The normalised statements of a decoded policy document."""
    if isinstance(document, Unknown):
        return [document]
    if not isinstance(document, dict):
        return [Unknown("the policy is not a JSON object")]
    raw = document.get("Statement", [])
    if isinstance(raw, Unknown):
        return [raw]
    return [_statement(s) if isinstance(s, dict) else s if isinstance(s, Unknown) else
            Unknown("a statement is not an object") for s in (raw if isinstance(raw, list) else [raw])]


def _statement(raw: dict) -> dict:
    effect = raw.get("Effect", "Allow")
    conditions = _conditions(raw.get("Condition"))
    return {
        "sid": raw.get("Sid"),
        "effect": effect if isinstance(effect, Unknown) else str(effect).capitalize(),
        "actions": _names(raw.get("Action"), lower=True),
        "not_actions": _names(raw.get("NotAction"), lower=True),
        "resources": _names(raw.get("Resource")),
        "not_resources": _names(raw.get("NotResource")),
        "principals": raw.get("Principal"),
        "anyone": _anyone(raw.get("Principal")),
        "conditions": conditions,
        **principal_fields(raw.get("Principal"), conditions),
    }


def _anyone(principal: Any) -> Any:
    """True when the principal is everyone: `"*"`, `{"AWS": "*"}` or a list holding `"*"`. Only
    AWS principals can be everyone: IAM rejects `"*"` as a Service or Federated principal, so an
    unresolved federated provider (an OIDC provider of a remote module) is not anyone."""
    if principal is None:
        return False
    if isinstance(principal, Unknown):
        return principal
    values = [v for k, v in principal.items() if not isinstance(k, str) or k.upper() in ("AWS", "*")
              ] if isinstance(principal, dict) else [principal]
    items = [i for v in values for i in (v if isinstance(v, list) else [v])]
    if "*" in items:
        return True
    # a partly known string or a reference to a provider-computed ARN cannot be "*"
    return next((i for i in items if isinstance(i, Unknown) and not isinstance(i, Template | Ref)), False)


def _names(value: Any, lower: bool = False) -> list[Any]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item.lower() if lower and isinstance(item, str) else item for item in items]


def _conditions(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, Unknown) or not isinstance(value, dict):
        return [value if isinstance(value, Unknown) else Unknown("a condition is not an object")]
    found: list[Any] = []
    for operator, tests in value.items():
        if not isinstance(tests, dict):
            found.append(tests if isinstance(tests, Unknown) else Unknown(f"condition {operator}"))
            continue
        for key, values in tests.items():
            found.append({"operator": operator, "key": key.lower() if isinstance(key, str) else key,
                          "values": _names(values, lower=True)})
    return found


def policy_document_json(data: dict, source: str) -> Any:
    """The JSON an `aws_iam_policy_document` data source renders (as a string when known)."""
    document: dict[str, Any] = {"Version": data.get("version", "2012-10-17")}
    merged: list[Any] = []
    for inherited in _as_list(data.get("source_policy_documents")):
        merged.extend(_raw_statements(inherited))
    for block in _as_list(data.get("statement")):
        merged.append(_document_statement(block))
    for override in _as_list(data.get("override_policy_documents")):
        merged.extend(_raw_statements(override))
    document["Statement"] = merged
    if is_known(document):
        return json.dumps(document, separators=(",", ":"))
    return Encoded(f"{source} (policy document)", document)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _raw_statements(value: Any) -> list[Any]:
    decoded = decode_json(value)
    if isinstance(decoded, Unknown):
        return [decoded]
    raw = decoded.get("Statement", []) if isinstance(decoded, dict) else []
    return raw if isinstance(raw, list) else [raw]


def _document_statement(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    out: dict[str, Any] = {"Effect": block.get("effect", "Allow")}
    for source, target in (("sid", "Sid"), ("actions", "Action"), ("not_actions", "NotAction"),
                           ("resources", "Resource"), ("not_resources", "NotResource")):
        if source in block:
            out[target] = block[source]
    for source, target in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        if source in block:
            out[target] = _principals(block[source])
    conditions: dict[str, Any] = {}
    for condition in _as_list(block.get("condition")):
        if isinstance(condition, dict):
            test, variable = condition.get("test"), condition.get("variable")
            if isinstance(test, str) and isinstance(variable, str):
                conditions.setdefault(test, {})[variable] = condition.get("values")
            else:
                conditions.setdefault("?", {})["?"] = Unknown("a condition with an unresolved test or key")
    if conditions:
        out["Condition"] = conditions
    return out


def _principals(blocks: Any) -> Any:
    result: dict[str, Any] = {}
    for block in _as_list(blocks):
        if isinstance(block, dict) and isinstance(block.get("type"), str):
            result.setdefault(block["type"], []).extend(_as_list(block.get("identifiers")))
        elif isinstance(block, Unknown):
            return block
    return result


__all__ = ["POLICY_ATTRIBUTES", "policy_document_json", "statements", "with_statements"]
