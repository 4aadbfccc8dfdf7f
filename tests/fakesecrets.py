"""Secret-shaped test values, assembled at run time so no whole credential is committed."""

from __future__ import annotations

import shutil
from pathlib import Path

_PEM = "-----" + "BEGIN RSA " + "PRIVATE KEY" + "-----"

FAKE_VALUES = {
    "__FAKE_AWS_ACCESS_KEY_ID__": "AK" + "IA" + "Q3EGRZ7T5" + "EXAMPLE",
    "__FAKE_AWS_SECRET_KEY__": "wJalrXUtnFEMI" + "/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "__FAKE_GITHUB_TOKEN__": "gh" + "p_" + "x" * 16 + "0123456789abcdefghij",
    "__FAKE_PRIVATE_KEY__": _PEM + "\\nMIIEowIBAAKCAQEA\\n",
}


def substitute(text: str) -> str:
    for placeholder, value in FAKE_VALUES.items():
        text = text.replace(placeholder, value)
    return text


def materialise(source: Path, destination: Path) -> Path:
    """Copy a fixture file or directory with the placeholders replaced; returns the copy."""
    if source.is_dir():
        shutil.copytree(source, destination)
        files = [p for p in destination.rglob("*") if p.is_file()]
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
        files = [destination]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        new = substitute(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
    return destination
