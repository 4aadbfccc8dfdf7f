"""Small helpers: run the CLI in-process, write files into a temporary tree."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from soc2lint.cli import main

BUCKET_TF = '''\
resource "aws_db_instance" "orders" {
  engine            = "postgres"
  instance_class    = "db.t3.micro"
  storage_encrypted = false
}

resource "aws_db_instance" "billing" {
  engine            = "postgres"
  storage_encrypted = var.encrypt_billing
}
'''

CLEAN_TF = '''\
resource "aws_db_instance" "ok" {
  engine            = "postgres"
  storage_encrypted = true
}
'''

# A user rule renamed from `x-old-db-check`: ignores and baselines under the old id still apply.
ALIASED_RULE = """\
id: x-db-encrypted
title: Databases are encrypted (renamed from x-old-db-check)
severity: high
soc2: {primary: [CC6.1]}
tags: [x-custom]
precision: high
aliases: [x-old-db-check]
target: {framework: terraform, kind: resource, type: aws_db_instance}
assert: {path: storage_encrypted, equals: true, default: false}
report_at: storage_encrypted
message: "Database '{name}' is not encrypted"
"""


def db(name: str, encrypted: str = "false") -> str:
    """An `aws_db_instance` whose `storage_encrypted` (line 3) is `encrypted`."""
    return (f'resource "aws_db_instance" "{name}" {{\n'
            f'  engine            = "postgres"\n'
            f'  storage_encrypted = {encrypted}\n'
            f'}}\n')


def write(root: Path, files: dict[str, str] | dict[str, str | bytes]) -> Path:
    """Write each file (text as UTF-8, bytes as they are) under `root`, making folders."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def run_cli(args: list[str], cwd: Path | None = None, stdin: str | None = None):
    """Invoke `soc2lint` in-process; returns click's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, args, input=stdin, catch_exceptions=False)
    import os

    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(main, args, input=stdin, catch_exceptions=False)
    finally:
        os.chdir(old)


def scan_json(args: list[str], cwd: Path | None = None) -> dict:
    result = run_cli(["scan", *args, "--format", "json"], cwd)
    assert result.exit_code in (0, 1, 3), result.output
    return json.loads(result.stdout)


def git_init(root: Path) -> None:
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def git(root: Path, *args: str, author: str = "Test Author") -> str:
    """Run git in `root` as `author` (name; the e-mail is made from it); returns stdout."""
    email = author.split()[0].lower() + "@example.com"
    done = subprocess.run(["git", "-C", str(root), "-c", f"user.name={author}",
                           "-c", f"user.email={email}", *args],
                          capture_output=True, text=True, check=True)
    return done.stdout


def commit(root: Path, message: str, author: str = "Test Author") -> str:
    """Stage everything and commit; returns the new commit's hash."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, author=author)
    return git(root, "rev-parse", "HEAD").strip()
