"""Principals of policy statements (by type, accounts, GitHub OIDC trust), the policy-holding
resources read, and root-module entities for "a root that declares X must contain Y" rules."""

from __future__ import annotations

import json

import pytest
from helpers import run_cli, write

from soc2lint.derive import derive
from soc2lint.derive.iam import statements
from soc2lint.derive.principals import own_accounts, principal_fields
from soc2lint.discovery import discover
from soc2lint.evaluate.project import Project
from soc2lint.evaluate.values import Ref, Template, Unknown
from soc2lint.rules import load_rules
from soc2lint.scan import scan

SUB = "token.actions.githubusercontent.com:sub"
AUD = "token.actions.githubusercontent.com:aud"
GITHUB = {"Federated": "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}


def _trust(principal, condition=None) -> dict:
    document = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                               "Principal": principal, **({"Condition": condition} if condition else {})}]}
    return statements(document)[0]


def test_principals_by_type_and_account():
    caller = Template("t", ("arn:aws:iam::", Ref("r", "data.aws_caller_identity.current"), ":root"))
    fields = principal_fields({"AWS": ["arn:aws:iam::444455556666:role/ci", "777788889999", caller,
                                       Unknown("var.trusted")],
                               "Service": "lambda.amazonaws.com"}, [])
    assert fields["principal_service"] == ["lambda.amazonaws.com"]
    assert fields["principal_accounts"][:2] == ["444455556666", "777788889999"]
    assert len(fields["principal_accounts"]) == 3 and isinstance(fields["principal_accounts"][2], Unknown)
    assert principal_fields("*", [])["principal_aws"] == ["*"]
    assert principal_fields("*", [])["principal_accounts"] == []
    assert "github_oidc" not in fields


@pytest.mark.parametrize(("condition", "scope"), [
    (None, "missing"),
    ({"StringLike": {SUB: "repo:acme/api:*"}}, "one-repository"),
    ({"StringEquals": {SUB: "repo:acme/api:environment:prod"}}, "one-repository"),
    ({"StringLike": {SUB: ["repo:acme/api:ref:refs/heads/main", "repo:acme/web:*"]}}, "one-repository"),
    ({"StringLike": {SUB: "repo:acme/*"}}, "many-repositories"),
    ({"StringLike": {SUB: "repo:acme/api*"}}, "many-repositories"),
    ({"StringLike": {SUB: "repo:*"}}, "many-repositories"),
    ({"StringLike": {SUB: "*"}}, "many-repositories"),
    ({"StringLike": {SUB: ["repo:acme/api:*", "repo:*"]}}, "many-repositories"),
    ({"StringNotEquals": {SUB: "repo:acme/api:*"}}, "missing"),  # a negation narrows nothing
    ({"StringEquals": {SUB: "repository_owner_id:42:repository_id:7"}}, "custom"),
])
def test_github_oidc_subject_scope(condition, scope):
    assert _trust(GITHUB, condition)["github_oidc"]["subject_scope"] == scope


def test_github_oidc_audience_and_recognition_by_condition_keys():
    by_key = _trust({"Federated": "arn:aws:iam::1:oidc-provider/x"},
                    {"StringEquals": {AUD: "sts.amazonaws.com", SUB: "repo:a/b:*"}})
    assert by_key["github_oidc"] == {"subject_scope": "one-repository", "subjects": ["repo:a/b:*"],
                                     "audience": "sts"}
    assert _trust(GITHUB)["github_oidc"]["audience"] == "missing"
    assert _trust(GITHUB, {"StringEquals": {AUD: "api://x"}})["github_oidc"]["audience"] == "other"
    assert "github_oidc" not in _trust({"Service": "ec2.amazonaws.com"})


def test_unresolved_subject_is_unknown():
    trust = _trust(GITHUB, {"StringLike": {SUB: Unknown("var.subject")}})
    assert isinstance(trust["github_oidc"]["subject_scope"], Unknown)


@pytest.mark.parametrize(("block", "attribute"), [
    ('resource "aws_secretsmanager_secret_policy" "p" {\n  secret_arn = "x"\n', "policy"),
    ('resource "aws_glacier_vault" "p" {\n  name = "x"\n', "access_policy"),
    ('resource "aws_opensearch_domain" "p" {\n  domain_name = "x"\n', "access_policies"),
    ('resource "aws_kms_key_policy" "p" {\n  key_id = "x"\n', "policy"),
    ('resource "aws_sqs_queue" "p" {\n  name = "x"\n', "policy"),
    ('resource "aws_sns_topic" "p" {\n  name = "x"\n', "policy"),
])
def test_every_policy_holding_resource_has_statements(tmp_path, block, attribute):
    policy = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "x:Get"}]})
    write(tmp_path, {"main.tf": f"{block}  {attribute} = jsonencode({policy})\n}}\n"})
    entity = next(derive(Project().evaluate(discover([str(tmp_path / "main.tf")]).sources).entities))
    assert entity.data["iam_statements"][0]["anyone"] is True


# -- root modules ------------------------------------------------------------------------------

USERS = 'resource "aws_iam_user" "a" {\n  name = "a"\n}\n\nresource "aws_iam_user" "b" {\n  name = "b"\n}\n'
POLICY = ('resource "aws_iam_account_password_policy" "p" {\n  minimum_password_length = 14\n'
          '  password_reuse_prevention = 24\n}\n')


def _password_policy(paths: list[str]) -> list[tuple[str, int, str]]:
    rule = [r for r in load_rules() if r.id == "aws-iam-password-policy"]
    result = scan(discover(paths), rule)
    return [(f.path, f.span.line, f.status) for f in result.findings]


def test_a_root_is_judged_once_at_its_first_declaration(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"stack/b.tf": USERS, "stack/a.tf": 'resource "aws_iam_user" "z" {\n  name = "z"\n}\n'})
    assert _password_policy(["stack"]) == [("stack/a.tf", 1, "fail")]
    write(tmp_path, {"stack/account.tf": POLICY})
    assert _password_policy(["stack"]) == [("stack/a.tf", 1, "pass")]


def test_a_staged_file_without_the_declaration_is_not_judged(tmp_path, monkeypatch):
    """pre-commit passes the staged files: the root is read whole as context, and judged only
    when a staged file declares X (the finding must stand in a reported file)."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"stack/users.tf": USERS, "stack/other.tf": 'resource "aws_s3_bucket" "b" {\n}\n'})
    assert _password_policy(["stack/other.tf"]) == []
    assert _password_policy(["stack/users.tf"]) == [("stack/users.tf", 1, "fail")]


def test_a_root_with_a_file_that_does_not_parse_is_undecided(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"stack/users.tf": USERS, "stack/broken.tf": 'resource "x" {\n',
                     "stack/empty.tf": ""})
    assert _password_policy(["stack/users.tf"]) == [("stack/users.tf", 1, "unknown")]
    (tmp_path / "stack" / "broken.tf").unlink()
    assert _password_policy(["stack/users.tf"]) == [("stack/users.tf", 1, "fail")]  # empty is whole


def test_a_module_called_by_a_scanned_root_is_not_a_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path, {"modules/users/main.tf": USERS,
                     "live/main.tf": 'module "users" {\n  source = "../modules/users"\n}\n'
                     + POLICY})
    findings = _password_policy(["."])
    assert findings == [("modules/users/main.tf", 1, "pass")]
    data = json.loads(run_cli(["scan", ".", "-f", "json", "--rule", "aws-iam-password-policy"],
                              tmp_path).stdout)
    assert data["results"][0]["entity"]["address"] == "root(live).aws_iam_user"


def test_github_oidc_forms_seen_in_real_modules():
    """ForAllValues operators, a partly known provider ARN, an enterprise issuer."""
    all_values = _trust(GITHUB, {"ForAllValues:StringEquals": {AUD: "sts.amazonaws.com"},
                                 "ForAnyValue:StringLike": {SUB: "repo:a/b:*"}})["github_oidc"]
    assert (all_values["audience"], all_values["subject_scope"]) == ("sts", "one-repository")
    partly = Template("t", ("arn:aws:iam::", Ref("r", "data.aws_caller_identity.current"),
                            ":oidc-provider/token.actions.githubusercontent.com"))
    assert _trust({"Federated": partly})["github_oidc"]["subject_scope"] == "missing"
    issuer = "token.actions.githubusercontent.com/acme"
    enterprise = _trust({"Federated": f"arn:aws:iam::1:oidc-provider/{issuer}"},
                        {"StringEquals": {f"{issuer}:sub": "repo:acme/api:*",
                                          f"{issuer}:aud": "sts.amazonaws.com"}})
    assert enterprise["github_oidc"]["subject_scope"] == "one-repository"
    assert enterprise["github_oidc"]["audience"] == "sts"


def test_principal_type_star_and_same_configuration_roles():
    assert principal_fields({"*": ["*"]}, [])["principal_aws"] == ["*"]
    role = Ref("r", "module.x.aws_iam_role.intermediate", attribute="arn")
    assert principal_fields({"AWS": role}, [])["principal_accounts"] == []


def test_the_provider_s_own_account_is_left_out(tmp_path):
    trust = ('resource "aws_iam_role" "r" {\n  name = "r"\n  assume_role_policy = jsonencode({Statement = '
             '[{Effect = "Allow", Action = "sts:AssumeRole", Principal = {AWS = '
             '["arn:aws:iam::111122223333:root", "444455556666"]}}]})\n}\n')

    def accounts(provider: str) -> list:
        write(tmp_path, {"main.tf": provider + trust})
        found = discover([str(tmp_path / "main.tf")])
        evaluated = Project().evaluate(found.sources)
        entity = next(e for e in derive(evaluated.entities, own_accounts(evaluated.entities))
                      if e.type == "aws_iam_role")
        return entity.data["iam_statements"][0]["principal_accounts"]

    assert accounts("") == ["111122223333", "444455556666"]
    assert accounts('provider "aws" {\n  allowed_account_ids = ["111122223333"]\n}\n') == ["444455556666"]
    assert accounts('provider "aws" {\n  assume_role {\n    role_arn = "arn:aws:iam::444455556666:role/t"\n'
                    '  }\n}\n') == ["111122223333"]
