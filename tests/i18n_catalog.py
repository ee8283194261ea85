"""Read .po catalogs and find the translatable strings of activityui, in pure Python.

The test suite uses these instead of GNU gettext, which sites (and CI) need not have.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "activityui"
TEMPLATES = PACKAGE / "templates" / "activityui"
FRENCH_PO = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"
FRENCH_MO = FRENCH_PO.with_suffix(".mo")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """The entries of a .po file (blocks separated by blank lines; obsolete ``#~`` skipped)."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry = Entry()
        current: tuple[str, int] | None = None
        for raw in block.splitlines():
            line = raw.strip()
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
                continue
            if not line or line.startswith("#"):
                continue
            match = _LINE.match(line)
            if match:
                current = (match.group(1).split("[")[0], int(match.group(2) or 0))
                text = ast.literal_eval(match.group(3))
            elif line.startswith('"') and current is not None:
                text = ast.literal_eval(line)
            else:
                raise ValueError(f"{path}: cannot read line {raw!r}")
            keyword, index = current
            if keyword == "msgid":
                entry.msgid += text
            elif keyword == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + text
            elif keyword == "msgctxt":
                entry.msgctxt = (entry.msgctxt or "") + text
            else:
                entry.msgstr[index] = entry.msgstr.get(index, "") + text
        if current is not None:
            entries.append(entry)
    return entries


# --------------------------------------------------------------------------- extraction

_STR = r"u?'(?:[^'\\]|\\.)*'"
_TEMPLATE_CALL = re.compile(
    rf"\b(gettext|pgettext|ngettext|npgettext)\(\s*((?:{_STR})(?:\s*,\s*{_STR})*)", re.S
)
# keyword -> (index of the context argument or None, index of the message argument)
PY_KEYWORDS = {
    "_": (None, 0),
    "gettext": (None, 0),
    "gettext_lazy": (None, 0),
    "gettext_noop": (None, 0),
    "ngettext": (None, 0),
    "ngettext_lazy": (None, 0),
    "pgettext": (0, 1),
    "pgettext_lazy": (0, 1),
    "npgettext": (0, 1),
    "npgettext_lazy": (0, 1),
}


def template_messages(path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every string a template marks for translation."""
    found: set[tuple[str | None, str]] = set()
    for match in _TEMPLATE_CALL.finditer(templatize(path.read_text(encoding="utf-8"))):
        args = ast.literal_eval("(" + match.group(2).replace("\n", "\\n") + ",)")
        if match.group(1).startswith("p") or match.group(1).startswith("np"):
            found.add((args[0], args[1]))
        else:
            found.add((None, args[0]))
    return found


def python_messages(path: Path) -> set[tuple[str | None, str]]:
    """(context, msgid) of every literal passed to a gettext function in a Python file."""
    found: set[tuple[str | None, str]] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else None
        )
        if name not in PY_KEYWORDS:
            continue
        context_index, message_index = PY_KEYWORDS[name]
        args = node.args
        if len(args) <= message_index:
            continue
        message = args[message_index]
        if not (isinstance(message, ast.Constant) and isinstance(message.value, str)):
            continue
        context = None
        if context_index is not None:
            ctx = args[context_index]
            if not (isinstance(ctx, ast.Constant) and isinstance(ctx.value, str)):
                continue
            context = ctx.value
        found.add((context, message.value))
    return found


def source_messages() -> dict[tuple[str | None, str], list[str]]:
    """Every translatable string of the app, with the files it comes from."""
    where: dict[tuple[str | None, str], list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for key in python_messages(path):
            where.setdefault(key, []).append(str(path.relative_to(ROOT)))
    for path in sorted(TEMPLATES.rglob("*.html")):
        for key in template_messages(path):
            where.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return where
