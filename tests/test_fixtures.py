"""Each rule on each of its own fixtures: the exact set of (rule, line, outcome) expected."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from conftest import ROOT
from fakesecrets import materialise

from soc2lint.discovery import discover
from soc2lint.model import Outcome
from soc2lint.rules import load_rules
from soc2lint.scan import scan

FIXTURES = ROOT / "fixtures"
_EXPECT = re.compile(r"(?:#|//)\s*expect(-unknown)?:\s*([a-z0-9-]+)")


def fixture_cases() -> list[tuple[str, Path]]:
    cases = []
    for rule_dir in sorted(p for p in FIXTURES.glob("*/*") if p.is_dir() and p.parent.name != "demo"):
        for item in sorted(rule_dir.iterdir()):
            if item.name.startswith(("pass", "fail", "unknown")) and item.name != "expect.yaml":
                cases.append((rule_dir.name, item))
    return cases


def expected_from(case: Path, copy: Path) -> set[tuple[str, str, int, str]]:
    """Expectations from `# expect:` comments, or from expect.yaml for comment-less inputs."""
    expect_file = case / "expect.yaml" if case.is_dir() else None
    if expect_file and expect_file.is_file():
        entries = yaml.safe_load(expect_file.read_text()) or []
        return {(e["file"], e["rule"], e["line"], e.get("outcome", "fail")) for e in entries}
    files = [p for p in copy.rglob("*") if p.is_file()] if copy.is_dir() else [copy]
    expected = set()
    for path in files:
        rel = path.relative_to(copy).as_posix() if copy.is_dir() else path.name
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in _EXPECT.finditer(line):
                outcome = "unknown" if match.group(1) else "fail"
                expected.add((rel, match.group(2), number + 1, outcome))
    return expected


@pytest.fixture(scope="module")
def rules_by_id():
    return {rule.id: rule for rule in load_rules()}


@pytest.mark.parametrize(("rule_id", "case"), fixture_cases(),
                         ids=[f"{r}/{c.name}" for r, c in fixture_cases()])
def test_rule_fixture(rule_id, case, rules_by_id, tmp_path, monkeypatch):
    assert rule_id in rules_by_id, f"fixtures for unknown rule {rule_id}"
    copy = materialise(case, tmp_path / case.name)
    monkeypatch.chdir(tmp_path)
    result = scan(discover([case.name]), [rules_by_id[rule_id]])
    errors = [n for n in result.notifications if n.is_error]
    assert not errors, errors
    actual = set()
    for f in result.findings:
        if f.outcome is Outcome.PASS:
            continue
        rel = Path(f.path).relative_to(case.name).as_posix() if copy.is_dir() else case.name
        actual.add((rel, f.rule.id, f.span.line, f.outcome.value))
    expected = expected_from(case, copy)
    if copy.is_file():
        expected = {(case.name, *e[1:]) for e in expected}
    assert actual == expected
    if case.name.startswith("fail"):
        assert any(e[3] == "fail" for e in expected), "a fail fixture must expect a failure"
    if case.name.startswith("pass"):
        assert not any(e[3] == "fail" for e in expected), "a pass fixture expects no failure"
