"""The audit report as markdown (renders on GitHub), self-contained HTML, or JSON."""

from __future__ import annotations

import functools
import json
import re


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("soc2lint.report", "templates"),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=False, lstrip_blocks=False)
    env.filters.update(cell=markdown_cell, anchor=anchor, author=author)
    return env


def markdown_cell(value: object) -> str:
    """Text safe inside a GitHub markdown table cell."""
    text = " ".join(str(value).split())
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def anchor(criterion: str) -> str:
    """The id GitHub gives the heading `## <criterion>: ...`, and the HTML id we give it."""
    return re.sub(r"[^a-z0-9-]", "", criterion.lower())


def author(suppression: dict) -> str:
    if not suppression.get("author"):
        return "not committed" if suppression.get("kind") != "baseline" else ""
    return f"{suppression['author']}, {suppression['commit'][:12]} ({suppression['date']})"


def render_audit(fmt: str, data: dict) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    template = _environment().get_template("audit.md.j2" if fmt == "markdown" else "audit.html.j2")
    text = template.render(report=data)
    if fmt == "markdown":
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text
