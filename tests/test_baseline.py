"""The baseline: known failures recorded once, keyed on rule, path, address and instance key (never
lines), so they stop counting across ordinary edits while new failures still do."""

from __future__ import annotations

import json

import helpers
import pytest
from helpers import ALIASED_RULE, git_init, run_cli, write

RDS = "aws-rds-storage-encrypted"
EBS = "aws-ebs-volume-encrypted"
BASELINE = "soc2lint-baseline.json"


def db(name: str, encrypted: str = "false", extra: str = "") -> str:
    return (f'resource "aws_db_instance" "{name}" {{\n{extra}'
            f'  engine            = "postgres"\n'
            f'  storage_encrypted = {encrypted}\n'
            f'}}\n')


TWO = db("orders") + "\n" + db("billing")


def git(root, *args: str) -> str:
    return helpers.git(root, *args, author="Bea Baseline")


def commit(root, message: str) -> None:
    helpers.commit(root, message, author="Bea Baseline")


def scan(root, *args: str, rules: str = RDS) -> tuple[int, dict]:
    result = run_cli(["scan", ".", "--rule", rules, "-f", "json", *args], root)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def statuses(data: dict) -> dict[str, str]:
    return {r["entity"]["address"]: r["status"] for r in data["results"]}


def entries(root, name: str = BASELINE) -> list[dict]:
    return json.loads((root / name).read_text(encoding="utf-8"))["findings"]


@pytest.fixture
def repo(tmp_path):
    """A committed repository with two failing databases and a baseline written for them."""
    git_init(tmp_path)
    write(tmp_path, {"main.tf": TWO})
    commit(tmp_path, "two databases")
    code, data = scan(tmp_path, "--write-baseline", BASELINE)
    assert code == 0, "the failures just recorded do not count"
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed"}
    commit(tmp_path, "baseline")
    return tmp_path


# -- writing -------------------------------------------------------------------------------------
def test_written_baseline_holds_the_failures_without_lines(repo):
    assert entries(repo) == [
        {"rule": RDS, "path": "main.tf", "address": "aws_db_instance.billing", "instance_key": None,
         "severity": "high"},
        {"rule": RDS, "path": "main.tf", "address": "aws_db_instance.orders", "instance_key": None,
         "severity": "high"},
    ]
    data = json.loads((repo / BASELINE).read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert "line" not in (repo / BASELINE).read_text(encoding="utf-8")


def test_write_baseline_result_marks_them_baselined(tmp_path):
    write(tmp_path, {"main.tf": TWO})
    result = run_cli(["scan", ".", "--rule", RDS, "--write-baseline", BASELINE, "-f", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert result.exit_code == 0
    assert data["summary"]["suppressed_by_kind"] == {"inline": 0, "config": 0, "baseline": 2}
    assert data["summary"]["outcomes"]["fail"] == 0
    assert {r["suppression"]["kind"] for r in data["results"]} == {"baseline"}


def test_baseline_is_deterministic(repo):
    first = (repo / BASELINE).read_bytes()
    scan(repo, "--write-baseline", "again.json")
    assert (repo / "again.json").read_bytes() == first
    # and it does not change when the code moves around
    write(repo, {"main.tf": "# header\n" * 5 + db("billing") + "\n\n" + db("orders")})
    scan(repo, "--write-baseline", "moved.json")
    assert (repo / "moved.json").read_bytes() == first


def test_write_baseline_leaves_out_failures_an_ignore_covers(tmp_path):
    write(tmp_path, {"main.tf": TWO + "\n# soc2lint:ignore aws-rds-storage-encrypted -- test data\n"
                     + db("ignored")})
    code, data = scan(tmp_path, "--write-baseline", BASELINE)
    assert code == 0
    assert statuses(data)["aws_db_instance.ignored"] == "suppressed"
    assert [e["address"] for e in entries(tmp_path)] == ["aws_db_instance.billing",
                                                         "aws_db_instance.orders"]


def test_baseline_run_without_the_baseline_still_fails(repo):
    code, data = scan(repo)
    assert code == 1
    assert set(statuses(data).values()) == {"fail"}


# -- reading, across edits -----------------------------------------------------------------------
def test_rerun_with_the_baseline(repo):
    code, data = scan(repo, "--baseline", BASELINE)
    assert code == 0
    assert data["summary"]["suppressed_by_kind"]["baseline"] == 2
    suppression = data["results"][0]["suppression"]
    assert suppression["kind"] == "baseline"
    assert suppression["file"] == BASELINE
    assert suppression["line"] is None
    assert suppression["author"] is None, "a baseline entry is not blamed"


def test_ten_lines_inserted_above_are_still_baselined(repo):
    header = "".join(f"# line {n} of a new header\n" for n in range(1, 9)) + "locals {}\n\n"
    assert header.count("\n") == 10
    write(repo, {"main.tf": header + TWO})
    commit(repo, "header")
    code, data = scan(repo, "--baseline", BASELINE)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed"}
    lines = {r["entity"]["address"]: r["line"] for r in data["results"]}
    assert lines["aws_db_instance.orders"] == 13, "the finding really moved down by ten lines"
    assert code == 0


def test_resource_moved_in_the_file_is_still_baselined(repo):
    write(repo, {"main.tf": db("billing") + "\n" + 'locals {\n  x = 1\n}\n\n' + db("orders")})
    commit(repo, "reorder")
    code, data = scan(repo, "--baseline", BASELINE)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed"}
    assert code == 0


def test_a_new_failing_resource_is_reported(repo):
    with open(repo / "main.tf", "a", encoding="utf-8") as handle:
        handle.write("\n" + db("reports"))
    code, data = scan(repo, "--baseline", BASELINE)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed",
                              "aws_db_instance.reports": "fail"}
    assert code == 1
    text = run_cli(["scan", ".", "--rule", RDS, "--baseline", BASELINE], repo).stdout
    assert "aws_db_instance.reports" in text
    assert "aws_db_instance.orders" not in text
    assert "1 failed" in text and "2 suppressed" in text


def test_a_baselined_rule_does_not_hide_another_rule(repo):
    write(repo, {"volume.tf": 'resource "aws_ebs_volume" "scratch" {\n  encrypted = false\n}\n'})
    code, data = scan(repo, "--baseline", BASELINE, rules=f"{RDS},{EBS}")
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed",
                              "aws_ebs_volume.scratch": "fail"}
    assert code == 1


def test_fixing_a_baselined_resource_is_no_problem(repo):
    write(repo, {"main.tf": db("orders") + "\n" + db("billing", encrypted="true")})
    commit(repo, "encrypt billing")
    code, data = scan(repo, "--baseline", BASELINE)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed", "aws_db_instance.billing": "pass"}
    assert data["notifications"] == []
    assert data["summary"]["outcomes"] == {"fail": 0, "pass": 1, "unknown": 0, "suppressed": 1}
    assert code == 0


def test_renamed_file_brings_the_findings_back(repo):
    git(repo, "mv", "main.tf", "databases.tf")
    commit(repo, "rename")
    code, data = scan(repo, "--baseline", BASELINE)
    assert statuses(data) == {"aws_db_instance.orders": "fail", "aws_db_instance.billing": "fail"}
    assert {r["file"] for r in data["results"]} == {"databases.tf"}
    assert code == 1


def test_for_each_instance_keys(tmp_path):
    git_init(tmp_path)
    tenants = '''\
resource "aws_db_instance" "tenant" {
  for_each          = toset(KEYS)
  engine            = "postgres"
  storage_encrypted = false
}
'''
    write(tmp_path, {"main.tf": tenants.replace("KEYS", '["a"]')})
    commit(tmp_path, "tenant a")
    scan(tmp_path, "--write-baseline", BASELINE)
    assert [(e["address"], e["instance_key"]) for e in entries(tmp_path)] == [
        ('aws_db_instance.tenant["a"]', "a")]

    write(tmp_path, {"main.tf": tenants.replace("KEYS", '["a", "b"]')})
    commit(tmp_path, "tenant b")
    code, data = scan(tmp_path, "--baseline", BASELINE)
    assert statuses(data) == {'aws_db_instance.tenant["a"]': "suppressed",
                              'aws_db_instance.tenant["b"]': "fail"}
    assert code == 1


def test_module_resources_are_baselined_per_call(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"main.tf": 'module "db" {\n  source = "./modules/db"\n}\n',
                     "modules/db/main.tf": db("this")})
    commit(tmp_path, "module")
    scan(tmp_path, "--write-baseline", BASELINE)
    assert [(e["path"], e["address"]) for e in entries(tmp_path)] == [
        ("modules/db/main.tf", "module.db.aws_db_instance.this")]
    write(tmp_path, {"main.tf": ('# the database\n\nmodule "db" {\n  source = "./modules/db"\n}\n\n'
                                 'module "db2" {\n  source = "./modules/db"\n}\n'),
                     "modules/db/main.tf": "\n\n" + db("this")})
    code, data = scan(tmp_path, "--baseline", BASELINE)
    assert statuses(data) == {"module.db.aws_db_instance.this": "suppressed",
                              "module.db2.aws_db_instance.this": "fail"}
    assert code == 1


def test_baselined_failures_stay_out_of_sarif(repo):
    with open(repo / "main.tf", "a", encoding="utf-8") as handle:
        handle.write("\n" + db("reports"))
    result = run_cli(["scan", ".", "--rule", RDS, "--baseline", BASELINE, "-f", "sarif"], repo)
    found = json.loads(result.stdout)["runs"][0]["results"]
    assert [r["properties"]["resource"] for r in found] == ["aws_db_instance.reports"]
    assert result.exit_code == 1


# -- rule aliases --------------------------------------------------------------------------------


def test_baseline_entry_under_a_rule_alias_matches_the_renamed_rule(tmp_path):
    git_init(tmp_path)
    old_baseline = {"version": 1, "tool": "soc2lint", "findings": [
        {"rule": "x-old-db-check", "path": "main.tf", "address": "aws_db_instance.orders",
         "instance_key": None, "severity": "high"}]}
    write(tmp_path, {"rules/x-db-encrypted.yaml": ALIASED_RULE, "main.tf": TWO,
                     "old-baseline.json": json.dumps(old_baseline)})
    commit(tmp_path, "renamed rule")
    result = run_cli(["scan", "main.tf", "--rules-dir", "rules", "--rule", "x-db-encrypted",
                      "--baseline", "old-baseline.json", "-f", "json"], tmp_path)
    data = json.loads(result.stdout)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed", "aws_db_instance.billing": "fail"}
    assert result.exit_code == 1


def test_baseline_entry_under_the_current_rule_id_and_new_baselines_use_it(tmp_path):
    current = {"version": 1, "tool": "soc2lint", "findings": [
        {"rule": "x-db-encrypted", "path": "main.tf", "address": "aws_db_instance.orders",
         "instance_key": None, "severity": "high"}]}
    write(tmp_path, {"rules/x-db-encrypted.yaml": ALIASED_RULE, "main.tf": TWO,
                     "current.json": json.dumps(current)})
    args = ["scan", "main.tf", "--rules-dir", "rules", "--rule", "x-old-db-check"]
    result = run_cli([*args, "--baseline", "current.json", "-f", "json"], tmp_path)
    assert statuses(json.loads(result.stdout)) == {"aws_db_instance.orders": "suppressed",
                                                   "aws_db_instance.billing": "fail"}
    run_cli([*args, "--write-baseline", "new-baseline.json"], tmp_path)
    assert {e["rule"] for e in entries(tmp_path, "new-baseline.json")} == {"x-db-encrypted"}


# -- bad baseline files --------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "{ not json",
    "",
    '{"version": 2, "tool": "soc2lint", "findings": []}',
    '{"version": 1, "tool": "soc2lint"}',
    '{"version": 1, "findings": [{"rule": "aws-rds-storage-encrypted"}]}',
    '[1, 2, 3]',
    '{"version": 1, "findings": 7}',
])
def test_corrupt_baseline_exits_2_naming_it(tmp_path, text):
    write(tmp_path, {"main.tf": TWO, "broken-baseline.json": text})
    result = run_cli(["scan", ".", "--rule", RDS, "--baseline", "broken-baseline.json"], tmp_path)
    assert result.exit_code == 2, result.output
    assert "broken-baseline.json" in result.stderr
    assert result.stdout == ""


def test_missing_baseline_exits_2_naming_it(tmp_path):
    write(tmp_path, {"main.tf": TWO})
    result = run_cli(["scan", ".", "--rule", RDS, "--baseline", "nowhere.json"], tmp_path)
    assert result.exit_code == 2
    assert "nowhere.json" in result.stderr


# -- the configuration's baseline key ------------------------------------------------------------
def test_config_baseline_key(repo):
    write(repo, {".soc2lint.yaml": f"baseline: {BASELINE}\n"})
    with open(repo / "main.tf", "a", encoding="utf-8") as handle:
        handle.write("\n" + db("reports"))
    code, data = scan(repo)
    assert statuses(data) == {"aws_db_instance.orders": "suppressed",
                              "aws_db_instance.billing": "suppressed",
                              "aws_db_instance.reports": "fail"}
    assert data["summary"]["suppressed_by_kind"]["baseline"] == 2
    assert code == 1


def test_config_baseline_is_relative_to_the_config_and_paths_to_the_repository(tmp_path):
    git_init(tmp_path)
    write(tmp_path, {"infra/main.tf": TWO})
    commit(tmp_path, "infra")
    (tmp_path / "ci").mkdir()
    scan(tmp_path, "--write-baseline", "ci/baseline.json")
    assert {e["path"] for e in entries(tmp_path, "ci/baseline.json")} == {"infra/main.tf"}
    write(tmp_path, {".soc2lint.yaml": "baseline: ci/baseline.json\n"})
    for cwd, path in ((tmp_path, "infra"), (tmp_path / "infra", "."), (tmp_path, "infra/main.tf")):
        result = run_cli(["scan", path, "--rule", RDS, "-f", "json"], cwd)
        assert result.exit_code == 0, (cwd, path, result.output)
        assert set(statuses(json.loads(result.stdout)).values()) == {"suppressed"}


def test_baseline_option_wins_over_the_config_key(repo):
    write(repo, {"empty.json": '{"version": 1, "tool": "soc2lint", "findings": []}\n',
                 ".soc2lint.yaml": "baseline: empty.json\n"})
    assert scan(repo)[0] == 1
    code, data = scan(repo, "--baseline", BASELINE)
    assert code == 0
    assert set(statuses(data).values()) == {"suppressed"}


def test_corrupt_config_baseline_exits_2_naming_it(repo):
    write(repo, {".soc2lint.yaml": "baseline: ci/known.json\n", "ci/known.json": "{\n"})
    result = run_cli(["scan", ".", "--rule", RDS], repo)
    assert result.exit_code == 2
    assert "ci/known.json" in result.stderr


def test_refreshing_an_active_baseline_keeps_what_it_held(repo):
    write(repo, {"main.tf": TWO + "\n" + db("ledger")})
    code, data = scan(repo, "--baseline", BASELINE, "--write-baseline", BASELINE)
    assert code == 0
    assert [e["address"] for e in entries(repo)] == [
        "aws_db_instance.billing", "aws_db_instance.ledger", "aws_db_instance.orders"]
    code, data = scan(repo, "--baseline", BASELINE)
    assert code == 0 and set(statuses(data).values()) == {"suppressed"}


def test_a_missing_configured_baseline_is_a_warning_until_written(tmp_path):
    write(tmp_path, {"main.tf": TWO, ".soc2lint.yaml": f"baseline: {BASELINE}\n"})
    code, data = scan(tmp_path)
    assert code == 1
    assert any("does not exist yet" in n["message"] for n in data["notifications"])
    code, _ = scan(tmp_path, "--write-baseline", BASELINE)
    assert code == 0 and len(entries(tmp_path)) == 2
    code, data = scan(tmp_path)
    assert code == 0 and not data["notifications"]
