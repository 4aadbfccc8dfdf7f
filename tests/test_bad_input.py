"""Bad input never crashes a scan: a notification names the file, the rest is scanned, exit 3."""

from __future__ import annotations

import json
import os
import time

import pytest
from helpers import BUCKET_TF, run_cli, write

GOOD_POD = """\
apiVersion: v1
kind: Pod
metadata: {name: ok}
spec:
  containers:
    - name: app
      image: nginx:1.27
"""

ALIAS_BOMB = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: bomb}
data:
  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def scan(root, target=".", *extra):
    """Scan `target` from inside `root`, so paths read relative to it."""
    result = run_cli(["scan", target, "--format", "json", *extra], cwd=root)
    return result.exit_code, json.loads(result.stdout)


def bad_case(tmp_path, name, content):
    write(tmp_path, {"good/pod.yaml": GOOD_POD, name: content})
    return tmp_path / name


CASES = {
    "malformed HCL": ("broken.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = \n}\n',
                      "unexpected"),
    "unclosed HCL block": ("open.tf", 'resource "aws_s3_bucket" "b" {\n  acl = "private"\n',
                           ""),
    "invalid YAML": ("deploy.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n",
                     "invalid YAML"),
    "binary file": ("blob.tf", b"\x7fELF\x00\x00\x01binary", "binary"),
    "non-UTF-8 text": ("latin.tf", 'resource "a" "b" { name = "caf\xe9" }\n'.encode("latin-1"),
                       "not UTF-8"),
    "alias bomb": ("bomb.yaml", ALIAS_BOMB, "aliases"),
    "malformed tf.json": ("main.tf.json", '{"resource": {', "invalid JSON"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_file_is_reported_and_the_rest_scanned(tmp_path, case):
    name, content, words = CASES[case]
    bad_case(tmp_path, name, content)
    started = time.monotonic()
    code, data = scan(tmp_path, ".", "--tags", "workload-hardening")
    assert time.monotonic() - started < 20
    errors = [n for n in data["notifications"] if n["level"] == "error"]
    assert [n["file"] for n in errors] == [name], data["notifications"]
    assert words in errors[0]["message"]
    assert any(r["file"] == "good/pod.yaml" for r in data["results"]), "the good file was scanned"
    assert code == 1  # the good pod fails hardening rules; failures outrank incompleteness


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_file_alone_exits_3_in_every_format(tmp_path, case):
    name, content, _ = CASES[case]
    bad_case(tmp_path, name, content)
    for fmt in ("text", "json", "sarif"):
        result = run_cli(["scan", name, "--format", fmt], cwd=tmp_path)
        assert result.exit_code == 3, (fmt, result.output)
        assert name in result.stdout
    sarif = json.loads(run_cli(["scan", name, "--format", "sarif"], cwd=tmp_path).stdout)
    notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["level"] == "error" and name in notes[0]["message"]["text"]


def test_empty_file_is_noted_without_failing(tmp_path):
    write(tmp_path, {"outputs.tf": "\n\n", "good/pod.yaml": GOOD_POD})
    code, data = scan(tmp_path, "outputs.tf")
    assert code == 0
    assert data["notifications"] == [
        {"file": "outputs.tf", "line": None, "level": "note", "message": "empty file"}]


def test_symlink_loops_do_not_hang(tmp_path):
    write(tmp_path, {"infra/main.tf": BUCKET_TF})
    os.symlink(tmp_path / "infra", tmp_path / "infra" / "again")
    os.symlink("self.tf", tmp_path / "self.tf")
    code, data = scan(tmp_path, ".", "--tags", "encryption-at-rest")
    messages = {n["file"]: n for n in data["notifications"]}
    assert "symbolic link loop" in messages["infra/again"]["message"]
    assert messages["self.tf"]["level"] == "warning" and "loop" in messages["self.tf"]["message"]
    assert any(r["file"] == "infra/main.tf" for r in data["results"])
    assert code == 1
    named = run_cli(["scan", "self.tf", "-f", "json"], cwd=tmp_path)
    assert named.exit_code == 3
    assert "symbolic link loop" in json.loads(named.stdout)["notifications"][0]["message"]


def test_helm_chart_templates_are_skipped_with_a_notification(tmp_path):
    write(tmp_path, {
        "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        "chart/templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\n"
                                       "metadata:\n  name: {{ .Release.Name }}\n",
        "good/pod.yaml": GOOD_POD,
    })
    code, data = scan(tmp_path, ".", "--tags", "workload-hardening")
    helm = [n for n in data["notifications"] if n["file"] == "chart/Chart.yaml"]
    assert helm and "Helm chart templates skipped" in helm[0]["message"] and helm[0]["level"] == "warning"
    assert not any(r["file"].startswith("chart/") for r in data["results"])
    result = run_cli(["scan", "chart/templates/deploy.yaml", "-f", "json"], cwd=tmp_path)
    assert "Helm chart template skipped" in json.loads(result.stdout)["notifications"][0]["message"]
    assert code == 1
    inside = run_cli(["scan", "chart/templates", "-f", "json", "--tags", "workload-hardening"],
                     cwd=tmp_path)
    data = json.loads(inside.stdout)
    assert data["results"] == [] and data["files"] == [] and inside.exit_code == 0
    assert data["notifications"][0]["file"] == "chart/Chart.yaml"


def test_a_chart_hides_only_its_templates(tmp_path):
    """A Chart.yaml at the top of a repository does not hide its Terraform, workflows or the
    Kubernetes manifests outside the chart's templates/."""
    write(tmp_path, {
        "Chart.yaml": "apiVersion: v2\nname: docs\nversion: 1.0.0\n",
        "infra/db.tf": 'resource "aws_db_instance" "a" {\n  storage_encrypted = false\n}\n',
        "k8s/pod.yaml": GOOD_POD,
        ".github/workflows/ci.yml": "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
                                    "    steps:\n      - uses: some/action@v1\n",
    })
    _, data = scan(tmp_path, ".")
    failing = {r["file"] for r in data["results"] if r["status"] == "fail"}
    assert {"infra/db.tf", "k8s/pod.yaml", ".github/workflows/ci.yml"} <= failing
    assert not any("Helm" in n["message"] for n in data["notifications"])
    named = run_cli(["scan", "infra/db.tf", "-f", "json"], cwd=tmp_path)
    assert named.exit_code == 1


def test_duplicate_keys_are_noted(tmp_path):
    write(tmp_path, {"pod.yaml": GOOD_POD.replace("kind: Pod\n", "kind: Pod\nkind: Pod\n")})
    _, data = scan(tmp_path, "pod.yaml")
    assert any("duplicate key 'kind' at line 3" in n["message"] for n in data["notifications"])


def test_a_missing_path_is_a_usage_error(tmp_path):
    """A typo on the command line stops before scanning (exit 2), naming the path; the other
    paths are not scanned half-way."""
    write(tmp_path, {"main.tf": 'resource "aws_db_instance" "a" {\n}\n'})
    result = run_cli(["scan", "main.tf", "nope.tf"], cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr == "soc2lint: nope.tf: no such file or directory\n" and not result.stdout
