"""Relations with relations of their own: a chain of joins a rule can follow."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli, write

from soc2lint.rules import RuleError, load_rules

RULE = """\
id: x-user-in-audited-group
title: Users belong to a group with an attached policy
severity: low
soc2: {primary: [CC6.1]}
tags: [x-test]
precision: high
target: {framework: terraform, kind: resource, type: aws_iam_user}
related:
  memberships:
    type: aws_iam_user_group_membership
    by: user
    match: [name]
    related:
      groups:
        type: aws_iam_group
        via: groups
        match: [name]
        related:
          attachments: {type: aws_iam_group_policy_attachment, by: group, match: [name]}
assert:
  some: related.memberships
  assert:
    some: related.groups
    assert: {path: related.attachments, empty: false}
message: "User '{name}' is in no group with a policy. Add it to one."
"""

TF = """\
resource "aws_iam_group" "with_policy" {
  name = "ops"
}

resource "aws_iam_group" "bare" {
  name = "guests"
}

resource "aws_iam_group_policy_attachment" "ops" {
  group      = aws_iam_group.with_policy.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_user" "in_ops" {
  name = "a"
}

resource "aws_iam_user_group_membership" "in_ops" {
  user   = aws_iam_user.in_ops.name
  groups = [aws_iam_group.with_policy.name]
}

resource "aws_iam_user" "in_guests" {
  name = "b"
}

resource "aws_iam_user_group_membership" "in_guests" {
  user   = aws_iam_user.in_guests.name
  groups = ["guests"]
}

resource "aws_iam_user" "unresolved" {
  name = "c"
}

variable "group" {
  type = string
}

resource "aws_iam_user_group_membership" "unresolved" {
  user   = aws_iam_user.unresolved.name
  groups = [var.group]
}
"""


def test_a_chain_of_joins_is_followed(tmp_path):
    write(tmp_path, {"rules/x-user-in-audited-group.yaml": RULE, "iam/main.tf": TF})
    result = run_cli(["scan", "iam", "--rules-dir", "rules", "--rule", "x-user-in-audited-group",
                      "-f", "json"], tmp_path)
    outcomes = {r["entity"]["address"]: r["status"] for r in json.loads(result.stdout)["results"]}
    assert outcomes == {"aws_iam_user.in_ops": "pass", "aws_iam_user.in_guests": "fail",
                        "aws_iam_user.unresolved": "unknown"}


def test_a_nested_relation_without_a_way_is_named_in_full(tmp_path):
    write(tmp_path, {"x-user-in-audited-group.yaml": RULE.replace("by: group, match: [name]", "")})
    with pytest.raises(RuleError, match=r"related\.memberships\.related\.groups\.related\.attachments"):
        load_rules([tmp_path])
