"""Scanning hostile input as CI would: a subprocess with a time limit, beside a planted finding.

The time limit guards against hangs; it is not a speed test. The planted file holds one real
failure, so a test can assert that the rest of the scan still happened.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from helpers import write

TIME_LIMIT_S = 60
PLANTED_RULE = "aws-ebs-volume-encrypted"
PLANTED_TF = 'resource "aws_ebs_volume" "planted" {\n  size      = 10\n  encrypted = false\n}\n'


@dataclass(frozen=True)
class HostileScan:
    """What one scan of hostile input gave: exit code, JSON report and standard error."""

    code: int
    report: dict
    stderr: str

    def notifications(self, file: str | None = None) -> list[dict]:
        return [n for n in self.report["notifications"] if file is None or n["file"] == file]

    def errors(self, file: str | None = None) -> list[dict]:
        return [n for n in self.notifications(file) if n["level"] == "error"]

    @property
    def planted_reported(self) -> bool:
        return any(r["rule_id"] == PLANTED_RULE and r["outcome"] == "fail"
                   and r["file"].endswith("planted.tf") for r in self.report["results"])


def scan_hostile(root: Path, files: dict[str, str | bytes], *args: str,
                 planted: str = "planted.tf") -> HostileScan:
    """Write `files` and the planted file (at `planted`) under `root`, scan `root` with every
    rule (give no `--rule` that leaves the planted one out) and return the result; fails on a
    hang or a traceback."""
    write(root, {**files, planted: PLANTED_TF})
    done = subprocess.run([sys.executable, "-m", "soc2lint", "scan", ".", "-f", "json", *args],
                          cwd=root, capture_output=True, text=True, timeout=TIME_LIMIT_S)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    return HostileScan(done.returncode, json.loads(done.stdout), done.stderr)


__all__ = ["PLANTED_RULE", "HostileScan", "scan_hostile"]
