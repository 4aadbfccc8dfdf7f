"""A pull request cannot exempt itself unseen: however an exemption is written (pyproject tables,
dotted keys, a byte-order mark, a copied baseline entry, a moved ignore, a resource deleted or
renamed under an ignore, a new exclude), `--diff-base` lists the failures it stops from counting,
judged against the base's own configuration, in real git repositories."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import ROOT
from helpers import commit, db, git, git_init, run_cli, write

RDS = "aws-rds-storage-encrypted"
EBS = "aws-ebs-volume-encrypted"
IGNORE = f"# soc2lint:ignore {RDS} -- replica of public data\n"


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: infra/db.tf and app/db.tf each hold a failing database; the branch `feature`."""
    write(tmp_path, {"infra/db.tf": db("legacy"), "app/db.tf": db("app"),
                     "pyproject.toml": '[project]\nname = "infra"\n'})
    git_init(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "main")
    commit(tmp_path, "base")
    git(tmp_path, "checkout", "-q", "-b", "feature")
    return tmp_path


def change(repo: Path, *args: str) -> dict:
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main", "--rule", f"{RDS},{EBS}",
                      *args], repo)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    jsonschema.validate(data, json.loads((ROOT / "soc2lint/schema/report.schema.json").read_text()))
    return data


def exempted(data: dict) -> list[tuple[str, str, str, str, str]]:
    """(file, address, mechanism, source, at_base) of each failure the change exempts."""
    return [(e["file"], e["address"], e["mechanism"], e["source"], e["at_base"])
            for e in data["diff"]["exempted"]]


def kinds(data: dict) -> list[tuple[str, str, str]]:
    return [(c["kind"], c["change"], c["file"]) for c in data["diff"]["exemption_changes"]]


def without_rule_option(repo: Path) -> dict:
    """A run that lets the configuration select the rules (`--rule` would override it)."""
    result = run_cli(["scan", ".", "-f", "json", "--diff-base", "main"], repo)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("pyproject", [
    f'[project]\nname = "infra"\n\n[tool]\nsoc2lint = {{disable = ["{RDS}"]}}\n',
    f'tool.soc2lint.disable = ["{RDS}"]\n\n[project]\nname = "infra"\n',
    f'[project]\nname = "infra"\n\n[tool.soc2lint]\ndisable = ["{RDS}"]\n',
], ids=["inline-table", "dotted-keys", "table"])
def test_a_rule_disabled_in_pyproject_is_listed_however_written(repo, pyproject):
    write(repo, {"pyproject.toml": pyproject})
    data = without_rule_option(repo)
    assert RDS not in [r["id"] for r in data["rules"]]  # the setting is in effect...
    assert ("config", "added", "pyproject.toml") in kinds(data)  # ...and shown
    config = next(c for c in data["diff"]["exemption_changes"] if c["kind"] == "config")
    assert f'+disable: ["{RDS}"]' in config["diff"].splitlines()
    assert sorted(exempted(data)) == [  # every failure it stops, in unchanged files too
        ("app/db.tf", "aws_db_instance.app", "deselected", "pyproject.toml", "failing"),
        ("infra/db.tf", "aws_db_instance.legacy", "deselected", "pyproject.toml", "failing")]


def test_a_mention_in_a_comment_does_not_make_pyproject_a_configuration(repo):
    """It would shadow the repository's real configuration."""
    write(repo, {".soc2lint.yaml": f"disable: [{EBS}]\n"})
    commit(repo, "configuration")
    git(repo, "branch", "-f", "main")
    write(repo, {"app/pyproject.toml": '# settings live in [tool.soc2lint] of the root\n[project]\n'
                 'name = "app"\ndescription = "see [tool.soc2lint]"\n'})
    result = run_cli(["scan", "app", "-f", "json"], repo)
    assert EBS not in [r["id"] for r in json.loads(result.stdout)["rules"]]  # the root's applies
    assert exempted(without_rule_option(repo)) == []


def test_an_ignore_on_the_first_line_of_a_file_with_a_byte_order_mark(repo):
    (repo / "infra/new.tf").write_bytes(("\ufeff" + IGNORE + db("new")).encode("utf-8"))
    data = change(repo)
    assert ("inline", "added", "infra/new.tf") in kinds(data)
    assert exempted(data) == [("infra/new.tf", "aws_db_instance.new", "inline", "infra/new.tf:1",
                               "absent")]


def _baseline_entries(repo: Path) -> list[dict]:
    """The entries `--write-baseline` records for the tree as it is now."""
    target = repo.parent / f"{repo.name}-baseline.json"
    run_cli(["scan", ".", "--rule", RDS, "--fail-on", "none", "--write-baseline", str(target)], repo)
    return json.loads(target.read_text())["findings"]


def test_a_baseline_entry_copied_for_another_root_module(repo):
    """The same module file and address evaluated from a second root: only `context` differs."""
    write(repo, {"modules/db/main.tf": db("shared"), "prod/main.tf": 'module "db" {\n  source = '
                 '"../modules/db"\n}\n', ".soc2lint.yaml": "baseline: baseline.json\n"})
    entries = [e for e in _baseline_entries(repo) if e["path"] == "modules/db/main.tf"]
    assert [e["context"] for e in entries] == ["prod"]
    write(repo, {"baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": entries})})
    commit(repo, "baseline")
    git(repo, "branch", "-f", "main")
    write(repo, {"staging/main.tf": 'module "db" {\n  source = "../modules/db"\n}\n',
                 "baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [
                     *entries, {**entries[0], "context": "staging"}]})})
    data = change(repo)
    baseline = [c for c in data["diff"]["exemption_changes"] if c["kind"] == "baseline"]
    assert [c["summary"] for c in baseline] == ["baseline: 1 known failure(s) added, 0 removed"]
    assert "(from staging)" in baseline[0]["diff"]
    assert exempted(data) == [("modules/db/main.tf", "module.db.aws_db_instance.shared", "baseline",
                               "baseline.json", "absent")]


def test_a_baseline_entry_copied_for_another_instance(repo):
    counted = ('resource "aws_db_instance" "pool" {\n  for_each = toset(%s)\n  engine = "postgres"\n'
               '  storage_encrypted = false\n}\n')
    write(repo, {"infra/pool.tf": counted % '["a"]', ".soc2lint.yaml": "baseline: baseline.json\n"})
    [entry] = [e for e in _baseline_entries(repo) if e["path"] == "infra/pool.tf"]
    write(repo, {"baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [entry]})})
    commit(repo, "baseline")
    git(repo, "branch", "-f", "main")
    copy = {**entry, "instance_key": "b", "address": entry["address"].replace('"a"', '"b"')}
    write(repo, {"infra/pool.tf": counted % '["a", "b"]', "baseline.json": json.dumps(
        {"version": 1, "tool": "soc2lint", "findings": [entry, copy]})})
    data = change(repo)
    assert ("baseline", "changed", "baseline.json") in kinds(data)
    assert exempted(data) == [("infra/pool.tf", 'aws_db_instance.pool["b"]', "baseline",
                               "baseline.json", "absent")]


def test_an_ignore_moved_onto_another_resource(repo):
    write(repo, {"infra/db.tf": IGNORE + db("legacy") + "\n" + db("other")})
    commit(repo, "ignored legacy database")
    git(repo, "branch", "-f", "main")
    write(repo, {"infra/db.tf": db("legacy") + "\n" + IGNORE + db("other")})
    data = change(repo)
    assert kinds(data) == []  # the same ignore text, so no ignore was added or removed...
    assert exempted(data) == [  # ...but it now covers a failure that counted
        ("infra/db.tf", "aws_db_instance.other", "inline", "infra/db.tf:6", "failing")]
    assert ("infra/db.tf", "aws_db_instance.legacy") in [
        (r["file"], r["entity"]["address"]) for r in data["results"] if r["status"] == "fail"]


@pytest.mark.parametrize("edit", ["delete", "rename"])
def test_an_ignore_retargeted_by_deleting_or_renaming_the_resource_beneath(repo, edit):
    write(repo, {"infra/db.tf": IGNORE + db("legacy") + db("other")})
    commit(repo, "ignored legacy database")
    git(repo, "branch", "-f", "main")
    after = {"delete": IGNORE + db("other"), "rename": IGNORE + db("renamed") + db("other")}[edit]
    write(repo, {"infra/db.tf": after})
    data = change(repo)
    address, at_base = {"delete": ("aws_db_instance.other", "failing"),
                        "rename": ("aws_db_instance.renamed", "absent")}[edit]
    assert exempted(data) == [("infra/db.tf", address, "inline", "infra/db.tf:1", at_base)]


def test_a_configuration_ignore_covers_failures_in_files_the_change_did_not_touch(repo):
    write(repo, {".soc2lint.yaml": f"ignores:\n  - rule: {RDS}\n    paths: [app/]\n"
                 "    justification: migrating this quarter\n"})
    data = change(repo)
    assert exempted(data) == [("app/db.tf", "aws_db_instance.app", "config", ".soc2lint.yaml:2",
                               "failing")]


def test_a_new_exclude_pattern(repo):
    write(repo, {".soc2lint.yaml": "exclude: [infra/]\n"})
    data = change(repo)
    assert exempted(data) == [("infra/db.tf", "aws_db_instance.legacy", "excluded", ".soc2lint.yaml",
                               "failing")]


def test_exemptions_the_base_already_had_are_not_listed(repo):
    write(repo, {"infra/db.tf": IGNORE + db("legacy"),
                 ".soc2lint.yaml": f"ignores:\n  - rule: {RDS}\n    paths: [app/]\n"
                 "    justification: migrating this quarter\n"})
    commit(repo, "exceptions")
    git(repo, "branch", "-f", "main")
    write(repo, {"infra/db.tf": "# the legacy database\n" + IGNORE + db("legacy"),
                 "app/db.tf": db("app") + "\n# more to come\n",
                 ".soc2lint.yaml": f"# reviewed\nignores:\n  - rule: {RDS}\n    paths: [app/]\n"
                 "    justification: migrating this quarter\n"})
    data = change(repo)
    assert exempted(data) == [] and kinds(data) == []


def test_the_exemptions_of_a_change_are_listed_with_the_base_configuration_in_force(repo):
    """--config-ref: the base's configuration runs, and a new inline ignore is still listed."""
    write(repo, {".soc2lint.yaml": f"disable: [{RDS}]\n", "infra/db.tf": IGNORE + db("legacy")})
    data = change(repo, "--config-ref", "main")
    assert ("config", "added", ".soc2lint.yaml") in kinds(data)
    assert exempted(data) == [("infra/db.tf", "aws_db_instance.legacy", "inline", "infra/db.tf:1",
                               "failing")]


def test_a_base_whose_baseline_cannot_be_read_is_compared_without_it(repo):
    write(repo, {".soc2lint.yaml": "baseline: baseline.json\n", "baseline.json": "{not json"})
    commit(repo, "a broken baseline")
    git(repo, "branch", "-f", "main")
    write(repo, {"baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [
        {"rule": RDS, "path": "app/db.tf", "address": "aws_db_instance.app", "instance_key": None}]})})
    data = change(repo)
    assert exempted(data) == [("app/db.tf", "aws_db_instance.app", "baseline", "baseline.json",
                               "failing")]
    assert any("the baseline at the base cannot be read" in n["message"] for n in data["notifications"])


def test_the_text_report_and_the_job_summary_list_what_a_change_exempts(repo):
    write(repo, {"infra/db.tf": db("legacy") + "\n" + IGNORE + db("other")})
    text = run_cli(["scan", ".", "--diff-base", "main", "--rule", RDS, "--no-color"], repo).stdout
    assert ("Failures this change exempts (1):\n  infra/db.tf:9  aws-rds-storage-encrypted  "
            "aws_db_instance.other  inline ignore at infra/db.tf:6; new since the base\n") in text
    summary = repo / "summary.md"
    run_cli(["scan", ".", "--diff-base", "main", "--rule", RDS, "-f", f"summary={summary}"], repo)
    markdown = summary.read_text()
    assert "**1 failure(s) are exempted by this change** (listed below)" in markdown
    assert ("| `aws-rds-storage-encrypted` | `infra/db.tf:9` | `aws_db_instance.other` | inline "
            "ignore at infra/db.tf:6; new since the base |") in markdown


def test_a_baseline_named_on_the_command_line_from_another_directory(repo):
    """The baseline's entries are listed however the path to it is spelled."""
    empty = json.dumps({"version": 1, "tool": "soc2lint", "findings": []})
    write(repo, {"ci/baseline.json": empty})
    commit(repo, "baseline")
    git(repo, "branch", "-f", "main")
    write(repo, {"ci/baseline.json": json.dumps({"version": 1, "tool": "soc2lint", "findings": [
        {"rule": RDS, "path": "app/db.tf", "address": "aws_db_instance.app", "instance_key": None}]})})
    result = run_cli(["scan", "..", "-f", "json", "--diff-base", "main", "--rule", RDS, "--baseline",
                      str(repo / "ci" / "baseline.json")], repo / "ci")
    data = json.loads(result.stdout)
    assert [(e["file"], e["mechanism"], e["at_base"]) for e in data["diff"]["exempted"]] == [
        ("app/db.tf", "baseline", "failing")]


def test_a_manifest_moved_into_a_new_helm_chart_is_listed_as_no_longer_scanned(repo):
    pod = ("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
           "    - name: app\n      image: nginx:1.27\n      securityContext: {privileged: true}\n")
    write(repo, {"k8s/pod.yaml": pod})
    commit(repo, "a pod")
    git(repo, "branch", "-f", "main")
    write(repo, {"deploy/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n"})
    (repo / "deploy/templates").mkdir()
    git(repo, "mv", "k8s/pod.yaml", "deploy/templates/pod.yaml")
    data = without_rule_option(repo)
    assert [c for c in kinds(data) if c[0] == "skipped"] == [
        ("skipped", "added", "deploy/Chart.yaml"), ("skipped", "changed", "deploy/templates/pod.yaml")]
    assert not any(r["file"].startswith("deploy/") for r in data["results"])
