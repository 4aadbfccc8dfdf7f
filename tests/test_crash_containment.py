"""No crash is a result: an unexpected exception on one file or one rule becomes an error
notification naming the file, the scan goes on, and the exit code is 3 (never 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from helpers import run_cli, write

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  containers:
  - name: c
    image: nginx
"""
SECRET = "hunter2-do-not-print"


@pytest.fixture
def project(tmp_path):
    write(tmp_path, {"bad.yaml": POD.format(name="bad"), "good.yaml": POD.format(name="good"),
                     "clean.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"})
    return tmp_path


def scan(root, *args):
    result = run_cli(["scan", ".", "-f", "json", *args], root)
    return result, json.loads(result.stdout)


def errors(data, file):
    return [n for n in data["notifications"] if n["file"] == file and n["level"] == "error"]


def test_a_parser_raising_on_one_file_is_an_error_on_that_file(project, monkeypatch):
    from soc2lint.parsers import kubernetes

    real = kubernetes.parse

    def parse(path, docs):
        if path.endswith("bad.yaml"):
            raise KeyError(SECRET)
        return real(path, docs)

    monkeypatch.setattr(kubernetes, "parse", parse)
    result, data = scan(project, "--fail-on", "none")
    assert result.exit_code == 3, result.output
    (error,) = errors(data, "bad.yaml")
    assert error["message"].startswith("internal error while reading this file: KeyError")
    assert SECRET not in result.stdout + result.stderr
    # the other files were still read and evaluated
    assert {r["file"] for r in data["results"]} == {"good.yaml"}
    assert "bad.yaml" in data["files"] and "good.yaml" in data["files"]
    assert data["summary"]["errors"] == 1


def test_a_crash_alone_exits_3_not_1(project, monkeypatch):
    from soc2lint.parsers import kubernetes

    monkeypatch.setattr(kubernetes, "parse", lambda path, docs: 1 / 0)
    result, data = scan(project)
    assert result.exit_code == 3, result.output
    assert len(errors(data, "bad.yaml")) == len(errors(data, "good.yaml")) == 1
    assert "ZeroDivisionError" in errors(data, "good.yaml")[0]["message"]


def test_a_rule_raising_on_one_entity_is_an_error_naming_file_and_rule(project, monkeypatch):
    from soc2lint import engine

    real = engine.evaluate_rule

    def evaluate_rule(rule, entity, joiner=None):
        if rule.id == "k8s-image-pinned" and entity.path == "bad.yaml":
            raise ValueError(f"cannot compare '{SECRET}'")
        return real(rule, entity, joiner)

    monkeypatch.setattr(engine, "evaluate_rule", evaluate_rule)
    result, data = scan(project, "--fail-on", "none")
    assert result.exit_code == 3, result.output
    (error,) = errors(data, "bad.yaml")
    assert "k8s-image-pinned" in error["message"] and "ValueError" in error["message"]
    assert error["line"] is not None
    assert SECRET not in result.stdout + result.stderr
    ran = {(r["file"], r["rule_id"]) for r in data["results"]}
    assert ("good.yaml", "k8s-image-pinned") in ran  # the rule went on to other entities
    assert ("bad.yaml", "k8s-run-as-non-root") in ran  # other rules went on for this entity
    assert ("bad.yaml", "k8s-image-pinned") not in ran


def test_an_exception_escaping_everything_is_one_line_and_exit_3(project, monkeypatch):
    from soc2lint import cli

    def boom(*args, **kwargs):
        raise RuntimeError(f"no such key '{SECRET}'")

    monkeypatch.setattr(cli, "exit_code", boom)
    result = run_cli(["scan", "."], project)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("soc2lint: internal error")
    assert "RuntimeError" in lines[0] and SECRET not in result.stderr


CRASH = """\
import soc2lint.cli as cli

def boom(*args, **kwargs):
    raise RuntimeError("escaped")

cli.exit_code = boom
cli.main(prog_name="soc2lint")
"""


@pytest.mark.parametrize("debug", [False, True])
def test_the_process_exits_3_with_a_traceback_only_when_asked(project, debug):
    env = {k: v for k, v in os.environ.items() if k != "SOC2LINT_DEBUG"}
    env["PYTHONPATH"] = str(ROOT)
    if debug:
        env["SOC2LINT_DEBUG"] = "1"
    done = subprocess.run([sys.executable, "-c", CRASH, "scan", "."], cwd=project, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert ("Traceback" in done.stderr) is debug
    assert done.stderr.strip().splitlines()[-1].startswith("soc2lint: internal error")
    assert "RuntimeError: escaped" in done.stderr


def test_reading_the_ignores_of_one_file_raising_is_an_error_on_that_file(project, monkeypatch):
    from soc2lint import scan as scan_module

    real = scan_module.inline_ignores

    def inline_ignores(path, text, today):
        if path == "bad.yaml":
            raise RuntimeError("unreadable comment")
        return real(path, text, today)

    monkeypatch.setattr(scan_module, "inline_ignores", inline_ignores)
    result, data = scan(project, "--fail-on", "none")
    assert result.exit_code == 3, result.output
    (error,) = errors(data, "bad.yaml")
    assert error["message"].startswith("internal error while reading its soc2lint:ignore comments")
    assert {r["file"] for r in data["results"]} == {"bad.yaml", "good.yaml"}
