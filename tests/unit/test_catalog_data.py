"""The catalog's data files: indicators.yaml, requirements.csv, applicability.csv and the synthetic
province profile."""
from __future__ import annotations

import csv
import unicodedata

import pytest
import yaml

from diaphuong.catalog.indicators import (
    CYCLE_KINDS,
    indicators,
    is_applicable,
    match_indicator,
    not_applicable,
    required_for,
    requirements,
)
from diaphuong.catalog.provinces import DATA, provinces
from diaphuong.catalog.units import units
from diaphuong.text.normalize import fold

KEYS = (
    "grdp_growth grdp_current_prices grdp_constant_prices grdp_per_capita grdp_share_agriculture "
    "grdp_share_industry_construction grdp_share_services grdp_share_product_taxes "
    "grdp_growth_agriculture grdp_growth_industry_construction grdp_growth_services "
    "grdp_growth_product_taxes iip_growth retail_sales export_value import_value budget_revenue "
    "budget_revenue_domestic budget_revenue_import_export budget_revenue_local budget_expenditure "
    "public_investment_disbursed total_social_investment fdi_registered_capital fdi_projects "
    "new_enterprises new_enterprises_capital cpi_yoy cpi_mom cpi_avg visitors tourism_revenue "
    "jobs_created poverty_rate unemployment_rate population food_output"
).split()
MEASURES = {"value", "yoy_pct", "mom_pct", "pct_of_plan"}
KINDS = {"level", "rate", "share", "index_change", "count"}
GROUPS = {"national_accounts", "industry_trade", "tourism", "public_finance", "investment",
          "enterprises", "prices", "labour", "living_standards", "population", "agriculture"}
RATE_KEYS = {"grdp_growth", "iip_growth", "cpi_yoy", "cpi_mom", "cpi_avg"}


# ------------------------------------------------------------------ indicators.yaml
def test_all_37_keys_present():
    assert len(KEYS) == 37
    assert set(indicators()) == set(KEYS)


@pytest.mark.parametrize("key", KEYS)
def test_indicator_entry_is_valid(key):
    ind = indicators()[key]
    assert ind.unit in units()
    assert ind.kind in KINDS
    assert ind.group in GROUPS
    assert ind.name_vi == unicodedata.normalize("NFC", ind.name_vi)
    assert ind.value_min is not None and ind.value_max is not None
    assert ind.value_min < ind.value_max
    if ind.change_min is not None or ind.change_max is not None:
        assert ind.change_min < ind.change_max
    assert len(ind.aliases) >= 4, key
    # rates, shares and index changes are not summed; levels and counts are
    assert ind.additive == (ind.kind in {"level", "count"} and ind.unit not in {"mn_vnd_per_person"})


def test_expected_units():
    u = {k: i.unit for k, i in indicators().items()}
    assert u["grdp_per_capita"] == "mn_vnd_per_person"
    assert u["population"] == "th_persons" and u["visitors"] == "th_visits"
    assert u["food_output"] == "th_tonnes" and u["jobs_created"] == "persons"
    assert {u[k] for k in ("export_value", "import_value", "fdi_registered_capital")} == {"mn_usd"}
    assert u["fdi_projects"] == "projects" and u["new_enterprises"] == "enterprises"
    for k in KEYS:
        if k.startswith(("grdp_growth", "grdp_share", "cpi_")) or k in {"iip_growth", "poverty_rate",
                                                                      "unemployment_rate"}:
            assert u[k] == "pct", k


def test_ranges_cover_known_extremes():
    ind = indicators()
    # Hồ Chí Minh City's yearly budget revenue and a small mountain province's monthly figure
    assert ind["budget_revenue"].value_min <= 50 and ind["budget_revenue"].value_max >= 500_000
    assert ind["grdp_per_capita"].value_min <= 20 and ind["grdp_per_capita"].value_max >= 400
    assert ind["grdp_growth"].value_min <= -30 and ind["grdp_growth"].value_max >= 40
    assert ind["export_value"].value_max >= 50_000  # Bắc Ninh, Bình Dương: tens of bn USD


def test_budget_revenue_components():
    assert indicators()["budget_revenue"].components == (
        "budget_revenue_domestic", "budget_revenue_import_export")
    for ind in indicators().values():
        for c in ind.components:
            assert indicators()[c].unit == ind.unit


def test_aliases_do_not_collide_after_folding():
    raw = yaml.safe_load((DATA / "indicators.yaml").read_text(encoding="utf-8"))
    owner: dict[str, str] = {}
    clashes = []
    for e in raw:
        for name in (e["key"], e["name_vi"], e["name_en"], *(e.get("aliases") or ())):
            k = fold(name)
            assert k, (e["key"], name)
            if owner.setdefault(k, e["key"]) != e["key"]:
                clashes.append((k, owner[k], e["key"]))
    assert clashes == []


# ------------------------------------------------------------------ match_indicator
MATCHES = [
    ("Tổng sản phẩm trên địa bàn (GRDP) theo giá so sánh", "grdp_constant_prices"),
    ("Tốc độ tăng trưởng kinh tế", "grdp_growth"),
    ("toc do tang GRDP", "grdp_growth"),
    ("GRDP theo giá hiện hành", "grdp_current_prices"),
    ("Quy mô nền kinh tế", "grdp_current_prices"),
    ("GRDP bình quân đầu người", "grdp_per_capita"),
    ("Tỷ trọng khu vực nông, lâm nghiệp và thuỷ sản", "grdp_share_agriculture"),
    ("Tỷ trọng khu vực nông, lâm nghiệp và thủy sản", "grdp_share_agriculture"),
    ("Khu vực công nghiệp và xây dựng tăng", "grdp_growth_industry_construction"),
    ("Tỷ trọng khu vực dịch vụ", "grdp_share_services"),
    ("Thuế sản phẩm trừ trợ cấp sản phẩm chiếm", "grdp_share_product_taxes"),
    ("Chỉ số sản xuất toàn ngành công nghiệp (IIP)", "iip_growth"),
    ("IIP", "iip_growth"),
    ("Tổng mức bán lẻ hàng hoá và doanh thu dịch vụ tiêu dùng", "retail_sales"),
    ("tong muc ban le hang hoa va doanh thu dich vu tieu dung", "retail_sales"),
    ("Kim ngạch xuất khẩu", "export_value"),
    ("KIM NGẠCH NHẬP KHẨU HÀNG HÓA", "import_value"),
    ("Tổng thu NSNN trên địa bàn", "budget_revenue"),
    ("Thu ngân sách nhà nước trên địa bàn", "budget_revenue"),
    ("Thu nội địa", "budget_revenue_domestic"),
    ("Thu cân đối từ hoạt động XNK", "budget_revenue_import_export"),
    ("Thu ngân sách địa phương", "budget_revenue_local"),
    ("Tổng chi ngân sách địa phương", "budget_expenditure"),
    ("Giải ngân vốn đầu tư công", "public_investment_disbursed"),
    ("Vốn đầu tư thực hiện toàn xã hội", "total_social_investment"),
    ("Tổng vốn đầu tư phát triển toàn xã hội", "total_social_investment"),
    ("Tổng vốn FDI đăng ký", "fdi_registered_capital"),
    ("Thu hút vốn đầu tư trực tiếp nước ngoài (FDI)", "fdi_registered_capital"),
    ("Số dự án FDI cấp mới", "fdi_projects"),
    ("Số doanh nghiệp đăng ký thành lập mới", "new_enterprises"),
    ("Tổng vốn đăng ký của doanh nghiệp thành lập mới", "new_enterprises_capital"),
    ("CPI so với cùng kỳ năm trước", "cpi_yoy"),
    ("Chỉ số giá tiêu dùng so với tháng trước", "cpi_mom"),
    ("CPI bình quân", "cpi_avg"),
    ("Tổng lượt khách du lịch", "visitors"),
    ("Tổng thu từ khách du lịch", "tourism_revenue"),
    ("Giải quyết việc làm", "jobs_created"),
    ("Tỷ lệ hộ nghèo theo chuẩn nghèo đa chiều", "poverty_rate"),
    ("ty le ho ngheo", "poverty_rate"),
    ("Tỷ lệ thất nghiệp", "unemployment_rate"),
    ("Dân số trung bình", "population"),
    ("Sản lượng lương thực có hạt", "food_output"),
    # near variants: fuzzy
    ("Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng xã hội trên địa bàn", "retail_sales"),
    ("Chỉ số sản xuất công nghiệp tháng", "iip_growth"),
]


@pytest.mark.parametrize("text,key", MATCHES)
def test_match_indicator_maps_phrasings(text, key):
    m = match_indicator(text)
    assert m is not None, text
    assert m.key == key, (text, m)


def test_match_is_insensitive_to_tone_placement_and_normal_form():
    pairs = [("tổng mức bán lẻ hàng hoá", "tổng mức bán lẻ hàng hóa"),
             ("tỷ trọng nông lâm thuỷ sản", "tỷ trọng nông lâm thủy sản")]
    for new_style, old_style in pairs:
        a, b = match_indicator(new_style), match_indicator(old_style)
        assert a is not None and b is not None and a.key == b.key and a.score == b.score == 100
    nfd = unicodedata.normalize("NFD", "Thu nội địa")
    assert match_indicator(nfd).key == "budget_revenue_domestic"


@pytest.mark.parametrize("text", [
    "tỷ lệ trẻ em suy dinh dưỡng",
    "số vụ tai nạn giao thông",
    "tỷ lệ bao phủ bảo hiểm y tế",
    "diện tích gieo trồng lúa",
    "số doanh nghiệp giải thể",
    "thu nhập bình quân đầu người",
    "tỷ lệ hộ cận nghèo",
])
def test_match_indicator_rejects_unrelated(text):
    assert match_indicator(text) is None


def test_look_alikes_resolve_to_different_keys():
    assert match_indicator("thu ngân sách địa phương").key == "budget_revenue_local"
    assert match_indicator("thu ngân sách nhà nước trên địa bàn").key == "budget_revenue"
    assert match_indicator("vốn đầu tư thực hiện toàn xã hội").key == "total_social_investment"
    assert match_indicator("giải ngân vốn đầu tư công").key == "public_investment_disbursed"


# ------------------------------------------------------------------ requirements.csv
def test_requirements_reference_known_keys_and_measures():
    r = requirements()
    assert set(r["indicator"]) <= set(KEYS)
    assert set(r["measure"]) <= MEASURES
    assert set(r["cycle_kind"]) == set(CYCLE_KINDS)
    assert not r.duplicated().any()


def test_requirements_shape():
    sizes = requirements().groupby("cycle_kind").size()
    assert 12 <= sizes["month"] <= 25
    assert sizes["month"] < sizes["quarter"] < sizes["half"] <= sizes["nine_months"] < sizes["year"]
    for kind in CYCLE_KINDS:
        req = required_for(kind)
        # every required indicator asks for its value; rates carry only the value
        assert set(req.loc[req["measure"] != "value", "indicator"]) <= set(
            req.loc[req["measure"] == "value", "indicator"])
        assert set(req.loc[req["indicator"].isin(RATE_KEYS), "measure"]) <= {"value"}
    year = set(required_for("year")["indicator"])
    assert {"grdp_per_capita", "poverty_rate", "unemployment_rate", "population", "food_output"} <= year
    assert "grdp_growth" in set(required_for("quarter")["indicator"])
    assert "grdp_growth" not in set(required_for("month")["indicator"])


def test_requirements_file_has_plain_header():
    with (DATA / "requirements.csv").open(encoding="utf-8", newline="") as fh:
        assert next(csv.reader(fh)) == ["cycle_kind", "indicator", "measure"]


# ------------------------------------------------------------------ applicability.csv
def test_not_applicable_loads_and_is_consistent():
    na = not_applicable()
    assert list(na.columns) == ["indicator", "province_set", "province_code", "reason"]
    assert set(na["indicator"]) <= set(KEYS)
    assert (na["reason"].str.len() > 0).all()
    for row in na.itertuples():
        assert not is_applicable(row.indicator, row.province_code, row.province_set)
    assert is_applicable("budget_revenue", "79", "2008")
    na.loc[:, "reason"] = "x"  # a copy: the cached table is not changed
    assert (not_applicable()["reason"] != "x").all()


# ------------------------------------------------------------------ province_profile_2018.csv
def test_profile_covers_exactly_the_63_codes():
    import pandas as pd

    prof = pd.read_csv(DATA / "province_profile_2018.csv", dtype={"code": str})
    codes = set(provinces().query("province_set == '2008'")["code"])
    assert len(codes) == 63
    assert len(prof) == 63 and set(prof["code"]) == codes
    num = prof.drop(columns="code")
    assert (num > 0).all().all()
    by = prof.set_index("code")
    assert by.loc["79", "grdp_bn_vnd"] > by.loc["01", "grdp_bn_vnd"] > 50 * by.loc["06", "grdp_bn_vnd"]
    assert by.loc["27", "export_mn_usd"] > 1000 * by.loc["12", "export_mn_usd"]
    per_capita = by["grdp_bn_vnd"] / by["population_th"]  # mn VND per person
    assert per_capita.between(15, 400).all()
    assert 90_000 < by["population_th"].sum() < 100_000
