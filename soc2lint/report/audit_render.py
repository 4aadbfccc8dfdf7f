"""The audit report as markdown (renders on GitHub), self-contained HTML, or JSON.

Every value a template prints is escaped unless a filter marks it as markup already: in HTML by
jinja's autoescape, in markdown as plain text (`markdown_cell`) or, through the `code` filter, as
a code span. Control characters are written as escapes in both.
"""

from __future__ import annotations

import functools
import json
import re

from .escape import markdown_cell, markdown_code, one_line


class Markdown(str):
    """Markdown that is already escaped: the markdown template prints it as it is."""


@functools.lru_cache(maxsize=2)
def _environment(fmt: str):
    import jinja2

    html = fmt == "html"
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("soc2lint.report", "templates"),
        autoescape=html, finalize=_finalize_html if html else _finalize_markdown,
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=False, lstrip_blocks=False)
    env.filters.update(code=code, code_inline=code_inline, anchor=anchor, author=author)
    return env


def _finalize_markdown(value: object) -> str:
    """What `{{ value }}` prints in markdown: escaped text, unless it is markdown already."""
    return value if isinstance(value, Markdown) else markdown_cell(value)


def _finalize_html(value: object) -> object:
    """What `{{ value }}` prints in HTML before autoescape: text on one line, controls escaped."""
    return one_line(value) if isinstance(value, str) and not hasattr(value, "__html__") else value


def code(value: object) -> Markdown:
    """A code span inside a markdown table."""
    return Markdown(markdown_code(value))


def code_inline(value: object) -> Markdown:
    """A code span outside a table, where `|` needs no escape."""
    return Markdown(markdown_code(value, table=False))


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
    kind = "markdown" if fmt == "markdown" else "html"
    template = _environment(kind).get_template(f"audit.{'md' if kind == 'markdown' else 'html'}.j2")
    text = template.render(report=data)
    if kind == "markdown":
        text = re.sub(r"\n{3,}", "\n\n", text)
    return text
