"""The credential detector (detect-secrets underneath) and where Terraform credentials are
reported: in the block, at a variable's default, or at a module argument.

Secret-shaped values are assembled at run time (fakesecrets), so no whole credential is committed.
"""

from __future__ import annotations

import base64
import json

import pytest
from fakesecrets import FAKE_VALUES
from helpers import run_cli, write

from soc2lint.secrets import (
    decoded_base64,
    find_in_text,
    is_password_name,
    is_placeholder,
    is_secret_name,
    judge,
    string_leaves,
)

AWS_KEY_ID = FAKE_VALUES["__FAKE_AWS_ACCESS_KEY_ID__"]
AWS_SECRET = FAKE_VALUES["__FAKE_AWS_SECRET_KEY__"]
GITHUB_TOKEN = FAKE_VALUES["__FAKE_GITHUB_TOKEN__"]
PEM = FAKE_VALUES["__FAKE_PRIVATE_KEY__"]
RANDOM = "q8Zr2LmX9vT4kP1sW7yN3bQ6"  # 24 distinct-ish characters: random by detect-secrets' measure


@pytest.mark.parametrize(("value", "kind"), [
    (AWS_KEY_ID, "AWS Access Key"),
    (GITHUB_TOKEN, "GitHub Token"),
    (PEM, "Private Key"),
    ("postgres://app:" + "s3cret-pw" + "@db.internal:5432/app", "Basic Auth Credentials"),
    ("github_pat_" + "A1b2C3d4E5" * 5, "GitHub Token"),
    ("AIza" + "SyA1234567890abcdefghijklmnopqrstuv", "Google API Key"),
])
def test_token_detectors_recognise_a_value_whatever_its_name(value, kind):
    found = judge("note", value)
    assert found is not None and found[0] == kind
    assert value not in found[1]


@pytest.mark.parametrize(("name", "value"), [
    ("DB_PASSWORD", "Winter2024!billing"),  # a password name: any literal
    ("adminPassword", "changeme-now"),
    ("API_TOKEN", RANDOM),  # a secret-like name and a random value
    ("secret_key", AWS_SECRET),
])
def test_names_give_the_context(name, value):
    assert judge(name, value) is not None


@pytest.mark.parametrize(("name", "value"), [
    ("API_TOKEN", "abc123"),  # secret-like name, not random: entropy decides
    ("token_audience", "sts.amazonaws.com"),  # about a token, not one
    ("LOG_LEVEL", RANDOM),  # random, but no name gives the context
    ("password", "${var.db_password}"),
    ("password", "<set me>"),
    ("password", "{{ .Values.password }}"),
    ("password", "$(DB_PASSWORD)"),
    ("DISABLE_PASSWORD", "true"),
    ("password", "********"),
    ("password", "123456"),  # a sequence
    ("password", ""),
    ("DATABASE_URL", "postgres://app:$(DB_PASSWORD)@db/app"),
    ("DATABASE_URL", "postgres://app@db/app"),
])
def test_placeholders_and_context_free_values_are_not_secrets(name, value):
    assert judge(name, value) is None


def test_an_argument_that_holds_a_credential_fails_on_any_literal():
    assert judge("plaintext_value", "short") is None
    assert judge("plaintext_value", "short", bearing=True) is not None
    assert judge("plaintext_value", "${var.x}", bearing=True) is None


def test_json_documents_are_judged_by_their_values():
    document = json.dumps({"username": "app", "password": "Spring-2024-app"})
    assert judge("policy", document) is not None  # the password inside, by its own name
    assert judge("policy", json.dumps({"username": "app", "port": 5432})) is None
    assert judge("secret_string", json.dumps({"username": "app"}), bearing=True) is not None
    assert judge("secret_string", json.dumps({"password": ""}), bearing=True) is None


@pytest.mark.parametrize(("name", "secret", "password"), [
    ("dbPassword", True, True), ("DB-PASSWORD", True, True), ("administrator_login_password", True, True),
    ("API_KEY", True, False), ("apikey", True, False), ("client_secret", True, False),
    ("AWS_SECRET_ACCESS_KEY", True, False), ("auth", True, False), ("basic_auth", True, False),
    ("passwordLength", False, False), ("secret_arn", False, False), ("author", False, False),
    ("bypass_mode", False, False), ("oauth_issuer", False, False), ("token_ttl", False, False),
    ("POSTGRES_PASSWORD_FILE", False, False), ("password_policy", False, False),
])
def test_secret_like_names(name, secret, password):
    assert is_secret_name(name) is secret
    assert is_password_name(name) is password


def test_placeholders():
    assert is_placeholder("${var.x}") and is_placeholder("<token>") and is_placeholder("xxxx")
    assert is_placeholder("00000000-1111-2222-3333-444444444444")  # a UUID is an id
    assert not is_placeholder("hunter22")


def test_scripts_are_read_line_by_line_with_the_line_named():
    script = f"#!/bin/bash\nexport AWS_ACCESS_KEY_ID={AWS_KEY_ID}\nDB_PASSWORD=hunter-22\n" \
             "TOKEN=$(cat /run/token)\necho done\n"
    hits = find_in_text(script, ("user_data",), "user_data")
    assert [(h.kind, h.redacted.rsplit(" on ", 1)[1]) for h in hits] == [
        ("AWS Access Key", "line 2 of user_data"), ("Secret Keyword", "line 3 of user_data")]
    assert all("hunter" not in h.redacted and AWS_KEY_ID not in h.redacted for h in hits)


def test_base64_is_decoded_only_when_it_is_text():
    encoded = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    assert decoded_base64(encoded) == "#!/bin/sh\necho hi\n"
    assert decoded_base64("not base64!") is None
    assert decoded_base64(base64.b64encode(bytes(range(256))).decode()) is None  # not UTF-8


def test_name_value_pairs_are_named_by_their_name():
    env = [{"name": "DB_PASSWORD", "value": "x"},
           {"name": "TOKEN", "type": "SECRETS_MANAGER", "value": "a/b"}]
    assert [(path, name) for path, name, _ in string_leaves(env)] == [
        ((0, "name"), "name"), ((0, "value"), "DB_PASSWORD"), ((1, "name"), "name"), ((1, "type"), "type"),
        ((1, "value"), "value")]


# -- where Terraform credentials are reported ----------------------------------------------------
def _failures(tmp_path, rule: str) -> list[tuple[str, int, str]]:
    result = run_cli(["scan", ".", "--rule", rule, "--format", "json", "--fail-on", "none"], tmp_path)
    report = json.loads(result.output)
    return sorted((f["file"], f["line"], f["message"]) for f in report["results"] if f["outcome"] == "fail")


def test_a_default_is_reported_once_at_the_default_naming_every_use(tmp_path):
    write(tmp_path, {"main.tf": '''\
variable "pw" {
  default = "Orders-2024-master!"
}

resource "aws_db_instance" "a" {
  password = var.pw
}

resource "aws_rds_cluster" "b" {
  master_password = "${var.pw}"
}
'''})
    [(path, line, message)] = _failures(tmp_path, "tf-variable-default-secret")
    assert (path, line) == ("main.tf", 2)
    assert "aws_db_instance.a.password" in message and "aws_rds_cluster.b.master_password" in message
    assert "Orders" not in message
    assert _failures(tmp_path, "aws-db-password-literal") == []  # not again at each resource


def test_a_default_overridden_by_a_variable_file_is_not_reported(tmp_path):
    write(tmp_path, {"main.tf": 'variable "pw" {\n  default = "dev-only-pw"\n}\n\n'
                     'resource "aws_db_instance" "a" {\n  password = var.pw\n}\n',
                     "terraform.tfvars": 'pw = "from-the-var-file"\n'})
    assert _failures(tmp_path, "tf-variable-default-secret") == []
    # the value of the variable file is a literal in the repository too: reported at the use
    assert [line for _, line, _ in _failures(tmp_path, "aws-db-password-literal")] == [6]


def test_a_module_argument_is_reported_at_the_call_when_the_module_uses_it_as_a_credential(tmp_path):
    write(tmp_path, {"main.tf": '''\
module "app" {
  source   = "./app"
  db_pass  = "Checkout-db-2024"
  greeting = "Checkout-db-2024"
}
''', "app/main.tf": '''\
variable "db_pass" {}
variable "greeting" {}

resource "aws_db_instance" "this" {
  password = var.db_pass
}

resource "aws_ssm_parameter" "hello" {
  name  = "/app/greeting"
  type  = "String"
  value = var.greeting
}
'''})
    failures = _failures(tmp_path, "tf-module-argument-secret")
    assert [(path, line) for path, line, _ in failures] == [("main.tf", 3)]
    assert _failures(tmp_path, "aws-db-password-literal") == []


def test_a_default_keeps_its_origin_without_changing_what_it_evaluates_to(tmp_path):
    from soc2lint.evaluate.project import evaluate_text

    [entity] = [e for e in evaluate_text("main.tf", '''\
variable "kind" {
  default = "SecureString"
}

resource "aws_ssm_parameter" "p" {
  name  = "/app/${var.kind}"
  type  = var.kind == "SecureString" ? "SecureString" : "String"
  tier  = contains(["SecureString"], var.kind) ? regex("^S[a-z]+", var.kind) : "none"
  value = { (var.kind) = upper(var.kind) }[var.kind]
}
''') if e.kind == "resource"]
    assert entity.data["name"] == "/app/SecureString"
    assert entity.data["type"] == "SecureString"
    assert entity.data["tier"] == "Secure"
    assert entity.data["value"] == "SECURESTRING"
