import unicodedata

from diaphuong.text.normalize import fold, nfc, normalize_vi


def test_tone_placement_is_unified_and_length_preserving():
    assert normalize_vi("Hoà Bình") == normalize_vi("Hòa Bình") == "Hòa Bình"
    assert normalize_vi("thuỷ sản") == "thủy sản"
    assert normalize_vi("khoẻ") == "khỏe"
    for s in ("Hoà Bình", "thuỷ lợi, hoá chất", "quý III", "hoàng"):
        assert len(normalize_vi(s)) == len(nfc(s))


def test_closed_syllables_and_qu_are_left_alone():
    assert normalize_vi("quý") == "quý"
    assert normalize_vi("hoàng") == "hoàng"
    assert normalize_vi("toán") == "toán"


def test_nfd_input_becomes_nfc():
    s = unicodedata.normalize("NFD", "Thừa Thiên Huế")
    assert normalize_vi(s) == "Thừa Thiên Huế"


def test_fold():
    assert fold("Thành phố Hồ Chí Minh") == "thanh pho ho chi minh"
    assert fold("Đắk Lắk") == "dak lak"
    assert fold("TP.HCM") == "tp hcm"
