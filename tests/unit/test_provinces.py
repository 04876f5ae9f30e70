import csv
from datetime import date

import pytest

from diaphuong.catalog.provinces import (
    DATA, crosswalk, find_province_in_text, province_name, provinces_on, resolve_province,
)
from diaphuong.errors import AmbiguousProvince, UnknownProvince

OLD_DAY = date(2018, 6, 30)
NEW_DAY = date(2025, 12, 31)


def test_sets_have_63_and_34_units():
    assert len(provinces_on(OLD_DAY)) == 63
    assert len(provinces_on(NEW_DAY)) == 34
    assert len(provinces_on(date(2025, 6, 30))) == 63
    assert len(provinces_on(date(2025, 7, 1))) == 34


def test_crosswalk_maps_every_old_unit_once():
    cw = crosswalk()
    assert len(cw) == 63
    assert cw["old_code"].is_unique
    assert set(cw["new_code"]) == set(provinces_on(NEW_DAY)["code"])


def test_every_name_variant_resolves_to_its_code():
    with (DATA / "name_variants.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 900
    for r in rows:
        on = OLD_DAY if r["set"] == "2008" else NEW_DAY
        ref = resolve_province(r["variant"], on=on)
        assert (ref.code, ref.province_set) == (r["code"], r["set"]), r


@pytest.mark.parametrize("text", ["hoà bình", "HÒA BÌNH", "  Hoa   Binh ", "Tỉnh Hoà Bình", "tinh hoa binh"])
def test_case_spacing_diacritics_and_tone_placement_insensitive(text):
    assert resolve_province(text, on=OLD_DAY).code == "17"


def test_renamed_unit_gets_the_name_valid_on_the_date():
    assert resolve_province("Huế", on=date(2024, 6, 30)).name_vi == "Tỉnh Thừa Thiên Huế"
    assert resolve_province("Huế", on=date(2025, 3, 31)).name_vi == "Thành phố Huế"
    assert province_name("75", date(2026, 6, 30)) == "Thành phố Đồng Nai"


def test_codes_resolve_within_the_set_of_the_date():
    assert resolve_province("2", on=OLD_DAY).code == "02"
    with pytest.raises(UnknownProvince):
        resolve_province("02", on=NEW_DAY)


def test_ambiguous_name_lists_candidates():
    with pytest.raises(AmbiguousProvince) as e:
        resolve_province("Quảng", on=OLD_DAY)
    assert {"Tỉnh Quảng Ninh (22)", "Tỉnh Quảng Nam (49)"} <= set(e.value.candidates)
    assert "could be" in str(e.value)


def test_unknown_name_lists_closest_candidates():
    with pytest.raises(UnknownProvince) as e:
        resolve_province("Quang Ngai xyz", on=NEW_DAY)
    assert e.value.candidates
    assert any("Quảng Ngãi" in c for c in e.value.candidates)


def test_old_unit_after_the_merger_points_to_its_new_unit():
    with pytest.raises(UnknownProvince) as e:
        resolve_province("Hà Giang", on=NEW_DAY)
    assert "Tỉnh Tuyên Quang (08)" in e.value.hint


def test_find_province_in_free_text():
    assert find_province_in_text("Sở KH&ĐT tỉnh Quảng Ninh", OLD_DAY).code == "22"
    assert find_province_in_text("bao_cao_ba_ria_vung_tau.xlsx", OLD_DAY).code == "77"
    assert find_province_in_text("Văn phòng UBND", OLD_DAY) is None
