"""Run one case through the real command line in a forked child with a time and memory limit.

The parent imports soc2lint once; each child is a fork of it, so an input costs a scan, not an
interpreter start. The child runs `soc2lint scan . -f json` (the same `cli.main` that
`python -m soc2lint` calls) in the case's directory and exits with the command's code.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import resource
import select
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from .case import Case

ARGS = ["scan", ".", "-f", "json", "--no-config"]
GOOD_EXITS = (0, 1, 3)
CRASH_EXIT = 70
MEMORY_EXIT = 71
STDERR_TAIL = 4000
WARM_UP = {
    "main.tf": b'variable "v" {\n  default = 1\n}\nresource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n',
    "terraform.tfvars": b"v = 2\n",
    "x.tf.json": b'{"locals": {"l": "${var.v}"}}',
    "k8s/pod.yaml": b"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
                    b"spec:\n  containers: [{name: c, image: i}]\n",
    ".github/workflows/w.yml": b"on: push\njobs:\n  j:\n    runs-on: x\n    steps: [{run: echo}]\n",
}


@dataclass(frozen=True)
class Outcome:
    """What one run gave: `kind` is ok, crash, hang or memory; `signature` groups failures."""

    kind: str
    code: int | None
    stderr: str
    max_rss_kb: int
    seconds: float
    signature: str = ""

    @property
    def failed(self) -> bool:
        return self.kind != "ok"


def warm_up() -> None:
    """Import every soc2lint module in this process, so forked children need not."""
    import soc2lint

    for module in pkgutil.walk_packages(soc2lint.__path__, "soc2lint."):
        try:
            importlib.import_module(module.name)
        except Exception:  # a module that does not import alone is imported by the scan
            continue
    _remember_rule_files()
    os.environ["SOC2LINT_NO_CACHE"] = "1"  # a cache hit would skip the parser being fuzzed
    os.environ["SOC2LINT_DEBUG"] = "1"  # an internal error comes with its traceback
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "CI"):
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="soc2lint-fuzz-warm-") as directory:
        warm = Case(WARM_UP, "main.tf")
        if run(warm, Path(directory) / "case", 120, 4 << 30).failed:
            raise RuntimeError("soc2lint fails on a well-formed tree: nothing to fuzz")
        _scan_here(Path(directory) / "case")  # parsers build their tables once, here


def _remember_rule_files() -> None:
    """Load each rule file once in this process: rules are not what is fuzzed, and reading
    them took most of a small scan."""
    from soc2lint import rules

    load = rules.load_rule_file
    if getattr(load, "remembered", False):
        return
    memo: dict = {}

    def remembered(path, validate=True):
        key = (str(path), validate, Path(path).stat().st_mtime_ns)
        if key not in memo:
            memo[key] = load(path, validate=validate)
        return memo[key]

    remembered.remembered = True
    rules.load_rule_file = remembered


def _scan_here(directory: Path) -> None:
    """Scan `directory` in this process, output thrown away (builds lazily made tables)."""
    from soc2lint.cli import main

    here = Path.cwd()
    saved = os.dup(1), os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.chdir(directory)
        os.dup2(null, 1)
        os.dup2(null, 2)
        with contextlib.suppress(SystemExit):
            main(args=ARGS, prog_name="soc2lint")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)
        os.chdir(here)


def _child(directory: Path, memory_bytes: int) -> None:
    """In the forked child: limit memory, point stdio at files, run the command, exit."""
    code = CRASH_EXIT
    try:
        os.setpgid(0, 0)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        os.chdir(directory)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, "stdout"), (2, "stderr")):
            os.dup2(os.open(directory.parent / f"{directory.name}.{name}",
                            os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        from soc2lint.cli import main

        try:
            main(args=ARGS, prog_name="soc2lint")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except MemoryError:
            code = MEMORY_EXIT
            os.write(2, b"MemoryError\n")
        except BaseException:
            code = CRASH_EXIT
            traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int | None, int, bool]:
    """(exit status or None, max RSS in KiB, timed out) of child `pid`, killed after `timeout`."""
    deadline = time.monotonic() + timeout
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return status, usage.ru_maxrss, False
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if fd is not None:
                select.select([fd], [], [], left)
            else:
                time.sleep(min(left, 0.005))
    finally:
        if fd is not None:
            os.close(fd)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    _, status, usage = os.wait4(pid, 0)
    return None, usage.ru_maxrss, True


def run(case: Case, directory: Path, timeout: float, memory_bytes: int) -> Outcome:
    """Write `case` to `directory`, scan it in a child and classify what happened."""
    case.write(directory)
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(directory, memory_bytes)
    status, rss, timed_out = _wait(pid, timeout)
    seconds = time.monotonic() - started
    stdout = _read(directory.parent / f"{directory.name}.stdout")
    stderr = _read(directory.parent / f"{directory.name}.stderr")[-STDERR_TAIL:]
    if timed_out:
        return Outcome("hang", None, stderr, rss, seconds, "hang")
    code = os.waitstatus_to_exitcode(status)
    kind = classify(code, stdout, stderr, rss, memory_bytes)
    return Outcome(kind, code, stderr, rss, seconds, signature(kind, code, stderr))


def classify(code: int, stdout: str, stderr: str, rss_kb: int, memory_bytes: int) -> str:
    """ok, crash or memory, from the exit code, the output and the peak memory."""
    if code == MEMORY_EXIT or "MemoryError" in stderr or (code < 0 and rss_kb * 1024 >= 0.9 * memory_bytes):
        return "memory"
    if code not in GOOD_EXITS or "Traceback" in stderr or "internal error" in stderr:
        return "crash"
    try:
        json.loads(stdout)
    except ValueError:
        return "crash"
    return "ok"


def signature(kind: str, code: int, stderr: str) -> str:
    """What groups failures: the exception and the innermost soc2lint frame, or the exit code."""
    if kind == "ok":
        return ""
    lines = [line for line in stderr.splitlines() if line.strip()]
    last_frame = max((i for i, line in enumerate(lines) if line.startswith('  File "')), default=-1)
    exception = next((line.split(":")[0] for line in lines[last_frame + 1:]
                      if not line.startswith((" ", "\t"))), "") if last_frame >= 0 else ""
    frames = [line.strip() for line in lines if line.strip().startswith('File "')]
    ours = [f for f in frames if "soc2lint" in f] or frames
    where = ""
    if ours:
        file, _, rest = ours[-1].partition(", line ")
        where = f"{Path(file[6:-1]).name}:{rest.split(', in ')[-1]}"
    if not exception and not where:
        exception = f"exit {code}" if code not in GOOD_EXITS else "invalid JSON output"
    return " ".join(part for part in (kind, exception, where) if part)


def _read(path: Path) -> str:
    try:
        text = path.read_bytes().decode("utf-8", "replace")
        path.unlink()
        return text
    except OSError:
        return ""
