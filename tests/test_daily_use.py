"""The everyday command line: habits from other scanners, quiet and compact text, colour, the
fix under each finding, wrapping and the progress bar on a terminal, help and `explain`."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import click
import pytest
from helpers import BUCKET_TF, run_cli, write

from soc2lint import cli
from soc2lint.report import FORMATS
from soc2lint.report.text import first_sentence
from soc2lint.rules import load_rules

ANSI = re.compile(r"\x1b\[[0-9;]*m")

# a failure (orders, line 4), an undecided result (billing), a file that does not parse, a file
# read but not checked, and an empty file (a warning)
PROJECT = {"main.tf": BUCKET_TF, "broken.tf": 'resource "x" {\n', "values.yaml": "replicas: 3\n",
           "empty.tf": ""}


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return write(tmp_path, PROJECT) or tmp_path


# -- Checkov habits: -o FORMAT -------------------------------------------------------------

@pytest.mark.parametrize("name", FORMATS)
def test_an_output_named_like_a_format_is_refused_without_a_format(project, name):
    result = run_cli(["scan", "main.tf", "-o", name], project)
    assert result.exit_code == 2
    assert f"did you mean -f {name}?" in result.stderr and not result.stdout
    assert not (project / name).exists()


def test_an_output_named_like_a_format_is_a_file_when_the_format_is_given(project):
    result = run_cli(["scan", "main.tf", "-f", "json", "-o", "sarif"], project)
    assert result.exit_code == 1, result.output
    assert json.loads((project / "sarif").read_text())["summary"]["outcomes"]["fail"] >= 1


def test_the_report_refuses_an_output_named_like_a_report_format(project):
    result = run_cli(["report", "main.tf", "-o", "html"], project)
    assert result.exit_code == 2 and "did you mean -f html?" in result.stderr
    assert not (project / "html").exists()
    result = run_cli(["report", "main.tf", "-f", "markdown", "-o", "html"], project)
    assert result.exit_code == 3 or result.exit_code == 0, result.output
    assert (project / "html").read_text().startswith("#")


# -- quiet and compact ---------------------------------------------------------------------

def test_quiet_shows_only_failures_and_errors(project):
    result = run_cli(["scan", ".", "--quiet"], project)
    assert result.exit_code == 1
    out = result.stdout
    assert "aws-rds-storage-encrypted" in out and "main.tf" in out  # the failure
    assert "broken.tf" in out and "error" in out  # the input error
    for absent in ("Summary", "Not decided", "depends on", "empty.tf", "values.yaml", "warning"):
        assert absent not in out, absent
    assert not result.stderr


def test_quiet_prints_nothing_on_a_clean_scan(tmp_path):
    write(tmp_path, {"ebs.tf": 'resource "aws_ebs_encryption_by_default" "x" {\n  enabled = true\n}\n'})
    result = run_cli(["scan", ".", "-q"], tmp_path)
    assert result.exit_code == 0 and result.stdout == ""


def test_compact_is_one_line_per_finding(project):
    data = json.loads(run_cli(["scan", ".", "-f", "json"], project).stdout)
    failures = [r for r in data["results"] if r["status"] == "fail"]
    out = run_cli(["scan", ".", "--compact"], project).stdout
    lines = [line for line in out.splitlines() if re.match(r"\S+:\d+:\d+: [A-Z]+ ", line)]
    assert len([x for x in lines if " UNKNOWN " not in x]) == len(failures) > 0
    orders = next(x for x in lines if "orders" in x and "storage-encrypted" in x)
    assert re.fullmatch(r"main\.tf:4:3: HIGH aws-rds-storage-encrypted Database "
                        r"'aws_db_instance\.orders' .*\. Set storage_encrypted = true.* \[CC6\.1\]",
                        orders), orders
    assert "fix:" not in out and "Summary" in out


def test_quiet_and_compact_together(project):
    out = run_cli(["scan", ".", "-q", "--compact"], project).stdout.splitlines()
    assert out[-1].startswith("broken.tf:1: error: ")
    assert all(line.startswith("main.tf:") for line in out[:-1]), out


# -- the fix under each finding ------------------------------------------------------------

def test_each_failure_shows_the_first_step_of_its_fix_and_where_to_read_more(project):
    out = run_cli(["scan", "main.tf"], project).stdout.splitlines()
    rules = {r.id: r for r in load_rules()}
    finding = next(i for i, line in enumerate(out) if "aws-rds-storage-encrypted" in line)
    fix = first_sentence(rules["aws-rds-storage-encrypted"].remediation)
    assert out[finding + 1] == f"      fix: {fix} (soc2lint explain aws-rds-storage-encrypted)"


@pytest.mark.parametrize(("text", "first"), [
    ("Set a = true. Then b.", "Set a = true."),
    ('Pin it, e.g. "uses: o/a@sha". Then more.', 'Pin it, e.g. "uses: o/a@sha".'),
    ("Use a role, i.e. Not a user. More.", "Use a role, i.e. Not a user."),
    ("Set x\n  = 1 over two lines. Next.", "Set x = 1 over two lines."),
    ("Only one sentence", "Only one sentence"),
])
def test_first_sentence(text, first):
    assert first_sentence(text) == first


def test_every_bundled_remediation_has_a_first_sentence_of_its_own():
    for rule in load_rules():
        fix = first_sentence(rule.remediation)
        assert fix.endswith((".", ")", '"', "`")) and len(fix) < 600, (rule.id, fix)


# -- files not checked are named -----------------------------------------------------------

def test_files_not_checked_are_named_with_the_reason(tmp_path):
    write(tmp_path, {f"values-{i:02}.yaml": "replicas: 3\n" for i in range(12)})
    out = run_cli(["scan", "."], tmp_path).stdout
    section = out.split("Not checked:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[0] == "  not a Kubernetes manifest or GitHub Actions file (12):"
    assert section[1:11] == [f"    values-{i:02}.yaml" for i in range(10)]
    assert section[11] == "    and 2 more (-f json lists them under skipped)"


# -- help ----------------------------------------------------------------------------------

def test_scan_help_lists_every_format():
    help_text = " ".join(run_cli(["scan", "--help"]).stdout.split())
    for fmt in FORMATS:
        assert re.search(rf"\b{fmt}\b", help_text.split("-f, --format", 1)[1][:400]), fmt


@pytest.mark.parametrize("name", sorted(cli.main.commands))
def test_every_option_has_help(name):
    command = cli.main.commands[name]
    bare = [p.name for p in command.params if isinstance(p, click.Option) and not p.help]
    assert not bare and command.help


# -- explain -------------------------------------------------------------------------------

def test_explain_a_catalogue_id_explains_every_rule_that_carries_it():
    carriers = sorted(r.id for r in load_rules() if r.catalogue_id == "GHA-CICD-002")
    assert len(carriers) > 1
    result = run_cli(["explain", "gha-cicd-002"])
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0] == (
        f"catalogue id GHA-CICD-002: {len(carriers)} rule(s): {', '.join(carriers)}")
    for rule_id in carriers:
        assert re.search(rf"^{rule_id}: ", result.stdout, re.M), rule_id


def test_explain_a_rule_disabled_by_default_says_how_to_enable_it():
    result = run_cli(["explain", "k8s-image-digest"])
    assert result.exit_code == 0 and "disabled by default" in result.stdout


def test_explain_an_unknown_id_suggests_the_nearest():
    result = run_cli(["explain", "aws-rds-storage-encryption"])
    assert result.exit_code == 2 and "did you mean aws-rds-storage-encrypted" in result.stderr


# -- on a terminal: colour, NO_COLOR, wrapping, progress -----------------------------------

def _on_terminal(args: list[str], cwd: Path, columns: int = 80, env: dict | None = None,
                 stderr_only: bool = False) -> tuple[str, str, int]:
    """Run soc2lint with stdout (or only stderr) on a pseudo-terminal `columns` wide; returns
    what the terminal and the pipe received, and the exit code."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    environment.update(env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "soc2lint", *args], cwd=cwd, env=environment,
        stdout=subprocess.PIPE if stderr_only else child,
        stderr=child if stderr_only else subprocess.PIPE)
    os.close(child)
    received = bytearray()

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read)
    reader.start()
    piped = process.communicate(timeout=120)[0 if stderr_only else 1].decode()
    reader.join(timeout=10)
    os.close(main)
    return received.decode().replace("\r\n", "\n"), piped, process.returncode


def test_colour_on_a_terminal_unless_no_color(project):
    coloured, _, code = _on_terminal(["scan", "main.tf"], project)
    assert code == 1 and ANSI.search(coloured)
    plain, _, _ = _on_terminal(["scan", "main.tf"], project, env={"NO_COLOR": "1"})
    assert not ANSI.search(plain) and "aws-rds-storage-encrypted" in plain
    forced, _, _ = _on_terminal(["scan", "main.tf", "--color"], project, env={"NO_COLOR": "1"})
    assert ANSI.search(forced)
    off, _, _ = _on_terminal(["scan", "main.tf", "--no-color"], project)
    assert not ANSI.search(off)


def test_lines_wrap_at_the_terminal_width_and_compact_never_wraps(project):
    out, _, _ = _on_terminal(["scan", "main.tf"], project, columns=72)
    lines = ANSI.sub("", out).splitlines()
    assert max(len(line) for line in lines) <= 72, max(lines, key=len)
    assert any(line.startswith("      ") and not line.lstrip().startswith(("fix:", "see"))
               for line in lines), "a long message continues on an indented line"
    compact, _, _ = _on_terminal(["scan", "main.tf", "--compact"], project, columns=72)
    line = next(x for x in ANSI.sub("", compact).splitlines() if x.startswith("main.tf:4:3:"))
    assert len(line) > 72 and line.endswith("[CC6.1]")


MODULES = 100  # about 3 s of scanning without cache or pool on a 2-core machine


def test_a_progress_bar_appears_once_a_scan_has_run_for_a_second(tmp_path):
    for i in range(MODULES):
        write(tmp_path, {f"m{i}/main.tf": "".join(
            f'resource "aws_db_instance" "d{j}" {{\n  storage_encrypted = var.e{j}\n}}\n'
            f'variable "e{j}" {{\n  default = {str(j % 2 == 0).lower()}\n}}\n' for j in range(40))})
    env = {"SOC2LINT_NO_CACHE": "1", "SOC2LINT_WORKERS": "1"}
    start = time.monotonic()
    terminal, stdout, code = _on_terminal(["scan", ".", "-f", "json"], tmp_path, env=env,
                                          stderr_only=True)
    took = time.monotonic() - start
    assert code == 1 and json.loads(stdout)["summary"]["files_scanned"] == MODULES
    if took < 1.5:  # the bar is first drawn at 1 s
        pytest.skip(f"the scan took {took:.1f} s, too short to show the bar")
    assert re.search(rf"\rscanning \[[#-]{{30}}\] \d+/{MODULES} files", terminal), terminal[:300]
    assert terminal.endswith("\r\x1b[K"), "the bar is erased when the scan ends"
    quiet, _, _ = _on_terminal(["scan", ".", "-f", "json", "--quiet"], tmp_path, env=env,
                               stderr_only=True)
    assert "scanning" not in quiet


def test_a_short_scan_shows_no_progress(project):
    terminal, _, _ = _on_terminal(["scan", "main.tf", "-f", "json"], project, stderr_only=True)
    assert "scanning" not in terminal


def test_the_bar_counts_what_the_scan_reports(capsys, monkeypatch):
    monkeypatch.setattr(cli._DelayedProgress, "DELAY", 0.05)
    with cli._DelayedProgress(enabled=True) as progress:
        progress.begin(10)
        progress.advance(3)
        time.sleep(0.4)
    err = capsys.readouterr().err
    assert f"\rscanning [{'#' * 9}{'-' * 21}] 3/10 files" in err and err.endswith("\r\x1b[K")
    with cli._DelayedProgress(enabled=False) as progress:
        assert progress is None
    assert capsys.readouterr().err == ""
