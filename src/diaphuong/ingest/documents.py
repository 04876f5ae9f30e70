"""Narrative report files -> one normalised text with located blocks.

:func:`read_document` reads ``.txt`` (any encoding :func:`~diaphuong.text.encodings.decode_bytes`
recognises), ``.docx`` (paragraphs and tables in body order; a table row is one block, its cells
joined with ``" | "``), ``.pdf`` (the text layer, one block per page) and ``.html``/``.htm``
(scripts and styles dropped, block elements become paragraph breaks, entities decoded).

``Document.text`` is normalised with :func:`~diaphuong.text.normalize.normalize_vi` (NFC, one tone
placement) block by block, so every span found in it is an offset into it, and each block's
``start:end`` slice is that block's text. Blocks are separated by ``"\\n"``. Text typed in a legacy
TCVN3/VNI font inside a Unicode file (a .docx in VNI-Times) is converted and reported in
``warnings`` and ``legacy_font``.

Every failure is an :class:`~diaphuong.errors.UnreadableFile` naming the file, with ``reason``:
``missing``, ``empty``, ``too_large`` (over 50 MB), ``unsupported_format``, ``corrupt``,
``encrypted``, ``scanned_pdf``, ``binary``.
"""
from __future__ import annotations

import bisect
import io
import re
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from diaphuong.errors import UnreadableFile
from diaphuong.text.encodings import decode_bytes, fix_legacy_text
from diaphuong.text.normalize import normalize_vi

__all__ = ["Block", "Document", "read_document", "MAX_BYTES", "DOCUMENT_FORMATS"]

MAX_BYTES = 50 * 1024 * 1024
DOCUMENT_FORMATS = {".txt": "txt", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class Block:
    kind: str  # 'paragraph' | 'table_row' | 'heading'
    start: int
    end: int
    locator: str  # 'paragraph 12', 'table 2 row 3', 'page 4', 'line 7'


@dataclass
class Document:
    path: Path
    format: str  # 'txt' | 'docx' | 'pdf' | 'html'
    text: str
    encoding: str | None  # byte encoding of txt/html files; None for docx/pdf
    blocks: list[Block]
    warnings: list[str]
    legacy_font: str | None = None  # 'vni' | 'tcvn3' when legacy-font text was converted
    _starts: list[int] = field(default_factory=list, repr=False, compare=False)

    def block_at(self, offset: int) -> Block | None:
        """The block containing character ``offset`` of ``text`` (None between blocks)."""
        if len(self._starts) != len(self.blocks):
            self._starts = [b.start for b in self.blocks]
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self.blocks[i].start <= offset < self.blocks[i].end:
            return self.blocks[i]
        return None

    def locate(self, start: int, end: int) -> str:
        """A human locator for a span: ``'table 2 row 3, chars 120-188'``."""
        b = self.block_at(start)
        where = f"chars {start}-{end}"
        return f"{b.locator}, {where}" if b else where


class _Builder:
    """Accumulates blocks into one text; normalises each block and converts legacy-font text."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.blocks: list[Block] = []
        self.pos = 0
        self.legacy: dict[str, int] = {}

    def add(self, text: str, kind: str, locator: str, *, fix_legacy: bool = True) -> None:
        text = text.strip()
        if not text:
            return
        if fix_legacy:
            text, enc = fix_legacy_text(text)
            if enc:
                self.legacy[enc] = self.legacy.get(enc, 0) + 1
        text = normalize_vi(text)
        if self.parts:
            self.parts.append("\n")
            self.pos += 1
        self.parts.append(text)
        self.blocks.append(Block(kind, self.pos, self.pos + len(text), locator))
        self.pos += len(text)

    def finish(self, path: Path, fmt: str, encoding: str | None, warnings: list[str]) -> Document:
        legacy = None
        if self.legacy:
            legacy = max(self.legacy, key=self.legacy.get)
            n = sum(self.legacy.values())
            warnings.append(
                f"{n} block(s) typed in a legacy {legacy.upper()} font were converted to Unicode"
            )
        return Document(path, fmt, "".join(self.parts), encoding, self.blocks, warnings, legacy)


def _fail(path: Path, message: str, reason: str, hint: str | None = None) -> UnreadableFile:
    return UnreadableFile(message, file=str(path), reason=reason, hint=hint)


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "zip"
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None


def read_document(path: Path) -> Document:
    """Read a report file (``.txt``, ``.docx``, ``.pdf``, ``.html``/``.htm``) into a Document."""
    path = Path(path)
    fmt = DOCUMENT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _fail(path, f"unsupported report format {path.suffix or '(none)'!r}",
                    "unsupported_format", "send reports as .docx, .pdf, .txt or .html")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise _fail(path, "file not found", "missing") from None
    if size > MAX_BYTES:
        raise _fail(path, f"file is {size / 2**20:.0f} MB, over the {MAX_BYTES // 2**20} MB limit",
                    "too_large", "split the report or send the text without images")
    if size == 0:
        raise _fail(path, "file is empty", "empty")
    data = path.read_bytes()
    warnings: list[str] = []
    sniffed = _sniff(data)
    if sniffed == "ole":
        raise _fail(path, "an old binary Word/Excel file (.doc/.xls), not " + fmt, "unsupported_format",
                    "open it in Word and save as .docx")
    if sniffed == "pdf" and fmt != "pdf":
        warnings.append(f"file named .{path.suffix.lstrip('.')} is a PDF; read as PDF")
        fmt = "pdf"
    elif sniffed == "zip" and fmt != "docx":
        warnings.append(f"file named .{path.suffix.lstrip('.')} is a zip package; read as .docx")
        fmt = "docx"
    elif fmt in ("docx", "pdf") and sniffed != ("zip" if fmt == "docx" else "pdf"):
        raise _fail(path, f"not a valid .{fmt} file (damaged, or another format renamed)", "corrupt",
                    "open the file and save it again, or send it as .docx/.pdf")

    reader = {"txt": _read_txt, "docx": _read_docx, "pdf": _read_pdf, "html": _read_html}[fmt]
    doc = reader(path, data, warnings)
    if not doc.text.strip():
        raise _fail(path, "no text in the document", "empty")
    return doc


# ---------------------------------------------------------------------------------------- txt
def _read_txt(path: Path, data: bytes, warnings: list[str]) -> Document:
    dec = decode_bytes(data, name=str(path))
    text = dec.text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    b = _Builder()
    # bytes already decoded from a legacy table need no second look for legacy-font text
    fix = dec.encoding.startswith("utf")
    for i, line in enumerate(text.split("\n"), start=1):
        b.add(line, "paragraph", f"line {i}", fix_legacy=fix)
    return b.finish(path, "txt", dec.encoding, warnings)


# --------------------------------------------------------------------------------------- docx
_HEADING_STYLE = re.compile(r"^(heading|title|tiêu đề|đầu đề)", re.IGNORECASE)


def _one_line(text: str) -> str:
    return re.sub(r"[\n\r\x0b\t]+", " ", text)


def _read_docx(path: Path, data: bytes, warnings: list[str]) -> Document:
    try:
        import docx  # python-docx
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise _fail(path, "python-docx is not installed", "unsupported_format") from e
    try:
        d = docx.Document(io.BytesIO(data))
        items = list(d.iter_inner_content())
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise _fail(path, f"damaged .docx ({type(e).__name__}: {e})", "corrupt",
                    "open it in Word and save it again") from e
    except Exception as e:  # noqa: BLE001 - lxml and python-docx raise many types on bad input
        raise _fail(path, f"damaged .docx ({type(e).__name__}: {e})", "corrupt",
                    "open it in Word and save it again") from e
    b = _Builder()
    n_par = n_tab = 0
    for item in items:
        if isinstance(item, Paragraph):
            n_par += 1
            style = ""
            try:
                style = item.style.name if item.style is not None else ""
            except (KeyError, ValueError):  # a style id missing from styles.xml
                style = ""
            kind = "heading" if style and _HEADING_STYLE.match(style) else "paragraph"
            b.add(_one_line(item.text), kind, f"paragraph {n_par}")
        elif isinstance(item, Table):
            n_tab += 1
            for r, row in enumerate(item.rows, start=1):
                cells = []
                seen: set[int] = set()
                for cell in row.cells:  # a merged cell appears once per grid column it spans
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    cells.append(_one_line(cell.text).strip())
                if any(cells):
                    b.add(" | ".join(cells), "table_row", f"table {n_tab} row {r}")
    return b.finish(path, "docx", None, warnings)


# ---------------------------------------------------------------------------------------- pdf
def _read_pdf(path: Path, data: bytes, warnings: list[str]) -> Document:
    import logging

    try:
        from pypdf import PdfReader
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise _fail(path, "pypdf is not installed", "unsupported_format") from e
    pypdf_log = logging.getLogger("pypdf")
    old_level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # pypdf logs every recoverable oddity as a warning
    try:
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    ok = reader.decrypt("")
                except Exception:  # noqa: BLE001 - missing crypto backend or unknown scheme
                    ok = 0
                if not ok:
                    raise _fail(path, "the PDF is password-protected", "encrypted",
                                "ask the province for an unprotected copy")
                warnings.append("PDF is encrypted with an empty password; read anyway")
            pages = list(reader.pages)
        except UnreadableFile:
            raise
        except Exception as e:  # noqa: BLE001 - pypdf raises many types on damaged files
            raise _fail(path, f"damaged PDF ({type(e).__name__}: {e})", "corrupt",
                        "open the file and export it to PDF again") from e
        if not pages:
            raise _fail(path, "the PDF has no pages", "empty")
        b = _Builder()
        empty_pages = []
        for i, page in enumerate(pages, start=1):
            try:
                text = page.extract_text() or ""
            except Exception as e:  # noqa: BLE001
                warnings.append(f"page {i}: text could not be extracted ({type(e).__name__})")
                text = ""
            if not text.strip():
                empty_pages.append(i)
                continue
            b.add(text, "paragraph", f"page {i}")
    finally:
        pypdf_log.setLevel(old_level)
    if not b.blocks:
        raise _fail(
            path,
            f"the PDF is a scanned image ({len(pages)} page(s) without a text layer); it needs OCR",
            "scanned_pdf",
            "ask the province for the .docx, or run OCR (e.g. ocrmypdf -l vie) and resubmit",
        )
    if empty_pages:
        shown = ", ".join(map(str, empty_pages[:10])) + (" ..." if len(empty_pages) > 10 else "")
        warnings.append(f"page(s) {shown} have no text layer (scanned images?); not read")
    return b.finish(path, "pdf", None, warnings)


# --------------------------------------------------------------------------------------- html
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_BLOCK_TAGS = frozenset(
    "p div br li ul ol dl dt dd h1 h2 h3 h4 h5 h6 table tr section article header footer main "
    "blockquote pre hr nav aside figure figcaption caption address form fieldset center".split()
)
_SKIP_TAGS = frozenset("script style noscript template head svg math iframe object".split())
_HEADINGS = frozenset("h1 h2 h3 h4 h5 h6".split())
_WS = re.compile(r"[ \t\r\n\f\v]+")


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str, str]] = []  # (kind, locator, text)
        self._buf: list[str] = []
        self._skip = 0
        self._kind = "paragraph"
        self._n_par = 0
        self._n_tab = 0
        self._row = 0
        self._cells: list[str] | None = None
        self._cell_buf: list[str] = []

    # paragraphs
    def _flush(self) -> None:
        text = _WS.sub(" ", "".join(" " if t == "\x00br" else t for t in self._buf)).strip()
        self._buf = []
        if not text:
            self._kind = "paragraph"
            return
        self._n_par += 1
        self.blocks.append((self._kind, f"paragraph {self._n_par}", text))
        self._kind = "paragraph"

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if tag in _SKIP_TAGS:
            self._skip += 1
            return
        if self._skip:
            return
        if tag == "table":
            self._flush()
            self._n_tab += 1
            self._row = 0
        elif tag == "tr":
            self._flush()
            self._row += 1
            self._cells = []
        elif tag in ("td", "th"):
            self._end_cell()
            self._cell_buf = []
        elif tag == "br":
            self._br()
        elif tag in _BLOCK_TAGS and self._cells is None:
            self._flush()
            if tag in _HEADINGS:
                self._kind = "heading"
        elif tag in _BLOCK_TAGS:
            self._write(" ")

    def handle_startendtag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if self._skip:
            return
        if tag == "br":
            self._br()
        elif tag == "hr" and self._cells is None:
            self._flush()

    def _br(self) -> None:
        """One <br> is a line break inside a paragraph (a space); two in a row end it."""
        if self._cells is None and self._buf and self._buf[-1] == "\x00br" :
            self._buf.pop()
            self._flush()
        elif self._cells is None:
            self._buf.append("\x00br")
        else:
            self._write(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip = max(0, self._skip - 1)
            return
        if self._skip:
            return
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table":
            self._end_row()
        elif tag in _BLOCK_TAGS and self._cells is None:
            self._flush()

    def _end_cell(self) -> None:
        if self._cells is not None and self._cell_buf:
            self._cells.append(_WS.sub(" ", "".join(self._cell_buf)).strip())
        self._cell_buf = []

    def _end_row(self) -> None:
        if self._cells is None:
            return
        self._end_cell()
        cells = self._cells
        self._cells = None
        if any(cells):
            self.blocks.append(("table_row", f"table {self._n_tab} row {self._row}", " | ".join(cells)))

    def _write(self, data: str) -> None:
        if self._cells is not None:
            self._cell_buf.append(data)
        else:
            self._buf.append(data)

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._buf and self._buf[-1] == "\x00br" and not data.strip():
            return  # whitespace between two <br> keeps them adjacent
        self._write(data)

    def close(self) -> None:
        super().close()
        self._end_row()
        self._flush()


def _decode_html(path: Path, data: bytes, warnings: list[str]) -> tuple[str, str]:
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        m = _META_CHARSET.search(data[:4096])
        if m:
            charset = m.group(1).decode("ascii", "replace").lower()
            if charset in ("tcvn3", "vni"):
                from diaphuong.text.encodings import decode_legacy

                return decode_legacy(data, charset), charset
            try:
                import codecs
                import unicodedata

                name = codecs.lookup(charset).name
                return unicodedata.normalize("NFC", data.decode(name)), name
            except (LookupError, UnicodeDecodeError):
                warnings.append(f"declared charset {charset!r} does not fit the bytes; detected instead")
    dec = decode_bytes(data, name=str(path))
    return dec.text, dec.encoding


def _read_html(path: Path, data: bytes, warnings: list[str]) -> Document:
    text, encoding = _decode_html(path, data, warnings)
    parser = _HtmlText()
    try:
        parser.feed(text)
        parser.close()
    except Exception as e:  # noqa: BLE001 - html.parser is lenient; this is a last resort
        raise _fail(path, f"HTML could not be parsed ({type(e).__name__}: {e})", "corrupt") from e
    b = _Builder()
    for kind, locator, block_text in parser.blocks:
        b.add(block_text, kind, locator)
    return b.finish(path, "html", encoding, warnings)
