"""The demo project the README's first command scans (fixtures/demo/): a small company's
Terraform, Kubernetes manifests and CI workflow with a handful of deliberate mistakes.

The scan must find exactly those mistakes, decide everything else, and fit on one screen.
"""

from __future__ import annotations

import json
import re

from conftest import ROOT
from helpers import run_cli

DEMO = "fixtures/demo/"

# (file, line, rule): each is marked in its file by a `# soc2lint: fails <rule>: ...` comment on
# the line above (see test_each_failure_is_explained_by_a_comment_above_it).
EXPECTED_FAILURES = {
    # a variable whose default is true, set to false in terraform.tfvars
    ("fixtures/demo/infra/database.tf", 9, "aws-rds-storage-encrypted"),
    # an expression: var.environment == "prod", with environment = "production" in tfvars
    ("fixtures/demo/infra/database.tf", 21, "aws-rds-deletion-protection"),
    # the default of a list variable, 0.0.0.0/0, used as the SSH rule's source
    ("fixtures/demo/infra/network.tf", 24, "aws-sg-admin-ports-open"),
    # a sidecar without resources, and overriding the pod's non-root user with UID 0
    ("fixtures/demo/k8s/deployment.yaml", 51, "k8s-resource-limits"),
    ("fixtures/demo/k8s/deployment.yaml", 54, "k8s-run-as-non-root"),
    # a third-party action on a tag, and a pull-request title expanded into a script
    ("fixtures/demo/.github/workflows/ci.yml", 23, "gha-actions-pinned-sha"),
    ("fixtures/demo/.github/workflows/ci.yml", 32, "gha-script-injection"),
}

MAX_TEXT_LINES = 60

_FAILS_COMMENT = re.compile(r"#\s*soc2lint: fails ([a-z0-9-]+):")


def _scan_json() -> tuple[int, dict]:
    result = run_cli(["scan", DEMO, "-f", "json"], cwd=ROOT)
    return result.exit_code, json.loads(result.stdout)


def test_demo_scan_finds_exactly_the_intended_failures():
    exit_code, data = _scan_json()
    failures = {(r["file"], r["line"], r["rule_id"])
                for r in data["results"] if r["status"] == "fail"}
    assert failures == EXPECTED_FAILURES
    assert exit_code == 1
    # all three frameworks are scanned, and most checks pass
    assert {"terraform", "kubernetes", "github-actions"} <= set(data["frameworks"])
    assert data["summary"]["outcomes"]["pass"] > 5 * len(EXPECTED_FAILURES)


def test_demo_scan_decides_everything_without_problems():
    _, data = _scan_json()
    unknowns = [(r["file"], r["line"], r["rule_id"], r["unresolved"])
                for r in data["results"] if r["status"] == "unknown"]
    assert unknowns == []
    assert data["summary"]["outcomes"]["unknown"] == 0
    assert data["summary"]["errors"] == 0
    assert [n for n in data["notifications"] if n["level"] == "error"] == []
    assert data["notifications"] == []  # warnings would show in the demo's output too
    assert data["skipped"] == []
    assert data["module_calls_not_evaluated"] == []


def test_each_failure_is_explained_by_a_comment_above_it():
    marked = set()
    for path in sorted((ROOT / DEMO).rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(ROOT).as_posix()
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines, 1):
            match = _FAILS_COMMENT.search(line)
            if match:
                # the finding is on the next line that is not itself a comment
                target = number + 1
                while lines[target - 1].lstrip().startswith("#"):
                    target += 1
                marked.add((rel, target, match.group(1)))
    assert marked == EXPECTED_FAILURES


def test_demo_text_output_fits_on_a_screen():
    result = run_cli(["scan", DEMO, "--no-color"], cwd=ROOT)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) <= MAX_TEXT_LINES, "\n".join(lines)
    for _, _, rule_id in EXPECTED_FAILURES:
        assert rule_id in result.stdout
