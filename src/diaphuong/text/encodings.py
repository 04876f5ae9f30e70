"""Decode the bytes of Vietnamese text files, whatever the tool that wrote them.

Provincial offices still send files written with the legacy 8-bit Vietnamese font encodings:

* **TCVN3** ("ABC", fonts ``.VnTime``/``.VnArial``; TCVN 5712:1993 VN3). One byte per letter:
  lower-case letters with tones at 0xB5-0xFE, ``ă â ê ô ơ ư đ`` at 0xA8-0xAE and their capitals at
  0xA1-0xA7. Capitals *with tones* have no code of their own: ABC users switch to the capital font
  (``.VnTimeH``), which draws the lower-case codes as capitals. We therefore decode those codes as
  lower case and upper-case a whole word whose ASCII letters are all capitals ("TæNG" -> "TỔNG").
  The table is that of TCVN 5712:1993 (glibc's ``TCVN5712-1`` agrees on 0xA1-0xFF); 0x80-0x9F are
  read as Windows-1252 punctuation (smart quotes, dashes) as Word writes them.
* **VNI** (VNI-Windows, fonts ``VNI-Times``): a base letter followed by one byte carrying the
  diacritics and the tone ("caùc" = "các", "Vieät" = "Việt"); ``ơ ư đ`` and the ``i``/``ỵ`` forms are
  single bytes. Bytes are the Windows-1252 characters the font draws.
* **Windows-1258**: precomposed ``ă â ê ô ơ ư đ`` plus *combining* tone marks; decoded then NFC.

:func:`decode_bytes` tries BOMs, UTF-16 by its NUL pattern, strict UTF-8, then scores each 8-bit
candidate by how Vietnamese it reads (share of valid syllables, common words, stray symbols) and
keeps the best. :func:`fix_legacy_text` repairs text that reached us as Unicode but was typed in a
legacy font (a .docx in VNI-Times: "Toång thu"). :func:`encode_legacy` writes TCVN3/VNI bytes
(fixtures and round-trip tests).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from diaphuong.errors import UnreadableFile

__all__ = [
    "Decoded",
    "decode_bytes",
    "encode_legacy",
    "decode_legacy",
    "encode_cp1258",
    "fix_legacy_text",
    "vietnamese_score",
    "LEGACY_ENCODINGS",
]

LEGACY_ENCODINGS = ("tcvn3", "vni")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # 'utf-8', 'utf-8-sig', 'utf-16', 'cp1258', 'tcvn3', 'vni'


# --------------------------------------------------------------------------------------------
# TCVN3 (ABC). Bytes 0xA0..0xFF in order; one character per byte.
_TCVN3_HIGH = (
    "\u00a0ĂÂÊÔƠƯĐăâêôơưđẰ"             # A0-AF
    "\u0300\u0309\u0303\u0301\u0323"     # B0-B4 combining grave, hook, tilde, acute, dot below
    "àảãáạẲằẳẵắẴ"                        # B5-BF
    "ẮẦẨẪẤỀặầẩẫấậèỂẻẽ"                   # C0-CF
    "éẹềểễếệìỉỄẾỒĩíịò"                   # D0-DF
    "Ổỏõóọồổỗốộờởỡớợù"                   # E0-EF
    "ỖủũúụừửữứựỳỷỹýỵỐ"                   # F0-FF
)
assert len(_TCVN3_HIGH) == 96


def _cp1252_char(b: int) -> str:
    try:
        return bytes([b]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(b)


_TCVN3_DECODE = {b: (_cp1252_char(b) if b < 0xA0 else _TCVN3_HIGH[b - 0xA0]) for b in range(0x80, 0x100)}
_TCVN3_TRANS = str.maketrans({chr(b): c for b, c in _TCVN3_DECODE.items()})

# Encoding: lower-case letters and the seven base capitals have codes; a toned capital uses the
# lower-case code (what the .VnTimeH capital font does).
_TCVN3_ENCODE: dict[str, int] = {}
for _b in range(0xA1, 0x100):
    _c = _TCVN3_HIGH[_b - 0xA0]
    if _c.isalpha() and (_c.islower() or _b <= 0xA7):
        _TCVN3_ENCODE[_c] = _b
for _c, _b in list(_TCVN3_ENCODE.items()):
    if _c.islower() and _c.upper() not in _TCVN3_ENCODE:
        _TCVN3_ENCODE[_c.upper()] = _b
for _b in range(0x80, 0xA0):
    _c = _cp1252_char(_b)
    if _c != chr(_b):
        _TCVN3_ENCODE.setdefault(_c, _b)
_TCVN3_ENCODE["\u00a0"] = 0xA0

# --------------------------------------------------------------------------------------------
# VNI-Windows. Mark bytes (lower-case form, upper-case form) for each tone, per vowel row.
_TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # none, sắc, huyền, hỏi, ngã, nặng
_VNI_TONE_MARKS = (None, ("ù", "Ù"), ("ø", "Ø"), ("û", "Û"), ("õ", "Õ"), ("ï", "Ï"))
_VNI_CIRCUMFLEX = (("â", "Â"), ("á", "Á"), ("à", "À"), ("å", "Å"), ("ã", "Ã"), ("ä", "Ä"))
_VNI_BREVE = (("ê", "Ê"), ("é", "É"), ("è", "È"), ("ú", "Ú"), ("ü", "Ü"), ("ë", "Ë"))
# single-byte letters (lower, upper) -> lower-case letter
_VNI_SINGLES = {
    ("ô", "Ô"): "ơ", ("ö", "Ö"): "ư", ("ñ", "Ñ"): "đ",
    ("í", "Í"): "í", ("ì", "Ì"): "ì", ("æ", "Æ"): "ỉ", ("ó", "Ó"): "ĩ", ("ò", "Ò"): "ị",
    ("î", "Î"): "ỵ",
}


def _build_vni() -> tuple[dict[str, str], dict[str, str]]:
    dec: dict[str, str] = {}  # VNI character sequence -> Unicode character
    enc: dict[str, str] = {}  # Unicode character -> VNI sequence (case-matched)

    def add(seq_lower: str, seq_upper: str, uni_lower: str, *, primary: bool = True) -> None:
        uni_lower = unicodedata.normalize("NFC", uni_lower)
        uni_upper = uni_lower.upper()
        dec[seq_lower] = uni_lower
        dec[seq_upper] = uni_upper
        if primary:
            enc.setdefault(uni_lower, seq_lower)
            enc.setdefault(uni_upper, seq_upper)

    for (lo, up), uni in _VNI_SINGLES.items():
        add(lo, up, uni)
    # base + tone mark
    for base in ("a", "e", "o", "u", "y", "ơ", "ư"):
        for t in range(1, 6):
            if base == "y" and t == 5:
                continue  # ỵ is the single byte î
            lo_mark, up_mark = _VNI_TONE_MARKS[t]
            if base in ("ơ", "ư"):
                b_lo, b_up = ("ô", "Ô") if base == "ơ" else ("ö", "Ö")
            else:
                b_lo, b_up = base, base.upper()
            uni = unicodedata.normalize("NFC", base + _TONES[t])
            add(b_lo + lo_mark, b_up + up_mark, uni)
            # capital base with a lower-case mark byte (and vice versa) happens in the wild
            dec.setdefault(b_up + lo_mark, uni.upper())
            dec.setdefault(b_lo + up_mark, uni)
    for base, row, mod in (("a", _VNI_CIRCUMFLEX, "\u0302"), ("e", _VNI_CIRCUMFLEX, "\u0302"),
                           ("o", _VNI_CIRCUMFLEX, "\u0302"), ("a", _VNI_BREVE, "\u0306")):
        for t, (lo_mark, up_mark) in enumerate(row):
            uni = unicodedata.normalize("NFC", base + mod + _TONES[t])
            add(base + lo_mark, base.upper() + up_mark, uni)
            dec.setdefault(base.upper() + lo_mark, uni.upper())
            dec.setdefault(base + up_mark, uni)
    return dec, enc


_VNI_DECODE, _VNI_ENCODE = _build_vni()
_VNI_RE = re.compile("|".join(re.escape(k) for k in sorted(_VNI_DECODE, key=len, reverse=True)))


def _cp1252_text(data: bytes) -> str:
    """Bytes -> the characters a Windows-1252 font shows (undefined bytes kept as C1 controls)."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(_cp1252_char(b) if b >= 0x80 else chr(b) for b in data)


_LINE = re.compile(r"[^\n]+")


def _upper_capital_font_words(text: str) -> str:
    """TCVN3 capitals typed in the .VnTimeH font come out lower case ("TæNG" -> "tổng" letters).
    A line whose ASCII letters are all capitals (at least three) was typed in the capital font:
    upper-case it all ("TổNG KếT" -> "TỔNG KẾT"). A single title-case word ("Sở") is ambiguous and
    left alone."""

    def fix(m: re.Match[str]) -> str:
        line = m.group(0)
        letters = [c for c in line if c.isascii() and c.isalpha()]
        if len(letters) >= 3 and all(c.isupper() for c in letters) and not line.isupper():
            return line.upper()
        return line

    return _LINE.sub(fix, text)


def decode_legacy(data: bytes, encoding: str) -> str:
    """Decode TCVN3 or VNI bytes (no detection), NFC."""
    if encoding == "tcvn3":
        text = data.decode("latin-1").translate(_TCVN3_TRANS)
        text = unicodedata.normalize("NFC", text)
        return _upper_capital_font_words(text)
    if encoding == "vni":
        return _vni_to_unicode(_cp1252_text(data))
    raise ValueError(f"not a legacy encoding: {encoding!r} (use 'tcvn3' or 'vni')")


def _vni_to_unicode(text: str) -> str:
    return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: _VNI_DECODE[m.group(0)], text))


def encode_legacy(text: str, encoding: str) -> bytes:
    """Write ``text`` in TCVN3 or VNI bytes. Raises ``ValueError`` naming the first character
    that has no code. TCVN3 writes a toned capital with its lower-case code (as ABC does)."""
    text = unicodedata.normalize("NFC", text)
    out = bytearray()
    if encoding == "tcvn3":
        for i, c in enumerate(text):
            if c < "\x80":
                out.append(ord(c))
            elif c in _TCVN3_ENCODE:
                out.append(_TCVN3_ENCODE[c])
            else:
                raise ValueError(f"character {c!r} at {i} has no TCVN3 code")
        return bytes(out)
    if encoding == "vni":
        for i, c in enumerate(text):
            if c < "\x80":
                out.append(ord(c))
                continue
            seq = _VNI_ENCODE.get(c)
            if seq is None:
                seq = c if c in _CP1252_PUNCT else None
            if seq is None:
                raise ValueError(f"character {c!r} at {i} has no VNI code")
            out += seq.encode("cp1252")
        return bytes(out)
    raise ValueError(f"not a legacy encoding: {encoding!r} (use 'tcvn3' or 'vni')")


def encode_cp1258(text: str) -> bytes:
    """Write ``text`` in Windows-1258: a letter cp1258 lacks is written as its base letter plus a
    combining tone mark (as Windows does). Raises ``ValueError`` for characters with no code."""
    out = bytearray()
    for i, c in enumerate(unicodedata.normalize("NFC", text)):
        try:
            out += c.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        d = unicodedata.normalize("NFD", c)
        tones = "".join(ch for ch in d if ch in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(ch for ch in d if ch not in _TONE_MARKS))
        try:
            out += (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            raise ValueError(f"character {c!r} at {i} has no Windows-1258 code") from None
    return bytes(out)


_CP1252_PUNCT = set("\u201c\u201d\u2018\u2019\u2013\u2014\u2026\u2022\u00a0\u00b0")

# --------------------------------------------------------------------------------------------
# How Vietnamese does a text look?
_ONSETS = "ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_CLOSABLE = "uyê|iê|yê|oa|oă|oe|oo|uâ|uê|uô|uy|ươ|a|ă|â|e|ê|i|o|ô|ơ|u|ư|y"
_OPEN_ONLY = ("iêu|yêu|oai|oao|oay|oeo|uây|uôi|ươi|ươu|uya|uyu|ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|"
              "ôi|ơi|ua|ui|uơ|ưa|ưi|ưu")
_SYLLABLE = re.compile(
    rf"^(?:{_ONSETS})?(?:(?:{_CLOSABLE})(?:ch|ng|nh|c|m|n|p|t)?|(?:{_OPEN_ONLY}))$"
)
_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWEL_BASES = frozenset("aeiouy")
_COMMON = frozenset(
    "của và năm tỉnh tăng với các được đồng người tháng trong đạt so kỳ giảm tỷ triệu những có là "
    "cho thu chi đầu tư nghiệp kinh tế xã hội cùng ước tính tổng sản phẩm doanh số".split()
)
_WORD = re.compile(r"[^\W\d_]+")
_ODD_OK = frozenset("“”‘’–—…•°±×÷§€\u00a0«»·")


@lru_cache(maxsize=65536)
def _is_syllable(word: str) -> bool:
    d = unicodedata.normalize("NFD", word.lower())
    out = []
    tones = 0
    prev_base = ""
    for ch in d:
        if ch in _TONE_MARKS:
            tones += 1
            if prev_base not in _VOWEL_BASES:
                return False
            continue
        if not unicodedata.combining(ch):
            prev_base = ch
        out.append(ch)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(out))
    return bool(_SYLLABLE.match(base))


def vietnamese_score(text: str) -> float:
    """Roughly the share of words that are valid Vietnamese syllables, with a bonus for common
    words and a penalty for stray symbols and control characters. About 0.9 for clean Vietnamese,
    below 0.5 for text decoded with the wrong table."""
    words = _WORD.findall(text)
    if not words:
        return 0.0
    valid = common = 0
    for w in words:
        if _is_syllable(w):
            valid += 1
            if w.lower() in _COMMON:
                common += 1
    odd = bad = 0
    nonspace = 0
    for ch in text:
        if ch.isspace():
            continue
        nonspace += 1
        o = ord(ch)
        if o < 0x20 or 0x7F <= o < 0xA0 or ch == "\ufffd":
            bad += 1
        elif o >= 0x80 and not ch.isalpha() and ch not in _ODD_OK and not unicodedata.combining(ch):
            odd += 1
    nonspace = max(nonspace, 1)
    return valid / len(words) + 0.5 * common / len(words) - 2.0 * odd / nonspace - 5.0 * bad / nonspace


def _garbage(text: str) -> bool:
    """Binary data read as text: control characters, replacement characters, few letters."""
    if not text:
        return False
    sample = text[:20000]
    bad = letters = nonspace = 0
    for ch in sample:
        if ch in "\t\n\r\f\v":
            continue
        o = ord(ch)
        if o < 0x20 or 0x7F <= o < 0xA0 or ch == "\ufffd" or 0xE000 <= o < 0xF900:
            bad += 1
        if ch.isspace():
            continue
        nonspace += 1
        if ch.isalpha():
            letters += 1
    if bad / len(sample) > 0.02:
        return True
    return nonspace > 20 and letters / nonspace < 0.3


def _latin_share(text: str) -> float:
    sample = text[:5000]
    if not sample:
        return 1.0
    ok = sum(1 for ch in sample if ord(ch) < 0x250 or 0x1E00 <= ord(ch) < 0x1F00 or
             0x2000 <= ord(ch) < 0x2070 or ch.isspace())
    return ok / len(sample)


def _utf16_without_bom(data: bytes) -> str | None:
    """Excel's 'Unicode text' and similar: UTF-16 without BOM, recognised by its NUL bytes."""
    n = min(len(data), 4096) & ~1
    if n < 4:
        return None
    head = data[:n]
    even_nul = head[0::2].count(0) / (n // 2)
    odd_nul = head[1::2].count(0) / (n // 2)
    for enc, ok in (("utf-16-le", odd_nul > 0.25 and even_nul < 0.05),
                    ("utf-16-be", even_nul > 0.25 and odd_nul < 0.05)):
        if ok:
            try:
                text = data[: len(data) & ~1].decode(enc)
            except UnicodeDecodeError:
                return None
            if _latin_share(text) >= 0.8:
                return text
    return None


_SAMPLE_BYTES = 200_000


def decode_bytes(data: bytes, *, name: str | None = None) -> Decoded:
    """Decode a text file's bytes; the result is NFC. Raise :class:`UnreadableFile` (with
    ``file=name``) when no decoding yields text (binary data)."""
    enc: str | None = None
    text: str | None = None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            text, enc = data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            text = None
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text, enc = data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            text = None
    if text is None:
        t16 = _utf16_without_bom(data) if b"\x00" in data[:4096] else None
        if t16 is not None:
            text, enc = t16, "utf-16"
    if text is None:
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = None
    if text is None:
        text, enc = _best_8bit(data)
    text = unicodedata.normalize("NFC", text)
    if _garbage(text):
        raise UnreadableFile(
            "not a text file (binary data, or an encoding that cannot be recognised)",
            file=name, reason="binary",
            hint="save the report as UTF-8 text, .docx or .pdf",
        )
    return Decoded(text, enc)


def _decode_cp1258(data: bytes) -> str:
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


_CANDIDATES = (
    ("cp1258", _decode_cp1258),
    ("tcvn3", lambda d: decode_legacy(d, "tcvn3")),
    ("vni", lambda d: decode_legacy(d, "vni")),
)


def _best_8bit(data: bytes) -> tuple[str, str]:
    sample = data[:_SAMPLE_BYTES]
    best_name, best_score = "cp1258", float("-inf")
    for name, dec in _CANDIDATES:
        score = vietnamese_score(dec(sample))
        if score > best_score + 1e-9:
            best_name, best_score = name, score
    return dict(_CANDIDATES)[best_name](data), best_name


# Characters that only show up in text typed in a legacy font (Latin-1/cp1252 letters and
# symbols that Vietnamese does not use).
_LEGACY_HINT = re.compile(r"[\u00a1-\u00bf\u00c4-\u00c7\u00cb\u00ce\u00cf\u00d1\u00d6\u00d8\u00db"
                          r"\u00dc\u00e4-\u00e7\u00eb\u00ee\u00ef\u00f1\u00f6\u00f8\u00fb\u00fc]")


def fix_legacy_text(text: str) -> tuple[str, str | None]:
    """Text that is Unicode but was typed in a TCVN3 or VNI font (each byte shown as its Latin-1
    character: "Toång thu", "Tæng thu") -> ``(converted text, 'vni' | 'tcvn3')``; otherwise
    ``(text, None)``. Conservative: converts only when the result reads clearly better."""
    if not text or not _LEGACY_HINT.search(text):
        return text, None
    try:
        raw = text.encode("cp1252")
    except UnicodeEncodeError:
        return text, None
    base = vietnamese_score(text)
    best: tuple[float, str, str] | None = None
    for enc in LEGACY_ENCODINGS:
        cand = decode_legacy(raw, enc)
        s = vietnamese_score(cand)
        if best is None or s > best[0]:
            best = (s, enc, cand)
    assert best is not None
    if best[0] >= base + 0.15 and best[0] >= 0.5:
        return best[2], best[1]
    return text, None
