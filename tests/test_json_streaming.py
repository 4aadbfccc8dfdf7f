"""The JSON report is written result by result: the same text as one `json.dumps`, without the
whole report ever held as one dict or one string."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import ROOT
from helpers import BUCKET_TF, run_cli, write

from soc2lint.discovery import discover
from soc2lint.report import json_report
from soc2lint.rules import load_rules
from soc2lint.scan import scan

SCHEMA = json.loads((ROOT / "soc2lint" / "schema" / "report.schema.json").read_text())


def test_the_stream_is_the_text_of_the_whole_report():
    result = scan(discover([str(ROOT / "fixtures")]), load_rules([]))
    chunks = list(json_report.stream_json(result))
    whole = json.dumps(json_report.report_data(result), indent=2, ensure_ascii=False) + "\n"
    assert "".join(chunks) == whole
    # one piece per result at least: none holds the list of results
    assert len(chunks) > len(result.findings) + len(result.notifications)
    assert max(map(len, chunks)) < 10_000


def test_empty_lists_and_values_read_as_json_dumps_writes_them(tmp_path):
    write(tmp_path, {"notes.yaml": "just: data\n"})
    result = scan(discover([str(tmp_path)]), load_rules([]))
    assert not result.findings
    text = "".join(json_report.stream_json(result))
    assert text == json.dumps(json_report.report_data(result), indent=2, ensure_ascii=False) + "\n"
    assert '"results": [],' in text


@pytest.fixture
def no_whole_report(monkeypatch):
    """The command line must not build the report as one dict (or dump it as one string)."""
    def refuse(*args, **kwargs):
        raise AssertionError("the whole report was built at once")

    monkeypatch.setattr(json_report, "report_data", refuse)
    monkeypatch.setattr(json_report, "render_json", refuse)


def test_the_command_line_streams_to_standard_output(tmp_path, no_whole_report):
    write(tmp_path, {"db.tf": BUCKET_TF, "bad.yaml": "a: [\n"})
    result = run_cli(["scan", ".", "-f", "json"], tmp_path)
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert data["results"] and data["notifications"]


def test_the_command_line_streams_to_a_file(tmp_path, no_whole_report):
    write(tmp_path, {"db.tf": BUCKET_TF})
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    result = run_cli(["scan", "db.tf", "-f", f"json={out}", "-f", "text"], tmp_path)
    assert result.exit_code == 1, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    assert {r["file"] for r in data["results"]} == {"db.tf"}
