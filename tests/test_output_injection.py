"""Values from scanned files (file names, resource labels and `for_each` keys, Kubernetes names,
ignore justifications and owners, exemption changes) cannot forge workflow commands in a CI log,
send terminal escape sequences, or inject links, images, HTML or table cells into markdown."""

from __future__ import annotations

import html
import json
import os
import random
import re
import sys
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner
from helpers import commit, git, git_init, write

from soc2lint.cli import main

pytestmark = pytest.mark.skipif(sys.platform == "win32",
                                reason="newlines and ':' cannot appear in Windows file names")

RULES = "aws-rds-storage-encrypted,k8s-no-privileged"
LINK_BASE = "https://github.com/acme/infra/blob/abc"
NEWLINE_FILE = "x\n::error::y.tf"
BROKEN_FILE = "bad\n::warning::z.tf"
KEY_CSI = "k\n::error::forged\x1b[31mred"
KEY_OSC = "o\x1b]8;;https://evil\x07link"
LABEL_IMAGE = "t`i``ck![x](https://evil/p.png)"
LABEL_LINK = "x](https://evil.example) www.evil.example *em* <b>"
POD_NAME = "p\n::add-mask::x\x85::error::nel"
JUSTIFICATION = "accepted](https://evil) risk ![i](https://evil/t.png) `x` <img src=https://evil/h.png>"
OWNER = "[owner](https://evil)"

# every control character a terminal or log could act on (line feeds are checked separately)
CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # what click.style adds


def _db(label: str, extra: str = "") -> str:
    return (f'resource "aws_db_instance" "{label}" {{\n{extra}  engine            = "postgres"\n'
            '  storage_encrypted = false\n}\n')


def _hcl(text: str) -> str:
    """`text` as the body of an HCL string literal."""
    return "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)


def _yaml(text: str) -> str:
    """`text` as a YAML double-quoted scalar."""
    return '"' + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}"
                         for c in text) + '"'


POD = f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {_yaml(POD_NAME)}
spec:
  containers:
    - name: c
      image: nginx:1.27
      securityContext:
        privileged: true
"""


def _config(path: str, justification: str = JUSTIFICATION) -> str:
    """A configuration ignoring the rule on `path` with a hostile justification and owner."""
    return (f"ignores:\n  - rule: aws-rds-storage-encrypted\n    paths: [{path}]\n"
            f"    justification: {_yaml(justification)}\n    owner: {_yaml(OWNER)}\n"
            "    expires: 2099-06-30\n")


@pytest.fixture
def hostile(tmp_path):
    """A tree whose every name and text tries to escape its place in an output."""
    write(tmp_path, {
        NEWLINE_FILE: _db("plain"),
        BROKEN_FILE: 'resource "x" {\n',
        "keys.tf": _db("keyed", f'  for_each = toset(["{_hcl(KEY_CSI)}", "{_hcl(KEY_OSC)}"])\n'),
        "labels.tf": _db(LABEL_IMAGE) + _db(LABEL_LINK),
        "pod.yaml": POD,
        "ignored.tf": _db("accepted"),
        "inline.tf": f"# soc2lint:ignore aws-rds-storage-encrypted -- {JUSTIFICATION} \x1b[2J\n"
                     + _db("inline"),
        ".soc2lint.yaml": _config("ignored.tf"),
    })
    return tmp_path


@pytest.fixture
def git_repo(tmp_path):
    """A change that adds a configuration with hostile ignores and a hostile inline ignore."""
    write(tmp_path, {"db.tf": _db("base")})
    git_init(tmp_path)
    git(tmp_path, "checkout", "-q", "-b", "main")
    commit(tmp_path, "base")
    config = _config("db.tf", JUSTIFICATION + " ``` \u202e\x1b[2J\n::error::in-config")
    write(tmp_path, {".soc2lint.yaml": config,
                     NEWLINE_FILE: f"# soc2lint:ignore aws-rds-storage-encrypted -- {JUSTIFICATION} "
                                   "\x1b]8;;https://evil\x07\n" + _db("plain")})
    return tmp_path


def _run(cwd, *args: str) -> str:
    """stdout of `soc2lint ...` in `cwd`, as written (click strips nothing: color=True)."""
    old = os.getcwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False, color=True)
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1, 3), result.output
    return result.stdout


def _scan(cwd, *args: str) -> str:
    return _run(cwd, "scan", ".", "--rule", RULES, "--today", "2026-11-26", *args)


def _lines(text: str) -> list[str]:
    """Lines as a log or terminal may split them: at LF, and at every other line separator."""
    return [part for line in text.split("\n") for part in line.splitlines()]


def _assert_no_forged_commands(text: str, own: re.Pattern | None = None) -> None:
    for line in _lines(text):
        if line.startswith("::"):
            assert own and own.match(line), line


def _assert_no_controls(text: str) -> None:
    found = sorted({f"U+{ord(c):04X}" for c in CONTROLS.findall(text)})
    assert not found, found


# text output

def test_text_report_escapes_control_characters(hostile):
    text = _scan(hostile, "-f", "text", "--no-color")
    _assert_no_forged_commands(text)
    _assert_no_controls(text)
    lines = text.split("\n")
    assert "x\\n::error::y.tf" in lines  # the file's heading, shown as the name reads
    assert "k\\n::error::forged\\x1b[31mred" in text and "o\\x1b]8;;https://evil\\x07link" in text
    assert "Pod/p\\n::add-mask::x\\x85::error::nel" in text
    assert "bad\\n::warning::z.tf:1: invalid HCL syntax" in text


def test_text_report_keeps_its_own_colours(hostile):
    plain = _scan(hostile, "-f", "text", "--no-color")
    coloured = _scan(hostile, "-f", "text", "--color")
    assert SGR.search(coloured) and "\x1b" not in plain
    assert SGR.sub("", coloured) == plain  # every escape sequence is one soc2lint added


def test_text_report_of_exemption_changes(git_repo):
    text = _run(git_repo, "scan", ".", "--diff-base", "main", "--rule", RULES)
    assert "Changes that could exempt code since main" in text
    _assert_no_forged_commands(text)
    _assert_no_controls(text)
    assert "inline added  x\\n::error::y.tf:1" in text
    assert "\\x1b]8;;https://evil\\x07" in text and "\\u202e" in text


# GitHub workflow commands

ANNOTATION = re.compile(r"::(error|warning|notice) (file=[^:,]*)(,[a-zA-Z]+=[^:,]*)*::")


def test_annotations_are_the_only_workflow_commands(hostile):
    text = _scan(hostile, "-f", "github")
    _assert_no_forged_commands(text, own=ANNOTATION)
    _assert_no_controls(text)
    data = json.loads(_scan(hostile, "-f", "json"))
    annotated = (sum(r["status"] == "fail" for r in data["results"])
                 + sum(n["level"] == "error" for n in data["notifications"]))
    commands = [line for line in text.split("\n") if line.startswith("::")]
    assert len(commands) == annotated == 7  # one line each: 6 failures and the unreadable file
    assert any("file=x%0A%3A%3Aerror%3A%3Ay.tf," in line for line in commands)
    assert any("\\x1b]8;;https://evil\\x07link" in line for line in commands)
    assert any("Pod/p%0A::add-mask::x\\x85::error::nel" in line for line in commands)


def test_annotation_escaping_of_control_characters():
    from soc2lint.report.github import command, escape_data, escape_property

    assert escape_data("a\x1b[31mb\x07\u2028c\x85\r\n%") == "a\\x1b[31mb\\x07\\u2028c\\x85%0D%0A%25"
    assert escape_property("f\x1b]8;;u\x07:,") == "f\\x1b]8;;u\\x07%3A%2C"
    assert command("error", {"file": "a\x9bb"}, "\x00") == "::error file=a\\x9bb::\\x00"


# markdown: the job summary and the audit report, rendered as GitHub renders them

@pytest.fixture(scope="module")
def gfm():
    """GitHub's own markdown renderer (cmark-gfm with its extensions: tables, autolinks...)."""
    cmarkgfm = pytest.importorskip(
        "cmarkgfm", reason="cmarkgfm is not installed (test extra): the markdown checks render "
                           "with it, GitHub's own cmark-gfm")
    from cmarkgfm.cmark import Options

    # raw HTML is kept, so that HTML a value would inject shows up in the checks
    return lambda text: cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


class _Rendered(HTMLParser):
    """The tags, links, images and table rows of rendered markdown."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.rows: list[list[str]] = []  # per row: the markup of each cell
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append(tag)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "a" and "href" in attributes:
            self.hrefs.append(attributes["href"])
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif self._cell is not None:
            self._cell.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif self._cell is not None:
            self._cell.append(f"</{tag}>")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(html.escape(data, quote=False))


def _render(gfm, markdown: str) -> _Rendered:
    page = _Rendered()
    page.feed(gfm(markdown))
    page.close()
    return page


def _assert_table_rows_keep_their_columns(markdown: str, page: _Rendered) -> None:
    """Every rendered row has as many cells as the row of pipes written for it says."""
    written = [line for line in markdown.split("\n") if line.startswith("| ")]
    widths = [len(re.findall(r"(?<!\\)\|", line)) - 1 for line in written]
    assert [len(row) for row in page.rows] == widths


def _assert_nothing_injected(page: _Rendered, allowed_href) -> None:
    """No image or HTML a value could bring; links only where soc2lint puts them; in table cells,
    where every value goes, nothing but code spans and those links."""
    assert not {"img", "b", "del", "script", "iframe"} & set(page.tags), page.tags
    assert all(allowed_href(href) for href in page.hrefs), page.hrefs
    for row in page.rows:
        for cell in row:
            assert not re.search(r"<(?!/?(code|a)>|wbr>)", cell), cell  # <wbr> breaks e-mail links


def test_job_summary_renders_values_as_text(hostile, gfm):
    text = _scan(hostile, "-f", "summary", "--link-base", LINK_BASE)
    page = _render(gfm, text)
    _assert_nothing_injected(page, lambda href: href.startswith(LINK_BASE + "/"))
    _assert_table_rows_keep_their_columns(text, page)
    assert f"{LINK_BASE}/x%0A%3A%3Aerror%3A%3Ay.tf#L3" in page.hrefs
    cells = [cell for row in page.rows for cell in row]
    assert any(html.unescape(c).startswith(f"Database 'aws_db_instance.{LABEL_IMAGE}'") for c in cells)
    assert "<a>x\\n::error::y.tf:3</a>" in map(html.unescape, cells)  # a link's label
    problem = "<li><code>bad\\n::warning::z.tf</code> line 1: invalid HCL syntax</li>"
    assert problem in html.unescape(gfm(text))


def test_audit_report_renders_values_as_text(hostile, gfm):
    text = _run(hostile, "report", ".", "-f", "markdown", "--rule", RULES, "--today", "2026-11-26")
    page = _render(gfm, text)
    _assert_nothing_injected(page, lambda href: href.startswith("#") and href[1:] in page.ids)
    _assert_table_rows_keep_their_columns(text, page)
    cells = [html.unescape(cell) for row in page.rows for cell in row]
    assert f"<code>aws_db_instance.{LABEL_IMAGE}</code>" in cells
    assert f"<code>aws_db_instance.{LABEL_LINK}</code>" in cells
    assert '<code>aws_db_instance.keyed["o\\x1b]8;;https://evil\\x07link"]</code>' in cells
    assert "<code>x\\n::error::y.tf</code>" in cells
    assert OWNER in cells and cells.count(JUSTIFICATION) >= 2  # per test and in the exceptions
    assert f"{JUSTIFICATION} \\x1b[2J" in cells  # the inline ignore's
    _assert_no_controls(text)


def test_owner_of_an_ignore_is_escaped_in_the_audit_report(tmp_path, gfm):
    """The owner alone is hostile here: its cells show it as text, in every table it is in."""
    owner = "<b>ops</b> [x](https://evil) | *y*"
    write(tmp_path, {"db.tf": _db("kept"), ".soc2lint.yaml": _config("db.tf", "reviewed").replace(
        _yaml(OWNER), _yaml(owner))})
    text = _run(tmp_path, "report", ".", "-f", "markdown", "--rule", RULES)
    page = _render(gfm, text)
    _assert_nothing_injected(page, lambda href: href.startswith("#"))
    _assert_table_rows_keep_their_columns(text, page)
    tables = sum(1 for row in page.rows if "Owner" in row)
    assert tables >= 2 and [html.unescape(c) for row in page.rows for c in row].count(owner) == tables


def test_e_mail_and_xmpp_addresses_render_as_text(tmp_path, gfm):
    """GitHub links `a@b.c`, `mailto:` and `xmpp:` addresses whatever backslashes precede them."""
    owner = "security-team@evil-phish.com"
    justification = "see xmpp:bot@evil-phish.com or mailto:x@evil-phish.com"
    write(tmp_path, {"db.tf": _db("kept"), ".soc2lint.yaml": _config("db.tf", justification).replace(
        _yaml(OWNER), _yaml(owner))})
    report = _run(tmp_path, "report", ".", "-f", "markdown", "--rule", RULES)
    page = _render(gfm, report)
    _assert_nothing_injected(page, lambda href: href.startswith("#"))
    cells = [re.sub(r"<wbr>", "", html.unescape(c)) for row in page.rows for c in row]
    assert owner in cells and justification in cells


def test_job_summary_of_exemption_changes(git_repo, gfm):
    text = _run(git_repo, "scan", ".", "--diff-base", "main", "--rule", RULES, "-f", "summary",
                "--link-base", LINK_BASE)
    page = _render(gfm, text)
    _assert_nothing_injected(page, lambda href: href.startswith(LINK_BASE + "/"))
    _assert_table_rows_keep_their_columns(text, page)
    _assert_no_controls(text)
    rendered = html.unescape(gfm(text))
    diff = re.search(r'<pre lang="diff"><code>(.*?)</code></pre>', rendered, re.S)
    assert diff and "aws-rds-storage-encrypted" in diff[1] and "in-config" in diff[1]
    assert "```" in diff[1] and "</pre>" not in diff[1]  # the fence outlasts the backticks in it
    assert "\\u202e" in diff[1]
    row = next(r for r in page.rows if r and r[0] == "inline ignore added")
    assert html.unescape(row[2]) == (f"soc2lint:ignore aws-rds-storage-encrypted -- {JUSTIFICATION} "
                                     "\\x1b]8;;https://evil\\x07")


# HTML: jinja's autoescape, and no control characters

def test_html_report_escapes_every_value(hostile):
    text = _run(hostile, "report", ".", "-f", "html", "--rule", RULES)
    tags: list[tuple[str, dict]] = []

    class Page(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Page().feed(text)
    assert not {"img", "b"} & {tag for tag, _ in tags}
    assert all(attrs.get("href", "#").startswith("#") for _, attrs in tags)
    assert "&lt;b&gt;" in text and "&lt;img src=https://evil/h.png&gt;" in text
    assert "[owner](https://evil)" in text
    _assert_no_controls(text)


# the escaping functions themselves

@pytest.mark.parametrize(("raw", "shown"), [
    ("a\nb", "a\\nb"), ("\r\t", "\\r\\t"), ("\x1b[31m", "\\x1b[31m"),
    ("\x00\x7f\x85\x9b", "\\x00\\x7f\\x85\\x9b"),
    ("\u2028\u2029", "\\u2028\\u2029"), ("\u202eabc\u2066", "\\u202eabc\\u2066"),
    ("caf\u00e9 \u00a0\u4e2d", "caf\u00e9 \u00a0\u4e2d"), ("\udcff", "\\udcff"), ("C:\\x", "C:\\x"),
])
def test_printable(raw, shown):
    from soc2lint.report.escape import printable

    assert printable(raw) == shown


# no `@`: GitHub links an e-mail address whatever the escaping (to mailto: the address shown)
ALPHABET = [*"ab1 _*~`[]()!|#<>&\\:/.-+=$\n\t\x1b", "w", "www.", "https://", "x.com", "&amp;",
            "<b>", "![i](u)", "\u202e", "1.", "http://e.x"]


def test_markdown_escaping_renders_exactly_the_value(gfm):
    """Random values from markdown's special characters render as their own text in a table cell,
    a list item, a heading and a link label, and as themselves in code spans."""
    from soc2lint.report.escape import markdown_cell, markdown_code, one_line, printable

    rng = random.Random(20261126)
    for _ in range(3000):
        value = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
        text, code = one_line(value).strip(), printable(value)
        cell, span = markdown_cell(value), markdown_code(value)
        table = _render(gfm, f"| h | i |\n|---|---|\n| {cell} | {span} |\n")
        shown = [html.unescape(c) for c in table.rows[1]]
        assert shown == [text, f"<code>{code}</code>"], value
        rendered = gfm(f"- {cell}\n\n### {markdown_code(value, table=False)}: {cell}\n\n"
                       f"[{cell}](#own)\n")
        expected = (f"<ul> <li>{text}</li> </ul> <h3><code>{code}</code>: {text}</h3> "
                    f'<p><a href="#own">{text}</a></p>')
        assert _spaced(html.unescape(rendered)) == _spaced(expected), value


def _spaced(markup: str) -> str:
    """Markup with runs of whitespace as one space, and none next to a tag."""
    return re.sub(r" ?(</?[a-z][a-z0-9]*(?: [^<>]*)?>) ?", r"\1", re.sub(r"\s+", " ", markup)).strip()


def test_error_messages_on_stderr_escape_what_they_quote(tmp_path):
    """A baseline file named by the configuration, quoted by the message of exit code 2, cannot
    forge a command."""
    name = "b\n::error::forged\x1b[31m.json"
    write(tmp_path, {".soc2lint.yaml": f"baseline: {json.dumps(name)}\n", "a.tf": "\n", name: "{"})
    result = CliRunner().invoke(main, ["scan", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 2
    assert "b\\n::error::forged\\x1b[31m.json: not a soc2lint baseline file" in result.stderr
    assert not any(line.startswith("::") for line in result.stderr.splitlines())
    assert "\x1b" not in result.stderr
