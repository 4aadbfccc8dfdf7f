"""Parsers: spans, derived fields and the behaviour of python-hcl2 and PyYAML we rely on."""

from __future__ import annotations

import pytest

from soc2lint.conditions import Context, evaluate
from soc2lint.evaluate.project import evaluate_text
from soc2lint.model import Span, Unknown
from soc2lint.parsers import ParseError, github_actions, kubernetes
from soc2lint.parsers.gha_expressions import context_reads, untrusted_in
from soc2lint.parsers.yamlspans import load_documents


def by(entities, kind):
    return [e for e in entities if e.kind == kind]


# -- YAML ------------------------------------------------------------------------------------
def test_on_key_stays_a_string_and_duplicates_are_noted():
    docs, warnings = load_documents("on: push\nyes: 1\nname: a\nname: b\nvalue: on\n")
    data = docs[0].data
    assert list(data) == ["on", "yes", "name", "value"]
    assert data["value"] is True and data["name"] == "b"
    assert warnings == ["duplicate key 'name' at line 4; the last value is used"]


def test_merge_keys_and_aliases_are_shared_not_copied():
    docs, _ = load_documents("base: &b {cpu: 1}\nuse:\n  <<: *b\n  mem: 2\nsame: *b\n")
    data = docs[0].data
    assert data["use"] == {"cpu": 1, "mem": 2}
    assert data["same"] is data["base"]


# -- Terraform -------------------------------------------------------------------------------
TF = '''\
# storage
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
  tags = {
    Name = "logs"
  }
  versioning {
    enabled = true
  }
  dynamic "lifecycle_rule" {
    for_each = var.rules
    content {}
  }
  policy = <<-EOT
    {"Version": "2012-10-17"}
  EOT
  name_prefix = "logs-${var.env}"
  replicas    = -2
  ratio       = 1.5
  flag        = !true
  list        = [1, "two", null]
}

resource "aws_instance" "none" {
  count = 0
}

data "aws_caller_identity" "me" {}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
variable "env" {
  default = "prod"
}
provider "aws" {
  region = "eu-west-1"
  alias  = "eu"
}
'''


def test_terraform_blocks_values_and_spans():
    entities = evaluate_text("main.tf", TF)
    assert [(e.kind, e.address) for e in entities] == [
        ("resource", "aws_s3_bucket.logs"), ("data", "data.aws_caller_identity.me"),
        ("module", "module.vpc"), ("variable", "variable.env"), ("provider", "provider.aws.eu")]
    bucket = entities[0]
    assert bucket.span == Span(2, 1, 22, 1)
    data = bucket.data
    assert data["bucket"] == "acme-logs" and data["tags"] == {"Name": "logs"}
    assert data["versioning"] == [{"enabled": True}]
    assert isinstance(data["lifecycle_rule"][0], Unknown)
    assert data["policy"] == '{"Version": "2012-10-17"}\n'
    assert data["name_prefix"] == "logs-prod"  # the variable's default
    assert (data["replicas"], data["ratio"], data["flag"]) == (-2, 1.5, False)
    assert data["list"] == [1, "two", None]
    assert bucket.locator.span(("bucket",)).line == 3
    assert bucket.locator.span(("tags", "Name")).line == 5
    assert bucket.locator.span(("versioning", 0, "enabled")) == Span(8, 5, 8, 18)


def test_terraform_json_is_located_too():
    text = '{\n  "resource": {\n    "aws_db_instance": {\n      "main": {\n' \
           '        "storage_encrypted": false,\n        "engine": "${var.engine}"\n' \
           '      }\n    }\n  }\n}\n'
    [entity] = evaluate_text("main.tf.json", text)
    assert entity.address == "aws_db_instance.main"
    assert entity.data["storage_encrypted"] is False
    assert isinstance(entity.data["engine"], Unknown)
    assert entity.locator.span(("storage_encrypted",)).line == 5


def test_terraform_parse_error_has_a_line():
    with pytest.raises(ParseError) as info:
        evaluate_text("x.tf", 'resource "a" "b" {\n  x = \n}\n')
    assert info.value.line == 2  # the attribute left without a value


# -- Kubernetes -------------------------------------------------------------------------------
K8S = """\
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: {name: nightly, namespace: ops}
    spec:
      jobTemplate:
        spec:
          template:
            spec:
              securityContext:
                runAsNonRoot: true
                fsGroup: 2000
              initContainers:
                - name: init
                  image: busybox:1.36
              containers:
                - name: job
                  image: alpine:3.20
                  securityContext:
                    runAsNonRoot: false
                    privileged: true
              ephemeralContainers:
                - name: debug
                  image: busybox:1.36
"""


def test_kubernetes_pod_specs_containers_and_inheritance():
    docs, _ = load_documents(K8S)
    entities = kubernetes.parse("cron.yaml", docs)
    assert [e.address for e in by(entities, "manifest")] == ["CronJob/ops/nightly"]
    [pod] = by(entities, "pod")
    assert pod.type == "CronJob" and pod.span.line == 11
    containers = {e.data["name"]: e for e in by(entities, "container")}
    assert set(containers) == {"init", "job", "debug"}
    assert containers["init"].data["effective_security_context"] == {"runAsNonRoot": True}
    assert "fsGroup" not in containers["init"].data["effective_security_context"]
    job = containers["job"]
    assert job.data["effective_security_context"]["runAsNonRoot"] is False
    assert job.span.line == 19 and job.data["container_type"] == "containers"
    assert job.locator.span(("effective_security_context", "runAsNonRoot")).line == 22
    assert containers["init"].locator.span(("effective_security_context", "runAsNonRoot")).line == 13
    assert containers["debug"].data["container_type"] == "ephemeralContainers"


# -- GitHub Actions ---------------------------------------------------------------------------
WORKFLOW = """\
name: ci
on:
  pull_request_target:
permissions: read-all
env:
  TITLE: ${{ github.event.pull_request.title }}
jobs:
  build:
    permissions:
      contents: write
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - id: meta
        run: echo "t=${{ github.event.issue.title }}" >> "$GITHUB_OUTPUT"
      - run: |
          echo "${{ steps.meta.outputs.t }} ${{ env.TITLE }} ${{ github.sha }}"
          echo "${{ github.event.pull_request.number }} ${{ toJSON(github.event) }}"
      - uses: actions/github-script@60a0d83039c74a4aee543508d2ffcb1c3799cdea
        with:
          script: console.log("${{ github.event['pull_request']['body'] }}")
  reuse:
    uses: octo/workflows/.github/workflows/deploy.yml@main
"""


def test_workflow_jobs_steps_and_derived_fields():
    docs, _ = load_documents(WORKFLOW)
    entities = github_actions.parse(".github/workflows/ci.yml", docs)
    [workflow] = by(entities, "workflow")
    assert workflow.data["triggers"] == ["pull_request_target"]
    jobs = {e.address: e for e in by(entities, "job")}
    build, reuse = jobs["jobs.build"], jobs["jobs.reuse"]
    assert build.data["permissions_source"] == "job"
    assert build.data["effective_permissions"] == {"contents": "write"}
    assert reuse.data["effective_permissions"] == "read-all"
    assert reuse.data["uses_ref"]["kind"] == "workflow"
    assert reuse.data["uses_ref"]["ref_is_sha"] is False and reuse.span.line == 24
    steps = by(entities, "step")
    assert steps[0].data["uses_ref"] == {
        "kind": "action", "owner": "actions", "repo": "checkout", "path": None, "ref": "v4",
        "ref_is_sha": False, "first_party": True, "action": "actions/checkout"}
    assert steps[0].span.line == 13
    assert steps[1].data["untrusted_expressions"] == ["github.event.issue.title"]
    assert steps[2].data["untrusted_expressions"] == [
        "steps.meta.outputs.t", "env.TITLE", "github.event"]
    assert steps[3].data["uses_ref"]["ref_is_sha"] is True
    assert steps[3].data["untrusted_expressions"] == ["github.event.pull_request.body"]


@pytest.mark.parametrize(("expression", "reads"), [
    ("github.event.issue.title", ["github.event.issue.title"]),
    ("github.event['pull_request']['title']", ["github.event.pull_request.title"]),
    ("format('{0}', github.head_ref)", ["github.head_ref"]),
    ("join(github.event.commits.*.message, ' ')", ["github.event.commits.*.message"]),
    ("contains(github.event.pull_request.labels.*.name, 'ok') && inputs.x",
     ["github.event.pull_request.labels.*.name", "inputs.x"]),
    ("github.event.pull_request.head.repo.fork == true", ["github.event.pull_request.head.repo.fork"]),
])
def test_expression_context_reads(expression, reads):
    assert context_reads(expression) == reads


def test_allowlist_judges_contexts():
    assert untrusted_in("${{ github.event.pull_request.head.sha }} ${{ github.run_id }}") == []
    assert untrusted_in("${{github.head_ref}}") == ["github.head_ref"]
    assert untrusted_in("${{ inputs.name }}") == []
    assert untrusted_in("${{ inputs.name }}", composite=True) == ["inputs.name"]


# -- conditions ------------------------------------------------------------------------------
@pytest.mark.parametrize(("cond", "expected"), [
    ({"all": [{"path": "a", "equals": 1}, {"path": "u", "equals": 1}]}, None),
    ({"all": [{"path": "a", "equals": 2}, {"path": "u", "equals": 1}]}, False),
    ({"any": [{"path": "a", "equals": 1}, {"path": "u", "equals": 1}]}, True),
    ({"any": [{"path": "a", "equals": 2}, {"path": "u", "equals": 1}]}, None),
    ({"not": {"path": "u", "equals": 1}}, None),
    ({"path": "missing", "equals": True}, False),
    ({"path": "missing", "equals": True, "default": True}, True),
    ({"path": "s", "equals": True}, True),
    ({"path": "n", "gte": 90}, True),
    ({"each": "items", "assert": {"path": "x", "gt": 0}}, None),
    ({"some": "items", "assert": {"path": "x", "gt": 1}}, True),
    ({"path": "dyn", "empty": True}, None),
    ({"path": "dyn", "length_gte": 1}, None),
    ({"path": "items", "length_gte": 1}, True),
])
def test_kleene_logic(cond, expected):
    data = {"a": 1, "u": Unknown("var.u"), "s": "true", "n": "90",
            "items": [{"x": 2}, {"x": Unknown("var.x")}], "dyn": [Unknown("dynamic block")]}
    assert evaluate(cond, data, Context()) is expected


def test_crlf_terraform_parses_with_the_same_lines():
    [entity] = evaluate_text("c.tf", 'resource "aws_ebs_volume" "v" {\r\n  encrypted = true\r\n}\r\n')
    assert entity.data["encrypted"] is True
    assert entity.locator.span(("encrypted",)).line == 2


def test_tf_json_with_escaped_surrogate_pairs():
    text = '{"resource":{"aws_ebs_volume":{"e":{"tags":{"n":"\\ud83d\\ude00"},"encrypted":false}}}}'
    [entity] = evaluate_text("e.tf.json", text)
    assert entity.data["tags"] == {"n": "\U0001F600"} and entity.data["encrypted"] is False


def test_template_directives_in_strings_are_unknown():
    [entity] = evaluate_text("d.tf", 'resource "aws_ebs_volume" "v" {\n'
                               '  encrypted = "%{ if var.enc }true%{ else }false%{ endif }"\n'
                               '  name      = "100%%{done}"\n}\n')
    assert isinstance(entity.data["encrypted"], Unknown)
    assert entity.data["name"] == "100%{done}"


def test_contexts_are_case_insensitive_and_push_refs_safe():
    assert untrusted_in("${{ GITHUB.EVENT.PULL_REQUEST.TITLE }}") == [
        "GITHUB.EVENT.PULL_REQUEST.TITLE"]
    assert untrusted_in("${{ github.event.ref }} ${{ GitHub.SHA }}") == []
    assert untrusted_in("${{ github.event.pull_request.head.ref }}") == [
        "github.event.pull_request.head.ref"]


def test_secret_names_in_camel_case():
    from soc2lint.secrets import is_secret_name

    assert is_secret_name("dbPassword") and is_secret_name("DB_PASSWORD")
    assert is_secret_name("administrator_login_password")
    assert not is_secret_name("passwordLength") and not is_secret_name("secret_arn")
