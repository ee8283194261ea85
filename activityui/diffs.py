"""Word diffs of long texts: what was deleted and inserted, unchanged runs shortened."""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

LONG_TEXT = 60  # characters from which a text change is shown as a word diff
DIFF_CONTEXT_WORDS = 8  # unchanged words kept on each side of an edit in a long text diff


@dataclass(frozen=True)
class DiffPart:
    op: str  # "equal", "delete" or "insert"
    text: str


def word_diff(old: str, new: str) -> tuple[DiffPart, ...]:
    """Word-level diff of two texts: runs of equal, deleted and inserted words."""
    a, b = re.findall(r"\S+|\s+", old), re.findall(r"\S+|\s+", new)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    opcodes = matcher.get_opcodes()
    # A lone space kept between two edits ("quick brown" -> "slow red") would chop the diff
    # into word-by-word pairs; merge such edits into one deleted and one inserted run.
    removed: list[str] = []
    added: list[str] = []
    for index, (op, i1, i2, j1, j2) in enumerate(opcodes):
        if op == "equal":
            text = "".join(a[i1:i2])
            if text.isspace() and 0 < index < len(opcodes) - 1:
                removed.append(text)
                added.append(text)
                continue
            _flush_edit(parts, removed, added)
            parts.append(DiffPart("equal", text))
            continue
        removed.extend(a[i1:i2])
        added.extend(b[j1:j2])
    _flush_edit(parts, removed, added)
    return tuple(parts)


def _flush_edit(parts: list[DiffPart], removed: list[str], added: list[str]) -> None:
    old, new = "".join(removed), "".join(added)
    if old.strip():
        parts.append(DiffPart("delete", old))
    if new.strip():
        parts.append(DiffPart("insert", new))
    elif new and not old.strip():
        parts.append(DiffPart("equal", new))  # only whitespace changed: keep the spacing
    removed.clear()
    added.clear()


def condense_diff(
    parts: Sequence[DiffPart], *, context: int = DIFF_CONTEXT_WORDS
) -> tuple[DiffPart, ...]:
    """Shorten long unchanged runs of a word diff to ``context`` words around each edit."""
    if all(part.op == "equal" for part in parts):
        return tuple(parts)
    result = []
    last = len(parts) - 1
    for index, part in enumerate(parts):
        if part.op != "equal":
            result.append(part)
            continue
        tokens = re.findall(r"\S+\s*", part.text)
        keep_head = context if index > 0 else 0
        keep_tail = context if index < last else 0
        if len(tokens) <= keep_head + keep_tail + 2:
            result.append(part)
            continue
        lead = part.text[: len(part.text) - len(part.text.lstrip())]
        head = lead + "".join(tokens[:keep_head]) if keep_head else ""
        tail = "".join(tokens[len(tokens) - keep_tail :]) if keep_tail else ""
        result.append(DiffPart("equal", f"{head}… {tail}" if head else f"… {tail}"))
    return tuple(result)
