"""The HCL parser soc2lint relies on: the right `hcl2` module, its grammar, declared dependencies."""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write
from lark import Tree

from soc2lint.parsers import ParseError

ROOT = Path(__file__).resolve().parent.parent
# python-hcl2 7.3.1's hcl2/hcl2.lark. soc2lint reads this grammar at run time and converts its
# trees in soc2lint/parsers/hclast.py; a release that changes it needs that conversion reviewed
# (and this hash updated) before the lock in requirements/action.txt moves to it.
REVIEWED_GRAMMAR_SHA256 = "d7a5d29be3463df69b9eb30bd2840ba4fef2bf005e106af9f0bc9c2ff2c16812"


def _python_hcl2_grammar() -> Path:
    dist = importlib.metadata.distribution("python-hcl2")
    [grammar] = [f for f in dist.files or () if f.name == "hcl2.lark"]
    return Path(str(dist.locate_file(grammar)))


def test_the_grammar_read_is_the_one_reviewed():
    digest = hashlib.sha256(_python_hcl2_grammar().read_bytes()).hexdigest()
    assert digest == REVIEWED_GRAMMAR_SHA256, (
        f"python-hcl2 {importlib.metadata.version('python-hcl2')} ships another hcl2.lark: check "
        "soc2lint/parsers/hclast.py against it, then update REVIEWED_GRAMMAR_SHA256")


def test_the_supported_range_is_the_one_pyproject_declares():
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from soc2lint.parsers.hcl2dist import SUPPORTED_DISTRIBUTION, SUPPORTED_RANGE

    declared = [Requirement(r) for r in _project()["dependencies"]]
    [hcl2] = [r for r in declared if r.name == SUPPORTED_DISTRIBUTION]
    assert hcl2.specifier == SpecifierSet(SUPPORTED_RANGE)


def test_every_package_soc2lint_imports_is_declared():
    from packaging.requirements import Requirement

    declared = {_normal(Requirement(r).name) for r in _project()["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    imported = set()
    for path in (ROOT / "soc2lint").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"soc2lint"}
    missing = {name: providers.get(name) for name in third_party
               if not {_normal(name), *map(_normal, providers.get(name, ()))} & declared}
    assert missing == {}


def test_python_hcl2_in_the_range_is_supported():
    from soc2lint.parsers.hcl2dist import Provider, hcl2_provider, within

    assert hcl2_provider().name == "python-hcl2" and hcl2_provider().problem() is None
    assert within("7.3.1", ">=7.3,<8") and within("7.10", ">=7.3,<8")
    assert not within("8.0.0", ">=7.3,<8") and not within("7.2.9", ">=7.3,<8")
    assert "bc-python-hcl2 0.4.3" in Provider("bc-python-hcl2", "0.4.3").problem()
    assert "python-hcl2 6.1.0, not python-hcl2 >=7.3,<8" in Provider("python-hcl2", "6.1.0").problem()


def _fake_hcl2(site: Path) -> None:
    """bc-python-hcl2 as Checkov installs it: a distribution of that name owning `hcl2`."""
    files = {"hcl2/__init__.py": b'__version__ = "0.4.3"\n',
             "hcl2/hcl2.lark": _python_hcl2_grammar().read_bytes(),
             "bc_python_hcl2-0.4.3.dist-info/METADATA":
                 b"Metadata-Version: 2.1\nName: bc-python-hcl2\nVersion: 0.4.3\n",
             "bc_python_hcl2-0.4.3.dist-info/top_level.txt": b"hcl2\n"}
    record = []
    for name, content in files.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_bytes(content)
        digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(content)}")
    record.append("bc_python_hcl2-0.4.3.dist-info/RECORD,,")
    (site / "bc_python_hcl2-0.4.3.dist-info/RECORD").write_text("\n".join(record) + "\n")


def test_another_hcl2_makes_every_terraform_file_an_error_and_the_rest_is_scanned(tmp_path):
    site = tmp_path / "site"
    _fake_hcl2(site)
    repo = write(tmp_path / "repo", {
        "main.tf": 'resource "aws_db_instance" "db" {\n  storage_encrypted = false\n}\n',
        "network/vpc.tf": 'resource "aws_vpc" "main" {\n  cidr_block = "10.0.0.0/16"\n}\n',
        "k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n"
                        "    - name: web\n      image: nginx:1.27\n",
    })
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), str(ROOT)]),
               SOC2LINT_CACHE_DIR=str(tmp_path / "cache"))
    done = subprocess.run([sys.executable, "-m", "soc2lint", "scan", ".", "--format", "json",
                           "--fail-on", "none"], cwd=repo, env=env, capture_output=True, text=True,
                          timeout=300)
    data = json.loads(done.stdout)
    errors = {n["file"]: n["message"] for n in data["notifications"] if n["level"] == "error"}
    assert set(errors) == {"main.tf", "network/vpc.tf"}
    assert all("bc-python-hcl2 0.4.3, not python-hcl2 >=7.3,<8" in m for m in errors.values())
    assert {r["entity"]["framework"] for r in data["results"]} >= {"kubernetes"}
    assert not any(r["entity"]["framework"] == "terraform" for r in data["results"])
    assert done.returncode == 3, done.stderr


@pytest.mark.parametrize("text", ['resource "aws_s3_bucket" "b" {\n}\n', '# c\nmodule "m" {\n}\n',
                                  "data aws_caller_identity current {\n}\n"])
def test_blocks_written_but_none_parsed_is_a_parse_error(monkeypatch, text):
    from soc2lint.parsers import terraform

    monkeypatch.setattr(terraform, "_hcl_tree", lambda text: Tree("start", [Tree("body", [])]))
    with pytest.raises(ParseError) as raised:
        terraform.parse_file("main.tf", text)
    assert raised.value.line == text.count("\n", 0, text.index("{")) + 1


@pytest.mark.parametrize("text", ['/*\nresource "aws_s3_bucket" "b" {\n}\n*/\n', "# nothing yet\n",
                                  'terraform {\n  required_version = ">= 1.5"\n}\n'])
def test_a_file_without_resource_data_or_module_blocks_parses(text):
    from soc2lint.parsers.terraform import parse_file

    assert [b.kind for b in parse_file("main.tf", text).blocks] == (["terraform"] if "terraform" in text
                                                                     else [])


def _project() -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _normal(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@pytest.mark.parametrize(("text", "message"), [
    ('resource "aws_s3_bucket" {\n}\n', "a resource block takes 2 label(s), not 1"),
    ('module {\n}\n', "a module block takes 1 label(s), not 0"),
])
def test_a_block_without_its_labels_is_a_parse_error(text, message):
    from soc2lint.parsers.terraform import parse_file

    with pytest.raises(ParseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_file("main.tf", text)
