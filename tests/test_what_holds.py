"""What must hold whatever the scanned code says: files it names are not read, commands it holds
never run, no part of it reaches a shell, `eval` or an unsafe YAML loader, and the secrets it
holds are redacted in every output format.

tests/test_leaks.py covers the literals of unresolved expressions and credentials in URLs; this
file adds secret literals that rules flag (Terraform, Kubernetes env, workflow env), the
`summary` format, file-reading functions, commands that would run and the static checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fakesecrets import FAKE_VALUES
from helpers import run_cli, write

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "soc2lint"

OUTPUTS = {
    "text": ["scan", ".", "--fail-on", "none", "--no-config"],
    "json": ["scan", ".", "--fail-on", "none", "--no-config", "--format", "json"],
    "sarif": ["scan", ".", "--fail-on", "none", "--no-config", "--format", "sarif",
              "--sarif-include-unknown", "--sarif-include-suppressed"],
    "github": ["scan", ".", "--fail-on", "none", "--no-config", "--format", "github"],
    "summary": ["scan", ".", "--fail-on", "none", "--no-config", "--format", "summary"],
    "report-markdown": ["report", ".", "--no-config", "--format", "markdown"],
    "report-html": ["report", ".", "--no-config", "--format", "html"],
    "report-json": ["report", ".", "--no-config", "--format", "json"],
}


def every_output(root: Path) -> dict[str, str]:
    """Each format's output for the tree at `root` (stdout and stderr together)."""
    found = {}
    for name, args in OUTPUTS.items():
        result = run_cli(args, root)
        assert result.exit_code in (0, 1, 3), (name, result.output)
        found[name] = result.output
    return found


def appearing(outputs: dict[str, str], *secrets: str) -> list[tuple[str, str]]:
    return [(name, secret) for name, text in outputs.items() for secret in secrets if secret in text]


# -- functions that read files stay unevaluated ---------------------------------------------------
SECRET_FILE_TEXT = "planted-" + "file-content-" + "Qm7vX2"
FILE_CALLS = {
    "file": 'file("${path.module}/secret.txt")',
    "file-etc-passwd": 'file("/etc/passwd")',
    "templatefile": 'templatefile("secret.txt", {})',
    "filebase64": 'filebase64("secret.txt")',
    "filemd5": 'filemd5("secret.txt")',
    "filesha1": 'filesha1("secret.txt")',
    "filesha256": 'filesha256("secret.txt")',
    "filesha512": 'filesha512("secret.txt")',
    "filebase64sha256": 'filebase64sha256("secret.txt")',
    "filebase64sha512": 'filebase64sha512("secret.txt")',
    "fileexists": 'fileexists("secret.txt")',
    "fileset": 'fileset(path.module, "*.txt")',
    "pathexpand": 'pathexpand("~/.aws/credentials")',
    "abspath": 'abspath("secret.txt")',
}


def _derived(text: str) -> list[str]:
    """The file's text and what a file function would make of it."""
    data = text.encode()
    return [text, base64.b64encode(data).decode(), hashlib.md5(data).hexdigest(),
            hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest(),
            hashlib.sha512(data).hexdigest(), base64.b64encode(hashlib.sha256(data).digest()).decode()]


@pytest.fixture(scope="module")
def file_tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("files")
    blocks = "".join(f'resource "aws_db_instance" "{case.replace("-", "_")}" {{\n'
                     f"  storage_encrypted = {call}\n}}\n\n" for case, call in FILE_CALLS.items())
    return write(root, {"main.tf": blocks, "secret.txt": SECRET_FILE_TEXT})


def test_file_functions_are_unknown(file_tree):
    report = json.loads(run_cli(OUTPUTS["json"], file_tree).output)
    outcomes = {r["entity"]["address"].split(".")[-1]: r["outcome"] for r in report["results"]
                if r["rule_id"] == "aws-rds-storage-encrypted"}
    assert outcomes == {case.replace("-", "_"): "unknown" for case in FILE_CALLS}


def test_file_contents_appear_in_no_output(file_tree):
    secrets = _derived(SECRET_FILE_TEXT)
    passwd = Path("/etc/passwd")
    if passwd.is_file():
        secrets += [line for line in passwd.read_text(errors="replace").splitlines()[:3] if line]
    assert appearing(every_output(file_tree), *secrets) == []


AUDIT = """\
import sys
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)) and \\
            (str(args[0]).endswith("secret.txt") or str(args[0]) == "/etc/passwd"):
        opened.append(str(args[0]))
sys.addaudithook(hook)
from soc2lint.cli import main
try:
    main(args=["scan", ".", "--no-config", "-f", "json", "--fail-on", "none"], prog_name="soc2lint")
finally:
    sys.stderr.write("OPENED=" + repr(opened) + "\\n")
"""


def test_no_named_file_is_opened(file_tree):
    done = subprocess.run([sys.executable, "-c", AUDIT], cwd=file_tree, capture_output=True,
                          text=True, timeout=120, env={"SOC2LINT_NO_CACHE": "1", "PATH": ""})
    assert "OPENED=[]" in done.stderr, done.stderr[-2000:]


# -- commands in the scanned code never run -------------------------------------------------------
def _commands(marker: Path) -> dict[str, str]:
    touch = f"touch {marker}"
    return {
        "main.tf": f'''\
resource "null_resource" "run" {{
  provisioner "local-exec" {{
    command = "{touch}-local-exec"
  }}
  provisioner "remote-exec" {{
    inline = ["{touch}-remote-exec"]
  }}
}}

resource "terraform_data" "run" {{
  provisioner "local-exec" {{
    command     = "{touch}-terraform-data"
    interpreter = ["/bin/sh", "-c"]
  }}
}}

data "external" "run" {{
  program = ["/bin/sh", "-c", "{touch}-external; echo {{}}"]
}}

resource "aws_db_instance" "db" {{
  storage_encrypted = data.external.run.result.encrypted
}}
''',
        ".github/workflows/ci.yml": f"on: push\njobs:\n  j:\n    runs-on: x\n    steps:\n"
                                    f"      - run: {touch}-workflow\n",
        "k8s/pod.yaml": f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n"
                        f"    - name: c\n      image: busybox\n      command: [sh, -c, '{touch}-pod']\n",
    }


def test_provisioners_external_data_and_steps_never_run(tmp_path):
    marker = tmp_path / "marker"
    root = write(tmp_path / "code", _commands(marker))
    every_output(root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["code"]


def _python_tags(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    marker = tmp_path / "marker"
    root = write(tmp_path / "code", {
        "k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n"
                        f'  name: !!python/object/apply:os.system ["touch {marker}"]\n',
        ".github/workflows/ci.yml": f'on: !!python/object/apply:os.system ["touch {marker}"]\n'
                                    "jobs: {}\n",
    })
    return marker, every_output(root)


def test_a_python_yaml_tag_runs_nothing(tmp_path):
    marker, _ = _python_tags(tmp_path)
    assert not marker.exists()


def test_a_python_yaml_tag_is_reported(tmp_path):
    _, outputs = _python_tags(tmp_path)
    notified = {n["file"] for n in json.loads(outputs["json"])["notifications"]}
    assert {"k8s/pod.yaml", ".github/workflows/ci.yml"} <= notified


# -- no scanned content reaches a shell, eval or an unsafe loader (static) -------------------------
def _sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


SAFE = r'(getattr\(yaml, "CSafeLoader", yaml\.SafeLoader\)|yaml\.C?SafeLoader\b)'
SAFE_LOADERS = re.compile(rf"Loader\s*=\s*(loader\b|{SAFE})")
# modules that run a program, and the only program each may run: git, with an argument list
SUBPROCESS_ALLOWED = {"soc2lint/gitdiff.py", "soc2lint/gitinfo.py"}


def test_yaml_is_only_loaded_safely():
    for path, text in _sources().items():
        assert not re.search(r"yaml\.(unsafe_load|full_load|load_all)\b|yaml\.(Full|Unsafe)?Loader\b|"
                             r"yaml\.CLoader\b|yaml\.CFullLoader\b|yaml\.CUnsafeLoader\b", text), path
        for call in re.finditer(r"yaml\.load\(([^\n]*)", text):
            assert SAFE_LOADERS.search(call.group(1)), (path, call.group(0))
        if "Loader=loader" in text:
            for value in re.findall(r"^\s*loader = ([^\n]*)", text, re.MULTILINE):
                assert re.fullmatch(SAFE, value), (path, value)
        for base in re.findall(r"^class \w+\((\w+)\):", text, re.MULTILINE):
            if base.endswith("Loader"):
                assert base in ("_BaseLoader", "SpanLoader"), (path, base)
    yamlspans = _sources()["soc2lint/parsers/yamlspans.py"]
    assert re.findall(r"_BaseLoader = (yaml\.\w+)", yamlspans) == ["yaml.CSafeLoader", "yaml.SafeLoader"]


def test_no_eval_exec_shell_or_pickle():
    banned = re.compile(r"(?<![\w.])(?<!def )(eval|exec|compile|__import__)\(|shell\s*=\s*True|"
                        r"os\.(system|popen|exec\w*|spawn\w*)\(|\b(pickle|marshal|shelve)\.loads?\(|"
                        r"import (pickle|marshal|shelve)")
    found = [(path, m.group(0)) for path, text in _sources().items() for m in banned.finditer(text)]
    assert found == []


def test_only_git_is_run_with_an_argument_list():
    users = {path for path, text in _sources().items() if re.search(r"\bsubprocess\b|\bPopen\b", text)}
    assert users == SUBPROCESS_ALLOWED
    for path in users:  # every call goes through gitdiff.command, which starts with "git"
        for call in re.finditer(r"subprocess\.(?!SubprocessError|CalledProcess|TimeoutExp)\w+\(([^,\n]*)",
                                _sources()[path]):
            assert call.group(1).startswith("command("), (path, call.group(0))
    gitdiff = _sources()["soc2lint/gitdiff.py"]
    assert re.search(r'def command\(root: Path, \*args: str\) -> list\[str\]:\n'
                     r'(    .*\n)*?    return \["git", ', gitdiff)


# -- secrets are redacted in every output -------------------------------------------------------
AWS_SECRET = FAKE_VALUES["__FAKE_AWS_SECRET_KEY__"]
AWS_KEY_ID = FAKE_VALUES["__FAKE_AWS_ACCESS_KEY_ID__"]
PASSWORD = "Tr0ub4dor" + "-tf-" + "Lq3x"
K8S_PASSWORD = "Zebra9" + "-k8s-" + "Wm2v"
WORKFLOW_PASSWORD = "Otter4" + "-gha-" + "Pn8c"

SECRET_TREE = {
    "main.tf": f'''\
provider "aws" {{
  access_key = "{AWS_KEY_ID}"
  secret_key = "{AWS_SECRET}"
}}

resource "aws_db_instance" "db" {{
  password          = "{PASSWORD}"
  storage_encrypted = true
}}

locals {{
  api_secret = "{AWS_SECRET}"
}}
''',
    "k8s/deploy.yaml": f'''\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/app:1.0
          env:
            - name: DB_PASSWORD
              value: "{K8S_PASSWORD}"
            - name: AWS_SECRET_ACCESS_KEY
              value: "{AWS_SECRET}"
''',
    ".github/workflows/ci.yml": f'''\
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      AWS_SECRET_ACCESS_KEY: "{AWS_SECRET}"
      DB_PASSWORD: "{WORKFLOW_PASSWORD}"
    steps:
      - run: echo deploying
''',
}


@pytest.fixture(scope="module")
def secret_outputs(tmp_path_factory) -> dict[str, str]:
    return every_output(write(tmp_path_factory.mktemp("secrets"), SECRET_TREE))


def test_the_planted_secrets_are_found(secret_outputs):
    failed = {r["rule_id"] for r in json.loads(secret_outputs["json"])["results"]
              if r["outcome"] == "fail"}
    assert {"aws-provider-static-credentials", "aws-db-password-literal",
            "k8s-env-hardcoded-secret"} <= failed


@pytest.mark.parametrize("secret", [AWS_SECRET, PASSWORD, K8S_PASSWORD, WORKFLOW_PASSWORD],
                         ids=["aws-secret-key", "tf-password", "k8s-password", "workflow-password"])
def test_no_secret_in_any_output(secret_outputs, secret):
    halves = (secret[: len(secret) // 2], secret[len(secret) // 2:])
    assert appearing(secret_outputs, secret, *halves) == []
