"""Inline `soc2lint:ignore` comments: what they cover, when they do not apply, how they are reported."""

from __future__ import annotations

import datetime
import json

import helpers
import pytest
from helpers import ALIASED_RULE, git_init, run_cli, scan_json, write

from soc2lint.suppress import inline_ignores, is_visible

RDS = "aws-rds-storage-encrypted"
RDS_AND_CHECKS = f"{RDS},ignore-has-justification,ignore-not-expired"


def db(name: str, comment: str = "", trailing: str = "") -> str:
    """An unencrypted aws_db_instance, with optional comment lines above and a trailing comment."""
    head = "".join(f"{line}\n" for line in comment.splitlines())
    return (f'{head}resource "aws_db_instance" "{name}" {{\n'
            f'  engine            = "postgres"\n'
            f'  storage_encrypted = false{trailing}\n'
            f'}}\n')


def results(data: dict, rule: str | None = None) -> list[dict]:
    return [r for r in data["results"] if rule is None or r["rule_id"] == rule]


def by_address(data: dict, rule: str = RDS) -> dict[str, dict]:
    found = {r["entity"]["address"]: r for r in results(data, rule)}
    assert len(found) == len(results(data, rule)), "one result per address"
    return found


def line_of(text: str, needle: str) -> int:
    """1-based number of the only line of `text` containing `needle`."""
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(numbers) == 1, (needle, numbers)
    return numbers[0]


def epoch(date: str) -> str:
    moment = datetime.datetime.fromisoformat(date).replace(hour=12, tzinfo=datetime.timezone.utc)
    return str(int(moment.timestamp()))


# -- where an ignore applies ---------------------------------------------------------------------
def test_ignore_above_a_block_covers_that_block_only(tmp_path):
    text = db("ignored", "# soc2lint:ignore aws-rds-storage-encrypted -- synthetic test data (RISK-1)") \
        + "\n" + db("other")
    write(tmp_path, {"main.tf": text})
    data = scan_json([".", "--rule", RDS], tmp_path)
    found = by_address(data)
    assert found["aws_db_instance.ignored"]["status"] == "suppressed"
    assert found["aws_db_instance.ignored"]["outcome"] == "fail"
    assert found["aws_db_instance.ignored"]["suppression"] == {
        "kind": "inline", "justification": "synthetic test data (RISK-1)", "file": "main.tf",
        "line": 1, "expires": None, "owner": None, "author": None, "commit": None, "date": None}
    assert found["aws_db_instance.other"]["status"] == "fail"
    assert found["aws_db_instance.other"]["suppression"] is None
    assert data["summary"]["outcomes"]["suppressed"] == 1
    assert data["summary"]["outcomes"]["fail"] == 1
    assert data["summary"]["suppressed_by_kind"] == {"inline": 1, "config": 0, "baseline": 0}


def test_ignore_above_with_other_comment_lines_between(tmp_path):
    comment = ("# soc2lint:ignore aws-rds-storage-encrypted -- replaced next quarter (MIGR-3)\n"
               "# The reporting database, read by the BI team.\n"
               "// owned by data platform")
    write(tmp_path, {"main.tf": db("reports", comment) + "\n" + db("next")})
    found = by_address(scan_json([".", "--rule", RDS], tmp_path))
    assert found["aws_db_instance.reports"]["status"] == "suppressed"
    assert found["aws_db_instance.reports"]["suppression"]["line"] == 1
    assert found["aws_db_instance.next"]["status"] == "fail"


def test_trailing_ignore_on_the_reported_attribute_line(tmp_path):
    text = db("trail", trailing="  # soc2lint:ignore aws-rds-storage-encrypted -- test data only")
    write(tmp_path, {"main.tf": text})
    found = by_address(scan_json([".", "--rule", RDS], tmp_path))["aws_db_instance.trail"]
    assert found["line"] == line_of(text, "storage_encrypted = false")
    assert found["status"] == "suppressed"
    assert found["suppression"]["line"] == found["line"]
    assert found["suppression"]["justification"] == "test data only"


def test_ignore_on_another_line_of_the_block_covers_a_finding_reported_at_an_attribute(tmp_path):
    text = ('resource "aws_db_instance" "inside" {\n'
            '  engine            = "postgres" # soc2lint:ignore aws-rds-storage-encrypted -- test data\n'
            '  instance_class    = "db.t3.micro"\n'
            '  storage_encrypted = false\n'
            '}\n'
            'resource "aws_db_instance" "own_line" {\n'
            '  engine            = "postgres"\n'
            '  # soc2lint:ignore aws-rds-storage-encrypted -- test data\n'
            '  storage_encrypted = false\n'
            '}\n')
    write(tmp_path, {"main.tf": text})
    found = by_address(scan_json([".", "--rule", RDS], tmp_path))
    inside = found["aws_db_instance.inside"]
    assert inside["line"] == 4, "reported at the attribute, not the ignore's line"
    assert inside["status"] == "suppressed"
    assert inside["suppression"]["line"] == 2
    own_line = found["aws_db_instance.own_line"]
    assert own_line["status"] == "suppressed"
    assert own_line["suppression"]["line"] == 8


def test_blank_line_between_ignore_and_block_breaks_it(tmp_path):
    text = "# soc2lint:ignore aws-rds-storage-encrypted -- test data\n\n" + db("gap")
    write(tmp_path, {"main.tf": text})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], tmp_path)
    found = by_address(json.loads(result.stdout))["aws_db_instance.gap"]
    assert found["status"] == "fail"
    assert found["suppression"] is None
    assert result.exit_code == 1


def test_ignore_for_another_rule_does_not_cover(tmp_path):
    text = db("wrong", "# soc2lint:ignore aws-s3-versioning -- not this rule")
    write(tmp_path, {"main.tf": text})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], tmp_path)
    assert by_address(json.loads(result.stdout))["aws_db_instance.wrong"]["status"] == "fail"
    assert result.exit_code == 1


@pytest.mark.parametrize("ids", ["aws-s3-versioning,aws-s3-access-logging",
                                 "aws-s3-versioning, aws-s3-access-logging"])
def test_comma_separated_ids_cover_each_rule(tmp_path, ids):
    text = (f"# soc2lint:ignore {ids} -- static site assets rebuilt from git\n"
            'resource "aws_s3_bucket" "site" {\n  bucket = "site"\n}\n\n'
            'resource "aws_s3_bucket" "data" {\n  bucket = "data"\n}\n')
    write(tmp_path, {"main.tf": text})
    data = scan_json([".", "--rule", "aws-s3-versioning,aws-s3-access-logging"], tmp_path)
    for rule in ("aws-s3-versioning", "aws-s3-access-logging"):
        found = by_address(data, rule)
        assert found["aws_s3_bucket.site"]["status"] == "suppressed", rule
        assert found["aws_s3_bucket.site"]["suppression"]["justification"] == \
            "static site assets rebuilt from git"
        assert found["aws_s3_bucket.data"]["status"] == "fail", rule


def test_double_slash_comment(tmp_path):
    text = db("slashed", "// soc2lint:ignore aws-rds-storage-encrypted -- test data only") + "\n" \
        + db("trailing_slash", trailing=" // soc2lint:ignore aws-rds-storage-encrypted -- also test")
    write(tmp_path, {"main.tf": text})
    found = by_address(scan_json([".", "--rule", RDS], tmp_path))
    assert found["aws_db_instance.slashed"]["status"] == "suppressed"
    assert found["aws_db_instance.slashed"]["suppression"]["line"] == 1
    assert found["aws_db_instance.trailing_slash"]["status"] == "suppressed"
    assert found["aws_db_instance.trailing_slash"]["suppression"]["justification"] == "also test"


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    # soc2lint:ignore k8s-no-privileged -- needs the GPU device (RISK-9)
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: true
    - name: side
      image: nginx:1.27
      securityContext:
        privileged: true # soc2lint:ignore k8s-no-privileged -- debugging sidecar (RISK-10)
    - name: third
      image: nginx:1.27
      securityContext:
        privileged: true
"""


def test_yaml_ignore_on_a_kubernetes_container(tmp_path):
    write(tmp_path, {"pod.yaml": POD})
    result = run_cli(["scan", ".", "--rule", "k8s-no-privileged", "-f", "json"], tmp_path)
    found = by_address(json.loads(result.stdout), "k8s-no-privileged")
    web, side, third = (found[f"Pod/web/containers/{n}"] for n in ("web", "side", "third"))
    assert web["status"] == "suppressed"
    assert web["suppression"]["line"] == line_of(POD, "needs the GPU")
    assert side["status"] == "suppressed"
    assert side["suppression"]["justification"] == "debugging sidecar (RISK-10)"
    assert third["status"] == "fail"
    assert result.exit_code == 1


def test_yaml_ignore_on_a_github_actions_step(tmp_path):
    workflow = """\
name: ci
on: push
permissions: {contents: read}
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      # soc2lint:ignore gha-actions-pinned-sha -- our own fork, reviewed (SEC-4)
      - uses: someorg/someaction@v1
      - uses: otherorg/other@v2
"""
    write(tmp_path, {".github/workflows/ci.yml": workflow})
    found = by_address(scan_json([".", "--rule", "gha-actions-pinned-sha"], tmp_path),
                       "gha-actions-pinned-sha")
    assert found["build.steps[0]"]["status"] == "suppressed"
    assert found["build.steps[0]"]["suppression"]["line"] == line_of(workflow, "soc2lint:ignore")
    assert found["build.steps[0]"]["suppression"]["file"] == ".github/workflows/ci.yml"
    assert found["build.steps[1]"]["status"] == "fail"


def test_ignore_in_a_module_call_covers_resources_of_the_called_module(tmp_path):
    write(tmp_path, {
        "main.tf": ('module "test_db" {\n'
                    '  # soc2lint:ignore aws-rds-storage-encrypted -- test databases only (RISK-5)\n'
                    '  source = "./modules/db"\n}\n\n'
                    'module "prod_db" {\n  source = "./modules/db"\n}\n'),
        "modules/db/main.tf": db("this"),
    })
    found = by_address(scan_json([".", "--rule", RDS], tmp_path))
    test_db = found["module.test_db.aws_db_instance.this"]
    assert test_db["file"] == "modules/db/main.tf"
    assert test_db["status"] == "suppressed"
    assert test_db["suppression"]["file"] == "main.tf"
    assert test_db["suppression"]["line"] == 2
    assert found["module.prod_db.aws_db_instance.this"]["status"] == "fail"


def test_ignore_above_a_module_call_covers_resources_of_the_called_module(tmp_path):
    write(tmp_path, {
        "main.tf": ('# soc2lint:ignore aws-rds-storage-encrypted -- test databases only\n'
                    'module "test_db" {\n  source = "./modules/db"\n}\n'),
        "modules/db/main.tf": db("this"),
    })
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], tmp_path)
    found = by_address(json.loads(result.stdout))["module.test_db.aws_db_instance.this"]
    assert found["status"] == "suppressed"
    assert found["suppression"]["line"] == 1
    assert result.exit_code == 0


# -- ignores that do not apply ---------------------------------------------------------------------
@pytest.mark.parametrize("directive", [
    "# soc2lint:ignore aws-rds-storage-encrypted",
    "# soc2lint:ignore aws-rds-storage-encrypted --",
    "# soc2lint:ignore aws-rds-storage-encrypted --    ",
    "# soc2lint:ignore aws-rds-storage-encrypted expires=2999-01-01",
])
def test_ignore_without_justification_does_not_apply_and_is_reported(tmp_path, directive):
    text = "\n" + db("nojust", "# a comment before\n" + directive)
    write(tmp_path, {"main.tf": text})
    result = run_cli(["scan", ".", "--rule", RDS_AND_CHECKS, "-f", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert by_address(data)["aws_db_instance.nojust"]["status"] == "fail"
    problems = results(data, "ignore-has-justification")
    assert [(r["status"], r["file"], r["line"]) for r in problems] == [("fail", "main.tf", 3)]
    assert [r["status"] for r in results(data, "ignore-not-expired")] == ["pass"]
    assert result.exit_code == 1


def test_justification_finding_at_the_line_of_a_trailing_ignore(tmp_path):
    text = db("first") + "\n" + db("second", trailing=" # soc2lint:ignore aws-rds-storage-encrypted")
    write(tmp_path, {"main.tf": text})
    data = scan_json([".", "--rule", RDS_AND_CHECKS], tmp_path)
    problems = results(data, "ignore-has-justification")
    assert [(r["status"], r["line"]) for r in problems] == [("fail", 8)]
    assert by_address(data)["aws_db_instance.second"]["status"] == "fail"


EXPIRING = db("legacy", "# soc2lint:ignore aws-rds-storage-encrypted expires=2024-06-30 -- moving to Aurora")


def test_expired_ignore_does_not_apply_and_is_reported(tmp_path):
    write(tmp_path, {"main.tf": EXPIRING})
    result = run_cli(["scan", ".", "--rule", RDS_AND_CHECKS, "--today", "2024-07-01", "-f", "json"],
                     tmp_path)
    data = json.loads(result.stdout)
    assert by_address(data)["aws_db_instance.legacy"]["status"] == "fail"
    expired = results(data, "ignore-not-expired")
    assert [(r["status"], r["file"], r["line"]) for r in expired] == [("fail", "main.tf", 1)]
    assert "2024-06-30" in expired[0]["message"]
    assert [r["status"] for r in results(data, "ignore-has-justification")] == ["pass"]
    assert result.exit_code == 1


def test_ignore_applies_the_day_before_it_expires(tmp_path):
    write(tmp_path, {"main.tf": EXPIRING})
    result = run_cli(["scan", ".", "--rule", RDS_AND_CHECKS, "--today", "2024-06-29", "-f", "json"],
                     tmp_path)
    data = json.loads(result.stdout)
    found = by_address(data)["aws_db_instance.legacy"]
    assert found["status"] == "suppressed"
    assert found["suppression"]["expires"] == "2024-06-30"
    assert [r["status"] for r in results(data, "ignore-not-expired")] == ["pass"]
    assert result.exit_code == 0


@pytest.mark.parametrize(("date", "status", "code"), [("2024-07-01", "fail", 1),
                                                      ("2024-06-29", "suppressed", 0)])
def test_source_date_epoch_sets_today(tmp_path, monkeypatch, date, status, code):
    write(tmp_path, {"main.tf": EXPIRING})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch(date))
    result = run_cli(["scan", ".", "--rule", RDS_AND_CHECKS, "-f", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert by_address(data)["aws_db_instance.legacy"]["status"] == status
    expected = "fail" if status == "fail" else "pass"
    assert [r["status"] for r in results(data, "ignore-not-expired")] == [expected]
    assert result.exit_code == code


def test_today_option_wins_over_source_date_epoch(tmp_path, monkeypatch):
    write(tmp_path, {"main.tf": EXPIRING})
    monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch("2030-01-01"))
    data = scan_json([".", "--rule", RDS, "--today", "2024-06-01"], tmp_path)
    assert by_address(data)["aws_db_instance.legacy"]["status"] == "suppressed"


def test_invalid_expiry_date_warns_and_does_not_apply(tmp_path):
    text = db("first") + "\n" + db(
        "bad_date", "# soc2lint:ignore aws-rds-storage-encrypted expires=2024-13-45 -- temporary")
    write(tmp_path, {"main.tf": text})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert by_address(data)["aws_db_instance.bad_date"]["status"] == "fail"
    warnings = [n for n in data["notifications"] if "2024-13-45" in n["message"]]
    assert [(n["file"], n["line"], n["level"]) for n in warnings] == [("main.tf", 6, "warning")]
    assert result.exit_code == 1, "a warning is not an error: exit 1 for the failures, not 3"

    text_output = run_cli(["scan", ".", "--rule", RDS], tmp_path).stdout
    assert "main.tf:6" in text_output
    assert "2024-13-45" in text_output


# -- reports and exit codes ------------------------------------------------------------------------
SARIF_CASE = db("inline_ignored", "# soc2lint:ignore aws-rds-storage-encrypted -- test data (RISK-2)") \
    + "\n" + db("failing")


def sarif_results(tmp_path, *extra: str) -> list[dict]:
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "sarif", *extra], tmp_path)
    assert result.exit_code == 1, result.output
    log = json.loads(result.stdout)
    return log["runs"][0]["results"]


def test_sarif_leaves_suppressed_results_out_by_default(tmp_path):
    write(tmp_path, {"main.tf": SARIF_CASE})
    found = sarif_results(tmp_path)
    assert [r["properties"]["resource"] for r in found] == ["aws_db_instance.failing"]
    assert "suppressions" not in found[0]


def test_sarif_includes_suppressed_results_when_asked(tmp_path):
    write(tmp_path, {
        "main.tf": SARIF_CASE + "\n" + db("config_ignored"),
        ".soc2lint.yaml": ("ignores:\n  - rule: aws-rds-storage-encrypted\n"
                           "    resource: aws_db_instance.config_ignored\n"
                           "    justification: restored nightly from prod snapshots\n"),
    })
    found = {r["properties"]["resource"]: r for r in sarif_results(tmp_path, "--sarif-include-suppressed")}
    assert set(found) == {"aws_db_instance.inline_ignored", "aws_db_instance.failing",
                          "aws_db_instance.config_ignored"}
    assert found["aws_db_instance.inline_ignored"]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "test data (RISK-2)"}]
    assert found["aws_db_instance.config_ignored"]["suppressions"] == [
        {"kind": "external", "status": "accepted",
         "justification": "restored nightly from prod snapshots"}]
    assert "suppressions" not in found["aws_db_instance.failing"]


def test_exit_code_follows_the_suppression(tmp_path):
    write(tmp_path, {"main.tf": db("only")})
    assert run_cli(["scan", ".", "--rule", RDS], tmp_path).exit_code == 1
    write(tmp_path, {"main.tf": db("only", "# soc2lint:ignore aws-rds-storage-encrypted -- test data")})
    assert run_cli(["scan", ".", "--rule", RDS], tmp_path).exit_code == 0
    write(tmp_path, {"main.tf": db("only", "# soc2lint:ignore aws-rds-storage-encrypted")})
    assert run_cli(["scan", ".", "--rule", RDS], tmp_path).exit_code == 1
    write(tmp_path, {"main.tf": db("only", "# soc2lint:ignore aws-rds-storage-encrypted "
                                           "expires=2000-01-01 -- was temporary")})
    assert run_cli(["scan", ".", "--rule", RDS, "--today", "2024-01-01"], tmp_path).exit_code == 1


def test_text_summary_shows_the_suppressed_count(tmp_path):
    write(tmp_path, {"main.tf": SARIF_CASE + "\n"
                     + db("third", "# soc2lint:ignore aws-rds-storage-encrypted -- also test data")})
    result = run_cli(["scan", ".", "--rule", RDS], tmp_path)
    assert "1 failed" in result.stdout
    assert "2 suppressed" in result.stdout
    assert "aws_db_instance.failing" in result.stdout
    assert "aws_db_instance.third" not in result.stdout


# -- who wrote the ignore (git blame) --------------------------------------------------------------
def git(root, *args: str) -> str:
    return helpers.git(root, *args, author="Alice Auditor").strip()


def test_blame_author_and_commit_of_a_committed_ignore(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": db("committed", "# soc2lint:ignore aws-rds-storage-encrypted -- test data")})
    git(tmp_path, "add", "main.tf")
    git(tmp_path, "commit", "-q", "-m", "add database")
    head = git(tmp_path, "rev-parse", "HEAD")
    day = git(tmp_path, "log", "-1", "--format=%aI")[:10]
    # an ignore added after the commit is not blamed on anyone
    with open(tmp_path / "main.tf", "a", encoding="utf-8") as handle:
        handle.write("\n" + db("uncommitted", "# soc2lint:ignore aws-rds-storage-encrypted -- test too"))

    found = by_address(scan_json([".", "--rule", RDS], tmp_path))
    committed = found["aws_db_instance.committed"]["suppression"]
    assert committed["author"] == "Alice Auditor <alice@example.com>"
    assert committed["commit"] == head
    assert len(committed["date"]) == 10
    assert abs(datetime.date.fromisoformat(committed["date"]) - datetime.date.fromisoformat(day)).days <= 1
    uncommitted = found["aws_db_instance.uncommitted"]["suppression"]
    assert found["aws_db_instance.uncommitted"]["status"] == "suppressed"
    assert uncommitted["line"] == 7
    assert uncommitted["author"] is None
    assert uncommitted["commit"] is None


def test_blame_for_a_scan_from_a_subdirectory_path(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/main.tf": db("sub", "# soc2lint:ignore aws-rds-storage-encrypted -- test")})
    git(tmp_path, "add", "infra/main.tf")
    git(tmp_path, "commit", "-q", "-m", "infra")
    found = by_address(scan_json(["infra", "--rule", RDS], tmp_path))["aws_db_instance.sub"]
    assert found["status"] == "suppressed"
    assert found["suppression"]["commit"] == git(tmp_path, "rev-parse", "HEAD")
    assert found["suppression"]["author"] == "Alice Auditor <alice@example.com>"




def test_ignore_naming_a_rule_alias_covers_the_renamed_rule(tmp_path):
    write(tmp_path, {
        "rules/x-db-encrypted.yaml": ALIASED_RULE,
        "main.tf": db("old_name", "# soc2lint:ignore x-old-db-check -- written before the rename")
        + "\n" + db("new_name", "# soc2lint:ignore x-db-encrypted -- written after the rename")
        + "\n" + db("none"),
    })
    result = run_cli(["scan", "main.tf", "--rules-dir", "rules", "--rule", "x-db-encrypted", "-f", "json"],
                     tmp_path)
    found = by_address(json.loads(result.stdout), "x-db-encrypted")
    assert found["aws_db_instance.old_name"]["status"] == "suppressed"
    assert found["aws_db_instance.old_name"]["suppression"]["justification"] == "written before the rename"
    assert found["aws_db_instance.new_name"]["status"] == "suppressed"
    assert found["aws_db_instance.none"]["status"] == "fail"
    assert result.exit_code == 1


@pytest.mark.parametrize(("text", "visible"), [
    ("", False), (" \t", False), ("\u200b", False), ("\u200c\u200d\u2060\ufeff", False),
    ("\u200e\u200f\u00ad\u061c", False), ("\u0301\u20dd", False), ("\x07\x7f", False),
    ("\u00a0\u2003\u3000", False), ("\u3164\u2800", False), ("\U000e0041", False),
    ("a", True), ("\u200bRISK-12", True), ("é", True), ("検証用", True), ("-", True),
])
def test_a_justification_needs_a_visible_character(text, visible):
    assert is_visible(text) is visible


def test_an_ignore_with_an_invisible_justification_has_none():
    (ignore,) = inline_ignores("main.tf", "# soc2lint:ignore some-rule -- \u200b\u2060\n",
                               datetime.date(2024, 1, 1))
    assert ignore.justification == "" and not ignore.applies
    assert ignore.entity().data["justification"] is None
