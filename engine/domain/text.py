"""Bilingual text.

Users read Chinese or English, and the language is only known where the text
is shown (the CLI), so the domain carries both and the edge picks one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Bilingual:
    zh: str
    en: str

    def pick(self, lang: Lang) -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:  # English in logs and tracebacks
        return self.en


def pick(value: object, lang: Lang) -> str:
    """Render a message parameter: bilingual values choose, lists join, the rest is str()."""
    if isinstance(value, Bilingual):
        return value.pick(lang)
    if isinstance(value, (list, tuple)):
        sep = "、" if lang == "zh" else ", "
        return sep.join(pick(v, lang) for v in value) if value else ("（无）" if lang == "zh" else "(none)")
    return str(value)
