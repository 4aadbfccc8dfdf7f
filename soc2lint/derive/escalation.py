"""Privilege-escalation paths of an identity policy: `escalation_paths`, from `iam_statements`.

A path is a set of actions that, granted together, let whoever holds the policy obtain permissions
it was not given (Rhino Security Labs' IAM privilege-escalation research, see PATHS). Each path
the Allow statements grant is one item `{path, actions, statements}`: the path's short name, the
action patterns of the policy that grant it (for a NotAction statement, the action itself), and
the indexes of the statements in `iam_statements` that grant it.

How a statement is read:

- actions match as AWS matches them: case-insensitive globs with `*` and `?`; an Allow with
  NotAction grants every action its NotAction patterns do not match;
- each action counts only on the resources through which it escalates (ACTIONS): `*`, or an ARN
  (or ARN pattern) of the IAM users, roles, groups or policies it changes. iam:PassRole counts
  on `*` and role patterns (`role/*`, `role/app-*`), not on a named role, which is the scoped
  form; sts:AssumeRole counts on `*` and patterns covering every role; the actions paired with
  iam:PassRole count on any resource, since the role passed is what escalates; credential actions
  on the caller's own user (`${aws:username}`) do not count, nor do service-linked roles
  (`role/aws-service-role/...`), whose policies and trust AWS alone may change. NotResource counts
  as every resource unless it lists `*`;
- conditions are not read: a statement with conditions still counts;
- Deny statements are not subtracted, except a Deny without conditions on Resource `*`, whose
  action patterns remove the actions they match;
- a statement granting `*` on `*` adds the item FULL_ADMIN (full administrator access, which
  aws-iam-policy-full-admin reports: the escalation rule leaves those policies to it).

Unresolved values keep the soc2lint.evaluate conventions: when a path is neither certain nor
excluded because an effect, action, NotAction or resource is unknown (a variable without a value,
`"iam:${var.x}"`), the list holds those Unknown values instead of items, so a rule over it is
UNKNOWN. A partly known resource ARN (`arn:aws:iam::${account}:role/app`) is read from its known
parts, its holes as plain names: narrower than `*`. When some path is certain, the undecided ones
are left out: the policy already escalates.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Sequence
from typing import Any

from ..conditions import Truth, kleene_and, kleene_or
from ..evaluate.values import Ref, Template, Unknown
from ..model import DerivedLocator, Entity

# Identity policies: what their holder may do. Resource policies (buckets, keys, queues, trust
# policies) carry iam_statements too, but a "holder" escalating through them means nothing.
IDENTITY_POLICY_TYPES = frozenset({
    "aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy",
})

# Which resources of a statement make an action usable for escalation (see ACTIONS).
ANY_RESOURCE = "any-resource"  # any resource at all: paired with iam:PassRole, the role decides
PRINCIPAL = "principal"  # `*`, or any ARN or ARN pattern of the action's kind
OTHER_USER = "other-user"  # as PRINCIPAL, but not the caller's own user (`${aws:username}`)
ROLE_PATTERN = "role-pattern"  # `*`, or a role ARN pattern; a named role is the scoped form
EVERY_ROLE = "every-role"  # `*`, or a pattern covering every role of an account
EVERY_FUNCTION = "every-function"  # `*`, or a Lambda ARN pattern covering every function

# Sources: Rhino Security Labs, "AWS IAM Privilege Escalation - Methods and Mitigation"
# (https://rhinosecuritylabs.com/aws/aws-privilege-escalation-methods-mitigation/) and its
# catalogue https://github.com/RhinoSecurityLabs/AWS-IAM-Privilege-Escalation (methods 1-21;
# aws_escalate.py in RhinoSecurityLabs/Security-Research checks the same sets). Method numbers:
# 1 CreatePolicyVersion, 2 SetDefaultPolicyVersion, 3 PassRole + ec2:RunInstances,
# 4 CreateAccessKey, 5 CreateLoginProfile, 6 UpdateLoginProfile, 7-9 Attach{User,Group,Role}Policy,
# 10-12 Put{User,Group,Role}Policy, 13 AddUserToGroup, 14 UpdateAssumeRolePolicy (+ AssumeRole),
# 15/17 PassRole + lambda:CreateFunction (+ InvokeFunction or CreateEventSourceMapping: taken as
# enough on its own, since a function can be invoked in many ways), 18 lambda:UpdateFunctionCode
# (on every function: the new code runs with the function's own role; on named functions it is
# the usual deployment permission), 19 PassRole + glue:CreateDevEndpoint, 21 PassRole +
# cloudformation:CreateStack, and PassRole + datapipeline:CreatePipeline. sts:AssumeRole on every
# role is added: it reaches any role whose trust policy trusts the account.
#
# action (lowercase) -> (kind of IAM resource it acts on, which resources count)
ACTIONS: dict[str, tuple[str, str]] = {
    "iam:createpolicyversion": ("policy", PRINCIPAL),
    "iam:setdefaultpolicyversion": ("policy", PRINCIPAL),
    "iam:attachuserpolicy": ("user", PRINCIPAL),
    "iam:attachgrouppolicy": ("group", PRINCIPAL),
    "iam:attachrolepolicy": ("role", PRINCIPAL),
    "iam:putuserpolicy": ("user", PRINCIPAL),
    "iam:putgrouppolicy": ("group", PRINCIPAL),
    "iam:putrolepolicy": ("role", PRINCIPAL),
    "iam:addusertogroup": ("group", PRINCIPAL),
    "iam:updateassumerolepolicy": ("role", PRINCIPAL),
    "iam:createaccesskey": ("user", OTHER_USER),
    "iam:createloginprofile": ("user", OTHER_USER),
    "iam:updateloginprofile": ("user", OTHER_USER),
    "sts:assumerole": ("role", EVERY_ROLE),
    "iam:passrole": ("role", ROLE_PATTERN),
    "lambda:createfunction": ("", ANY_RESOURCE),
    "lambda:updatefunctioncode": ("", EVERY_FUNCTION),
    "ec2:runinstances": ("", ANY_RESOURCE),
    "glue:createdevendpoint": ("", ANY_RESOURCE),
    "cloudformation:createstack": ("", ANY_RESOURCE),
    "datapipeline:createpipeline": ("", ANY_RESOURCE),
}

# path name -> the actions that, all granted, make it
PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("iam:CreatePolicyVersion", ("iam:createpolicyversion",)),
    ("iam:SetDefaultPolicyVersion", ("iam:setdefaultpolicyversion",)),
    ("iam:AttachUserPolicy", ("iam:attachuserpolicy",)),
    ("iam:AttachGroupPolicy", ("iam:attachgrouppolicy",)),
    ("iam:AttachRolePolicy", ("iam:attachrolepolicy",)),
    ("iam:PutUserPolicy", ("iam:putuserpolicy",)),
    ("iam:PutGroupPolicy", ("iam:putgrouppolicy",)),
    ("iam:PutRolePolicy", ("iam:putrolepolicy",)),
    ("iam:AddUserToGroup", ("iam:addusertogroup",)),
    ("iam:UpdateAssumeRolePolicy", ("iam:updateassumerolepolicy",)),
    ("iam:CreateAccessKey", ("iam:createaccesskey",)),
    ("iam:CreateLoginProfile", ("iam:createloginprofile",)),
    ("iam:UpdateLoginProfile", ("iam:updateloginprofile",)),
    ("iam:PassRole + lambda:CreateFunction", ("iam:passrole", "lambda:createfunction")),
    ("lambda:UpdateFunctionCode on every function", ("lambda:updatefunctioncode",)),
    ("iam:PassRole + ec2:RunInstances", ("iam:passrole", "ec2:runinstances")),
    ("iam:PassRole + glue:CreateDevEndpoint", ("iam:passrole", "glue:createdevendpoint")),
    ("iam:PassRole + cloudformation:CreateStack", ("iam:passrole", "cloudformation:createstack")),
    ("iam:PassRole + datapipeline:CreatePipeline", ("iam:passrole", "datapipeline:createpipeline")),
    ("sts:AssumeRole on every role", ("sts:assumerole",)),
)

FULL_ADMIN = "* on *"
_SELF = "${aws:username}"
_SERVICE_LINKED = "role/aws-service-role/"
_FILLER = "x"  # what a hole of a partly known resource ARN is read as: a plain name


def with_escalation(entity: Entity) -> Entity:
    """The entity with `escalation_paths` added, when it is an identity policy with statements."""
    identity = (entity.kind == "resource" and entity.type in IDENTITY_POLICY_TYPES) or (
        entity.kind == "data" and entity.type == "aws_iam_policy_document")
    if not identity or "iam_statements" not in entity.data:
        return entity
    statements = entity.data["iam_statements"]
    paths, places = located_paths(statements if isinstance(statements, list) else [statements])
    data = dict(entity.data)
    data["escalation_paths"] = paths
    # each item is located at the first statement it came from (the policy attribute, or the
    # data source's statement block, through the iam_statements locator)
    sources: dict[tuple, tuple] = {("escalation_paths",): ("iam_statements", *places[:1])}
    sources.update({("escalation_paths", i): ("iam_statements", place) for i, place in enumerate(places)})
    return dataclasses.replace(entity, data=data, locator=DerivedLocator(entity.locator, sources))


def escalation_paths(statements: Sequence[Any]) -> list[Any]:
    """The escalation paths the normalised statements (soc2lint.derive.iam) grant."""
    return located_paths(statements)[0]


def located_paths(statements: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """The paths, and for each item the index of the first statement it came from."""
    items: list[Any] = []
    places: list[int] = []
    admin = [i for i, s in enumerate(statements) if _full_admin(s)]
    if admin:
        items.append({"path": FULL_ADMIN, "actions": ["*"], "statements": admin})
        places.append(admin[0])
    grants = {action: _grant(statements, action) for action in ACTIONS}
    undecided: dict[Unknown, int] = {}
    for name, actions in PATHS:
        parts = [grants[a] for a in actions]
        truth = kleene_and([p.truth for p in parts])
        if truth:
            indexes = sorted({i for p in parts for i in p.statements})
            patterns = list(dict.fromkeys(x for p in parts for x in p.patterns))
            items.append({"path": name, "actions": patterns, "statements": indexes})
            places.append(indexes[0])
        elif truth is None:
            for part in parts:
                if part.truth is None:
                    for value, index in part.unknowns:
                        undecided.setdefault(value, index)
    if items:
        return items, places
    return list(undecided), list(undecided.values())


@dataclasses.dataclass
class _Grant:
    """Whether the statements grant one action where it escalates, and through what."""

    truth: Truth = False
    statements: list[int] = dataclasses.field(default_factory=list)
    patterns: list[str] = dataclasses.field(default_factory=list)
    unknowns: list[tuple[Unknown, int]] = dataclasses.field(default_factory=list)


def _grant(statements: Sequence[Any], action: str) -> _Grant:
    if any(_denies(s, action) for s in statements):
        return _Grant(False)
    grant = _Grant()
    truths: list[Truth] = []
    for index, statement in enumerate(statements):
        if isinstance(statement, Unknown):
            truths.append(None)
            grant.unknowns.append((statement, index))
            continue
        if not isinstance(statement, dict):
            continue
        parts = [_effect(statement), _actions(statement, action), _scope(statement, action)]
        truth = kleene_and([p[0] for p in parts])
        truths.append(truth)
        if truth:
            grant.statements.append(index)
            grant.patterns.extend(parts[1][1])
        elif truth is None:
            grant.unknowns.extend((u, index) for p in parts if p[0] is None for u in p[2])
    grant.truth = kleene_or(truths)
    return grant


# -- statements -----------------------------------------------------------------------------
def _effect(statement: dict) -> tuple[Truth, list[str], list[Unknown]]:
    effect = statement.get("effect")
    if isinstance(effect, Unknown):
        return None, [], [effect]
    return effect == "Allow", [], []


def _actions(statement: dict, action: str) -> tuple[Truth, list[str], list[Unknown]]:
    """Whether the statement's Action (or NotAction) covers the action, and the patterns that do."""
    actions = _listed(statement.get("actions"))
    if actions:
        matched = [p for p in actions if action_matches(p, action) is True]
        if matched:
            return True, matched, []
        unknowns = [p for p in actions if action_matches(p, action) is None]
        return (None, [], unknowns) if unknowns else (False, [], [])
    not_actions = _listed(statement.get("not_actions"))
    if not_actions:
        if any(action_matches(p, action) is True for p in not_actions):
            return False, [], []
        unknowns = [p for p in not_actions if action_matches(p, action) is None]
        return (None, [], unknowns) if unknowns else (True, [action], [])
    return False, [], []


def _scope(statement: dict, action: str) -> tuple[Truth, list[str], list[Unknown]]:
    """Whether the statement's Resource (or NotResource) reaches what the action escalates through."""
    kind, scope = ACTIONS[action]
    resources = _listed(statement.get("resources"))
    if resources:
        truths = [resource_in_scope(r, kind, scope) for r in resources]
        truth = kleene_or(truths)
        unknowns = [r for r, t in zip(resources, truths, strict=True) if t is None]
        return truth, [], unknowns if truth is None else []
    not_resources = _listed(statement.get("not_resources"))
    if not_resources:
        if "*" in not_resources:
            return False, [], []
        unknowns = [r for r in not_resources if isinstance(r, Unknown) and not isinstance(r, Template | Ref)]
        return (None, [], unknowns) if unknowns else (True, [], [])
    return False, [], []


def _denies(statement: Any, action: str) -> bool:
    """A Deny without conditions on Resource "*" whose known action patterns cover the action."""
    return (isinstance(statement, dict) and statement.get("effect") == "Deny"
            and statement.get("conditions") == [] and "*" in _listed(statement.get("resources"))
            and any(action_matches(p, action) is True for p in _listed(statement.get("actions"))
                    if isinstance(p, str)))


def _full_admin(statement: Any) -> bool:
    """Allow of "*" on "*", as aws-iam-policy-full-admin reads it (conditions and Deny ignored)."""
    return (isinstance(statement, dict) and statement.get("effect") == "Allow"
            and "*" in _listed(statement.get("actions")) and "*" in _listed(statement.get("resources")))


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# -- actions --------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _glob(pattern: str) -> re.Pattern[str]:
    """An IAM glob (`*` any run of characters, `?` one character) as a case-insensitive regex."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


def action_matches(pattern: Any, action: str) -> Truth:
    """Whether an Action pattern covers the action: None when an unresolved part may make it."""
    if isinstance(pattern, Template):
        # a hole may hold anything, "*" included: the pattern with wildcard holes covers all fillings
        return None if _glob(pattern.fill("*")).fullmatch(action) else False
    if isinstance(pattern, Unknown):
        return None
    if not isinstance(pattern, str):
        return False
    return _glob(pattern).fullmatch(action) is not None


# -- resources ------------------------------------------------------------------------------
_IAM_REF = re.compile(r"(?:^|\.)aws_iam_(role|user|group|policy)\.[^.]+$")


def resource_in_scope(resource: Any, kind: str, scope: str) -> Truth:
    """Whether a Resource item reaches what an action of this kind and scope escalates through."""
    if scope == ANY_RESOURCE:
        return True
    if isinstance(resource, Ref):
        # the ARN of one named role, user, group or policy of the configuration
        match = _IAM_REF.search(resource.address)
        return bool(match and match.group(1) == kind and scope in (PRINCIPAL, OTHER_USER))
    if isinstance(resource, Template):
        resource = resource.fill(_FILLER)
    elif isinstance(resource, Unknown):
        return None
    if not isinstance(resource, str):
        return False
    return _arn_in_scope(resource.lower(), kind, scope)


def _arn_in_scope(arn: str, kind: str, scope: str) -> bool:
    if arn == "*":
        return True
    fields = arn.split(":", 5)
    if scope == EVERY_FUNCTION:  # a Lambda ARN pattern covering every function of an account
        return (len(fields) == 6 and _glob(fields[2]).fullmatch("lambda") is not None
                and all(_glob(fields[5]).fullmatch(f"function:{n}") for n in ("a", "b-2")))
    if len(fields) == 6:
        prefix, _, service, _, account, name = fields
        if not (_glob(prefix).fullmatch("arn") and _glob(service).fullmatch("iam")):
            return False
        if kind == "policy" and account == "aws":  # AWS managed policies cannot be changed
            return False
        if not _may_start_with(name, f"{kind}/"):
            return False
        if kind == "role" and _literal(name).startswith(_SERVICE_LINKED):
            return False  # service-linked roles: AWS owns their policies and trust
        if scope == ROLE_PATTERN:
            return "*" in name or "?" in name
        if scope == EVERY_ROLE:
            return all(_glob(name).fullmatch(f"role/{n}") for n in ("a", "path/b-1"))
        if scope == OTHER_USER:
            return _SELF not in name
        return True
    # a wildcard spanning the ARN's colons ("arn:aws:iam::*"): test typical ARNs of the kind
    samples = [f"arn:aws:iam::123456789012:{kind}/{n}" for n in ("a", "path/b-1")]
    return all(_glob(arn).fullmatch(s) for s in samples[: 2 if scope == EVERY_ROLE else 1])


def _literal(pattern: str) -> str:
    """The glob's text before its first wildcard."""
    return re.split(r"[*?]", pattern, maxsplit=1)[0]


def _may_start_with(pattern: str, prefix: str) -> bool:
    """Whether some string the glob matches starts with `prefix` (and goes on after it)."""
    literal = _literal(pattern)
    cut = len(literal) if len(literal) < len(pattern) else -1
    if len(literal) > len(prefix) or (cut < 0 and len(literal) >= len(prefix)):
        return literal.startswith(prefix) and (cut >= 0 or len(literal) > len(prefix))
    return cut >= 0 and prefix.startswith(literal)


__all__ = ["ACTIONS", "FULL_ADMIN", "IDENTITY_POLICY_TYPES", "PATHS", "action_matches",
           "escalation_paths", "located_paths", "resource_in_scope", "with_escalation"]
