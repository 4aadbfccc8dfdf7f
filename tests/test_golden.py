"""The whole fixtures tree with every rule, against a reviewed snapshot.

Regenerate on purpose with SOC2LINT_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import json
import os

from conftest import ROOT

from soc2lint.discovery import discover
from soc2lint.report.json_report import report_data
from soc2lint.scan import scan

SNAPSHOT = ROOT / "tests" / "golden" / "fixtures-scan.json"


def test_fixtures_tree_matches_snapshot(all_rules, monkeypatch):
    monkeypatch.chdir(ROOT)
    data = report_data(scan(discover(["fixtures"]), all_rules))
    compact = {
        "summary": data["summary"],
        "results": [
            [r["file"], r["line"], r["rule_id"], r["status"]]
            for r in data["results"] if r["outcome"] != "pass"
        ],
        "notifications": data["notifications"],
        "skipped": data["skipped"],
    }
    text = json.dumps(compact, indent=1, sort_keys=True) + "\n"
    if os.environ.get("SOC2LINT_UPDATE_GOLDEN"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(text)
    assert SNAPSHOT.read_text() == text
