"""Privilege-escalation paths: action globs, resource scopes, NotAction, Deny, unknown values."""

from __future__ import annotations

import pytest

from soc2lint.derive.escalation import (
    ACTIONS,
    EVERY_ROLE,
    FULL_ADMIN,
    OTHER_USER,
    PATHS,
    PRINCIPAL,
    ROLE_PATTERN,
    action_matches,
    escalation_paths,
    resource_in_scope,
    with_escalation,
)
from soc2lint.derive.iam import with_statements
from soc2lint.evaluate.values import Ref, Template, Unknown
from soc2lint.model import DictLocator, Entity, Span


def stmt(actions=(), resources=("*",), effect="Allow", not_actions=(), not_resources=(),
         conditions=()) -> dict:
    return {"sid": None, "effect": effect, "actions": list(actions), "not_actions": list(not_actions),
            "resources": list(resources), "not_resources": list(not_resources), "principals": None,
            "anyone": False, "conditions": list(conditions)}


def names(statements) -> list:
    return [p["path"] if isinstance(p, dict) else p for p in escalation_paths(statements)]


# -- the path table --------------------------------------------------------------------------
def test_every_path_action_has_a_scope_and_is_lowercase():
    for _, actions in PATHS:
        for action in actions:
            assert action == action.lower()
            assert action in ACTIONS


# -- action globs ----------------------------------------------------------------------------
@pytest.mark.parametrize(("pattern", "action", "expected"), [
    ("iam:passrole", "iam:passrole", True),
    ("iam:*", "iam:putrolepolicy", True),
    ("iam:put*", "iam:putrolepolicy", True),
    ("iam:?ttach*", "iam:attachuserpolicy", True),
    ("*", "sts:assumerole", True),
    ("*:*", "ec2:runinstances", True),
    ("iam:*policy*", "iam:createpolicyversion", True),
    ("IAM:PassRole", "iam:passrole", True),  # AWS compares actions case-insensitively
    ("iam:get*", "iam:putrolepolicy", False),
    ("iam:passrole*", "iam:passrole", True),
    ("iam:pass", "iam:passrole", False),
    ("iam:[p]assrole", "iam:passrole", False),  # no character classes in IAM globs
    ("s3:*", "iam:passrole", False),
    ("ec2:run?nstances", "ec2:runinstances", True),
    (42, "iam:passrole", False),
])
def test_action_globs(pattern, action, expected):
    assert action_matches(pattern, action) is expected


def test_an_action_with_a_hole_may_or_may_not_match():
    assert action_matches(Template("var.verb", ("iam:", Unknown("var.verb"))), "iam:putrolepolicy") is None
    assert action_matches(Template("var.svc", (Unknown("var.svc"), ":*")), "iam:passrole") is None
    # no filling of "s3:<hole>" is an IAM action
    assert action_matches(Template("var.verb", ("s3:", Unknown("var.verb"))), "iam:passrole") is False
    assert action_matches(Unknown("var.actions"), "iam:passrole") is None


# -- resource scopes -------------------------------------------------------------------------
@pytest.mark.parametrize(("resource", "kind", "scope", "expected"), [
    ("*", "role", ROLE_PATTERN, True),
    ("arn:aws:iam::*:role/*", "role", ROLE_PATTERN, True),
    ("arn:aws:iam::111122223333:role/app-*", "role", ROLE_PATTERN, True),
    ("arn:aws:iam::111122223333:role/app", "role", ROLE_PATTERN, False),  # one named role
    ("arn:aws:iam::111122223333:role/app", "role", PRINCIPAL, True),
    ("arn:aws:iam::111122223333:user/alice", "role", PRINCIPAL, False),
    ("arn:aws:iam::111122223333:user/*", "user", OTHER_USER, True),
    ("arn:aws:iam::*:user/${aws:username}", "user", OTHER_USER, False),  # the caller's own user
    ("arn:aws:iam::*:user/${aws:username}", "user", PRINCIPAL, True),  # attaching to oneself
    ("arn:aws:iam::111122223333:policy/app-*", "policy", PRINCIPAL, True),
    ("arn:aws:iam::aws:policy/AdministratorAccess", "policy", PRINCIPAL, False),  # AWS managed
    ("arn:aws:iam::111122223333:*", "group", PRINCIPAL, True),
    ("arn:aws:iam::*", "role", PRINCIPAL, True),  # a wildcard across the ARN's colons
    ("arn:*", "user", PRINCIPAL, True),
    ("arn:aws:s3:::bucket/*", "role", PRINCIPAL, False),
    ("arn:aws:iam::111122223333:instance-profile/*", "role", ROLE_PATTERN, False),
    ("arn:aws:iam::*:role/aws-service-role/fsx.amazonaws.com/*", "role", PRINCIPAL, False),
    ("arn:aws:iam::*:role/*", "role", EVERY_ROLE, True),
    ("arn:aws:iam::111122223333:role/*", "role", EVERY_ROLE, True),
    ("arn:aws:iam::*:role/deployer", "role", EVERY_ROLE, False),
    ("arn:aws:iam::*:role/ci-*", "role", EVERY_ROLE, False),
    ("ARN:AWS:IAM::*:ROLE/*", "role", ROLE_PATTERN, True),
])
def test_resource_scopes(resource, kind, scope, expected):
    assert resource_in_scope(resource, kind, scope) is expected


def test_references_and_partly_known_resources():
    role = Ref("aws_iam_role.app.arn", "module.x.aws_iam_role.app", None, "arn")
    assert resource_in_scope(role, "role", PRINCIPAL) is True
    assert resource_in_scope(role, "role", ROLE_PATTERN) is False
    assert resource_in_scope(role, "user", PRINCIPAL) is False
    bucket = Ref("aws_s3_bucket.b.arn", "aws_s3_bucket.b", None, "arn")
    assert resource_in_scope(bucket, "role", PRINCIPAL) is False
    account = Unknown("data.aws_caller_identity.current.account_id")
    # holes are read as plain names: the known parts decide
    assert resource_in_scope(Template("t", ("arn:aws:iam::", account, ":role/app-*")), "role", ROLE_PATTERN)
    assert not resource_in_scope(Template("t", ("arn:aws:iam::", account, ":role/app")), "role", ROLE_PATTERN)
    assert resource_in_scope(Unknown("var.arns"), "role", PRINCIPAL) is None


# -- paths -----------------------------------------------------------------------------------
def test_passrole_and_a_compute_action_across_two_statements():
    statements = [stmt(["iam:passrole"]), stmt(["ec2:describe*"]), stmt(["ec2:runinstances"])]
    assert escalation_paths(statements) == [
        {"path": "iam:PassRole + ec2:RunInstances", "actions": ["iam:passrole", "ec2:runinstances"],
         "statements": [0, 2]}]


def test_passrole_alone_or_on_a_named_role_is_no_path():
    assert names([stmt(["iam:passrole"])]) == []
    named = "arn:aws:iam::111122223333:role/fn"
    assert names([stmt(["iam:passrole"], [named]), stmt(["lambda:createfunction"])]) == []
    # the compute action may be scoped: the role passed is what escalates
    function = "arn:aws:lambda:*:*:function:x-*"
    assert names([stmt(["iam:passrole"]), stmt(["lambda:createfunction"], [function])]) == [
        "iam:PassRole + lambda:CreateFunction"]


def test_single_actions_and_wildcards():
    assert names([stmt(["iam:put*"], ["arn:aws:iam::*:role/*"])]) == ["iam:PutRolePolicy"]
    found = names([stmt(["iam:*"])])
    assert "iam:CreatePolicyVersion" in found and "iam:UpdateLoginProfile" in found
    assert not any("+" in name for name in found)  # nothing to run the role passed
    assert names([stmt(["iam:get*", "iam:list*"])]) == []
    assert names([stmt(["sts:assumerole"])]) == ["sts:AssumeRole on every role"]
    assert names([stmt(["sts:assumerole"], ["arn:aws:iam::*:role/deployer"])]) == []


def test_not_action_allows_everything_it_does_not_exclude():
    # the PowerUserAccess shape: no IAM action, but every role trusting the account may be
    # assumed, and every function's code replaced
    assert names([stmt(not_actions=["iam:*", "organizations:*"])]) == [
        "lambda:UpdateFunctionCode on every function", "sts:AssumeRole on every role"]
    found = names([stmt(not_actions=["s3:*"])])
    assert "iam:PassRole + ec2:RunInstances" in found and "iam:AttachUserPolicy" in found
    path = escalation_paths([stmt(not_actions=["s3:*"])])[0]
    assert path["actions"] == ["iam:createpolicyversion"]  # a NotAction grant names the action


def test_not_resource_counts_as_every_resource_but_star():
    assert names([stmt(["iam:createaccesskey"], [], not_resources=["arn:aws:iam::*:user/root"])]) \
        == ["iam:CreateAccessKey"]
    assert names([stmt(["iam:createaccesskey"], [], not_resources=["*"])]) == []


def test_deny_is_subtracted_only_when_unconditional_on_every_resource():
    allow = stmt(["iam:passrole", "ec2:runinstances", "iam:attachrolepolicy"])
    assert names([allow, stmt(["iam:passrole", "iam:attach*"], effect="Deny")]) == []
    no_mfa = {"operator": "Bool", "key": "aws:multifactorauthpresent", "values": ["false"]}
    conditional = stmt(["iam:*"], effect="Deny", conditions=[no_mfa])
    assert names([allow, conditional]) == ["iam:AttachRolePolicy", "iam:PassRole + ec2:RunInstances"]
    scoped = stmt(["iam:passrole"], ["arn:aws:iam::*:role/admin"], effect="Deny")
    assert "iam:PassRole + ec2:RunInstances" in names([allow, scoped])


def test_conditions_do_not_remove_a_path():
    passed_to = [{"operator": "StringEquals", "key": "iam:passedtoservice", "values": ["ec2.amazonaws.com"]}]
    assert names([stmt(["iam:passrole", "ec2:runinstances"], conditions=passed_to)]) == [
        "iam:PassRole + ec2:RunInstances"]


def test_full_admin_is_marked_for_the_other_rule():
    paths = escalation_paths([stmt(["*"])])
    assert paths[0] == {"path": FULL_ADMIN, "actions": ["*"], "statements": [0]}
    assert names([stmt(["*"], ["arn:aws:s3:::b/*"])]) == []  # "*" on one bucket reaches no principal


# -- unknown values --------------------------------------------------------------------------
def test_unknown_actions_resources_and_statements_leave_the_paths_undecided():
    actions = Unknown("var.extra_actions")
    assert escalation_paths([stmt([actions])]) == [actions]
    arns = Unknown("var.role_arns")
    assert escalation_paths([stmt(["iam:attachrolepolicy"], [arns])]) == [arns]
    document = Unknown("var.policy_json")
    assert escalation_paths([document]) == [document]
    effect = Unknown("var.effect")
    assert escalation_paths([stmt(["iam:putuserpolicy"], effect=effect)]) == [effect]
    verb = Template("var.verb", ("iam:", Unknown("var.verb")))
    assert escalation_paths([stmt([verb])]) == [verb]


def test_unknown_values_that_cannot_complete_a_path_are_ignored():
    # an unknown resource does not matter when no action escalates
    assert escalation_paths([stmt(["s3:getobject"], [Unknown("var.buckets")])]) == []
    # nor an unknown NotAction item when a known one already excludes the action
    assert escalation_paths([stmt(not_actions=["*", Unknown("var.more")])]) == []
    # the same unknown completing several paths is listed once
    actions = Unknown("var.extra_actions")
    assert escalation_paths([stmt([actions]), stmt(["iam:passrole"])]) == [actions]


def test_a_certain_path_leaves_the_undecided_ones_out():
    statements = [stmt(["iam:createaccesskey"]), stmt([Unknown("var.extra_actions")])]
    assert escalation_paths(statements) == [
        {"path": "iam:CreateAccessKey", "actions": ["iam:createaccesskey"], "statements": [0]}]


# -- entities --------------------------------------------------------------------------------
def entity(kind: str, type_: str, data: dict) -> Entity:
    return Entity("terraform", kind, type_, f"{type_}.x", "main.tf", Span(1), data,
                  DictLocator({("policy",): Span(7), ("statement", 0): Span(3), ("statement", 1): Span(9)}))


def test_identity_policies_get_paths_located_at_the_policy():
    policy = ('{"Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "glue:CreateDevEndpoint"],'
              ' "Resource": "*"}]}')
    derived = with_escalation(with_statements(entity("resource", "aws_iam_role_policy", {"policy": policy})))
    assert [p["path"] for p in derived.data["escalation_paths"]] == ["iam:PassRole + glue:CreateDevEndpoint"]
    assert derived.locator.span(("escalation_paths",)) == Span(7)
    assert derived.locator.span(("escalation_paths", 0)) == Span(7)


def test_policy_documents_locate_paths_at_their_statement_block():
    data = {"statement": [{"actions": ["s3:GetObject"], "resources": ["*"]},
                          {"actions": ["iam:CreateLoginProfile"], "resources": ["*"]}]}
    derived = with_escalation(with_statements(entity("data", "aws_iam_policy_document", data)))
    assert derived.data["escalation_paths"][0]["statements"] == [1]
    assert derived.locator.span(("escalation_paths", 0)) == Span(9)


def test_resource_policies_and_other_entities_are_left_alone():
    trust = '{"Statement": [{"Effect": "Allow", "Action": "*", "Principal": {"AWS": "*"}, "Resource": "*"}]}'
    bucket = with_escalation(with_statements(entity("resource", "aws_s3_bucket_policy", {"policy": trust})))
    assert "escalation_paths" not in bucket.data
    role = with_escalation(with_statements(entity("resource", "aws_iam_role", {"assume_role_policy": trust})))
    assert "escalation_paths" not in role.data
    assert "escalation_paths" not in with_escalation(entity("resource", "aws_s3_bucket", {})).data


@pytest.mark.parametrize(("resource", "counts"), [
    ("*", True),
    ("arn:aws:lambda:*:*:function:*", True),
    ("arn:aws:lambda:eu-west-1:111122223333:function:*", True),
    ("arn:aws:lambda:eu-west-1:111122223333:function:orders-*", False),
    ("arn:aws:lambda:eu-west-1:111122223333:function:orders", False),
    ("arn:aws:s3:::bucket/*", False),
])
def test_update_function_code_counts_on_every_function_only(resource, counts):
    found = names([stmt(actions=["lambda:updatefunctioncode"], resources=[resource])])
    assert found == (["lambda:UpdateFunctionCode on every function"] if counts else [])
