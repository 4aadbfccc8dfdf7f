"""The README's configuration example is a valid configuration that soc2lint accepts as is."""

from __future__ import annotations

import re

from conftest import ROOT
from helpers import run_cli, write


def _config_example() -> str:
    section = ROOT.joinpath("README.md").read_text().split("\n## Configuration\n", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_readme_configuration_example_is_accepted(tmp_path):
    write(tmp_path, {".soc2lint.yaml": _config_example(), "common.tfvars": "",
                     "envs/production.tfvars": "", "envs/staging.tfvars": "",
                     "policies/.keep": "", "main.tf": 'resource "aws_db_instance" "a" {\n}\n'})
    result = run_cli(["scan", ".", "-f", "json", "--today", "2026-11-26"], tmp_path)
    assert result.exit_code in (0, 1), result.output
    result = run_cli(["scan", ".", "--environment", "staging"], tmp_path)
    assert result.exit_code in (0, 1), result.output
    result = run_cli(["scan", ".", "--environment", "qa"], tmp_path)
    assert result.exit_code == 2 and "no environment 'qa'" in result.stderr
