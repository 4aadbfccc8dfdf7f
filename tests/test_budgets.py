"""Terraform evaluation limits: hostile code ends as UNKNOWN with one warning where a limit is
reached, never a hang; the rest of the scan goes on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hostile import scan_hostile

from soc2lint.config import load_config
from soc2lint.evaluate.project import POOL_MIN_FILES


def _limit_warnings(scan, limit: str) -> list[tuple[str, int]]:
    return [(n["file"], n["line"]) for n in scan.notifications()
            if n["level"] == "warning" and f"terraform.limits.{limit}" in n["message"]]


DOUBLING = "locals {\n  s0 = \"abcdefghij\"\n" + "".join(
    f'  s{i} = "${{local.s{i - 1}}}${{local.s{i - 1}}}"\n' for i in range(1, 21)) + "}\n" + \
    'resource "aws_s3_bucket" "a" {\n  bucket = local.s20\n}\n'


def test_a_string_doubled_twenty_times_stops_at_the_string_limit(tmp_path):
    scan = scan_hostile(tmp_path, {"main.tf": DOUBLING})
    # s17 is the first local longer than 1 MiB (10 * 2**17 characters), on line 19
    assert _limit_warnings(scan, "max_string_length") == [("main.tf", 19)]
    assert scan.planted_reported


def test_for_expressions_three_deep_stop_at_the_step_limit(tmp_path):
    text = ('resource "aws_s3_bucket" "a" {\n  bucket = "b"\n  tags = {\n'
            "    x = jsonencode([for a in range(1000) : [for b in range(1000) :\n"
            "      [for c in range(1000) : c]]])\n"
            "  }\n}\n")
    scan = scan_hostile(tmp_path, {"main.tf": text})
    assert _limit_warnings(scan, "max_steps") == [("main.tf", 5)]  # the innermost for
    assert scan.planted_reported


def test_catastrophic_backtracking_is_linear_with_re2(tmp_path):
    text = ('resource "aws_s3_bucket" "a" {\n  bucket = "b"\n'
            f'  tags = {{ x = regex("^(a+)+$", "{"a" * 64}b") }}\n}}\n')
    scan = scan_hostile(tmp_path, {"main.tf": text})
    assert not scan.errors()
    assert scan.planted_reported


def test_a_variable_default_that_refers_to_itself_is_unknown_not_exponential(tmp_path):
    text = ('variable "v" {\n  default = [var.v, var.v]\n}\n'
            'resource "aws_s3_bucket" "a" {\n  bucket = "b"\n  tags = { x = var.v }\n}\n')
    scan = scan_hostile(tmp_path, {"main.tf": text})
    assert not scan.errors()
    assert scan.planted_reported


def test_huge_counts_stop_at_the_collection_limit(tmp_path):
    text = "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  count = {count}\n}}\n'
                   for i, count in enumerate(("1000000", "1e18", "1e999")))
    scan = scan_hostile(tmp_path, {"main.tf": text})
    assert sorted(_limit_warnings(scan, "max_collection_size")) == [("main.tf", 2), ("main.tf", 5),
                                                                   ("main.tf", 8)]
    assert scan.planted_reported


def test_for_each_over_a_million_element_flatten_stops_at_the_collection_limit(tmp_path):
    text = ('resource "aws_s3_bucket" "a" {\n'
            '  for_each = toset(flatten([for i in range(1000) : [for j in range(1000) : "${i}-${j}"]]))\n'
            "}\n")
    scan = scan_hostile(tmp_path, {"main.tf": text})
    assert _limit_warnings(scan, "max_collection_size") == [("main.tf", 2)]
    assert scan.planted_reported


def test_module_fan_out_stops_at_the_instance_limit(tmp_path):
    files = {}
    for i in range(12):
        calls = "".join(f'module "m{j}" {{\n  source = "../m{j}"\n  count  = 3\n}}\n'
                        for j in range(i + 1, 12))
        files[f"m{i}/main.tf"] = calls + f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b{i}"\n}}\n'
    files["main.tf"] = 'module "top" {\n  source = "./m0"\n}\n'
    scan = scan_hostile(tmp_path, files)
    warned = _limit_warnings(scan, "max_module_instances")
    assert warned and all(path.startswith("m") and path.endswith("/main.tf") for path, _ in warned)
    assert all((line - 1) % 4 == 0 for _, line in warned)  # each at a module block
    assert scan.planted_reported


SHARED = "locals {\n  l0 = [\"a\"]\n" + "".join(
    f"  l{i} = [local.l{i - 1}, local.l{i - 1}]\n" for i in range(1, 41)) + "}\n" + \
    'resource "aws_s3_bucket" "a" {\n  bucket = "b"\n  tags = { t = jsonencode(local.l40) }\n}\n'


def test_a_value_holding_itself_twice_forty_deep_stops_at_the_collection_limit(tmp_path):
    """Each level holds the one before twice: 2**40 elements once encoded or walked."""
    scan = scan_hostile(tmp_path, {"main.tf": SHARED})
    # l16 on line 18 is the first to hold more than 100,000 elements at every depth
    assert ("main.tf", 18) in _limit_warnings(scan, "max_collection_size")
    assert scan.planted_reported


def test_a_configured_limit_applies_to_the_scan(tmp_path):
    text = 'locals {\n  long = "${join("", [for i in range(50) : "abcd"])}"\n}\n' \
           'resource "aws_s3_bucket" "a" {\n  bucket = local.long\n}\n'
    scan = scan_hostile(tmp_path, {"main.tf": text, ".soc2lint.yaml":
                                   "terraform:\n  limits:\n    max_string_length: 100\n"})
    assert _limit_warnings(scan, "max_string_length") == [("main.tf", 2)]
    assert scan.planted_reported


def test_the_limits_are_configuration_settings(tmp_path):
    from soc2lint.evaluate.budget import Budgets

    (tmp_path / ".soc2lint.yaml").write_text(
        "terraform:\n  limits:\n    max_string_length: 100\n    max_steps: 5000\n", encoding="utf-8")
    config = load_config(tmp_path / ".soc2lint.yaml")
    assert config.limits == Budgets(max_string_length=100, max_steps=5000)
    assert "terraform.limits.max_steps: 5000" in config.settings(tmp_path)


def test_parse_workers_end_when_the_scan_is_killed(tmp_path):
    body = "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "b-{i}"\n  tags = {{ a = "{i}" }}\n}}\n'
                   for i in range(300))
    for i in range(POOL_MIN_FILES * 3):
        (tmp_path / "tree" / f"d{i % 8}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tree" / f"d{i % 8}" / f"f{i}.tf").write_text(body, encoding="utf-8")
    env = {**os.environ, "SOC2LINT_WORKERS": "4", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    scan = subprocess.Popen([sys.executable, "-m", "soc2lint", "scan", "tree", "-f", "json"], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.monotonic() + 60
    while not workers and time.monotonic() < deadline and scan.poll() is None:
        time.sleep(0.05)
        workers = _children(scan.pid)
    assert workers, "no parse worker started"
    scan.send_signal(signal.SIGKILL)
    scan.wait()
    time.sleep(5)
    assert [pid for pid in workers if _alive(pid)] == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_an_unexpected_failure_in_one_block_is_an_error_and_the_rest_is_evaluated(tmp_path, monkeypatch):
    from soc2lint.discovery import discover
    from soc2lint.evaluate import functions
    from soc2lint.evaluate.project import Project
    from soc2lint.parsers.cache import ParseCache

    def broken(*args):
        raise RuntimeError("a defect")

    monkeypatch.setitem(functions.FUNCTIONS, "lower", broken)
    (tmp_path / "main.tf").write_text('resource "aws_s3_bucket" "a" {\n  bucket = lower("B")\n}\n'
                                      'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sources = [s for s in discover(["."]).sources if s.path.endswith(".tf")]
    result = Project(cache=ParseCache(None)).evaluate(sources)
    assert [e.address for e in result.entities if e.kind != "root"] == ["aws_s3_bucket.b"]
    [root] = [e for e in result.entities if e.kind == "root"]  # not judged: a block is missing
    assert "could not be evaluated" in root.data["declared_elsewhere"].reason
    [error] = [n for n in result.notifications if n.level == "error"]
    assert (error.path, error.line) == ("main.tf", 1) and "RuntimeError" in error.message


def test_a_failure_in_a_module_two_roots_call_leaves_both_roots_undecided(tmp_path, monkeypatch):
    """The error is told once, but each root that evaluated the failing block is not read whole."""
    from soc2lint.discovery import discover
    from soc2lint.evaluate import functions
    from soc2lint.evaluate.project import Project
    from soc2lint.parsers.cache import ParseCache

    def broken(*args):
        raise RuntimeError("a defect")

    monkeypatch.setitem(functions.FUNCTIONS, "lower", broken)
    call = 'module "m" {\n  source = "../mod"\n}\n'
    for name, text in {"mod/main.tf": 'resource "aws_iam_user" "u" {\n  name = lower("U")\n}\n'
                                      'resource "aws_iam_user" "v" {\n  name = "v"\n}\n',
                       "r1/main.tf": call, "r2/main.tf": call}.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = Project(cache=ParseCache(None)).evaluate(discover(["."]).sources)
    roots = {e.address: e.data["declared_elsewhere"] for e in result.entities if e.kind == "root"}
    assert sorted(roots) == ["root(r1).aws_iam_user", "root(r2).aws_iam_user"]
    assert all("could not be evaluated" in value.reason for value in roots.values())
