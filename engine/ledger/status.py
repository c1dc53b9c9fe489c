"""The progress column's words (整改进展 / 完成情况) read as workflow states.

Offices write a status word, often followed by a note: "正在整改，已完成排查".
The word decides the state; the rest is kept as the progress note. A word
that is not in the vocabulary is an error naming it: guessing "未完成" or
"已完成80%" would put a task in the wrong state for good.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..domain.text import Bilingual

# The office vocabulary, and the state each word means.
WORDS: dict[str, str] = {
    "已完成": "closed",
    "已整改": "closed",
    "完成": "closed",
    "已销号": "closed",
    "已完成整改": "closed",
    "整改完成": "closed",
    "基本完成": "submitted",
    "正在整改": "in_progress",
    "整改中": "in_progress",
    "持续整改": "in_progress",
    "持续推进": "in_progress",
    "推进中": "in_progress",
    "未启动": "assigned",
    "未整改": "assigned",
    "completed": "closed",
    "done": "closed",
    "not started": "assigned",
}
_SEPARATORS = " \t\n：:，,。.;；、-—–(（/"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


@dataclass(frozen=True)
class StatusVocabulary:
    """The office words plus a workflow's own state keys and labels (what an export writes)."""

    words: dict[str, str]  # normalised word → state
    lengths: tuple[int, ...] = ()  # of the words, longest first

    def __post_init__(self) -> None:
        object.__setattr__(self, "lengths", tuple(sorted({len(w) for w in self.words}, reverse=True)))

    @classmethod
    def for_states(cls, states: Iterable[tuple[str, Bilingual]]) -> StatusVocabulary:
        keys = {key for key, _label in states}
        words = {_norm(w): s for w, s in WORDS.items() if s in keys}
        for key, lab in states:
            for word in (key, lab.zh, lab.en):
                words.setdefault(_norm(word), key)
        return cls(words)

    def read(self, text: str) -> tuple[str, str, str | None] | None:
        """(state, the word as written, the note after it) or None when no known word leads the cell."""
        norm = _norm(text)
        best = ""
        for n in self.lengths:  # the longest word that the cell starts with, followed by a separator
            if n <= len(norm) and norm[:n] in self.words and (n == len(norm) or norm[n] in _SEPARATORS):
                best = norm[:n]
                break
        if not best:
            return None
        raw = unicodedata.normalize("NFKC", text).strip()
        note = raw[len(best) :].lstrip(_SEPARATORS).strip()
        return self.words[best], raw[: len(best)], note or None

    def leading_word(self, text: str) -> str:
        """The first word of an unreadable status, to name it in the error."""
        head = re.split(r"[\s：:，,。;；、(（/]", text.strip(), maxsplit=1)[0]
        return head[:30] or text.strip()[:30]

    def describe(self) -> Bilingual:
        by_state: dict[str, list[str]] = {}
        for w, s in WORDS.items():
            if _norm(w) in self.words and not w.isascii():
                by_state.setdefault(s, []).append(w)
        listed = "; ".join(f"{'/'.join(ws)} → {s}" for s, ws in by_state.items())
        return Bilingual(listed + "；或状态本身的名称", listed + "; or a state's own name")
