"""Mutations of a case's target file: byte and line edits, splices, dangerous snippets."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from .case import Case
from .snippets import for_language

INTERESTING = [b"{", b"}", b"[", b"]", b'"', b"'", b"$", b"${", b"%{", b"${{", b"}}", b"\n", b"\t",
               b"\0", b":", b": ", b"- ", b"=", b"*", b"&", b"!", b"#", b"\\", b"<<", b"\xff",
               b"\xef\xbb\xbf", "\u2028".encode(), "\u202e".encode(), b"\r", b"---\n", b"null",
               b"-1", b"0", b"1e999", b"9" * 400, b"~", b"|", b">", b"?", b"@", b","]
VALUE_LINE = {
    "yaml": re.compile(rb"^(\s*(?:- )?[^\s:#][^:#]*: ?)(.*)$"),
    "workflow": re.compile(rb"^(\s*(?:- )?[^\s:#][^:#]*: ?)(.*)$"),
    "hcl": re.compile(rb"^(\s*[\w\-\"]+\s*=\s*)(.*)$"),
    "tfvars": re.compile(rb"^(\s*[\w\-\"]+\s*=\s*)(.*)$"),
    "json": re.compile(rb'^(\s*"[^"]*"\s*:\s*)(.*?)(,?)$'),
}


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def flip_byte(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    data = bytearray(case.data or b"\0")
    i = rng.randrange(len(data))
    data[i] = data[i] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else rng.randrange(256)
    return bytes(data)


def insert_token(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    i = rng.randint(0, len(case.data))
    return case.data[:i] + rng.choice(INTERESTING) + case.data[i:]


def delete_bytes(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    if not case.data:
        return case.data
    i = rng.randrange(len(case.data))
    return case.data[:i] + case.data[i + rng.randint(1, 16):]


def duplicate_line(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    lines = _lines(case.data)
    i = rng.randrange(len(lines))
    lines[i:i] = [lines[i]] * rng.choice((1, 1, 2, 50))
    return b"\n".join(lines)


def delete_line(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    lines = _lines(case.data)
    i = rng.randrange(len(lines))
    del lines[i:i + rng.choice((1, 1, 2, 5))]
    return b"\n".join(lines)


def swap_lines(rng: random.Random, case: Case, _: Sequence[Case]) -> bytes:
    lines = _lines(case.data)
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def splice(rng: random.Random, case: Case, seeds: Sequence[Case]) -> bytes:
    """Lines of another seed, preferably of the same language, put in at a random line."""
    same = [s for s in seeds if s.language == case.language] or list(seeds)
    other = _lines(rng.choice(same).data)
    start = rng.randrange(len(other))
    piece = other[start:start + rng.randint(1, 12)]
    lines = _lines(case.data)
    i = rng.randint(0, len(lines))
    if rng.random() < 0.5:
        lines[i:i] = piece
    else:
        lines[i:] = piece
    return b"\n".join(lines)


def insert_snippet(rng: random.Random, case: Case,
                   exclude: frozenset[str] = frozenset()) -> tuple[bytes, str]:
    """The target with a dangerous snippet put in, and the snippet's name; snippets named in
    `exclude` are left out."""
    choices = for_language(case.language, exclude)
    if not choices:
        return case.data, "none"
    chosen = rng.choice(choices)
    text = chosen.text.encode("utf-8")
    lines = _lines(case.data)
    if chosen.form == "value":
        pattern = VALUE_LINE[case.language]
        spots = [i for i, line in enumerate(lines) if pattern.match(line)]
        if spots:
            i = rng.choice(spots)
            match = pattern.match(lines[i])
            tail = match.group(3) if match.lastindex == 3 else b""
            lines[i] = match.group(1) + text + tail
            return b"\n".join(lines), chosen.name
        text = b"x = " + text if case.language in ("hcl", "tfvars") else b"x: " + text
    i = rng.randint(0, len(lines))
    indent = re.match(rb"\s*", lines[i] if i < len(lines) else b"").group(0)
    lines[i:i] = [indent + line for line in text.split(b"\n")]
    return b"\n".join(lines), chosen.name


BASIC = [flip_byte, insert_token, delete_bytes, duplicate_line, delete_line, swap_lines, splice]


def mutate(rng: random.Random, case: Case, seeds: Sequence[Case],
           exclude: frozenset[str] = frozenset()) -> Case:
    """One to four stacked mutations of the target file; half of them put in a snippet."""
    for _ in range(rng.choice((1, 1, 2, 3, 4))):
        if rng.random() < 0.5:
            data, name = insert_snippet(rng, case, exclude)
            case = case.with_data(data, f"snippet {name}")
        else:
            operator = rng.choice(BASIC)
            case = case.with_data(operator(rng, case, seeds), operator.__name__)
    return case
