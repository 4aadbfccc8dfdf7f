"""GitHub Actions jobs and steps whose `if:` is literally false never run and are not judged."""

from __future__ import annotations

import pytest

from soc2lint.parsers import github_actions
from soc2lint.parsers.yamlspans import load_documents

WORKFLOW = """\
name: CI
on: push
jobs:
  off:
    if: {condition}
    runs-on: ubuntu-latest
    steps:
      - uses: some-user/action@main
  on:
    runs-on: ubuntu-latest
    steps:
      - if: {condition}
        uses: some-user/action@main
      - uses: some-user/other@main
"""


def addresses(condition: str) -> list[str]:
    docs, _ = load_documents(WORKFLOW.format(condition=condition))
    return [e.address for e in github_actions.parse("ci.yml", docs)]


@pytest.mark.parametrize("condition", ["false", '"false"', "${{ false }}", "${{false}}",
                                       "' ${{ false }} '"])
def test_a_literal_false_leaves_the_job_or_step_out(condition):
    assert addresses(condition) == ["workflow", "jobs.on", "on.steps[1]"]


@pytest.mark.parametrize("condition", ["github.ref == 'refs/heads/main'", "${{ false && true }}",
                                       "\"'false'\"", "0", "true"])
def test_any_other_condition_is_judged(condition):
    assert addresses(condition) == ["workflow", "jobs.off", "off.steps[0]", "jobs.on",
                                    "on.steps[0]", "on.steps[1]"]
