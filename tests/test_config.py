"""The configuration file: where it is found, what each key does, how the command line wins over
it, and how a bad one is reported (exit 2 naming the file and the key)."""

from __future__ import annotations

import json

import pytest
from helpers import db, git_init, run_cli, scan_json, write

RDS = "aws-rds-storage-encrypted"
EBS = "aws-ebs-volume-encrypted"


def volume(name: str) -> str:
    return f'resource "aws_ebs_volume" "{name}" {{\n  size      = 10\n  encrypted = false\n}}\n'


def statuses(data: dict, rule: str | None = None) -> dict[tuple[str, str], str]:
    """(rule, address) -> status of every result (of one rule)."""
    return {(r["rule_id"], r["entity"]["address"]): r["status"] for r in data["results"]
            if rule is None or r["rule_id"] == rule}


def rule_ids(data: dict) -> set[str]:
    return {r["id"] for r in data["rules"]}


def result_for(data: dict, rule: str, address: str) -> dict:
    found = [r for r in data["results"] if r["rule_id"] == rule and r["entity"]["address"] == address]
    assert len(found) == 1, (rule, address, data["results"])
    return found[0]


@pytest.fixture
def repo(tmp_path):
    """A git repository, so config discovery stops at its root and paths are relative to it."""
    git_init(tmp_path)
    return tmp_path


# -- finding the configuration -------------------------------------------------------------------
def test_config_found_from_a_subdirectory_path(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{EBS}]\n",
                 "infra/prod/main.tf": db("orders") + volume("scratch")})
    data = scan_json(["infra/prod"], repo)
    assert EBS not in rule_ids(data)
    assert RDS in rule_ids(data)
    assert statuses(data, RDS) == {(RDS, "aws_db_instance.orders"): "fail"}
    assert not statuses(data, EBS)

    # and from inside the subdirectory, scanning "."
    data = scan_json(["."], repo / "infra" / "prod")
    assert EBS not in rule_ids(data) and RDS in rule_ids(data)

    # and for a file named explicitly
    data = scan_json(["infra/prod/main.tf"], repo)
    assert EBS not in rule_ids(data) and RDS in rule_ids(data)


def test_yml_extension_is_found_too(repo):
    write(repo, {".soc2lint.yml": f"disable: [{EBS}]\n", "main.tf": volume("scratch")})
    data = scan_json(["."], repo)
    assert EBS not in rule_ids(data)


def test_discovery_stops_at_the_repository_root(tmp_path):
    outer = tmp_path / "outer"
    inner = outer / "repo"
    git_init(inner)
    write(outer, {".soc2lint.yaml": f"disable: [{EBS}]\n"})
    write(inner, {"main.tf": volume("scratch")})
    data = scan_json(["."], inner)
    assert EBS in rule_ids(data), "a configuration above the repository root is not used"
    assert statuses(data, EBS) == {(EBS, "aws_ebs_volume.scratch"): "fail"}


def test_nearest_configuration_wins(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{EBS}]\n",
                 "infra/.soc2lint.yaml": f"disable: [{RDS}]\n",
                 "infra/main.tf": db("orders") + volume("scratch")})
    data = scan_json(["infra"], repo)
    assert RDS not in rule_ids(data)
    assert EBS in rule_ids(data)


PYPROJECT = f"""\
[project]
name = "demo"

[tool.soc2lint]
disable = ["{EBS}"]
fail_on = "high"

[[tool.soc2lint.ignores]]
rule = "{RDS}"
resource = "aws_db_instance.legacy"
justification = "decommissioned in Q3 (CHG-12)"
owner = "dba@example.com"
expires = 2999-12-31
"""


def test_pyproject_tool_section(repo):
    write(repo, {"pyproject.toml": PYPROJECT,
                 "main.tf": db("legacy") + db("orders") + volume("scratch")})
    result = run_cli(["scan", ".", "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert EBS not in rule_ids(data)
    legacy = result_for(data, RDS, "aws_db_instance.legacy")
    assert legacy["status"] == "suppressed"
    assert legacy["suppression"] == {
        "kind": "config", "justification": "decommissioned in Q3 (CHG-12)", "file": "pyproject.toml",
        "line": 8, "expires": "2999-12-31", "owner": "dba@example.com",
        "author": None, "commit": None, "date": None}
    assert result_for(data, RDS, "aws_db_instance.orders")["status"] == "fail"
    assert result.exit_code == 1


def test_pyproject_toml_date_expires(repo):
    write(repo, {"pyproject.toml": PYPROJECT, "main.tf": db("legacy")})
    rules = f"{RDS},ignore-not-expired"
    assert run_cli(["scan", ".", "--rule", rules, "--today", "2999-12-30"], repo).exit_code == 0
    data = scan_json([".", "--rule", rules, "--today", "3000-01-01"], repo)
    assert result_for(data, RDS, "aws_db_instance.legacy")["status"] == "fail"
    expired = [r for r in data["results"] if r["rule_id"] == "ignore-not-expired"]
    assert [(r["status"], r["file"], r["line"]) for r in expired] == [("fail", "pyproject.toml", 8)]


def test_pyproject_without_the_section_is_not_a_configuration(repo):
    write(repo, {"pyproject.toml": '[project]\nname = "demo"\n',
                 "sub/.soc2lint.yaml": f"disable: [{EBS}]\n",
                 "main.tf": volume("scratch")})
    data = scan_json(["."], repo)
    assert EBS in rule_ids(data)


def test_yaml_config_is_preferred_to_pyproject_in_the_same_directory(repo):
    write(repo, {"pyproject.toml": f'[tool.soc2lint]\ndisable = ["{RDS}"]\n',
                 ".soc2lint.yaml": f"disable: [{EBS}]\n",
                 "main.tf": db("orders") + volume("scratch")})
    data = scan_json(["."], repo)
    assert RDS in rule_ids(data)
    assert EBS not in rule_ids(data)


def test_config_option_names_a_file_elsewhere(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{RDS}]\n",
                 "ci/strict.yaml": f"disable: [{EBS}]\nexclude: [legacy/]\n",
                 "main.tf": db("orders") + volume("scratch"),
                 "ci/legacy/old.tf": db("old"),
                 "legacy/old.tf": db("old")})
    data = scan_json([".", "--config", "ci/strict.yaml"], repo)
    assert RDS in rule_ids(data), "the discovered configuration is not used"
    assert EBS not in rule_ids(data)
    assert "ci/legacy/old.tf" not in data["files"], "exclude is relative to the named file"
    assert "legacy/old.tf" in data["files"]
    assert "main.tf" in data["files"]


def test_no_config_ignores_the_configuration(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{EBS}]\nfail_on: none\n", "main.tf": volume("scratch")})
    assert run_cli(["scan", "."], repo).exit_code == 0
    result = run_cli(["scan", ".", "--no-config", "-f", "json"], repo)
    assert result.exit_code == 1
    assert statuses(json.loads(result.stdout), EBS) == {(EBS, "aws_ebs_volume.scratch"): "fail"}


def test_no_config_also_skips_a_broken_configuration(repo):
    write(repo, {".soc2lint.yaml": "not_a_key: 1\n", "main.tf": volume("scratch")})
    assert run_cli(["scan", "."], repo).exit_code == 2
    assert run_cli(["scan", ".", "--no-config"], repo).exit_code == 1


# -- which rules run -----------------------------------------------------------------------------
def test_select_ids(repo):
    write(repo, {".soc2lint.yaml": f"select:\n  ids: [{RDS}]\n", "main.tf": db("orders") + volume("v")})
    data = scan_json(["."], repo)
    assert rule_ids(data) == {RDS}
    assert set(statuses(data)) == {(RDS, "aws_db_instance.orders")}


def test_select_tags(repo):
    write(repo, {".soc2lint.yaml": "select:\n  tags: [backup]\n", "main.tf": db("orders")})
    data = scan_json(["."], repo)
    assert rule_ids(data), "some rules carry the backup theme"
    assert all("backup" in r["tags"] for r in data["rules"])
    assert "aws-s3-versioning" in rule_ids(data)
    assert RDS not in rule_ids(data)


def test_select_criteria(repo):
    write(repo, {".soc2lint.yaml": "select:\n  criteria: [A1.2]\n", "main.tf": db("orders")})
    data = scan_json(["."], repo)
    assert "aws-rds-backup-retention" in rule_ids(data)
    assert RDS not in rule_ids(data)
    assert all("A1.2" in r["soc2"]["primary"] + r["soc2"]["secondary"] for r in data["rules"])


def test_select_several_ids(repo):
    write(repo, {".soc2lint.yaml": f"select:\n  ids: [{RDS}, {EBS}]\n",
                 "main.tf": db("orders") + volume("v")})
    assert rule_ids(scan_json(["."], repo)) == {RDS, EBS}


@pytest.mark.parametrize("option", [["--rule", EBS], ["--tags", "encryption-at-rest"],
                                    ["--criteria", "CC6.1"]])
def test_command_line_selection_wins_over_select(repo, option):
    write(repo, {".soc2lint.yaml": "select:\n  tags: [backup]\n", "main.tf": volume("v")})
    data = scan_json([".", *option], repo)
    assert EBS in rule_ids(data)
    assert "aws-s3-versioning" not in rule_ids(data)
    assert statuses(data, EBS) == {(EBS, "aws_ebs_volume.v"): "fail"}


POD_WITHOUT_CPU_LIMIT = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: web
      image: nginx:1.27
      resources:
        limits: {memory: 128Mi}
"""


def test_enable_a_rule_disabled_by_default(repo):
    write(repo, {"pod.yaml": POD_WITHOUT_CPU_LIMIT})
    data = scan_json(["."], repo)
    assert "k8s-cpu-limits" not in rule_ids(data)
    write(repo, {".soc2lint.yaml": "enable: [k8s-cpu-limits]\n"})
    data = scan_json(["."], repo)
    assert "k8s-cpu-limits" in rule_ids(data)
    assert "k8s-no-privileged" in rule_ids(data), "enable adds to the default rules"
    assert statuses(data, "k8s-cpu-limits") == {("k8s-cpu-limits", "Pod/web/containers/web"): "fail"}


def test_disable(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{RDS}]\n", "main.tf": db("orders") + volume("v")})
    result = run_cli(["scan", ".", "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert RDS not in rule_ids(data)
    assert not statuses(data, RDS)
    assert statuses(data, EBS) == {(EBS, "aws_ebs_volume.v"): "fail"}


def test_disabled_rule_still_runs_when_named_on_the_command_line(repo):
    write(repo, {".soc2lint.yaml": f"disable: [{RDS}]\n", "main.tf": db("orders")})
    data = scan_json([".", "--rule", RDS], repo)
    assert statuses(data) == {(RDS, "aws_db_instance.orders"): "fail"}


# -- severity and fail_on ------------------------------------------------------------------------
def test_severity_override_shows_in_json_and_changes_the_exit_code(repo):
    write(repo, {"main.tf": db("orders")})
    write(repo, {".soc2lint.yaml": "fail_on: medium\n"})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], repo)
    assert result.exit_code == 1, "high is at or above medium"
    assert json.loads(result.stdout)["results"][0]["severity"] == "high"

    write(repo, {".soc2lint.yaml": f"fail_on: medium\nseverity:\n  {RDS}: low\n"})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert result.exit_code == 0, "lowered to low, below fail_on"
    assert [r["severity"] for r in data["rules"] if r["id"] == RDS] == ["low"]
    assert [(r["severity"], r["status"]) for r in data["results"]] == [("low", "fail")]
    assert data["summary"]["failures_by_severity"]["low"] == 1
    assert data["summary"]["failures_by_severity"]["high"] == 0

    write(repo, {".soc2lint.yaml": f"fail_on: critical\nseverity:\n  {RDS}: critical\n"})
    assert run_cli(["scan", ".", "--rule", RDS], repo).exit_code == 1


def test_fail_on_from_the_configuration(repo):
    write(repo, {"main.tf": db("orders"), ".soc2lint.yaml": "fail_on: critical\n"})
    assert run_cli(["scan", ".", "--rule", RDS], repo).exit_code == 0
    write(repo, {".soc2lint.yaml": "fail_on: high\n"})
    assert run_cli(["scan", ".", "--rule", RDS], repo).exit_code == 1
    write(repo, {".soc2lint.yaml": "fail_on: none\n"})
    assert run_cli(["scan", ".", "--rule", RDS], repo).exit_code == 0


def test_fail_on_option_wins_over_the_configuration(repo):
    write(repo, {"main.tf": db("orders"), ".soc2lint.yaml": "fail_on: critical\n"})
    assert run_cli(["scan", ".", "--rule", RDS, "--fail-on", "high"], repo).exit_code == 1
    write(repo, {".soc2lint.yaml": "fail_on: low\n"})
    assert run_cli(["scan", ".", "--rule", RDS, "--fail-on", "none"], repo).exit_code == 0
    assert run_cli(["scan", ".", "--rule", RDS, "--fail-on", "critical"], repo).exit_code == 0


# -- exclude -------------------------------------------------------------------------------------
def test_exclude_a_directory_and_a_glob(repo):
    write(repo, {
        ".soc2lint.yaml": "exclude:\n  - vendor/\n  - '*.generated.tf'\n",
        "main.tf": db("kept"),
        "vendor/lib.tf": db("vendored"),
        "modules/x/vendor/deep.tf": db("deep_vendored"),
        "infra/db.generated.tf": db("generated"),
        "infra/db.tf": db("handwritten"),
    })
    data = scan_json([".", "--rule", RDS], repo)
    assert data["files"] == ["infra/db.tf", "main.tf"]
    assert set(statuses(data)) == {(RDS, "aws_db_instance.kept"), (RDS, "aws_db_instance.handwritten")}


def test_exclude_is_relative_to_the_configuration_file(repo):
    write(repo, {
        "infra/.soc2lint.yaml": "exclude: [/legacy/]\n",
        "infra/legacy/old.tf": db("old"),
        "infra/new/legacy/nested.tf": db("nested"),
        "other/legacy/kept.tf": db("kept"),
    })
    data = scan_json(["infra", "other", "--rule", RDS], repo)
    assert data["files"] == ["infra/new/legacy/nested.tf", "other/legacy/kept.tf"]


def test_an_excluded_file_named_explicitly_is_listed_as_skipped(repo):
    write(repo, {".soc2lint.yaml": "exclude: [vendor/]\n", "vendor/lib.tf": db("vendored"),
                 "main.tf": db("kept")})
    result = run_cli(["scan", "vendor/lib.tf", "main.tf", "--rule", RDS, "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert data["files"] == ["main.tf"]
    assert [s["file"] for s in data["skipped"]] == ["vendor/lib.tf"]
    assert "exclude" in data["skipped"][0]["reason"]
    assert set(statuses(data)) == {(RDS, "aws_db_instance.kept")}


# -- ignores in the configuration ----------------------------------------------------------------
def test_config_ignore_by_rule_and_paths(repo):
    write(repo, {
        ".soc2lint.yaml": (
            "ignores:\n"
            f"  - rule: {RDS}\n"
            "    paths: [sandbox/]\n"
            "    justification: sandbox account holds synthetic data only\n"),
        "sandbox/main.tf": db("sandbox_db") + volume("sandbox_volume"),
        "prod/main.tf": db("prod_db"),
    })
    result = run_cli(["scan", ".", "--rule", f"{RDS},{EBS}", "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert statuses(data) == {
        (RDS, "aws_db_instance.sandbox_db"): "suppressed",
        (RDS, "aws_db_instance.prod_db"): "fail",
        (EBS, "aws_ebs_volume.sandbox_volume"): "fail",  # another rule: not covered
    }
    suppression = result_for(data, RDS, "aws_db_instance.sandbox_db")["suppression"]
    assert suppression["kind"] == "config"
    assert suppression["file"] == ".soc2lint.yaml"
    assert suppression["line"] == 2
    assert data["summary"]["suppressed_by_kind"] == {"inline": 0, "config": 1, "baseline": 0}
    assert result.exit_code == 1


def test_config_ignore_paths_are_relative_to_the_configuration_file(repo):
    write(repo, {
        "infra/.soc2lint.yaml": (f"ignores:\n  - rule: {RDS}\n    paths: ['/sandbox/*.tf']\n"
                                 "    justification: synthetic data\n"),
        "infra/sandbox/main.tf": db("infra_sandbox"),
        "sandbox/main.tf": db("top_sandbox"),
    })
    data = scan_json(["infra", "sandbox", "--rule", RDS], repo)
    assert statuses(data) == {(RDS, "aws_db_instance.infra_sandbox"): "suppressed",
                              (RDS, "aws_db_instance.top_sandbox"): "fail"}


def test_config_ignore_by_resource_address_glob(repo):
    write(repo, {
        ".soc2lint.yaml": (
            "ignores:\n"
            f"  - rule: [{RDS}, {EBS}]\n"
            "    resource: module.test_*.*\n"
            "    justification: test environments\n"
            f"  - rule: {RDS}\n"
            "    resource: aws_db_instance.legacy\n"
            "    justification: being migrated\n"),
        "main.tf": (db("legacy") + db("orders")
                    + 'module "test_a" {\n  source = "./modules/stack"\n}\n'
                    + 'module "prod" {\n  source = "./modules/stack"\n}\n'),
        "modules/stack/main.tf": db("this") + volume("data"),
    })
    data = scan_json([".", "--rule", f"{RDS},{EBS}"], repo)
    assert statuses(data) == {
        (RDS, "aws_db_instance.legacy"): "suppressed",
        (RDS, "aws_db_instance.orders"): "fail",
        (RDS, "module.test_a.aws_db_instance.this"): "suppressed",
        (EBS, "module.test_a.aws_ebs_volume.data"): "suppressed",
        (RDS, "module.prod.aws_db_instance.this"): "fail",
        (EBS, "module.prod.aws_ebs_volume.data"): "fail",
    }
    assert result_for(data, RDS, "aws_db_instance.legacy")["suppression"]["line"] == 5
    assert result_for(data, EBS, "module.test_a.aws_ebs_volume.data")["suppression"]["line"] == 2


FOR_EACH = '''\
resource "aws_db_instance" "tenant" {
  for_each          = toset(["a", "b"])
  engine            = "postgres"
  storage_encrypted = false
}
'''


def test_config_ignore_by_base_address_covers_every_instance(repo):
    write(repo, {".soc2lint.yaml": (f"ignores:\n  - rule: {RDS}\n    resource: aws_db_instance.tenant\n"
                                    "    justification: tenants are demo accounts\n"),
                 "main.tf": FOR_EACH})
    data = scan_json([".", "--rule", RDS], repo)
    assert statuses(data) == {(RDS, 'aws_db_instance.tenant["a"]'): "suppressed",
                              (RDS, 'aws_db_instance.tenant["b"]'): "suppressed"}


def test_config_ignore_by_address_with_an_instance_key(repo):
    write(repo, {".soc2lint.yaml": (f"ignores:\n  - rule: {RDS}\n"
                                    "    resource: 'aws_db_instance.tenant[\"a\"]'\n"
                                    "    justification: tenant a is the demo account\n"),
                 "main.tf": FOR_EACH})
    data = scan_json([".", "--rule", RDS], repo)
    assert statuses(data) == {(RDS, 'aws_db_instance.tenant["a"]'): "suppressed",
                              (RDS, 'aws_db_instance.tenant["b"]'): "fail"}


def test_config_ignore_owner_and_expires_in_json(repo):
    config = (
        "# accepted exceptions, reviewed quarterly\n"
        "fail_on: low\n"
        "ignores:\n"
        f"  - rule: {EBS}\n"
        "    resource: aws_ebs_volume.other\n"
        "    justification: unrelated\n"
        f"  - rule: {RDS}\n"
        "    resource: aws_db_instance.orders\n"
        "    justification: migration to Aurora under way (CHG-88)\n"
        "    owner: dba-team@example.com\n"
        "    expires: 2999-01-31\n")
    write(repo, {".soc2lint.yaml": config, "main.tf": db("orders")})
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], repo)
    data = json.loads(result.stdout)
    assert result_for(data, RDS, "aws_db_instance.orders")["suppression"] == {
        "kind": "config", "justification": "migration to Aurora under way (CHG-88)",
        "file": ".soc2lint.yaml", "line": 7, "expires": "2999-01-31", "owner": "dba-team@example.com",
        "author": None, "commit": None, "date": None}
    assert result.exit_code == 0


def test_expired_or_unjustified_config_ignore_is_reported_at_its_line(repo):
    config = (
        "ignores:\n"
        f"  - rule: {RDS}\n"
        "    resource: aws_db_instance.old\n"
        "    justification: temporary\n"
        "    expires: 2024-01-31\n"
        f"  - rule: {RDS}\n"
        "    resource: aws_db_instance.unjustified\n")
    write(repo, {".soc2lint.yaml": config, "main.tf": db("old") + db("unjustified")})
    rules = f"{RDS},ignore-not-expired,ignore-has-justification"
    data = scan_json([".", "--rule", rules, "--today", "2024-02-01"], repo)
    assert statuses(data, RDS) == {(RDS, "aws_db_instance.old"): "fail",
                                   (RDS, "aws_db_instance.unjustified"): "fail"}
    failing = sorted((r["rule_id"], r["file"], r["line"]) for r in data["results"]
                     if r["rule_id"].startswith("ignore-") and r["status"] == "fail")
    assert failing == [("ignore-has-justification", ".soc2lint.yaml", 6),
                       ("ignore-not-expired", ".soc2lint.yaml", 2)]

    data = scan_json([".", "--rule", rules, "--today", "2024-01-30"], repo)
    assert result_for(data, RDS, "aws_db_instance.old")["status"] == "suppressed"


def test_config_ignore_by_rule_alias(repo):
    write(repo, {
        "rules/x-db-encrypted.yaml": (
            "id: x-db-encrypted\ntitle: Databases are encrypted\nseverity: high\n"
            "soc2: {primary: [CC6.1]}\ntags: [x-custom]\nprecision: high\n"
            "aliases: [x-old-db-check]\n"
            "target: {framework: terraform, kind: resource, type: aws_db_instance}\n"
            "assert: {path: storage_encrypted, equals: true, default: false}\n"
            "message: \"Database '{name}' is not encrypted\"\n"),
        ".soc2lint.yaml": ("rules_dirs: [rules]\nignores:\n  - rule: x-old-db-check\n"
                           "    resource: aws_db_instance.legacy\n    justification: pre-rename\n"),
        "main.tf": db("legacy") + db("orders"),
    })
    data = scan_json([".", "--rule", "x-db-encrypted"], repo)
    assert statuses(data) == {("x-db-encrypted", "aws_db_instance.legacy"): "suppressed",
                              ("x-db-encrypted", "aws_db_instance.orders"): "fail"}


# -- Terraform variable files and environments ---------------------------------------------------
APP = '''\
variable "encrypt" {
  type = bool
}

resource "aws_db_instance" "NAME" {
  engine            = "postgres"
  storage_encrypted = var.encrypt
}
'''

ENVIRONMENTS = """\
terraform:
  environments:
    prod:
      var_files: [envs/prod.tfvars]
    dev:
      var_files: [envs/dev.tfvars]
"""


@pytest.fixture
def two_environments(repo):
    write(repo, {"app/main.tf": APP.replace("NAME", "app"),
                 "envs/prod.tfvars": "encrypt = true\n",
                 "envs/dev.tfvars": "encrypt = false\n",
                 ".soc2lint.yaml": ENVIRONMENTS})
    return repo


def test_no_environment_leaves_the_variable_unknown(two_environments):
    result = run_cli(["scan", ".", "--rule", RDS, "-f", "json"], two_environments)
    assert statuses(json.loads(result.stdout)) == {(RDS, "aws_db_instance.app"): "unknown"}
    assert result.exit_code == 0


@pytest.mark.parametrize(("environment", "status", "code"), [("prod", "pass", 0), ("dev", "fail", 1)])
def test_environment_option_chooses_the_variable_files(two_environments, environment, status, code):
    result = run_cli(["scan", ".", "--rule", RDS, "--environment", environment, "-f", "json"],
                     two_environments)
    assert statuses(json.loads(result.stdout)) == {(RDS, "aws_db_instance.app"): status}
    assert result.exit_code == code


def test_environment_from_the_configuration_and_the_option_winning(two_environments):
    write(two_environments, {".soc2lint.yaml": ENVIRONMENTS + "  environment: dev\n"})
    data = scan_json([".", "--rule", RDS], two_environments)
    assert statuses(data) == {(RDS, "aws_db_instance.app"): "fail"}
    data = scan_json([".", "--rule", RDS, "--environment", "prod"], two_environments)
    assert statuses(data) == {(RDS, "aws_db_instance.app"): "pass"}


def test_var_files_for_every_run(repo):
    write(repo, {"app/main.tf": APP.replace("NAME", "app"), "common.tfvars": "encrypt = true\n",
                 ".soc2lint.yaml": "terraform:\n  var_files: [common.tfvars]\n"})
    data = scan_json([".", "--rule", RDS], repo)
    assert statuses(data) == {(RDS, "aws_db_instance.app"): "pass"}


def test_var_file_limited_to_one_root_module(repo):
    write(repo, {
        "app/main.tf": APP.replace("NAME", "app"),
        "other/main.tf": APP.replace("NAME", "other"),
        "envs/dev.tfvars": "encrypt = false\n",
        ".soc2lint.yaml": ("terraform:\n  environments:\n    dev:\n      var_files:\n"
                           "        - {file: envs/dev.tfvars, module: app}\n"),
    })
    data = scan_json([".", "--rule", RDS, "--environment", "dev"], repo)
    assert statuses(data) == {(RDS, "aws_db_instance.app"): "fail",
                              (RDS, "aws_db_instance.other"): "unknown"}


def test_unknown_environment_exits_2(two_environments):
    result = run_cli(["scan", ".", "--environment", "staging"], two_environments)
    assert result.exit_code == 2
    assert ".soc2lint.yaml" in result.stderr
    assert "staging" in result.stderr
    assert "terraform.environments" in result.stderr
    assert result.stdout == ""


def test_environment_without_a_configuration_exits_2(repo):
    write(repo, {"main.tf": db("orders")})
    result = run_cli(["scan", ".", "--environment", "prod"], repo)
    assert result.exit_code == 2
    assert "prod" in result.stderr


def test_missing_variable_file_in_the_configuration_exits_2(repo):
    write(repo, {"main.tf": db("orders"), ".soc2lint.yaml": "terraform:\n  var_files: [nope.tfvars]\n"})
    result = run_cli(["scan", "."], repo)
    assert result.exit_code == 2
    assert "nope.tfvars" in result.stderr


# -- bad configurations --------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "key"), [
    ("colour: red\n", "colour"),
    ("fail_on: extreme\n", "fail_on"),
    ("exclude: vendor/\n", "exclude"),
    ("select:\n  ids: [aws-rds-storage-encrypted]\n  colour: [x]\n", "select"),
    ("select:\n  criteria: [XX1]\n", "select.criteria"),
    (f"ignores:\n  - rule: {RDS}\n    justification: x\n    expires: 'next week'\n", "ignores[0].expires"),
    (f"ignores:\n  - rule: {RDS}\n    justification: x\n    expires: '2024-02-30'\n", "ignores[0].expires"),
    (f"ignores:\n  - rule: {RDS}\n    justification: x\n  - justification: y\n", "ignores[1]"),
    (f"ignores:\n  - rule: {RDS}\n    justification: x\n    color: red\n", "ignores[0]"),
    ("severity:\n  x: high\n", "severity: no rule x"),
    (f"severity:\n  {RDS}: extreme\n", f"severity.{RDS}"),
    ("select:\n  ids: [no-such-rule]\n", "select.ids: no rule no-such-rule"),
    ("enable: [no-such-rule]\n", "enable: no rule no-such-rule"),
    ("disable: [no-such-rule]\n", "disable: no rule no-such-rule"),
    ("ignores:\n  - rule: no-such-rule\n    justification: x\n", "ignores[0].rule: no rule no-such-rule"),
    ("terraform:\n  environments:\n    prod: {}\n", "terraform.environments.prod"),
    ("terraform:\n  var_files: common.tfvars\n", "terraform.var_files"),
    ("baseline: [a, b]\n", "baseline"),
    ("a: [\n", "invalid YAML"),
    ("- just\n- a list\n", "(top level)"),
])
def test_bad_configuration_exits_2_naming_file_and_key(repo, text, key):
    write(repo, {".soc2lint.yaml": text, "main.tf": db("orders")})
    result = run_cli(["scan", "."], repo)
    assert result.exit_code == 2, result.output
    assert ".soc2lint.yaml" in result.stderr
    assert key in result.stderr
    assert result.stdout == ""


def test_bad_unquoted_yaml_date_names_the_key(repo):
    config = f"ignores:\n  - rule: {RDS}\n    justification: x\n    expires: 2024-02-30\n"
    write(repo, {".soc2lint.yaml": config, "main.tf": db("orders")})
    result = run_cli(["scan", "."], repo)
    assert result.exit_code == 2
    assert ".soc2lint.yaml" in result.stderr
    assert "ignores[0].expires" in result.stderr


@pytest.mark.parametrize(("text", "key"), [
    ('[tool.soc2lint]\nfail_on = "high"\nx = [\n', "invalid TOML"),
    ('[tool.soc2lint]\nfail_on = "sometimes"\n', "fail_on"),
    ('[tool.soc2lint]\nfail_on = "high"\nunknown_key = 1\n', "unknown_key"),
    (f'[[tool.soc2lint.ignores]]\nrule = "{RDS}"\njustification = "x"\nexpires = "soon"\n',
     "ignores[0].expires"),
])
def test_bad_pyproject_exits_2_naming_file_and_key(repo, text, key):
    write(repo, {"pyproject.toml": text, "main.tf": db("orders")})
    result = run_cli(["scan", "."], repo)
    assert result.exit_code == 2, result.output
    assert "pyproject.toml" in result.stderr
    assert key in result.stderr


def test_named_configuration_file_not_found_exits_2(repo):
    write(repo, {"main.tf": db("orders")})
    result = run_cli(["scan", ".", "--config", "ci/missing.yaml"], repo)
    assert result.exit_code == 2
    assert "ci/missing.yaml" in result.stderr
    assert "not found" in result.stderr


def test_bad_named_configuration_exits_2_naming_it(repo):
    write(repo, {"main.tf": db("orders"), "ci/strict.yaml": "fail_on: [high]\n"})
    result = run_cli(["scan", ".", "--config", "ci/strict.yaml"], repo)
    assert result.exit_code == 2
    assert "ci/strict.yaml" in result.stderr and "fail_on" in result.stderr


def test_empty_configuration_is_valid(repo):
    write(repo, {".soc2lint.yaml": "# nothing configured yet\n", "main.tf": db("orders")})
    result = run_cli(["scan", ".", "--rule", RDS], repo)
    assert result.exit_code == 1
