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
    "已完成，长期坚持": "closed",  # closed, its measures kept up (flag ongoing_measures)
    "已完成并长期坚持": "closed",
    "整改完毕": "closed",
    "已整改完毕": "closed",
    "已办结": "closed",
    "达到序时进度": "in_progress",
    "序时推进": "in_progress",
    "按序时推进": "in_progress",
    "未达到序时进度": "in_progress",  # behind schedule (flag behind)
    "滞后于序时进度": "in_progress",
    "正在推进": "in_progress",
    "进行中": "in_progress",
    "未启动": "assigned",
    "未整改": "assigned",
    "completed": "closed",
    "done": "closed",
    "not started": "assigned",
}
# What a word says besides the state: kept in the import event's data.
FLAGS: dict[str, dict[str, object]] = {
    "已完成，长期坚持": {"ongoing_measures": True},
    "已完成并长期坚持": {"ongoing_measures": True},
    "未达到序时进度": {"behind": True},
    "滞后于序时进度": {"behind": True},
}
# 已完成80% / 完成60%: part done, so in progress, with the percent kept.
_PERCENT = re.compile(r"^(?:已完成|完成|已完成整改|整改完成)\s*(\d{1,2}(?:\.\d+)?)\s*[%％]")
_SEPARATORS = " \t\n：:，,。.;；、-—–(（/"


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


@dataclass(frozen=True)
class StatusVocabulary:
    """The office words plus a workflow's own state keys and labels (what an export writes)."""

    words: dict[str, str]  # normalised word → state
    lengths: tuple[int, ...] = ()  # of the words, longest first
    own: tuple[str, ...] = ()  # the mapping file's words, named in the error's list

    def __post_init__(self) -> None:
        object.__setattr__(self, "lengths", tuple(sorted({len(w) for w in self.words}, reverse=True)))

    @classmethod
    def for_states(cls, states: Iterable[tuple[str, Bilingual]], own: dict[str, str] | None = None) -> StatusVocabulary:
        """``own``: the office's words from a mapping file (``status: {未完成: in_progress}``), checked before."""
        states = list(states)
        keys = {key for key, _label in states}
        words = {_norm(w): s for w, s in WORDS.items() if s in keys}
        for key, lab in states:
            for word in (key, lab.zh, lab.en):
                words.setdefault(_norm(word), key)
        for word, state in (own or {}).items():
            words[_norm(word)] = state
        return cls(words, own=tuple(own or ()))

    def flags(self, word: str) -> dict[str, object]:
        """What the word as written says besides the state: behind schedule, measures kept up."""
        return dict(FLAGS.get(unicodedata.normalize("NFKC", word).strip().replace(",", "，"), {}))

    def read_percent(self, text: str) -> tuple[str, str, str | None, float] | None:
        """已完成80%: (in_progress, the words as written, the note after them, the percent)."""
        if "in_progress" not in self.words.values():
            return None
        raw = unicodedata.normalize("NFKC", text).strip()
        m = _PERCENT.match(raw)
        if m is None:
            return None
        note = raw[m.end() :].lstrip(_SEPARATORS).strip()
        percent = float(m[1])
        return "in_progress", raw[: m.end()], note or None, int(percent) if percent.is_integer() else percent

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
        for w in self.own:
            by_state.setdefault(self.words[_norm(w)], []).append(w)
        listed = "; ".join(f"{'/'.join(ws)} → {s}" for s, ws in by_state.items())
        return Bilingual(listed + "；或状态本身的名称", listed + "; or a state's own name")
