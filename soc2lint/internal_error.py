"""An unexpected exception on one file, told as an error notification so the scan goes on.

The description names the exception's type and a short, printable message; quoted text (which
may be a value read from the file) and credential shapes are left out.
"""

from __future__ import annotations

import re

from .model import Notification

MAX_MESSAGE = 120
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def internal_error(path: str, exc: BaseException, doing: str = "reading this file",
                   line: int | None = None) -> Notification:
    """The error notification for `exc`, raised while `doing` something with the file `path`."""
    return Notification(path, f"internal error while {doing}: {describe(exc)}", "error", line)


def describe(exc: BaseException) -> str:
    """`KeyError: '…'`: the exception's type and a short message without values."""
    from .report.escape import one_line
    from .secrets import shape_of

    words = (str(exc).splitlines() or [""])[0]
    words = one_line(_QUOTED.sub(lambda m: m[0][0] + "…" + m[0][0], words))
    if shape_of(words) is not None:
        words = "(message withheld: it holds what looks like a credential)"
    if len(words) > MAX_MESSAGE:
        words = words[:MAX_MESSAGE - 1] + "…"
    name = type(exc).__name__
    return f"{name}: {words}" if words else name
