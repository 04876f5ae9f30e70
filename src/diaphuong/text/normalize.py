"""Unicode normalisation for Vietnamese.

* :func:`nfc` - plain NFC.
* :func:`normalize_vi` - NFC with one tone placement: the traditional one ("hòa", "thủy"), so that
  "Hoà Bình" and "Hòa Bình" compare equal. Offsets are preserved: every output string has the same
  length as its input (moving a tone mark inside a syllable never changes the NFC length), so a
  character span found in the normalised text is a span of the text as read.
* :func:`fold` - a matching key: no diacritics, đ -> d, lower case, punctuation and spacing collapsed.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONES = "\u0300\u0301\u0303\u0309\u0323"
# New-style placement puts the tone on the second vowel of an open "oa", "oe", "uy" syllable
# ("hoà", "thuỷ"); the traditional style puts it on the first ("hòa", "thủy"). "qu" + y is a
# consonant cluster plus vowel ("quý") and stays as it is; a closed syllable ("hoàng") has one
# accepted placement only.
_NEW_STYLE = re.compile(
    rf"(?<![qQ])([oO])([aAeE])([{_TONES}])(?![A-Za-z\u0300-\u036f])"
    rf"|(?<![qQ])([uU])([yY])([{_TONES}])(?![A-Za-z\u0300-\u036f])"
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _to_traditional(m: re.Match[str]) -> str:
    if m.group(1):
        return m.group(1) + m.group(3) + m.group(2)
    return m.group(4) + m.group(6) + m.group(5)


def normalize_vi(text: str) -> str:
    """NFC with the traditional tone placement; same length as ``nfc(text)``."""
    decomposed = unicodedata.normalize("NFD", text)
    if not any(t in decomposed for t in _TONES):
        return unicodedata.normalize("NFC", decomposed)
    return unicodedata.normalize("NFC", _NEW_STYLE.sub(_to_traditional, decomposed))


_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Matching key: strip diacritics, đ->d, lower-case, non-alphanumerics to single spaces."""
    decomposed = unicodedata.normalize("NFD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    stripped = stripped.replace("đ", "d").replace("Đ", "D").lower()
    return _NON_ALNUM.sub(" ", stripped).strip()
