"""Microsoft's SARIF Multitool (`validate` with its SARIF and GitHub rule sets) on soc2lint's SARIF.

The Multitool complements the schema check: it knows GitHub's ingestion rules and SARIF's
cross-property constraints. It always exits 0, so its own log is read: a result of level
`error` or `warning` fails the test. Install it as CI does:

    npm install --prefix .ci-node --no-audit --no-fund @microsoft/sarif-multitool@5.7.0

or point SOC2LINT_SARIF_MULTITOOL at the `Sarif.Multitool` binary. Without it the tests are
skipped, except under CI=true, where they fail.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, assert_sarif_valid
from helpers import BUCKET_TF, git_init, run_cli, write

ENV = "SOC2LINT_SARIF_MULTITOOL"
DEFAULT = ROOT / ".ci-node/node_modules/@microsoft" / \
    f"sarif-multitool-{'darwin' if sys.platform == 'darwin' else 'linux'}/Sarif.Multitool"
# SARIF2006 fetches every URI in the log (the $schema and each rule's helpUri) over HTTP: slow,
# flaky offline, and only a note. Everything else runs.
CONFIG = """<?xml version="1.0" encoding="utf-8"?>
<Properties>
  <Properties Key="SARIF2006.UrisShouldBeReachable.Options">
    <Property Key="RuleEnabled" Value="Disabled" />
  </Properties>
</Properties>
"""
# Warnings judged harmless, as (rule id, message id); none so far: any other warning fails.
ACCEPTED_WARNINGS: set[tuple[str, str]] = set()


def multitool() -> Path | None:
    configured = os.environ.get(ENV)
    path = Path(configured) if configured else DEFAULT
    return path if path.is_file() and os.access(path, os.X_OK) else None


def _sarif(args: list[str], cwd: Path) -> tuple[str, dict]:
    """The SARIF text exactly as the CLI wrote it, and parsed."""
    result = run_cli(["scan", *args, "--format", "sarif"], cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    return result.stdout, json.loads(result.stdout)


def _fixtures(work: Path) -> str:
    text, log = _sarif([str(ROOT / "fixtures")], ROOT)
    assert len(log["runs"][0]["results"]) > 100
    return text


def _unknown_and_suppressed(work: Path) -> str:
    git_init(work)
    write(work, {"db.tf": BUCKET_TF, "ignored.tf": (
        "# soc2lint:ignore aws-rds-storage-encrypted -- test data only\n"
        'resource "aws_db_instance" "scratch" {\n  storage_encrypted = false\n}\n')})
    text, log = _sarif([".", "--sarif-include-unknown", "--sarif-include-suppressed"], work)
    results = log["runs"][0]["results"]
    assert any(r["ruleId"].endswith("/unresolved") for r in results)
    assert any(r.get("suppressions") for r in results)
    return text


def _clean(work: Path) -> str:
    write(work, {"main.tf": 'locals {\n  region = "eu-west-1"\n}\n',
                 ".github/CODEOWNERS": "* @org/platform\n"})
    text, log = _sarif(["."], work)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["tool"]["driver"]["rules"]
    return text


def _module(work: Path) -> str:
    git_init(work)
    write(work, {
        "live/main.tf": 'module "a" {\n  source    = "../modules/db"\n  encrypted = true\n}\n'
                        'module "b" {\n  source    = "../modules/db"\n  encrypted = false\n}\n',
        "modules/db/main.tf": 'variable "encrypted" {}\nresource "aws_db_instance" "db" {\n'
                              '  storage_encrypted = var.encrypted\n}\n',
    })
    text, log = _sarif([".", "--rule", "aws-rds-storage-encrypted"], work)
    (result,) = log["runs"][0]["results"]
    assert result["relatedLocations"]
    return text


CASES = {"fixtures": _fixtures, "unknown-and-suppressed": _unknown_and_suppressed,
         "clean": _clean, "module": _module}

# A log the Multitool must reject: proves it ran both rule sets and that its log is read right.
CANARY = {
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
    "runs": [{"tool": {"driver": {"name": "canary", "rules": [{"id": "C1"}]}},
              "results": [{"ruleId": "C1", "message": {"text": "Canary."},
                           "locations": [{"physicalLocation": {
                               "artifactLocation": {"uri": "a.tf"},
                               "region": {"startLine": 0}}}]}]}],
}


def _text(result: dict, rules: dict[str, dict]) -> str:
    """The Multitool's message, its template filled with the arguments."""
    message = result.get("message", {})
    if "text" in message:
        return message["text"]
    template = rules.get(result.get("ruleId"), {}).get("messageStrings", {}) \
        .get(message.get("id"), {}).get("text", message.get("id", ""))
    arguments = message.get("arguments", [])
    return re.sub(r"\{(\d+)\}", lambda m: arguments[int(m.group(1))], template)


@pytest.fixture(scope="module")
def validation(tmp_path_factory) -> dict[str, tuple[dict, list[tuple[str, str, str, str]]]]:
    """Each case's log and the Multitool's findings on it as (level, rule, message id, text);
    all files are validated in one run of the Multitool."""
    binary = multitool()
    if binary is None:
        reason = (f"SARIF Multitool not found (set {ENV} or `npm install --prefix .ci-node "
                  "@microsoft/sarif-multitool@5.7.0`)")
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}: CI must run it")
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("multitool")
    texts = {name: build(tmp_path_factory.mktemp(name)) for name, build in CASES.items()}
    texts["canary"] = json.dumps(CANARY, indent=2)
    for name, text in texts.items():
        (work / f"{name}.sarif").write_text(text, encoding="utf-8")
    (work / "config.xml").write_text(CONFIG, encoding="utf-8")
    out = work / "validation.sarif"
    done = subprocess.run(
        [str(binary), "validate", *(str(work / f"{name}.sarif") for name in texts),
         "--output", str(out), "--log", "ForceOverwrite", "--rule-kind", "Sarif;Ghas",
         "--level", "Error;Warning", "--config", str(work / "config.xml"), "--quiet"],
        capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"})
    assert done.returncode == 0 and out.is_file(), done.stdout + done.stderr
    report = json.loads(out.read_text(encoding="utf-8-sig"))
    found: dict[str, list] = {name: [] for name in texts}
    for run in report["runs"]:
        rules = {rule["id"]: rule for rule in run["tool"]["driver"].get("rules", [])}
        for result in run.get("results", []):
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            name = uri.rsplit("/", 1)[-1].removesuffix(".sarif")
            found[name].append((result.get("level", "warning"), result["ruleId"],
                                result.get("message", {}).get("id", ""), _text(result, rules)))
    return {name: (json.loads(texts[name]), found[name]) for name in texts}


def test_the_multitool_runs_both_rule_sets(validation):
    _, found = validation["canary"]
    rules = {rule for level, rule, _, _ in found if level == "error"}
    assert {"JSON1008", "GH2012"} <= rules, found


@pytest.mark.parametrize("case", list(CASES))
def test_sarif_passes_the_multitool_and_the_schema(case, validation, sarif_validator):
    log, found = validation[case]
    assert_sarif_valid(sarif_validator, log)
    errors = [f for f in found if f[0] == "error"]
    warnings = [f for f in found if f[0] == "warning" and f[1:3] not in ACCEPTED_WARNINGS]
    assert not errors and not warnings, "\n".join(
        f"{level} {rule} {text}" for level, rule, _, text in errors + warnings)
