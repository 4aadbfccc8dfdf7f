"""Pull-request mode: `--diff-base` reports only what changed since a revision, in real git
repositories (renames, deletions, untracked files, changed lines), and lists every change that
could exempt code; `--config-ref` reads the configuration and baseline from the base."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from helpers import ALIASED_RULE, commit, db, git, git_init, run_cli, write

RDS = "aws-rds-storage-encrypted"
EBS = "aws-ebs-volume-encrypted"


def volume(name: str, encrypted: str = "false") -> str:
    return (f'resource "aws_ebs_volume" "{name}" {{\n'
            f'  availability_zone = "eu-west-1a"\n'
            f'  size              = 10\n'
            f'  encrypted         = {encrypted}\n'
            f'}}\n')


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: infra/db.tf fails (an old failure), infra/ebs.tf passes, app/db.tf fails."""
    write(tmp_path, {"infra/db.tf": db("legacy"), "infra/ebs.tf": volume("data", "true"),
                     "app/db.tf": db("app")})
    git_init(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "main")
    commit(tmp_path, "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    return tmp_path


def scan(root: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict]:
    result = run_cli(["scan", *args, "-f", "json", "--rule", f"{RDS},{EBS}"], cwd or root)
    assert result.exit_code in (0, 1, 3), result.output
    return result.exit_code, json.loads(result.stdout)


def failing(data: dict) -> list[tuple[str, int, str]]:
    return sorted((r["file"], r["line"], r["entity"]["address"]) for r in data["results"]
                  if r["status"] == "fail")


def test_only_changed_files_are_reported_and_counted(repo):
    (repo / "infra/ebs.tf").write_text(volume("data", "true") + "\n" + volume("scratch"))
    commit(repo, "add a scratch volume")
    code, data = scan(repo, ".", "--diff-base", "main")
    assert code == 1
    assert data["files"] == ["infra/ebs.tf"]
    assert failing(data) == [("infra/ebs.tf", 10, "aws_ebs_volume.scratch")]
    assert data["diff"]["base"] == "main" and data["diff"]["files"] == ["infra/ebs.tf"]
    assert data["diff"]["base_commit"] == git(repo, "rev-parse", "main").strip()


def test_an_unchanged_failure_does_not_fail_the_change(repo):
    (repo / "infra/ebs.tf").write_text(volume("data", "true") + "\n" + volume("more", "true"))
    commit(repo, "another encrypted volume")
    code, data = scan(repo, ".", "--diff-base", "main")
    assert code == 0 and failing(data) == []
    full_code, full = scan(repo, ".")
    assert full_code == 1 and len(failing(full)) == 2


def test_changed_lines_only_keeps_findings_whose_block_changed(repo):
    text = db("legacy") + "\n" + db("added")
    (repo / "infra/db.tf").write_text(text)
    commit(repo, "add a database")
    _, files = scan(repo, ".", "--diff-base", "main")
    assert [a for _, _, a in failing(files)] == ["aws_db_instance.legacy", "aws_db_instance.added"]
    _, lines = scan(repo, ".", "--diff-base", "main", "--changed-lines-only")
    assert failing(lines) == [("infra/db.tf", 8, "aws_db_instance.added")]
    assert lines["diff"]["changed_lines_only"] is True


def test_a_deleted_line_inside_a_block_counts_as_a_change_to_it(repo):
    write(repo, {"infra/ebs.tf": 'resource "aws_ebs_volume" "data" {\n  availability_zone = "a"\n'
                                 '  encrypted         = true\n  size              = 10\n}\n'})
    commit(repo, "rewrite")
    git(repo, "branch", "-f", "main")
    (repo / "infra/ebs.tf").write_text('resource "aws_ebs_volume" "data" {\n  availability_zone = "a"\n'
                                       '  size              = 10\n}\n')
    code, data = scan(repo, ".", "--diff-base", "main", "--changed-lines-only")
    assert code == 1 and [a for _, _, a in failing(data)] == ["aws_ebs_volume.data"]


def test_working_tree_and_untracked_files_count(repo):
    write(repo, {"infra/new.tf": volume("fresh")})  # not even staged
    (repo / "app/db.tf").write_text(db("app", "true"))  # modified, unstaged: now passes
    code, data = scan(repo, ".", "--diff-base", "main")
    assert data["files"] == ["app/db.tf", "infra/new.tf"]
    assert failing(data) == [("infra/new.tf", 4, "aws_ebs_volume.fresh")] and code == 1


def test_renames_and_deletions(repo):
    git(repo, "mv", "infra/db.tf", "infra/database.tf")
    git(repo, "rm", "-q", "app/db.tf")
    commit(repo, "rename and delete")
    code, data = scan(repo, ".", "--diff-base", "main")
    assert data["files"] == ["infra/database.tf"]
    assert failing(data) == [("infra/database.tf", 3, "aws_db_instance.legacy")] and code == 1
    assert data["diff"]["deleted"] == ["app/db.tf"]
    assert data["notifications"] == []
    # a pure rename changes no line: nothing to report in changed-lines mode
    code, lines = scan(repo, ".", "--diff-base", "main", "--changed-lines-only")
    assert code == 0 and failing(lines) == []
    # a rename with an edit: the edited block is reported under its new name
    (repo / "infra/database.tf").write_text(db("renamed"))
    code, edited = scan(repo, ".", "--diff-base", "main", "--changed-lines-only")
    assert failing(edited) == [("infra/database.tf", 3, "aws_db_instance.renamed")]


def test_changed_file_is_read_with_its_terraform_directory(repo):
    write(repo, {"infra/variables.tf": 'variable "encrypt" {\n  default = false\n}\n'})
    commit(repo, "variables")
    git(repo, "branch", "-f", "main")
    (repo / "infra/ebs.tf").write_text(volume("data", "var.encrypt"))
    code, data = scan(repo, ".", "--diff-base", "main")
    assert data["files"] == ["infra/ebs.tf"] and code == 1
    assert failing(data) == [("infra/ebs.tf", 4, "aws_ebs_volume.data")]
    assert [r["outcome"] for r in data["results"] if r["rule_id"] == EBS] == ["fail"]


def test_a_change_to_a_module_call_reports_the_module_findings(repo):
    write(repo, {"modules/db/main.tf": 'variable "encrypted" {}\n' + db("this", "var.encrypted"),
                 "stack/main.tf": 'module "db" {\n  source    = "../modules/db"\n  encrypted = true\n}\n'})
    commit(repo, "module")
    git(repo, "branch", "-f", "main")
    (repo / "stack/main.tf").write_text('module "db" {\n  source    = "../modules/db"\n'
                                        '  encrypted = false\n}\n')
    _, data = scan(repo, "stack", "modules", "--diff-base", "main", "--changed-lines-only")
    found = [r for r in data["results"] if r["status"] == "fail"]
    assert [(r["file"], r["line"]) for r in found] == [("modules/db/main.tf", 4)]
    assert found[0]["related_locations"][0]["file"] == "stack/main.tf"


def test_only_changes_under_the_paths_given(repo):
    write(repo, {"infra/x.tf": volume("x"), "app/y.tf": volume("y")})
    commit(repo, "two new files")
    _, data = scan(repo, "app", "--diff-base", "main")
    assert data["files"] == ["app/y.tf"]
    _, sub = scan(repo, ".", "--diff-base", "main", cwd=repo / "app")
    assert sub["files"] == ["app/y.tf"] and failing(sub) == [("app/y.tf", 4, "aws_ebs_volume.y")]


def test_sarif_still_covers_the_full_scan(repo, tmp_path):
    write(repo, {"infra/new.tf": volume("fresh")})
    commit(repo, "new")
    sarif_file = tmp_path / "out.sarif"
    result = run_cli(["scan", ".", "--rule", f"{RDS},{EBS}", "--diff-base", "main", "-f",
                      f"sarif={sarif_file}", "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert failing(data) == [("infra/new.tf", 4, "aws_ebs_volume.fresh")] and result.exit_code == 1
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                  for r in json.loads(sarif_file.read_text())["runs"][0]["results"])
    assert uris == ["app/db.tf", "infra/db.tf", "infra/new.tf"]


def test_bad_revision_and_missing_base_are_usage_errors(repo, tmp_path_factory):
    result = run_cli(["scan", ".", "--diff-base", "no-such-branch"], repo)
    assert result.exit_code == 2 and "'no-such-branch' is not a commit" in result.stderr
    outside = tmp_path_factory.mktemp("plain")
    write(outside, {"a.tf": db("a")})
    result = run_cli(["scan", str(outside), "--diff-base", "main"], outside)
    assert result.exit_code == 2 and "not inside a git repository" in result.stderr
    result = run_cli(["scan", ".", "--changed-lines-only"], repo)
    assert result.exit_code == 2 and "--diff-base" in result.output


def exemptions(data: dict) -> list[tuple[str, str, str, int | None]]:
    return [(c["kind"], c["change"], c["file"], c["line"]) for c in data["diff"]["exemption_changes"]]


def test_every_change_that_could_exempt_code_is_listed(repo):
    write(repo, {"rules/x-db-encrypted.yaml": ALIASED_RULE, "baseline.json": json.dumps(
        {"version": 1, "tool": "soc2lint", "findings": []}),
        "infra/db.tf": "# soc2lint:ignore " + RDS + " -- legacy database, retired in Q3\n" + db("legacy")})
    commit(repo, "base with an ignore")
    git(repo, "branch", "-f", "main")
    write(repo, {
        ".soc2lint.yaml": f"disable: [{EBS}]\nbaseline: baseline.json\n",
        "baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [
            {"rule": RDS, "path": "app/db.tf", "address": "aws_db_instance.app",
             "instance_key": None}]}),
        "rules/x-db-encrypted.yaml": ALIASED_RULE.replace("severity: high", "severity: low"),
        "infra/db.tf": db("legacy"),  # the ignore is removed
        "app/db.tf": f"# soc2lint:ignore {RDS} expires=2030-01-01 -- tracked in SEC-12\n" + db("app"),
    })
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", "--rule", RDS,
                      "--rules-dir", "rules"], repo)
    data = json.loads(result.stdout)
    assert exemptions(data) == [
        ("config", "added", ".soc2lint.yaml", None),
        ("inline", "added", "app/db.tf", 1),
        ("baseline", "changed", "baseline.json", None),
        ("inline", "removed", "infra/db.tf", 1),
        ("rules", "changed", "rules/x-db-encrypted.yaml", None),
    ], result.output


def _scan_change(repo) -> dict:
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", "--rule", RDS], repo)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_inline_ignore_and_config_changes_are_described(repo):
    write(repo, {".soc2lint.yaml": f"severity:\n  {RDS}: low\n"})
    commit(repo, "config")
    git(repo, "branch", "-f", "main")
    write(repo, {".soc2lint.yaml": f"severity:\n  {RDS}: low\ndisable: [{EBS}]\n",
                 "app/db.tf": f"# soc2lint:ignore {RDS}\n" + db("app")})
    data = _scan_change(repo)
    changes = data["diff"]["exemption_changes"]
    assert [c["summary"] for c in changes] == [
        "configuration changed",
        f"soc2lint:ignore {RDS} (no justification: it does not apply)"]
    assert f'+disable: ["{EBS}"]' in changes[0]["diff"].splitlines()
    jsonschema.validate(data, json.loads((ROOT / "soc2lint/schema/report.schema.json").read_text()))


def test_pyproject_changes_count_only_inside_tool_soc2lint(repo):
    write(repo, {"pyproject.toml": '[project]\nname = "x"\n\n[tool.soc2lint]\nfail_on = "high"\n'})
    commit(repo, "pyproject")
    git(repo, "branch", "-f", "main")
    write(repo, {"pyproject.toml": '[project]\nname = "y"\n\n[tool.soc2lint]\nfail_on = "high"\n'})
    assert _scan_change(repo)["diff"]["exemption_changes"] == []
    write(repo, {"pyproject.toml": '[project]\nname = "y"\n\n[tool.soc2lint]\nfail_on = "critical"\n'})
    changes = _scan_change(repo)["diff"]["exemption_changes"]
    assert [(c["kind"], c["file"]) for c in changes] == [("config", "pyproject.toml")]
    assert '+fail_on: "critical"' in changes[0]["diff"]


def test_config_ref_reads_configuration_and_baseline_from_the_base(repo):
    write(repo, {".soc2lint.yaml": "baseline: baseline.json\n",
                 "baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": []})})
    commit(repo, "config")
    git(repo, "branch", "-f", "main")
    # the change disables one rule and baselines the other's new failure
    write(repo, {".soc2lint.yaml": f"baseline: baseline.json\ndisable: [{EBS}]\n",
                 "infra/ebs.tf": volume("data", "false"), "app/db.tf": db("app") + "\n" + db("new"),
                 "baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [
                     {"rule": RDS, "path": "app/db.tf", "address": "aws_db_instance.new",
                      "instance_key": None}]})})

    def run(*extra: str) -> tuple[int, dict]:
        result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", *extra], repo)
        return result.exit_code, json.loads(result.stdout)

    _, own = run()
    assert EBS not in [r["id"] for r in own["rules"]]
    assert [(r["entity"]["address"], r["status"]) for r in own["results"] if r["rule_id"] == RDS] == [
        ("aws_db_instance.app", "fail"), ("aws_db_instance.new", "suppressed")]
    code, based = run("--config-ref", "main")
    assert code == 1 and based["diff"]["config_ref"] == "main"
    assert sorted((r["rule_id"], r["entity"]["address"]) for r in based["results"]
                  if r["status"] == "fail" and r["rule_id"] in (RDS, EBS)) == [
        (EBS, "aws_ebs_volume.data"), (RDS, "aws_db_instance.app"), (RDS, "aws_db_instance.new")]


def test_config_ref_without_a_config_at_the_base_uses_the_defaults(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{RDS}]\n"})
    result = run_cli(["scan", "app", "-f", "json", "--config-ref", "main"], repo)
    assert [r["rule_id"] for r in json.loads(result.stdout)["results"]].count(RDS) == 1
    result = run_cli(["scan", "app", "--config-ref", "nope"], repo)
    assert result.exit_code == 2 and "--config-ref" in result.stderr


def test_inline_ignores_can_be_switched_off(repo):
    write(repo, {"app/db.tf": f"# soc2lint:ignore {RDS} -- accepted by the CISO\n" + db("app")})
    statuses = {}
    for label, args, config in (("on", [], ""), ("flag", ["--no-inline-ignores"], ""),
                                ("config", [], "inline_ignores: false\n")):
        write(repo, {".soc2lint.yaml": config})
        _, data = scan(repo, "app", *args)
        statuses[label] = [r["status"] for r in data["results"] if r["rule_id"] == RDS]
    assert statuses == {"on": ["suppressed"], "flag": ["fail"], "config": ["fail"]}


def test_new_failures_in_unchanged_files_of_a_changed_module_are_reported(repo):
    write(repo, {"infra/variables.tf": 'variable "encrypt" {\n  default = true\n}\n',
                 "infra/ebs.tf": volume("data", "var.encrypt") + "\n" + volume("old")})
    commit(repo, "volumes")
    git(repo, "branch", "-f", "main")
    write(repo, {"infra/variables.tf": 'variable "encrypt" {\n  default = false\n}\n'})
    for mode in ([], ["--changed-lines-only"]):
        code, data = scan(repo, ".", "--diff-base", "main", *mode)
        # ebs.tf did not change, but the new default makes `data` fail; `old` failed before
        assert failing(data) == [("infra/ebs.tf", 4, "aws_ebs_volume.data")] and code == 1, mode
        assert data["diff"]["files"] == ["infra/variables.tf"]
        assert data["diff"]["affected"] == ["infra/ebs.tf"]
        assert data["files"] == ["infra/ebs.tf", "infra/variables.tf"]
    result = run_cli(["scan", ".", "--rule", EBS, "--diff-base", "main", "-f", "json",
                      "-f", f"sarif={repo / 'o.sarif'}"], repo)
    assert failing(json.loads(result.stdout)) == [("infra/ebs.tf", 4, "aws_ebs_volume.data")]


def test_deleting_an_account_wide_setting_reports_what_it_protected(repo):
    write(repo, {"infra/default.tf": 'resource "aws_ebs_encryption_by_default" "on" {\n'
                                     '  enabled = true\n}\n',
                 "infra/ebs.tf": 'resource "aws_ebs_volume" "data" {\n  size = 10\n}\n'})
    commit(repo, "encryption by default")
    git(repo, "branch", "-f", "main")
    assert failing(scan(repo, ".", "--diff-base", "main")[1]) == []
    git(repo, "rm", "-q", "infra/default.tf")
    code, data = scan(repo, ".", "--diff-base", "main")
    assert [a for _, _, a in failing(data)] == ["aws_ebs_volume.data"] and code == 1
    assert data["diff"]["deleted"] == ["infra/default.tf"] and data["diff"]["affected"] == ["infra/ebs.tf"]


def test_old_failures_of_a_module_evaluated_through_a_call_are_not_new(repo):
    """The base is evaluated from the same roots as the change (here an example calling the
    module), so a failure that was there before keeps its identity and is not reported."""
    write(repo, {"mod/variables.tf": 'variable "size" {\n  description = "old"\n  default = 10\n}\n',
                 "mod/main.tf": volume("this"),
                 "examples/basic/main.tf": 'module "m" {\n  source = "../../mod"\n}\n'})
    commit(repo, "module and example")
    git(repo, "branch", "-f", "main")
    write(repo, {"mod/variables.tf": 'variable "size" {\n  description = "new"\n  default = 10\n}\n'})
    for extra in ([], ["-f", f"sarif={repo / 'o.sarif'}"]):
        result = run_cli(["scan", ".", "--rule", EBS, "--diff-base", "main", "-f", "json", *extra], repo)
        data = json.loads(result.stdout)
        assert data["diff"]["affected"] == [] and failing(data) == [] and result.exit_code == 0, extra
    # a real change in the module's default makes the same block new
    write(repo, {"mod/main.tf": volume("this", "var.encrypt"),
                 "mod/variables.tf": 'variable "encrypt" {\n  default = false\n}\n'})
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "encrypt by variable")
    git(repo, "branch", "-f", "main")
    write(repo, {"mod/variables.tf": 'variable "encrypt" {\n  default = true\n}\n'})
    assert failing(scan(repo, ".", "--diff-base", "main")[1]) == []


# -- the same answer whatever the output formats; nothing in the change goes unseen -------------
def _both(repo, *args: str) -> list[tuple[int, list]]:
    """Exit code and failures of a diff run, without and with SARIF (the full scan)."""
    runs = []
    for extra in ([], ["-f", f"sarif={repo / 'o.sarif'}"]):
        result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", *args, *extra], repo)
        runs.append((result.exit_code, failing(json.loads(result.stdout))))
    return runs


def test_a_changed_module_file_is_evaluated_through_its_callers(repo):
    write(repo, {"modules/storage/volume.tf": volume("v", "var.enc"),
                 "modules/storage/vars.tf": 'variable "enc" {\n  default = true\n}\n',
                 "envs/prod/main.tf": 'module "storage" {\n  source = "../../modules/storage"\n'
                                      '  enc    = false\n}\n'})
    commit(repo, "module")
    git(repo, "branch", "-f", "main")
    write(repo, {"modules/storage/volume.tf": volume("v", "var.enc").replace("10", "20")})
    runs = _both(repo, "--rule", EBS)
    assert runs[0] == runs[1] == (1, [("modules/storage/volume.tf", 4, "module.storage.aws_ebs_volume.v")])


def test_a_change_in_a_caller_reports_new_failures_in_the_module_it_calls(repo):
    write(repo, {"modules/storage/volume.tf": 'resource "aws_ebs_volume" "v" {\n  size = 1\n}\n',
                 "envs/prod/default.tf": 'resource "aws_ebs_encryption_by_default" "on" {\n'
                                         '  enabled = true\n}\n',
                 "envs/prod/main.tf": 'module "storage" {\n  source = "../../modules/storage"\n}\n'})
    commit(repo, "module with an account-wide default")
    git(repo, "branch", "-f", "main")
    git(repo, "rm", "-q", "envs/prod/default.tf")
    for code, found in _both(repo, "--rule", EBS):
        assert (code, found) == (1, [("modules/storage/volume.tf", 1, "module.storage.aws_ebs_volume.v")])


def test_a_changed_variable_file_of_the_configuration_is_answered_for(repo):
    write(repo, {"envs/prod.tfvars": "enc = true\n",
                 ".soc2lint.yaml": "terraform:\n  var_files: [envs/prod.tfvars]\n",
                 "infra/ebs.tf": 'variable "enc" {}\n' + volume("data", "var.enc")})
    commit(repo, "variables")
    git(repo, "branch", "-f", "main")
    write(repo, {"envs/prod.tfvars": "enc = false\n"})
    for code, found in _both(repo, "--rule", EBS):
        assert (code, found) == (1, [("infra/ebs.tf", 5, "aws_ebs_volume.data")])


def test_repository_files_count_when_they_change(repo):
    write(repo, {".github/CODEOWNERS": "* @acme\n"})
    commit(repo, "owners")
    git(repo, "branch", "-f", "main")
    git(repo, "rm", "-q", ".github/CODEOWNERS")
    for code, found in _both(repo, "--rule", "gh-codeowners-file-present"):
        # the removed file cannot hold the finding: it stands at the repository's first file
        assert code == 1 and [p for p, _, _ in found] == ["app/db.tf"]


def test_changed_lines_cannot_be_hidden_by_file_content(repo):
    head = '# note\u2028+++ /dev/null\n# <<EOT\n'
    write(repo, {"infra/ebs.tf": head + volume("data", "true")})
    commit(repo, "volume")
    git(repo, "branch", "-f", "main")
    write(repo, {"infra/ebs.tf": head + '# ++ looks like a header in the patch\n' + volume("data", "false")})
    code, data = scan(repo, ".", "--diff-base", "main", "--changed-lines-only")
    assert code == 1 and failing(data) == [("infra/ebs.tf", 7, "aws_ebs_volume.data")]


WORKFLOW = """\
name: ci
on: push
permissions:
  contents: read
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
"""


def test_a_setting_removed_above_a_block_is_answered_for_in_changed_lines_mode(repo):
    write(repo, {".github/workflows/ci.yml": WORKFLOW})
    commit(repo, "workflow")
    git(repo, "branch", "-f", "main")
    write(repo, {".github/workflows/ci.yml": WORKFLOW.replace("permissions:\n  contents: read\n", "")})
    code, data = scan_rule(repo, "gha-missing-permissions", "--changed-lines-only")
    assert code == 1 and [p for p, _, _ in failing(data)] == [".github/workflows/ci.yml"]


def test_lines_deleted_at_the_end_of_a_yaml_block_touch_it(repo):
    job_permissions = "    permissions:\n      contents: read\n"
    text = WORKFLOW.replace("permissions:\n  contents: read\n", "") + job_permissions
    write(repo, {".github/workflows/ci.yml": text})
    commit(repo, "job permissions")
    git(repo, "branch", "-f", "main")
    write(repo, {".github/workflows/ci.yml": text.replace(job_permissions, "")})
    code, data = scan_rule(repo, "gha-missing-permissions", "--changed-lines-only")
    assert code == 1 and len(failing(data)) == 1


def scan_rule(repo, rule: str, *args: str) -> tuple[int, dict]:
    result = run_cli(["scan", ".", "-f", "json", "--rule", rule, "--diff-base", "main", *args], repo)
    return result.exit_code, json.loads(result.stdout)


def test_standard_input_and_writing_a_baseline_are_refused(repo):
    for args in (["-"], [".", "--write-baseline", "b.json"]):
        result = run_cli(["scan", *args, "--diff-base", "main"], repo, stdin="a: 1\n")
        assert result.exit_code == 2 and "--diff-base" in result.stderr
    assert not (repo / "b.json").exists()


def test_a_missing_path_is_a_usage_error_in_both_modes(repo):
    for extra in ([], ["-f", f"sarif={repo / 'o.sarif'}"]):
        result = run_cli(["scan", "typo", "--diff-base", "main", "-f", "json", *extra], repo)
        assert result.exit_code == 2, extra
        assert "typo: no such file or directory" in result.stderr and not result.stdout


def test_a_configuration_named_on_the_command_line_is_listed(repo):
    write(repo, {"conf/soc2.yaml": "fail_on: low\n"})
    commit(repo, "conf")
    git(repo, "branch", "-f", "main")
    write(repo, {"conf/soc2.yaml": f"fail_on: low\ndisable: [{EBS}]\n"})
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", "--config", "conf/soc2.yaml"], repo)
    assert exemptions(json.loads(result.stdout)) == [("config", "changed", "conf/soc2.yaml", None)]


def test_unchanged_ignores_in_awkward_file_names_are_not_listed(repo, monkeypatch):
    import soc2lint.exemptions as module

    monkeypatch.setattr(module, "_GREP_CHUNK", 1)  # several `git grep` calls
    names = ['q"x.tf', "tab\there.tf", "[ab].tf", "a b.tf"]
    write(repo, {n: f"# soc2lint:ignore {RDS} -- legacy\n" + db("d") for n in names})
    commit(repo, "odd names")
    git(repo, "branch", "-f", "main")
    write(repo, {n: f"# soc2lint:ignore {RDS} -- legacy\n" + db("d", "true") for n in names})
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", "--rule", RDS], repo)
    data = json.loads(result.stdout)
    assert sorted(data["diff"]["files"]) == sorted(names) and exemptions(data) == []


def test_a_file_name_that_is_not_utf8_gives_no_traceback(repo):
    import os

    with open(os.fsencode(repo) + b"/caf\xe9.tf", "w") as handle:
        handle.write(volume("v"))
    for fmt in ("summary", "sarif", "json", "github", "text"):
        result = run_cli(["scan", ".", "--rule", EBS, "-f", fmt, "--diff-base", "main"], repo)
        shown = "caf%EF%BF%BD.tf" if fmt == "sarif" else "caf\ufffd.tf"  # SARIF URIs are encoded
        assert result.exit_code == 1 and shown in result.stdout, fmt
