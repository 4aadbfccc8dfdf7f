"""`soc2lint report`: the audit-readiness report agrees with the scan, keeps exceptions with their
justification, names subservice organisations and what code cannot show; HTML is self-contained."""

from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser

import pytest
from conftest import ROOT
from helpers import git_init, run_cli, write

MAIN_TF = '''\
terraform {
  required_providers {
    aws     = { source = "hashicorp/aws" }
    datadog = { source = "DataDog/datadog" }
  }
}

resource "aws_db_instance" "orders" {
  engine            = "postgres"
  storage_encrypted = true
}

# soc2lint:ignore aws-rds-storage-encrypted expires=2099-01-01 -- reporting replica of public data (RISK-7)
resource "aws_db_instance" "reports" {
  engine            = "postgres"
  storage_encrypted = false
}

resource "aws_db_instance" "billing" {
  engine            = "postgres"
  storage_encrypted = false
}

module "network" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.8.1"
}

resource "datadog_monitor" "cpu" {
  name = "cpu"
}
'''

DEPLOYMENT = '''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.27
'''

CONFIG = '''\
ignores:
  - rule: aws-rds-multi-az
    paths: ["infra/"]
    justification: single-AZ accepted for non-production databases
    owner: platform@example.com
    expires: 2099-06-30
'''


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("audited")
    write(root, {"infra/main.tf": MAIN_TF, "k8s/web.yaml": DEPLOYMENT, ".soc2lint.yaml": CONFIG})
    git_init(root)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=Dana Owner", "-c",
                    "user.email=dana@example.com", "commit", "-qm", "infrastructure"], check=True)
    return root


def _report(repo, fmt: str, *extra: str) -> str:
    result = run_cli(["report", ".", "-f", fmt, "--today", "2026-11-26", *extra], repo)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def report(repo):
    return json.loads(_report(repo, "json"))


@pytest.fixture(scope="module")
def scanned(repo):
    result = run_cli(["scan", ".", "-f", "json", "--today", "2026-11-26"], repo)
    return json.loads(result.stdout)


AUDIT_SCHEMA = json.loads((ROOT / "soc2lint" / "schema" / "audit.schema.json").read_text())


def test_json_follows_its_schema(report):
    import jsonschema

    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(report)


def test_counts_match_the_scan(report, scanned):
    assert report["summary"]["outcomes"] == scanned["summary"]["outcomes"]
    assert report["summary"]["outcomes"]["suppressed"] == 4  # 1 inline, 3 by the config file
    by_criterion = scanned["summary"]["by_criterion"]
    assert {c["id"] for c in report["matrix"] if sum(c["counts"][k] for k in (
        "fail", "pass", "unknown", "suppressed"))} == set(by_criterion)
    for row in report["matrix"]:
        expected = by_criterion.get(row["id"], dict.fromkeys(("fail", "pass", "unknown", "suppressed"), 0))
        assert {k: row["counts"][k] for k in expected} == expected, row["id"]
        assert row["counts"]["exceptions"] + row["counts"]["baselined"] == expected["suppressed"]
    per_rule = {r["id"]: r["counts"] for r in scanned["rules"]}
    for rule_id, test in report["tests"].items():
        assert test["counts"] == per_rule[rule_id]
        assert test["inspected"] == sum(per_rule[rule_id].values()) == len(test["items"])


def test_scope_header(report, repo):
    scope = report["scope"]
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    assert scope["commit"] == head
    assert scope["repository"] == repo.name
    assert scope["uncommitted_changes"] is False
    assert scope["generated_on"] == "2026-11-26"
    assert scope["command"] == "soc2lint report . --today 2026-11-26 --format json"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", scope["rules"]["digest"])
    assert scope["config"]["file"] == ".soc2lint.yaml"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", scope["config"]["digest"])
    assert scope["frameworks"] == ["kubernetes", "terraform"]
    assert scope["files_scanned"] == 2
    assert scope["remote_modules"] == [{"file": "infra/main.tf", "line": 24, "address": "module.network",
                                        "source": "terraform-aws-modules/vpc/aws", "version": "5.8.1"}]
    assert any("not the deployed state" in limit for limit in scope["limits"])
    assert any("1 remote Terraform module" in limit for limit in scope["limits"])


def test_criterion_section_lists_tests_and_every_resource(report):
    cc61 = next(c for c in report["criteria"] if c["id"] == "CC6.1")
    assert cc61["result"] == "failures found"
    assert cc61["result_text"].startswith("Failures found: ")
    test = report["tests"]["aws-rds-storage-encrypted"]
    assert "aws-rds-storage-encrypted" in cc61["primary_tests"]
    assert test["test"].startswith("Inspected 3 Terraform resources of type aws_db_instance for: ")
    outcomes = {i["address"]: i["status"] for i in test["items"]}
    assert outcomes == {"aws_db_instance.orders": "pass", "aws_db_instance.reports": "suppressed",
                        "aws_db_instance.billing": "fail"}
    failing = next(i for i in test["items"] if i["status"] == "fail")
    assert (failing["file"], failing["line"]) == ("infra/main.tf", 21)
    untested = [c for c in report["criteria"] if c["result"] == "not tested"]
    assert untested and all(c["result_text"].startswith("Not tested") for c in untested)
    words = " ".join(c["result_text"] for c in report["criteria"]).lower()
    for opinion in ("qualified", "unqualified", "operating effectively", "adverse", "fairly presented"):
        assert opinion not in words


def test_exceptions_carry_justification_owner_and_author(report):
    exceptions = {(e["rule_id"], e["address"]): e["suppression"] for e in report["exceptions"]}
    inline = exceptions[("aws-rds-storage-encrypted", "aws_db_instance.reports")]
    assert inline["justification"] == "reporting replica of public data (RISK-7)"
    assert (inline["kind"], inline["file"], inline["line"], inline["expires"]) == (
        "inline", "infra/main.tf", 13, "2099-01-01")
    assert inline["author"] == "Dana Owner <dana@example.com>" and len(inline["commit"]) == 40
    config = exceptions[("aws-rds-multi-az", "aws_db_instance.billing")]
    assert (config["kind"], config["file"], config["line"], config["owner"]) == (
        "config", ".soc2lint.yaml", 2, "platform@example.com")
    assert config["justification"] == "single-AZ accepted for non-production databases"
    assert config["author"].startswith("Dana Owner")
    assert report["summary"]["exceptions"] == 4 and report["baselined"] == []


def test_subservice_organisations(report):
    names = {o["name"]: o for o in report["subservice_organisations"]}
    assert {"Amazon Web Services", "Datadog", "Docker Hub"} <= set(names)
    docker = names["Docker Hub"]["evidence"][0]
    assert (docker["file"], docker["via"]) == ("k8s/web.yaml", "container image")


def test_not_evidenced_criteria_name_other_evidence(report):
    missing = {c["id"]: c for c in report["not_evidenced"]}
    assert {"CC1.1", "CC1.4", "CC2.2", "CC6.4", "CC7.4"} <= set(missing)
    assert not set(missing) & {c["id"] for c in report["criteria"]}
    assert all(c["evidence"] and c["title"] for c in missing.values())
    assert "physical" in (missing["CC6.4"]["title"] + missing["CC6.4"]["evidence"]).lower()


def test_markdown_has_every_part(repo, report):
    text = _report(repo, "markdown")
    for heading in ("## Scope", "## Criteria matrix", "## Exceptions", "## Subservice organisations",
                    "## What code cannot show"):
        assert f"\n{heading}\n" in text
    for criterion in report["criteria"]:
        assert f"\n## {criterion['id']}: " in text
    assert "reporting replica of public data \\(RISK-7\\)" in text
    assert "`terraform-aws-modules/vpc/aws`" in text
    rows = [line for line in text.splitlines() if line.startswith("| [CC6.1](#cc61) |")]
    assert len(rows) == 1 and rows[0].count("|") == 10  # 9 cells


class _Page(HTMLParser):
    """Collects what an HTML page would load from elsewhere, and its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.tags: dict[str, int] = {}
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        for name in ("src", "href", "srcset", "data", "action", "poster"):
            value = attributes.get(name) or ""
            if name == "href" and value.startswith("#"):
                self.links.append(value[1:])
            elif value:
                self.external.append(f"{tag} {name}={value}")
        if tag in ("script", "link", "iframe", "object", "embed", "img"):
            self.external.append(tag)


def test_html_is_self_contained_and_parses(repo, report):
    text = _report(repo, "html")
    page = _Page()
    page.feed(text)
    page.close()
    assert page.external == []
    assert not re.search(r"url\(|@import|https?://", text.split("</style>")[0])
    assert page.tags["table"] >= 5 and page.tags["h2"] >= len(report["criteria"]) + 5
    assert set(page.links) <= page.ids  # every in-page link has its target
    assert "@media print" in text
    assert "reporting replica of public data (RISK-7)" in text


def test_html_escapes_what_it_shows(tmp_path):
    write(tmp_path, {"db.tf": '# soc2lint:ignore aws-rds-storage-encrypted -- <script>alert(1)</script>\n'
                              'resource "aws_db_instance" "x" {\n  storage_encrypted = false\n}\n'})
    result = run_cli(["report", ".", "-f", "html"], tmp_path)
    assert "<script>" not in result.stdout
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.stdout


def test_report_of_the_bundled_fixtures_matches_the_scan():
    report = json.loads(run_cli(["report", "fixtures", "-f", "json"], ROOT).stdout)
    import jsonschema

    jsonschema.Draft202012Validator(AUDIT_SCHEMA).validate(report)
    scanned = json.loads(run_cli(["scan", "fixtures", "-f", "json"], ROOT).stdout)
    assert report["summary"]["outcomes"] == scanned["summary"]["outcomes"]
    assert report["summary"]["files_scanned"] == scanned["summary"]["files_scanned"]
    for row in report["matrix"]:
        expected = scanned["summary"]["by_criterion"][row["id"]]
        assert {k: row["counts"][k] for k in expected} == expected
    justified = [e for e in report["exceptions"] if e["suppression"]["justification"]]
    assert justified and len(justified) == len(report["exceptions"])
    assert {"Amazon Web Services", "Microsoft Azure", "Google Cloud", "GitHub"} <= {
        o["name"] for o in report["subservice_organisations"]}
    assert len(report["not_evidenced"]) >= 20


def test_report_writes_to_a_file_and_reports_incomplete_input(tmp_path):
    write(tmp_path, {"ok.tf": 'resource "aws_db_instance" "a" {\n  storage_encrypted = true\n}\n',
                     "broken.tf": 'resource "x" {\n'})
    result = run_cli(["report", ".", "-f", "markdown", "-o", "audit.md"], tmp_path)
    assert result.exit_code == 3
    text = (tmp_path / "audit.md").read_text()
    assert "Files that could not be inspected" in text and "`broken.tf" in text


def test_criteria_left_out_by_the_selection_are_not_called_unevidenceable(tmp_path):
    write(tmp_path, {"db.tf": 'resource "aws_db_instance" "a" {\n  storage_encrypted = true\n}\n',
                     ".soc2lint.yaml": "select:\n  criteria: [CC6.1]\n"})
    report = json.loads(run_cli(["report", ".", "-f", "json"], tmp_path).stdout)
    not_selected = {c["id"] for c in report["not_selected"]}
    not_evidenced = {c["id"] for c in report["not_evidenced"]}
    evaluated = {c["id"] for c in report["criteria"]}
    assert "CC6.1" in evaluated and "A1.1" in not_selected
    assert not not_selected & not_evidenced and not not_selected & evaluated
    assert "CC1.1" in not_evidenced and "CC6.1" not in not_selected | not_evidenced
