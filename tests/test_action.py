"""The composite GitHub Action: schema-valid, pinned, injection-free, and its scan step works."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from helpers import BUCKET_TF, run_cli, write

ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent


def test_action_validates_against_github_schema():
    exe = BIN / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.github-actions", str(ACTION)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_passes_its_own_supply_chain_rules():
    data = json.loads(run_cli(["scan", "action.yml", "-f", "json", "--tags", "supply-chain"],
                              ROOT).stdout)
    assert data["frameworks"] == ["github-actions"]
    assert [r for r in data["results"] if r["outcome"] != "pass"] == []
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    assert all("shell" in s for s in steps if "run" in s)
    assert all("${{" not in s["run"] for s in steps if "run" in s), "inputs reach scripts via env"


def _step(name: str) -> dict:
    return next(s for s in yaml.safe_load(ACTION.read_text())["runs"]["steps"]
                if s["name"] == name)


def _run_scan_step(tmp_path: Path, paths: str, fail_on: str = "low"):
    runner_temp = tmp_path / "runner"
    (runner_temp / "soc2lint-venv").mkdir(parents=True)
    os.symlink(BIN, runner_temp / "soc2lint-venv" / "bin")
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    env = dict(os.environ, RUNNER_TEMP=str(runner_temp), GITHUB_OUTPUT=str(output),
               GITHUB_STEP_SUMMARY=str(summary), SCAN_PATHS=paths, SARIF_FILE="out.sarif",
               CATEGORY="soc2lint/infra", FAIL_ON=fail_on)
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c",
                             _step("Scan")["run"]], cwd=tmp_path / "repo", env=env,
                            capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()) \
        if output.exists() else {}
    return result, outputs, summary


def test_scan_step_writes_outputs_summary_and_sarif(tmp_path):
    write(tmp_path / "repo", {"infra/db.tf": BUCKET_TF, "k8s/app.yaml": "a: 1\n"})
    result, outputs, summary = _run_scan_step(tmp_path, "infra\nk8s")
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "runner" / "soc2lint.json").read_text())
    assert outputs["exit-code"] == "1"
    assert outputs["findings"] == str(data["summary"]["outcomes"]["fail"]) != "0"
    assert outputs["sarif-file"] == "out.sarif"
    sarif = json.loads((tmp_path / "repo" / "out.sarif").read_text())
    assert sarif["runs"][0]["automationDetails"]["id"] == "soc2lint/infra"
    assert "aws-rds-storage-encrypted" in summary.read_text()


def test_scan_step_stops_on_usage_errors(tmp_path):
    write(tmp_path / "repo", {"main.tf": BUCKET_TF})
    result, outputs, _ = _run_scan_step(tmp_path, ".", fail_on="severe")
    assert result.returncode == 2 and outputs == {}
    assert "::error title=soc2lint::" in result.stdout


def test_readme_workflow_validates(tmp_path):
    exe = BIN / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    readme = (ROOT / "README.md").read_text()
    block = readme.split("# .github/workflows/soc2lint.yml\n", 1)[1].split("```", 1)[0]
    workflow = tmp_path / "soc2lint.yml"
    workflow.write_text(block)
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.github-workflows",
                             str(workflow)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
