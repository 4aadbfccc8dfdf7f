"""What soc2lint shows never repeats a secret of the scanned code: the literals of an expression
it could not resolve, credentials in URLs, or an ignore whose justification no one can see.

Every check runs the real CLI over every output format. Marker values are assembled here, so the
repository never holds one whole.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from helpers import run_cli, write

MARK = "hunter" + "2" + "-lit"

OUTPUTS = {
    "text": ["scan", ".", "--fail-on", "none"],
    "json": ["scan", ".", "--fail-on", "none", "--format", "json"],
    "sarif": ["scan", ".", "--fail-on", "none", "--format", "sarif", "--sarif-include-unknown",
              "--sarif-include-suppressed"],
    "github": ["scan", ".", "--fail-on", "none", "--format", "github"],
    "report-markdown": ["report", ".", "--format", "markdown"],
    "report-json": ["report", ".", "--format", "json"],
    "report-html": ["report", ".", "--format", "html"],
}


def every_output(root: Path, *extra: str) -> dict[str, str]:
    """The output of each format for the tree at `root`."""
    found = {}
    for name, args in OUTPUTS.items():
        result = run_cli([*args, *extra], root)
        assert result.exit_code in (0, 1), (name, result.output)
        found[name] = result.output
    return found


def leaks(outputs: dict[str, str], *secrets: str) -> list[tuple[str, str]]:
    """(format, secret) for each secret found in an output."""
    return [(name, secret) for name, text in outputs.items() for secret in secrets if secret in text]


# -- literals in the reasons of undecided results -------------------------------------------------
COMMON_TF = '''\
variable "n" {}

locals {
  m = { a = true }
}

resource "aws_kms_key" "k" {
  for_each = toset(["a"])
}
'''

# case -> (the value of storage_encrypted, with LIT for the literal, and the reason expected)
LITERAL_CASES = {
    "call": ('cidrsubnet("10.0.0.0/8-LIT", 1, var.n)',
             "cidrsubnet(\"…\", 1, var.n): function 'cidrsubnet' is not evaluated"),
    "heredoc": ("format(<<EOT\nLIT %s\nEOT\n, var.n)", 'format("…", var.n)'),
    "directive": ('"%{ if var.n }LIT%{ endif }"',
                  '"%{ if var.n }…%{ endif }": template directives are not evaluated'),
    "file-function": ('templatefile("p.tpl", { token = "LIT", n = var.n })',
                      'templatefile("…", {token = "…", n = var.n}): file contents are not read'),
    "provider-function": ('provider::aws::arn_parse("LIT-${var.n}")',
                          'provider::aws::arn_parse("…${var.n}"): provider functions are not evaluated'),
    "conversion-error": ('tobool("LIT")', 'tobool("…"): tobool: a bool is required, got string'),
    "lookup-error": ('lookup(local.m, "LIT")',
                     'lookup(local.m, "…"): lookup: the key is not in the map and no default is given'),
    "index-error": ('local.m["LIT"]', 'local.m["…"]: no such key in the map'),
    "instance-error": ('aws_kms_key.k["LIT"].arn',
                       'aws_kms_key.k["…"].arn: aws_kms_key.k has no instance with that key'),
}


def literal(case: str) -> str:
    return f"{case}.{MARK}"


@pytest.fixture(scope="module")
def literal_tree(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("literals")
    files = {"common.tf": COMMON_TF}
    for case, (expression, _) in LITERAL_CASES.items():
        files[f"{case}.tf"] = (f'resource "aws_db_instance" "{case.replace("-", "_")}" {{\n'
                               f'  storage_encrypted = {expression.replace("LIT", literal(case))}\n}}\n')
    json_literal = literal("tf-json")
    files["tf-json.tf.json"] = json.dumps({"resource": {"aws_db_instance": {"tf_json": {
        "storage_encrypted": f'${{cidrsubnet("{json_literal}", 1, var.n)}}'}}}})
    files["policy.tf"] = ('resource "aws_iam_policy" "policy" {\n'
                          f'  policy = "{literal("policy")} is not JSON"\n}}\n')
    write(root, files)
    return root, every_output(root)


def unresolved(outputs: dict[str, str], file: str, rule: str) -> list[str]:
    data = json.loads(outputs["json"])
    found = [r for r in data["results"] if r["file"] == file and r["rule_id"] == rule]
    assert [r["outcome"] for r in found] == ["unknown"]
    return found[0]["unresolved"]


def sarif_messages(outputs: dict[str, str], file: str) -> list[str]:
    log = json.loads(outputs["sarif"])
    return [r["message"]["text"] for r in log["runs"][0]["results"]
            if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == file]


def report_messages(outputs: dict[str, str], file: str) -> list[str]:
    report = json.loads(outputs["report-json"])
    return [item["message"] for test in report["tests"].values() for item in test["items"]
            if item["file"] == file]


@pytest.mark.parametrize("case", LITERAL_CASES)
def test_reason_names_the_reference_never_the_literal(literal_tree, case):
    _, outputs = literal_tree
    reason = LITERAL_CASES[case][1]
    assert leaks(outputs, literal(case)) == []
    assert unresolved(outputs, f"{case}.tf", "aws-rds-storage-encrypted") == [reason]
    assert f"depends on {reason}" in outputs["text"]
    assert any(reason in message for message in sarif_messages(outputs, f"{case}.tf"))
    assert any(reason in message for message in report_messages(outputs, f"{case}.tf"))


def test_template_of_a_tf_json_string_is_named_without_its_literal(literal_tree):
    _, outputs = literal_tree
    assert leaks(outputs, literal("tf-json")) == []
    assert unresolved(outputs, "tf-json.tf.json", "aws-rds-storage-encrypted") == [
        "cidrsubnet(\"…\", 1, var.n): function 'cidrsubnet' is not evaluated"]


def test_a_document_that_is_not_json_is_named_by_position(literal_tree):
    _, outputs = literal_tree
    assert leaks(outputs, literal("policy")) == []
    assert unresolved(outputs, "policy.tf", "aws-iam-policy-full-admin") == [
        "not valid JSON (line 1, column 1)"]


# -- credentials in URLs --------------------------------------------------------------------------
def password(tag: str) -> tuple[str, ...]:
    """Pieces of a password for one URL form, each one unique and searched for on its own."""
    return tuple(f"{part}{tag}" + "Zq" + "9w" for part in ("pa", "ss"))


def user(tag: str) -> str:
    return f"usr{tag}" + "Kx"


def module_sources() -> list[tuple[str, str, tuple[str, ...]]]:
    """(source written, source shown, secrets) for each remote module source form."""
    forms = []

    def add(tag: str, written: str, shown: str, *pieces: str) -> None:
        forms.append((written, shown, pieces))

    a, b = password("1")
    add("1", f"git::https://{user('1')}:{a}{b}@github.com/org/mod-one.git?ref=v1",
        "git::https://github.com/org/mod-one.git?ref=v1", user("1"), a, b)
    a, b = password("2")
    add("2", f"git+https://{user('2')}:{a}{b}@gitlab.example.com/org/mod-two.git",
        "git+https://gitlab.example.com/org/mod-two.git", user("2"), a, b)
    for tag, joint in (("3", "/"), ("4", "@"), ("5", ":"), ("6", "%2F")):
        a, b = password(tag)
        add(tag, f"https://{user(tag)}:{a}{joint}{b}@artifacts.example.com/modules/m{tag}.zip",
            f"https://artifacts.example.com/modules/m{tag}.zip", user(tag), a, b)
    a, b = password("7")
    add("7", f"s3::https://{user('7')}:{a}/{b}@s3-eu-west-1.amazonaws.com/bucket/m7.zip",
        "s3::https://s3-eu-west-1.amazonaws.com/bucket/m7.zip", user("7"), a, b)
    a, b = password("8")
    add("8", f"https://{a}{b}@github.com/org/m8.git", "https://github.com/org/m8.git", a, b)
    a, b = password("9")
    add("9", f"{user('9')}:{a}{b}@github.com:org/m9.git", "github.com:org/m9.git", user("9"), a, b)
    a, b = password("10")
    add("10", f"git::https://{user('10')}:{a}/{b}@[unparsable/m10", "git::https://[unparsable/m10",
        user("10"), a, b)
    a, b = password("11")
    add("11", f"git::git@github.com:org/m11.git?sshkey={a}{b}&ref=v2",
        "git::git@github.com:org/m11.git?sshkey=…&ref=v2", a, b)
    add("12", "git@github.com:org/m12.git", "git@github.com:org/m12.git")
    return forms


MODULE_RULE = """\
id: x-module-source-shown
title: Module calls pin a version
severity: low
soc2: {primary: [CC8.1]}
tags: [x-test]
precision: high
target: {framework: terraform, kind: module}
assert: {path: version, exists: true}
message: "Module '{name}' comes from {source}"
"""

STEP_RULE = """\
id: x-docker-step-shown
title: Docker steps pin a digest
severity: low
soc2: {primary: [CC8.1]}
tags: [x-test]
precision: high
target: {framework: github-actions, kind: step, where: {path: uses_ref.kind, equals: docker}}
assert: {path: uses_ref.ref_is_sha, equals: true}
message: "{name} runs {uses}"
"""

DOCKER_STEP = "docker://{user}:{a}/{b}@ghcr.io/org/tool:1"
WORKFLOW = """\
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    container:
      image: {container}
    services:
      db:
        image: {service}
    steps:
      - uses: docker://{user}:{c}{d}@ghcr.io/org/lint:2
      - uses: {docker_step}
"""
MANIFEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: {user}:{a}@{b}@registry.example.com/team/app:1.0
"""


@pytest.fixture(scope="module")
def url_tree(tmp_path_factory) -> tuple[Path, dict[str, str], list[str]]:
    root = tmp_path_factory.mktemp("urls")
    calls = "".join(f'module "m{i}" {{\n  source = "{written}"\n}}\n\n'
                    for i, (written, _, _) in enumerate(module_sources(), 1))
    a, b = password("gha")
    c, d = password("gha2")
    e, f = password("ctr")
    g, h = password("k8s")
    i, j = password("svc")
    files = {
        "main.tf": calls,
        "rules/x-module-source-shown.yaml": MODULE_RULE,
        "rules/x-docker-step-shown.yaml": STEP_RULE,
        ".github/workflows/ci.yml": WORKFLOW.format(
            container=f"{user('ctr')}:{e}{f}@ghcr.io/org/ci:3", user=user("gha"), c=c, d=d,
            service=f"{user('svc')}:{i}/{j}@ghcr.io/org/db:4",
            docker_step=DOCKER_STEP.format(user=user("gha"), a=a, b=b)),
        "k8s/pod.yaml": MANIFEST.format(user=user("k8s"), a=g, b=h),
    }
    write(root, files)
    secrets = [user("gha"), a, b, c, d, user("ctr"), e, f, user("k8s"), g, h, user("svc"), i, j]
    return root, every_output(root, "--rules-dir", "rules"), secrets


WITH_CREDENTIALS = [form for form in module_sources() if form[2]]


@pytest.mark.parametrize(("written", "shown", "secrets"), WITH_CREDENTIALS,
                         ids=[form[1] for form in WITH_CREDENTIALS])
def test_no_module_source_credential_in_any_output(url_tree, written, shown, secrets):
    _, outputs, _ = url_tree
    assert leaks(outputs, *secrets) == []
    messages = [r["message"] for r in json.loads(outputs["json"])["results"]
                if r["rule_id"] == "x-module-source-shown"]
    assert any(message.endswith(f"comes from {shown}") for message in messages), messages


def test_remote_modules_keep_host_and_path(url_tree):
    _, outputs, _ = url_tree
    report = json.loads(outputs["report-json"])
    assert [m["source"] for m in report["scope"]["remote_modules"]] == [s[1] for s in module_sources()]
    details = {e["detail"] for s in report["subservice_organisations"] for e in s["evidence"]}
    assert "git::https://github.com/org/mod-one.git?ref=v1" in details
    assert "s3::https://s3-eu-west-1.amazonaws.com/bucket/m7.zip" in details


def test_no_image_credential_in_any_output(url_tree):
    _, outputs, secrets = url_tree
    assert leaks(outputs, *secrets) == []
    report = json.loads(outputs["report-json"])
    details = {e["detail"] for s in report["subservice_organisations"] for e in s["evidence"]}
    assert {"ghcr.io/org/tool:1", "ghcr.io/org/lint:2", "ghcr.io/org/ci:3", "ghcr.io/org/db:4",
            "registry.example.com/team/app:1.0"} <= details
    messages = {r["message"] for r in json.loads(outputs["json"])["results"]
                if r["rule_id"] == "x-docker-step-shown"}
    assert messages == {"job 'build' step 'docker://ghcr.io/org/lint:2' runs docker://ghcr.io/org/lint:2",
                        "job 'build' step 'docker://ghcr.io/org/tool:1' runs docker://ghcr.io/org/tool:1"}



# -- credentials found by the detector, wherever they were written ------------------------------
def test_no_detected_credential_in_any_output(tmp_path):
    """Each way a credential is found and reported (a default reported at the variable, a module
    argument, a decoded base64 script, a password in a URL, a ConfigMap file) shows only its kind."""
    values = {name: f"{name}-{MARK}" for name in ("default", "argument", "script", "url", "configmap")}
    script = base64.b64encode(f"#!/bin/sh\nexport DB_PASSWORD={values['script']}\n".encode()).decode()
    write(tmp_path, {
        "main.tf": f'''\
variable "db_password" {{
  default = "{values['default']}"
}}

resource "aws_db_instance" "a" {{
  password = var.db_password
}}

module "app" {{
  source   = "./app"
  password = "{values['argument']}"
}}

resource "aws_instance" "b" {{
  user_data_base64 = "{script}"
}}
''',
        "app/main.tf": 'variable "password" {}\n\nresource "aws_rds_cluster" "c" {\n'
                       '  master_password = var.password\n}\n',
        "k8s.yaml": f'''\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  DATABASE_URL: "postgres://app:{values['url']}@db:5432/app"
  app.properties: |
    spring.datasource.password={values['configmap']}
'''})
    outputs = every_output(tmp_path)
    failed = {r["rule_id"] for r in json.loads(outputs["json"])["results"] if r["outcome"] == "fail"}
    assert {"tf-variable-default-secret", "tf-module-argument-secret", "aws-compute-env-secret",
            "k8s-configmap-hardcoded-secret"} <= failed
    assert leaks(outputs, *values.values(), MARK) == []


# -- justifications no one can see ----------------------------------------------------------------
INVISIBLE = {
    "zero-width space": "\u200b",
    "word joiner and byte order mark": "\u2060\ufeff",
    "zero-width non-joiner and joiner": "\u200c \u200d",
    "right-to-left mark and soft hyphen": "\u200f\u00ad",
    "combining mark alone": "\u0301",
    "control character": "\x07",
    "hangul filler": "\u3164",
}
RDS_RULES = ["--rule", "aws-rds-storage-encrypted,ignore-has-justification"]


def db(name: str, comment: str = "") -> str:
    return (f"{comment}\n" if comment else "") + (
        f'resource "aws_db_instance" "{name}" {{\n  engine = "postgres"\n  storage_encrypted = false\n}}\n')


def statuses(data: dict) -> set[tuple[str, str, int, str]]:
    return {(r["rule_id"], r["file"], r["line"], r["status"]) for r in data["results"]}


@pytest.mark.parametrize("justification", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_inline_justification_does_not_apply(tmp_path, justification):
    ignore = "# soc2lint:ignore aws-rds-storage-encrypted -- "
    write(tmp_path, {"main.tf": db("hidden", ignore + justification) + "\n"
                     + db("seen", ignore + "synthetic data")})
    result = run_cli(["scan", ".", *RDS_RULES, "--format", "json"], tmp_path)
    assert result.exit_code == 1
    assert statuses(json.loads(result.stdout)) == {
        ("aws-rds-storage-encrypted", "main.tf", 4, "fail"),
        ("aws-rds-storage-encrypted", "main.tf", 10, "suppressed"),
        ("ignore-has-justification", "main.tf", 1, "fail"),
        ("ignore-has-justification", "main.tf", 7, "pass"),
    }


@pytest.mark.parametrize("justification", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_invisible_config_justification_does_not_apply(tmp_path, justification):
    escaped = json.dumps(justification)  # a YAML double-quoted scalar
    write(tmp_path, {"main.tf": db("hidden"),
                     ".soc2lint.yaml": f"ignores:\n  - rule: aws-rds-storage-encrypted\n"
                                       f"    justification: {escaped}\n"})
    result = run_cli(["scan", ".", *RDS_RULES, "--format", "json"], tmp_path)
    assert result.exit_code == 1
    assert statuses(json.loads(result.stdout)) == {
        ("aws-rds-storage-encrypted", "main.tf", 3, "fail"),
        ("ignore-has-justification", ".soc2lint.yaml", 2, "fail"),
    }
