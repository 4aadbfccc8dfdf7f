"""Selecting rules by criterion, theme or id: a selection that selects nothing is a usage error."""

from __future__ import annotations

import json

import pytest
from helpers import CLEAN_TF, run_cli, write


@pytest.fixture
def project(tmp_path):
    return write(tmp_path, {"main.tf": CLEAN_TF})


def rule_ids(project, *args: str) -> list[str]:
    done = run_cli(["scan", ".", "-f", "json", *args], project)
    assert done.exit_code in (0, 1), done.output
    return [r["id"] for r in json.loads(done.stdout)["rules"]]


def test_criteria_match_in_any_case(project):
    assert rule_ids(project, "--criteria", "cc6.1") == rule_ids(project, "--criteria", "CC6.1") != []


def test_configured_criteria_match_in_any_case(project):
    expected = rule_ids(project, "--criteria", "CC6.1")
    write(project, {".soc2lint.yaml": "select:\n  criteria: [cc6.1]\n"})
    assert rule_ids(project) == expected != []


def test_themes_match_in_any_case(project):
    assert rule_ids(project, "--tags", "Backup") == rule_ids(project, "--tags", "backup") != []


@pytest.mark.parametrize(("args", "said"), [
    (["--criteria", "CC99"], "--criteria: 'CC99' is not a SOC 2 criterion (did you mean CC9."),
    (["--criteria", "CC1.1"], "--criteria: no rule evidences 'CC1.1'; `soc2lint report` lists"),
    (["--tags", "nope"], "--tags: no rule has the theme 'nope' (the themes: access-control,"),
    (["--tags", "encrypton-at-rest"], "(did you mean encryption-at-rest"),
    (["--rule", "aws-s3-versionin"], "--rule: no rule aws-s3-versionin (did you mean aws-s3-versioning"),
    (["--criteria", "CC6.1", "--tags", "backup"], "--criteria CC6.1 and --tags backup: no rule"),
])
def test_a_selection_of_nothing_exits_2_naming_it(project, args, said):
    commands = [["scan", "."], ["report", "."]] + ([["rules"]] if "--rule" not in args else [])
    for command in commands:
        done = run_cli([*command, *args], project)
        assert done.exit_code == 2, (command, done.output)
        assert said in done.stderr


@pytest.mark.parametrize(("select", "said"), [
    ("criteria: [CC99.1]", "select.criteria: 'CC99.1' is not a SOC 2 criterion"),
    ("criteria: [CC1.1]", "select.criteria: no rule evidences 'CC1.1'"),
    ("tags: [nope]", "select.tags: no rule has the theme 'nope'"),
    ("criteria: [CC99]", "select.criteria: 'CC99' is not a SOC 2 criterion (did you mean CC9.2"),
])
def test_the_configuration_selection_is_checked_alike(project, select, said):
    """The criteria are checked against the criteria themselves, not a pattern, so a near miss
    gets the nearest ids and the case does not matter (below)."""
    write(project, {".soc2lint.yaml": f"select:\n  {select}\n"})
    done = run_cli(["scan", "."], project)
    assert done.exit_code == 2 and ".soc2lint.yaml: " + said in done.stderr
