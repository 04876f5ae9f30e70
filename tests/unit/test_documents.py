import hashlib
import shutil
from pathlib import Path

import pytest

from diaphuong.errors import UnreadableFile
from diaphuong.ingest.documents import MAX_BYTES, Block, Document, read_document
from diaphuong.text.encodings import encode_cp1258, encode_legacy
from diaphuong.text.normalize import normalize_vi

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
BUDGET = "Tổng thu ngân sách nhà nước trên địa bàn 6 tháng ước đạt 3.370 tỷ đồng"


def _check_blocks(doc: Document) -> None:
    """Blocks are ordered, disjoint, separated by one newline and slice the text exactly."""
    assert doc.blocks
    prev_end = None
    for b in doc.blocks:
        assert isinstance(b, Block)
        assert 0 <= b.start < b.end <= len(doc.text)
        if prev_end is not None:
            assert b.start == prev_end + 1 and doc.text[prev_end] == "\n"
        prev_end = b.end
        assert doc.text[b.start:b.end] == doc.text[b.start:b.end].strip()
    assert doc.text == normalize_vi(doc.text)


@pytest.mark.parametrize("name, encoding", [
    ("report_utf8.txt", "utf-8"), ("report_utf16.txt", "utf-16"), ("report_cp1258.txt", "cp1258"),
    ("report_tcvn3.txt", "tcvn3"), ("report_vni.txt", "vni"),
])
def test_txt_in_every_encoding(name, encoding):
    doc = read_document(FIXTURES / name)
    assert doc.format == "txt" and doc.encoding == encoding
    _check_blocks(doc)
    assert [b.locator for b in doc.blocks] == [f"line {i}" for i in range(1, 7)]
    assert doc.text.startswith("BÁO CÁO TÌNH HÌNH KINH TẾ - XÃ HỘI 6 THÁNG ĐẦU NĂM 2026\n")
    assert "thủy sản" in doc.text  # 'thuỷ' normalised to one tone placement
    start = doc.text.index("3.370 tỷ đồng")
    assert doc.block_at(start).locator == "line 3"
    assert doc.locate(start, start + 5) == f"line 3, chars {start}-{start + 5}"
    assert "\r" not in doc.text


def test_all_txt_fixtures_read_the_same():
    texts = {read_document(p).text for p in FIXTURES.glob("report_*.txt")}
    assert len(texts) == 1


def test_docx_body_order_and_tables():
    doc = read_document(FIXTURES / "report.docx")
    assert doc.format == "docx" and doc.encoding is None and doc.warnings == []
    _check_blocks(doc)
    got = [(b.kind, b.locator, doc.text[b.start:b.end]) for b in doc.blocks]
    assert got[0][:2] == ("heading", "paragraph 1")
    assert got[2][2].startswith(BUDGET)
    assert got[3] == ("table_row", "table 1 row 1",
                      "Chỉ tiêu | Đơn vị tính | Thực hiện 6 tháng | So với cùng kỳ (%)")
    assert got[4] == ("table_row", "table 1 row 2", "Thu ngân sách nhà nước | tỷ đồng | 3.370 | 117,7")
    assert got[-1] == ("paragraph", "paragraph 4",
                       "Dự kiến cả năm 2026 thu ngân sách đạt khoảng 6.900 tỷ đồng.")


def test_docx_merged_cells_appear_once(tmp_path):
    import docx

    d = docx.Document()
    t = d.add_table(rows=2, cols=3)
    t.cell(0, 0).merge(t.cell(0, 2)).text = "Biểu 01: Thu ngân sách"
    for c, v in enumerate(["Chỉ tiêu", "tỷ đồng", "3.370"]):
        t.cell(1, c).text = v
    d.add_paragraph("Tổng thu tăng\nmạnh.")  # a soft line break
    d.save(tmp_path / "merged.docx")
    doc = read_document(tmp_path / "merged.docx")
    assert [doc.text[b.start:b.end] for b in doc.blocks] == [
        "Biểu 01: Thu ngân sách", "Chỉ tiêu | tỷ đồng | 3.370", "Tổng thu tăng mạnh."
    ]


def test_docx_typed_in_vni_font_is_converted():
    doc = read_document(FIXTURES / "report_vnifont.docx")
    assert doc.legacy_font == "vni"
    assert BUDGET in doc.text
    assert any("VNI" in w for w in doc.warnings)


def test_pdf_text_layer():
    doc = read_document(FIXTURES / "report_text.pdf")
    assert doc.format == "pdf"
    _check_blocks(doc)
    assert [b.locator for b in doc.blocks] == ["page 1", "page 2"]
    page1 = doc.text[doc.blocks[0].start:doc.blocks[0].end]
    assert "3.370 tỷ đồng" in page1
    assert "29.232,75 tỷ đồng" in page1
    assert "1,5 triệu lượt khách" in doc.text


def test_scanned_pdf_needs_ocr():
    with pytest.raises(UnreadableFile) as ei:
        read_document(FIXTURES / "report_scanned.pdf")
    e = ei.value
    assert e.reason == "scanned_pdf"
    assert "report_scanned.pdf" in str(e) and "scanned image" in str(e) and "OCR" in str(e)
    assert e.hint


def test_encrypted_pdf():
    with pytest.raises(UnreadableFile) as ei:
        read_document(FIXTURES / "report_encrypted.pdf")
    assert ei.value.reason == "encrypted"
    assert "report_encrypted.pdf" in str(ei.value)


def test_corrupt_files(tmp_path):
    with pytest.raises(UnreadableFile) as ei:
        read_document(FIXTURES / "corrupt.docx")
    assert ei.value.reason == "corrupt" and "corrupt.docx" in str(ei.value)
    bad_pdf = tmp_path / "hong.pdf"
    bad_pdf.write_bytes((FIXTURES / "report_text.pdf").read_bytes()[:300])
    with pytest.raises(UnreadableFile) as ei:
        read_document(bad_pdf)
    assert ei.value.reason in ("corrupt", "empty", "scanned_pdf")
    not_pdf = tmp_path / "bao_cao.pdf"
    not_pdf.write_text("chỉ là văn bản", encoding="utf-8")
    with pytest.raises(UnreadableFile) as ei:
        read_document(not_pdf)
    assert ei.value.reason == "corrupt"


def test_html():
    doc = read_document(FIXTURES / "report.html")
    assert doc.format == "html" and doc.encoding == "utf-8"
    _check_blocks(doc)
    kinds = [(b.kind, b.locator) for b in doc.blocks]
    assert kinds[0] == ("heading", "paragraph 1")
    assert ("table_row", "table 1 row 2") in kinds
    texts = [doc.text[b.start:b.end] for b in doc.blocks]
    assert "Khách du lịch (lượt) | 215.400" in texts
    # script and style content is dropped; entities decoded; a single <br> keeps the sentence
    assert "1.111" not in doc.text and "không phải nội dung" not in doc.text and "9.999" not in doc.text
    assert "cùng kỳ & bằng 81,2% dự toán" in doc.text
    assert "512,6\u00a0tỷ đồng" in doc.text
    assert "triệu USD tăng 12,1%" in doc.text
    assert "Báo cáo nhanh" not in doc.text  # <head><title>


def test_html_charset_from_meta_and_detected(tmp_path):
    body = "<p>Tổng thu ngân sách tăng 17,7%</p><p>Hai</p><br><br><p>Ba</p>"
    p = tmp_path / "a.html"
    p.write_bytes(b'<html><head><meta http-equiv="Content-Type" content="text/html; '
                  b'charset=windows-1258"></head><body>' + encode_cp1258(body) + b"</body></html>")
    doc = read_document(p)
    assert doc.encoding == "cp1258"
    assert doc.text.split("\n")[0] == "Tổng thu ngân sách tăng 17,7%"
    q = tmp_path / "b.htm"
    q.write_bytes(b"<html><body>" + encode_legacy(body, "vni") + b"</body></html>")
    doc = read_document(q)
    assert doc.encoding == "vni" and "Tổng thu ngân sách" in doc.text


def test_refusals(tmp_path):
    big = tmp_path / "lon.txt"
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(UnreadableFile) as ei:
        read_document(big)
    assert ei.value.reason == "too_large" and "lon.txt" in str(ei.value)

    with pytest.raises(UnreadableFile) as ei:
        read_document(tmp_path / "khong_co.docx")
    assert ei.value.reason == "missing"

    empty = tmp_path / "rong.txt"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFile) as ei:
        read_document(empty)
    assert ei.value.reason == "empty"

    blank = tmp_path / "trang.txt"
    blank.write_bytes(b"\r\n  \r\n")
    with pytest.raises(UnreadableFile) as ei:
        read_document(blank)
    assert ei.value.reason == "empty"

    with pytest.raises(UnreadableFile) as ei:
        read_document(tmp_path / "bang.xlsx")
    assert ei.value.reason == "unsupported_format"

    old_doc = tmp_path / "cu.docx"
    old_doc.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(UnreadableFile) as ei:
        read_document(old_doc)
    assert ei.value.reason == "unsupported_format" and ".docx" in (ei.value.hint or "")

    garbage = tmp_path / "rac.txt"
    garbage.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(UnreadableFile) as ei:
        read_document(garbage)
    assert ei.value.reason == "binary"


def test_misnamed_pdf_is_read_as_pdf(tmp_path):
    p = tmp_path / "bao_cao.docx"
    shutil.copy(FIXTURES / "report_text.pdf", p)
    doc = read_document(p)
    assert doc.format == "pdf" and doc.warnings and "PDF" in doc.warnings[0]


def test_raw_files_are_not_modified():
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FIXTURES.iterdir()}
    for p in FIXTURES.iterdir():
        if p.suffix != ".py":
            try:
                read_document(p)
            except UnreadableFile:
                pass
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FIXTURES.iterdir()}
    assert before == after


def test_block_at_between_blocks():
    doc = read_document(FIXTURES / "report_utf8.txt")
    gap = doc.blocks[0].end  # the newline between two blocks
    assert doc.block_at(gap) is None
    assert doc.block_at(0).locator == "line 1"
    assert doc.block_at(len(doc.text) + 5) is None
