import random
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from diaphuong.errors import UnreadableFile
from diaphuong.text.encodings import (
    Decoded,
    decode_bytes,
    decode_legacy,
    encode_cp1258,
    encode_legacy,
    fix_legacy_text,
    vietnamese_score,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "documents"

LOWER = ("aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ")
SENTENCE = ("Tổng thu ngân sách nhà nước trên địa bàn 6 tháng ước đạt 3.370 tỷ đồng, tăng 17,7% so "
            "với cùng kỳ; người dân được hỗ trợ, giữa năm, khuỷu sông, nghiêng về xuất khẩu.")


def test_vni_known_spellings():
    cases = {
        "Xin chaøo caùc baïn": "Xin chào các bạn",
        "Vieät Nam": "Việt Nam",
        "Ñaø Naüng": "Đà Nẵng",
        "ngöôøi daân": "người dân",
        "Thaønh phoá": "Thành phố",
        "tyû ñoàng": "tỷ đồng",
    }
    for vni, uni in cases.items():
        assert decode_legacy(vni.encode("cp1252"), "vni") == uni


def test_tcvn3_known_bytes():
    assert decode_legacy(b"T\xe6ng thu ng\xa9n s\xb8ch", "tcvn3") == "Tổng thu ngân sách"
    assert decode_legacy(b"\xa7\xb5 N\xbdng", "tcvn3") == "Đà Nẵng"
    # a heading typed in the capital font (.VnTimeH) uses the lower-case codes
    assert decode_legacy(b"T\xe6NG K\xd5T", "tcvn3") == "TỔNG KẾT"
    # a single title-case word is left alone
    assert decode_legacy(b"S\xeb", "tcvn3") == "Sở"


@pytest.mark.skipif(shutil.which("iconv") is None, reason="iconv not installed")
def test_tcvn3_table_agrees_with_glibc():
    data = bytes(range(0xA1, 0x100))
    r = subprocess.run(["iconv", "-f", "TCVN5712-1", "-t", "UTF-8"], input=data, capture_output=True)
    if r.returncode != 0:
        pytest.skip("glibc without TCVN5712-1")
    ref = r.stdout.decode("utf-8")
    from diaphuong.text.encodings import _TCVN3_HIGH

    assert _TCVN3_HIGH[1:] == ref


@pytest.mark.parametrize("enc", ["tcvn3", "vni"])
def test_round_trip_every_letter(enc):
    text = " ".join(LOWER) + " ĂÂÊÔƠƯĐ"
    assert decode_legacy(encode_legacy(text, enc), enc) == text
    assert decode_legacy(encode_legacy(SENTENCE, enc), enc) == SENTENCE


def test_vni_round_trips_capitals():
    upper = LOWER.upper()
    assert decode_legacy(encode_legacy(upper, "vni"), "vni") == upper
    assert decode_legacy(encode_legacy("Ủy ban nhân dân", "vni"), "vni") == "Ủy ban nhân dân"


def test_tcvn3_capitals_in_an_all_caps_line():
    line = "BÁO CÁO TÌNH HÌNH KINH TẾ - XÃ HỘI QUÝ III NĂM 2025"
    assert decode_legacy(encode_legacy(line, "tcvn3"), "tcvn3") == line


def test_encode_refuses_unknown_characters():
    with pytest.raises(ValueError, match="TCVN3"):
        encode_legacy("Hà Nội 中", "tcvn3")
    with pytest.raises(ValueError, match="VNI"):
        encode_legacy("Hà Nội 中", "vni")
    with pytest.raises(ValueError):
        encode_legacy("x", "viqr")


@pytest.mark.parametrize(
    "data, encoding",
    [
        (SENTENCE.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + SENTENCE.encode("utf-8"), "utf-8-sig"),
        (SENTENCE.encode("utf-16"), "utf-16"),
        (SENTENCE.encode("utf-16-le"), "utf-16"),
        (SENTENCE.encode("utf-16-be"), "utf-16"),
        (encode_cp1258(SENTENCE), "cp1258"),
        (encode_legacy(SENTENCE, "tcvn3"), "tcvn3"),
        (encode_legacy(SENTENCE, "vni"), "vni"),
    ],
)
def test_decode_bytes_detects(data, encoding):
    d = decode_bytes(data)
    assert d == Decoded(SENTENCE, encoding)


@pytest.mark.parametrize("phrase", ["Tổng thu", "Đà Nẵng", "Sở Tài chính", "hơn 1,5 triệu lượt khách",
                                    "Kỳ báo cáo: Quý III năm 2025"])
def test_short_phrases(phrase):
    for data in (encode_cp1258(phrase), encode_legacy(phrase, "tcvn3"), encode_legacy(phrase, "vni")):
        assert decode_bytes(data).text == phrase


def test_cp1258_is_composed():
    d = decode_bytes(encode_cp1258("Việt Nam thủy sản"))
    assert d.encoding == "cp1258"
    assert unicodedata.is_normalized("NFC", d.text)
    assert d.text == "Việt Nam thủy sản"


def test_result_is_nfc():
    nfd = unicodedata.normalize("NFD", SENTENCE)
    assert decode_bytes(nfd.encode("utf-8")).text == SENTENCE


def test_binary_garbage_raises():
    rnd = random.Random(7)
    data = bytes(rnd.randrange(256) for _ in range(4000))
    with pytest.raises(UnreadableFile) as ei:
        decode_bytes(data, name="bao_cao.txt")
    assert ei.value.file == "bao_cao.txt"
    assert "bao_cao.txt" in str(ei.value)
    with pytest.raises(UnreadableFile):
        decode_bytes(b"\x00" * 200, name="zeros.txt")
    with pytest.raises(UnreadableFile):  # a zip package renamed .txt
        decode_bytes((FIXTURES / "report.docx").read_bytes(), name="x.txt")


def test_empty_bytes():
    assert decode_bytes(b"") == Decoded("", "utf-8")


def test_fix_legacy_text():
    vni_typed = encode_legacy(SENTENCE, "vni").decode("cp1252")
    assert fix_legacy_text(vni_typed) == (SENTENCE, "vni")
    tcvn3_typed = encode_legacy(SENTENCE, "tcvn3").decode("cp1252")
    assert fix_legacy_text(tcvn3_typed) == (SENTENCE, "tcvn3")
    assert fix_legacy_text(SENTENCE) == (SENTENCE, None)
    assert fix_legacy_text("Xin chào các anh chị") == ("Xin chào các anh chị", None)
    assert fix_legacy_text("") == ("", None)


def test_score_separates_right_from_wrong():
    right = vietnamese_score(SENTENCE)
    wrong = vietnamese_score(encode_legacy(SENTENCE, "vni").decode("cp1252"))
    assert right > 0.8 > 0.5 > wrong


@pytest.mark.parametrize("name, encoding", [
    ("report_utf8.txt", "utf-8"), ("report_utf16.txt", "utf-16"), ("report_cp1258.txt", "cp1258"),
    ("report_tcvn3.txt", "tcvn3"), ("report_vni.txt", "vni"),
])
def test_fixture_files(name, encoding):
    expected = (FIXTURES / "report_utf8.txt").read_text("utf-8")
    d = decode_bytes((FIXTURES / name).read_bytes(), name=name)
    assert d.encoding == encoding
    assert d.text.replace("\r\n", "\n") == expected
