"""Figures stated in Vietnamese provincial report texts -> observations with text spans.

The reader is deliberately conservative: an analyst must never meet an invented figure, so a number
is reported only when its indicator, its measure and its unit are all read from the text; anything
unsure is dropped.

How a text is read
==================
1. The text is normalised (NFC, one tone placement: :func:`diaphuong.text.normalize.normalize_vi`)
   and folded character by character (no diacritics, lower case), so every offset found in the
   folded copy is an offset of the text as given (:func:`_offset_map` covers texts that were not NFC).
2. It is cut into paragraphs and sentences (``.``/``!``/``?`` before a capital; ``TP.``, list
   numbers such as ``5.`` and numbers such as ``3.370`` do not end a sentence). A paragraph is a
   logical line: a hard-wrapped line (a PDF's text layer, a page copied line by line) goes on in
   the next one (see :func:`_lines`). Lines of ``cell | cell | cell`` are tables, read by column
   (:func:`_table_figures`: the header says which column holds a value with its period and status,
   a comparison with the same period last year / the previous month / December / the plan, or a
   plan or last year's level to skip).
3. In each sentence the reader finds the *mentions*: indicator names (the catalog's aliases plus the
   reader's own phrasings and context words such as the GRDP sectors), numbers with their units,
   comparison phrases (``so với cùng kỳ``, ``so với tháng trước``, ``dự toán``...), status words,
   period phrases and province names.
4. The sentence is cut into clauses at ``, ; : ( )`` and at ``và`` before a verb. A clause's words
   before its number name its subject: an indicator name starts a new subject; words the reader does
   not know (a sub-component such as ``khách quốc tế``, ``ngành khai khoáng``, ``cả nước``) end the
   subject, so the following clauses are not read as the indicator's; plain words (verbs, status
   words, ``trên địa bàn tỉnh``) keep the subject of the clause before.
5. The verb and the comparison decide the measure: ``tăng/giảm X% so với cùng kỳ`` -> ``yoy_pct``,
   ``so với tháng trước`` -> ``mom_pct``, ``đạt/bằng X% kế hoạch/dự toán`` -> ``pct_of_plan``,
   ``vượt X% kế hoạch`` -> 100+X, ``bằng X% so với cùng kỳ`` -> X-100; for a rate indicator
   (``grdp_growth``, ``iip_growth``, the CPI keys) the change is the ``value``. Plans, targets,
   scenarios, forecasts, percentage points, ratios (``gấp 2 lần``) and figures of other years, of the
   whole country or of a sub-component are dropped.
6. The value is converted into the indicator's catalog unit (``diaphuong.catalog.units``).
7. What one sentence hands to the next: a breakdown ("Trong đó", "Riêng", "Cụ thể") keeps the
   subject, period, status and plan of the sentence before; a cumulative sentence ("Tính chung",
   "Lũy kế", "Đến hết tháng 10", "Đến ngày 20/11") keeps the subject only and, when it names no
   period, runs from January to the end of the report's period; any other sentence keeps the
   period the paragraph opened with ("Đến hết tháng 11, ..."), never a sub-period ("trong đó quý
   III", "(sơ bộ quý I tăng ...)"). A list under a heading of targets ("Các chỉ tiêu chủ yếu năm
   2018:") is plans.
8. Lists of provinces ("Quảng Ninh (11,61%), Hải Phòng (11,52%)", "Cao Bằng tăng trưởng 6,57%;
   Điện Biên 6,71%") take the indicator the sentence named last and the province each clause
   names, unless the province is a yardstick ("thấp hơn Bắc Ninh (31,2%)").

Public functions: :func:`extract_text`, :func:`extract_document`, :func:`extract_paths`,
:func:`to_json_records`.
"""
from __future__ import annotations

import csv
import hashlib
import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import pandas as pd

from diaphuong.catalog.indicators import indicators
from diaphuong.catalog.provinces import DATA, ProvinceRef, provinces_on, resolve_province
from diaphuong.catalog.units import UnitMismatch, convert, units
from diaphuong.errors import DiaphuongError, PeriodError
from diaphuong.periods import Period, parse_period
from diaphuong.schema import conform, empty_frame
from diaphuong.text.normalize import fold, nfc, normalize_vi
from diaphuong.text.numbers import NumberFormatError, detect_convention, parse_number
from diaphuong.text.periods_vi import PREV_PLACEHOLDER, YEAR_PLACEHOLDER, fill_year, find_periods

_MONTH_WORDS = {"gieng": 1, "mot": 1, "hai": 2, "ba": 3, "tu": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8,
                "chin": 9, "muoi": 10, "muoi mot": 11, "muoi hai": 12, "chap": 12}

__all__ = ["extract_text", "extract_document", "extract_paths", "to_json_records",
           "CPI_MEASURES"]

# The CPI's four bases. The catalog has three keys whose `value` is the change on one base; the
# December base has no key of its own and is carried as the `ytd_pct` measure of cpi_yoy.
CPI_MEASURES = {
    "mom": ("cpi_mom", "value"),
    "yoy": ("cpi_yoy", "value"),
    "avg": ("cpi_avg", "value"),
    "ytd": ("cpi_yoy", "ytd_pct"),
}

# ----------------------------------------------------------------------------- folding

_KEEP = set("%/,;:()")


class _FoldTable(dict):
    """str.translate table: one output character for every input character (offsets kept)."""

    def __missing__(self, code: int) -> str:
        c = chr(code)
        if c in "đĐ":
            out = "d"
        elif c.isascii():
            out = c.lower() if c.isalnum() else (c if c in _KEEP else " ")
        else:
            base = unicodedata.normalize("NFD", c)[0]
            out = base.lower() if base.isascii() and base.isalnum() else " "
        self[code] = out
        return out


_FOLD = _FoldTable()


def _fold_keep(text: str) -> str:
    """Length-preserving fold: diacritics off, lower case, punctuation to spaces but the marks that
    separate clauses (, ; : parentheses), % and /."""
    return text.translate(_FOLD)


def _offset_map(original: str) -> tuple[str, list[int] | None]:
    """NFC + tone placement of ``original``; plus, when lengths differ, the offset in ``original``
    of every character of the result (and one past the end)."""
    norm = normalize_vi(original)
    if len(norm) == len(original):
        return norm, None
    out_to_in: list[int] = []
    pieces: list[str] = []
    i, n = 0, len(original)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(original[j]):
            j += 1
        piece = nfc(original[i:j])
        pieces.append(piece)
        out_to_in.extend([i] * len(piece))
        i = j
    out_to_in.append(n)
    text = normalize_vi("".join(pieces))
    if len(text) != len(out_to_in) - 1:  # pragma: no cover - cross-cluster composition
        return norm, None
    return text, out_to_in


# ----------------------------------------------------------------------------- patterns

def _trie_regex(phrases, sep: str) -> str:
    """One regex for many folded phrases, factored on common leading words (much faster than a
    flat alternation). Matches the longest phrase at a position; words end at a word boundary."""
    trie: dict = {}
    for p in phrases:
        node = trie
        for tok in p.split():
            node = node.setdefault(tok, {})
        node[""] = True

    def build(node: dict) -> str:
        alts = []
        for tok in sorted((t for t in node if t), key=len, reverse=True):
            child = node[tok]
            sub = build(child) if any(k for k in child) else ""
            esc = re.escape(tok) + r"(?![a-z0-9])"
            if sub:
                opt = "?" if "" in child else ""
                alts.append(f"{esc}(?:{sep}{sub}){opt}")
            else:
                alts.append(esc)
        return "(?:" + "|".join(alts) + ")"

    return build(trie)


# Extra subject phrasings of the reader (folded-matched like the catalog's aliases). A key of None
# blocks: the phrase names something that is not the indicator whose alias it contains.
_EXTRA_ALIASES: dict[str, str | None] = {
    # GRDP: the family head; the unit and the price basis pick the key (see _route_grdp).
    "GRDP": "grdp", "tổng sản phẩm trên địa bàn": "grdp", "tổng sản phẩm trên địa bàn tỉnh": "grdp",
    "tổng sản phẩm trong tỉnh": "grdp", "tổng sản phẩm trên địa bàn thành phố": "grdp",
    "tổng sản phẩm địa bàn": "grdp", "tổng sản phẩm xã hội": "grdp",
    "GRDP bình quân đầu người": "grdp_per_capita", "GRDP bình quân trên đầu người": "grdp_per_capita",
    "thu nhập bình quân đầu người": None, "GRDP trừ dầu khí": "-", "GRDP không kể dầu khí": "-",
    "GRDP (trừ dầu khí)": "-", "GRDP phân theo ngành kinh tế": None, "GDP": None,
    "tổng sản phẩm trong nước": None, "GRDP bình quân hằng năm": None,
    "GRDP không tính dầu khí": "-", "GRDP trừ dầu thô": "-", "GRDP (không kể dầu khí)": "-",
    "cơ cấu kinh tế": "grdp_share", "cơ cấu GRDP": "grdp_share", "cơ cấu tổng sản phẩm": "grdp_share",
    "lượng khách lưu trú": None, "tổng lượng khách lưu trú": None, "lượt khách lưu trú": None,
    "tổng lượt khách lưu trú": None, "khách lưu trú": None,
    "lượt khách tham quan và lưu trú": "visitors", "tổng lượt khách tham quan và lưu trú": "visitors",
    "khách tham quan và lưu trú": "visitors", "lượt khách tham quan": "visitors",
    "GRDP bình quân mỗi năm": None, "GRDP bình quân giai đoạn": None,
    "tốc độ tăng trưởng bình quân": None,
    # prices
    "chỉ số giá tiêu dùng CPI": "cpi_yoy", "chỉ số CPI": "cpi_yoy", "chỉ số giá tiêu dùng chung": "cpi_yoy",
    "lạm phát cơ bản": None, "chỉ số giá vàng": None, "chỉ số giá đô la Mỹ": None,
    "chỉ số giá USD": None, "chỉ số giá sản xuất": None, "chỉ số giá xây dựng": None,
    # industry
    "chỉ số sản xuất ngành công nghiệp": "iip_growth", "chỉ số toàn ngành công nghiệp": "iip_growth",
    "chỉ số công nghiệp (trừ dầu thô và khí đốt)": None, "chỉ số công nghiệp trừ dầu thô": None,
    "chỉ số sản xuất công nghiệp (trừ dầu thô và khí đốt)": None,
    "giá trị sản xuất công nghiệp": None, "giá trị sản xuất": None,
    # trade
    "xuất khẩu": "export_value", "nhập khẩu": "import_value",
    "kim ngạch xuất khẩu hàng hóa": "export_value", "kim ngạch nhập khẩu hàng hóa": "import_value",
    "xuất khẩu lao động": None, "kim ngạch xuất nhập khẩu": None, "tổng kim ngạch xuất nhập khẩu": None,
    "xuất nhập khẩu": None, "xuất siêu": None, "nhập siêu": None, "cán cân thương mại": None,
    "doanh thu bán lẻ hàng hóa": "retail_sales",
    "tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng": "retail_sales",
    # public finance
    "thu ngân sách": "budget_revenue", "thu ngân sách nhà nước trên địa bàn tỉnh": "budget_revenue",
    "thu ngân sách nhà nước trên địa bàn": "budget_revenue",
    "tổng thu ngân sách nhà nước trên địa bàn": "budget_revenue",
    "thu từ dầu thô": None, "thu tiền sử dụng đất": None, "thu xổ số kiến thiết": None,
    "chi đầu tư phát triển": None, "chi thường xuyên": None, "thu bổ sung từ ngân sách cấp trên": None,
    "thu ngân sách trung ương": None, "thu cân đối ngân sách": "budget_revenue",
    "dự toán thu": None, "dự toán chi": None, "dự toán ngân sách": None,
    # investment
    "giải ngân vốn đầu tư công": "public_investment_disbursed",
    "vốn đầu tư công đã giải ngân": "public_investment_disbursed",
    "tỷ lệ giải ngân": "public_investment_disbursed",
    "kế hoạch vốn đầu tư công": None, "vốn đầu tư công": None,
    "vốn đầu tư thực hiện từ nguồn ngân sách nhà nước": None,
    "vốn đầu tư trực tiếp nước ngoài thực hiện": None,
    "vốn điều chỉnh": None, "vốn tăng thêm": None, "góp vốn, mua cổ phần": None,
    "khu vực có vốn đầu tư nước ngoài": None, "doanh nghiệp có vốn đầu tư nước ngoài": None,
    "khu vực có vốn đầu tư trực tiếp nước ngoài": None, "khu vực FDI": None, "doanh nghiệp FDI": None,
    "khu vực kinh tế trong nước": None, "khu vực trong nước": None,
    "dự án FDI": "fdi_projects", "dự án có vốn đầu tư nước ngoài": "fdi_projects",
    "dự án đầu tư nước ngoài": "fdi_projects", "dự án đầu tư trực tiếp nước ngoài": "fdi_projects",
    "vốn đầu tư toàn xã hội": "total_social_investment",
    "vốn đầu tư phát triển toàn xã hội": "total_social_investment",
    "vốn đầu tư thực hiện toàn xã hội": "total_social_investment",
    "vốn đầu tư thực hiện trên địa bàn tỉnh": "total_social_investment",
    # enterprises
    "doanh nghiệp thành lập mới": "new_enterprises", "doanh nghiệp đăng ký thành lập mới": "new_enterprises",
    "doanh nghiệp được thành lập mới": "new_enterprises", "doanh nghiệp mới thành lập": "new_enterprises",
    "doanh nghiệp thành lập mới và đi vào hoạt động": "new_enterprises",
    "doanh nghiệp quay trở lại hoạt động": None, "doanh nghiệp hoạt động trở lại": None,
    "doanh nghiệp tạm ngừng": None, "doanh nghiệp giải thể": None, "vốn đăng ký bình quân": None,
    "vốn đăng ký tăng thêm": None, "doanh nghiệp đăng ký tạm ngừng": None,
    "doanh nghiệp ngừng hoạt động": None, "doanh nghiệp hoàn tất thủ tục giải thể": None,
    # tourism
    "khách du lịch": "visitors", "lượt khách": "visitors", "tổng lượt khách": "visitors",
    "lượng khách du lịch": "visitors", "lượng khách": "visitors", "tổng số khách": "visitors",
    "tổng số lượt khách": "visitors", "du khách": "visitors", "lượt khách tham quan du lịch": "visitors",
    "khách quốc tế": None, "khách du lịch quốc tế": None, "khách nội địa": None,
    "khách du lịch nội địa": None, "khách trong nước": None, "khách lưu trú": None,
    "lượt khách lưu trú": None, "khách quốc tế lưu trú": None, "lượt khách quốc tế": None,
    "lượt khách nội địa": None, "doanh thu dịch vụ lưu trú": None, "doanh thu lưu trú": None,
    "dịch vụ lưu trú, ăn uống": None, "dịch vụ lưu trú và ăn uống": None, "du lịch lữ hành": None,
    "tổng thu từ khách du lịch": "tourism_revenue", "tổng thu từ du lịch": "tourism_revenue",
    "doanh thu du lịch": "tourism_revenue", "tổng doanh thu du lịch": "tourism_revenue",
    # labour, living standards, population, agriculture
    "lao động được giải quyết việc làm": "jobs_created", "số lao động được giải quyết việc làm": "jobs_created",
    "giải quyết việc làm cho": "jobs_created", "giải quyết việc làm mới cho": "jobs_created",
    "tạo việc làm cho": "jobs_created", "tạo việc làm mới cho": "jobs_created",
    "đưa lao động đi làm việc ở nước ngoài": None, "lao động đi làm việc ở nước ngoài": None,
    "tỷ lệ thiếu việc làm": None,
    "quy mô dân số": None, "mật độ dân số": None, "tỷ lệ tăng dân số": None, "dân số thành thị": None,
    "dân số nông thôn": None, "tỷ lệ tăng dân số tự nhiên": None,
    "sản lượng lúa": None, "sản lượng thóc": None, "sản lượng ngô": None, "sản lượng thủy sản": None,
    "sản lượng lương thực có hạt": "food_output", "sản lượng lương thực bình quân đầu người": None,
    "lương thực bình quân đầu người": None,
    # FDI: the family head; the unit picks projects or capital ("Thu hút đầu tư trực tiếp nước
    # ngoài: cấp mới 8 dự án, tổng vốn đăng ký 145,8 triệu USD"). Domestic investment ends it.
    "đầu tư trực tiếp nước ngoài": "fdi", "thu hút đầu tư trực tiếp nước ngoài": "fdi",
    "thu hút đầu tư nước ngoài": "fdi", "vốn đầu tư nước ngoài": "fdi",
    "vốn đầu tư trực tiếp nước ngoài": "fdi", "đầu tư nước ngoài": "fdi",
    "đầu tư trong nước": "-", "thu hút đầu tư trong nước": "-", "dự án đầu tư trong nước": "-",
    "dự án trong nước": "-", "nhà đầu tư trong nước": "-", "vốn đầu tư trong nước": "-",
    "khu vực vốn đầu tư nước ngoài": "-", "khu vực đầu tư nước ngoài": "-",
    "khu vực kinh tế có vốn đầu tư nước ngoài": "-", "doanh nghiệp vốn đầu tư nước ngoài": "-",
    "doanh nghiệp đầu tư nước ngoài": "-", "nhà đầu tư nước ngoài": "-",
    "vận tải hành khách": "-", "hành khách": "-", "luân chuyển hành khách": "-", "vận chuyển hành khách": "-",
    "đầu tư ra nước ngoài": "-", "hợp tác xã": "-", "hợp tác xã thành lập mới": "-",
    "vốn FDI thực hiện": "-", "vốn FDI giải ngân": "-",
    # industry: "Tính chung 8 tháng, sản xuất công nghiệp ước tăng 14%"
    "sản xuất công nghiệp": "iip_growth", "chỉ số phát triển sản xuất công nghiệp": "iip_growth",
    "ngành công nghiệp": None,
    # poverty: "còn 9.512 hộ nghèo, chiếm tỷ lệ 3,1%" (hộ cận nghèo is another rate)
    "hộ nghèo": "poor_households", "số hộ nghèo": "poor_households",
    "hộ cận nghèo": "-", "tỷ lệ hộ cận nghèo": "-", "số hộ cận nghèo": "-",
    # unemployment: the urban rate stands in for the working-age rate when a report gives no other
    # (flagged urban_rate; see _figure)
    "tỷ lệ thất nghiệp chung của lực lượng lao động trong độ tuổi": "unemployment_rate",
    "tỷ lệ thất nghiệp chung của lực lượng lao động": "unemployment_rate",
    "tỷ lệ thất nghiệp của lực lượng lao động trong độ tuổi lao động": "unemployment_rate",
    "tỷ lệ thất nghiệp trong độ tuổi": "unemployment_rate",
    "tỷ lệ thất nghiệp khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp ở khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp của lực lượng lao động trong độ tuổi khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp của lực lượng lao động trong độ tuổi ở khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp của lao động trong độ tuổi khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp trong độ tuổi lao động khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp trong độ tuổi lao động ở khu vực thành thị": "unemployment_urban",
    "tỷ lệ thất nghiệp của lực lượng lao động trong độ tuổi khu vực nông thôn": None,
    "tỷ lệ thất nghiệp khu vực nông thôn": None,
    # budget wording of the statistics offices
    "thu cân đối ngân sách nhà nước": "budget_revenue", "tổng thu cân đối ngân sách nhà nước": "budget_revenue",
    "thu cân đối NSNN": "budget_revenue", "tổng thu cân đối": "budget_revenue",
    "thu cân đối ngân sách địa phương": "budget_revenue_local",
    "thu ngân sách địa phương được hưởng": "budget_revenue_local",
    "tổng chi ngân sách nhà nước": "budget_expenditure", "tổng chi ngân sách địa phương": "budget_expenditure",
}

# Words of a context family that name a family member (or block) only inside that family.
_SECTORS = {
    "agriculture": ["khu vực nông, lâm nghiệp và thủy sản", "khu vực nông lâm nghiệp và thủy sản",
                    "khu vực nông nghiệp, lâm nghiệp và thủy sản", "nông, lâm nghiệp và thủy sản",
                    "nông nghiệp, lâm nghiệp và thủy sản", "khu vực nông, lâm, thủy sản",
                    "khu vực nông lâm thủy sản", "nông, lâm, thủy sản", "nông lâm thủy sản",
                    "khu vực nông, lâm nghiệp, thủy sản", "nông, lâm nghiệp, thủy sản",
                    "khu vực nông nghiệp", "khu vực I", "khu vực NLTS", "NLTS"],
    "industry_construction": ["khu vực công nghiệp và xây dựng", "khu vực công nghiệp - xây dựng",
                              "khu vực công nghiệp, xây dựng", "công nghiệp và xây dựng",
                              "công nghiệp - xây dựng", "công nghiệp, xây dựng", "khu vực II",
                              "khu vực CN-XD", "CN-XD", "khu vực công nghiệp xây dựng",
                              "công nghiệp xây dựng"],
    "services": ["khu vực dịch vụ", "dịch vụ", "khu vực III", "ngành dịch vụ"],
    "product_taxes": ["thuế sản phẩm trừ trợ cấp sản phẩm", "thuế sản phẩm trừ trợ cấp",
                      "thuế sản phẩm"],
    None: ["khu vực dịch vụ và thuế sản phẩm", "dịch vụ và thuế sản phẩm",
           "dịch vụ và thuế sản phẩm trừ trợ cấp sản phẩm",
           "khu vực dịch vụ và thuế sản phẩm trừ trợ cấp sản phẩm",
           "khu vực công nghiệp", "ngành công nghiệp", "công nghiệp chế biến, chế tạo",
           "công nghiệp chế biến chế tạo", "ngành xây dựng", "khai khoáng", "ngành khai khoáng",
           "khu vực nhà nước", "khu vực ngoài nhà nước", "khu vực có vốn đầu tư nước ngoài",
           "khu vực FDI", "kinh tế nhà nước", "kinh tế ngoài nhà nước"],
}
_FAMILY_CONTEXT = {
    # family -> {phrase: key or None}
    "grdp": {"cơ cấu kinh tế": "grdp_share", "cơ cấu GRDP": "grdp_share", "tỷ trọng": "grdp_share",
             "cơ cấu": "grdp_share", "quy mô": "grdp_current_prices",
             "bình quân đầu người": "grdp_per_capita"},
    "cpi": {"bình quân": "cpi_avg", "CPI bình quân": "cpi_avg", "chỉ số giá bình quân": "cpi_avg",
            "nhóm hàng": None, "nhóm": None},
    "ent": {"vốn đăng ký": "new_enterprises_capital", "tổng vốn đăng ký": "new_enterprises_capital",
            "tổng số vốn đăng ký": "new_enterprises_capital", "số vốn đăng ký": "new_enterprises_capital",
            "với tổng vốn": "new_enterprises_capital", "tổng vốn": "new_enterprises_capital",
            "số doanh nghiệp": "new_enterprises", "lao động đăng ký": None, "số lao động đăng ký": None},
    "poverty": {"tỷ lệ": "poverty_rate", "chiếm tỷ lệ": "poverty_rate"},
    "fdi": {"vốn đăng ký": "fdi_registered_capital", "tổng vốn đăng ký": "fdi_registered_capital",
            "cấp mới": "fdi_projects", "cấp phép mới": "fdi_projects", "được cấp mới": "fdi_projects",
            "cấp giấy chứng nhận đăng ký đầu tư": "fdi_projects", "dự án được cấp mới": "fdi_projects",
            "vốn đầu tư": "fdi_registered_capital", "tổng vốn đầu tư đăng ký": "fdi_registered_capital",
            "tổng vốn đăng ký cấp mới": "fdi_registered_capital", "số vốn": "fdi_registered_capital",
            "lượt dự án": None, "điều chỉnh": None, "điều chỉnh vốn": None, "điều chỉnh tăng vốn": None,
            "tăng vốn": None, "vốn tăng thêm": None, "vốn điều chỉnh": None, "góp vốn": None,
            "mua cổ phần": None, "vốn thực hiện": None, "giải ngân": None,
            "vốn đăng ký cấp mới": "fdi_registered_capital", "tổng vốn đầu tư": "fdi_registered_capital",
            "tổng vốn": "fdi_registered_capital", "số vốn đăng ký": "fdi_registered_capital",
            "vốn đầu tư đăng ký": "fdi_registered_capital", "dự án cấp mới": "fdi_projects",
            "dự án mới": "fdi_projects", "số dự án": "fdi_projects", "dự án": "fdi_projects"},
    "tour": {"doanh thu": "tourism_revenue", "tổng thu": "tourism_revenue",
             "tổng doanh thu": "tourism_revenue", "lượt khách": "visitors", "lượt": "visitors"},
}
_FAMILY_OF = {
    "grdp": "grdp", "grdp_growth": "grdp", "grdp_current_prices": "grdp",
    "grdp_constant_prices": "grdp", "grdp_per_capita": "grdp",
    "cpi_yoy": "cpi", "cpi_mom": "cpi", "cpi_avg": "cpi",
    "new_enterprises": "ent", "new_enterprises_capital": "ent",
    "fdi": "fdi", "fdi_registered_capital": "fdi", "fdi_projects": "fdi",
    "poor_households": "poverty", "poverty_rate": "poverty",
    "visitors": "tour", "tourism_revenue": "tour",
}
for _s in ("agriculture", "industry_construction", "services", "product_taxes"):
    _FAMILY_OF[f"grdp_growth_{_s}"] = "grdp"
    _FAMILY_OF[f"grdp_share_{_s}"] = "grdp"

# Keys whose `value` is itself a change (in %): "tăng X%" is the value.
_GROWTH_KEYS = {"grdp", "grdp_growth", "iip_growth", "cpi_yoy", "cpi_mom", "cpi_avg",
                "grdp_growth_agriculture", "grdp_growth_industry_construction",
                "grdp_growth_services", "grdp_growth_product_taxes"}
# Keys whose `value` is a level in % (a share or a rate): "chiếm/là/còn/đạt X%" is the value.
_LEVEL_PCT_KEYS = {"poverty_rate", "unemployment_rate", "grdp_share_agriculture",
                   "grdp_share_industry_construction", "grdp_share_services",
                   "grdp_share_product_taxes"}

# Units written after a number (folded text), longest first: (pattern, unit code, multiplier).
# A code of None rejects the number (percentage points, ratios, yields, per-year averages).
_UNIT_TABLE: list[tuple[str, str | None, float]] = [
    (r"diem\s+phan\s+tram|diem\s*%|d\s?pt\b|diem\b", None, 1),
    (r"%\s*/\s*nam|%\s*mot\s+nam|%\s*moi\s+nam", None, 1),
    (r"%", "pct", 1),
    (r"phan\s+tram\b", "pct", 1),
    (r"lan\b", None, 1),
    (r"ta\s*/\s*ha\b|kg\s*/|tan\s*/\s*ha\b|dong\s*/\s*kg|dong\s*/\s*lit|usd\s*/\s*tan", None, 1),
    (r"(?:nghin|ngan)\s+(?:ty|ti)\s+(?:dong|vnd|d)\b|(?:nghin|ngan)\s+(?:ty|ti)\b", "tn_vnd", 1),
    (r"trieu\s+(?:dong|d)\s*/\s*(?:nguoi|ng)(?:\s*/\s*nam)?|tr\s*d\s*/\s*nguoi|trd\s*/\s*nguoi",
     "mn_vnd_per_person", 1),
    (r"usd\s*/\s*nguoi(?:\s*/\s*nam)?|do\s+la\s+my\s*/\s*nguoi", "usd_per_person", 1),
    (r"(?:ty|ti)\s+(?:usd|do\s+la(?:\s+my)?)\b", "bn_usd", 1),
    (r"trieu\s+(?:usd|do\s+la(?:\s+my)?)\b|tr\s+usd\b", "mn_usd", 1),
    (r"(?:nghin|ngan)\s+(?:usd|do\s+la(?:\s+my)?)\b", "th_usd", 1),
    (r"usd\b|do\s+la\s+my\b", "usd", 1),
    (r"(?:ty|ti)\s+(?:dong|vnd|d)\b|(?:ty|ti)\b", "bn_vnd", 1),
    (r"trieu\s+(?:dong|vnd|d)\b|tr\s*d\b|trd\b", "mn_vnd", 1),
    (r"(?:nghin|ngan)\s+(?:dong|vnd)\b", "vnd", 1e3),
    (r"(?:dong|vnd)\b", "vnd", 1),
    (r"luot\s+(?:nguoi\s+)?lao\s+dong\b", "persons", 1),
    (r"trieu\s+luot(?:\s+(?:khach|nguoi))?\b", "mn_visits", 1),
    (r"(?:nghin|ngan)\s+luot(?:\s+(?:khach|nguoi))?\b", "th_visits", 1),
    (r"van\s+luot(?:\s+(?:khach|nguoi))?\b", "visits", 1e4),
    (r"luot\s+khach\b|luot\s+nguoi\b|luot\b", "visits", 1),
    (r"trieu\s+(?:nguoi|lao\s+dong)\b", "persons", 1e6),
    (r"(?:nghin|ngan)\s+(?:nguoi|lao\s+dong)\b", "th_persons", 1),
    (r"nguoi\s+lao\s+dong\b|nguoi\b|lao\s+dong\b", "persons", 1),
    (r"(?:nghin|ngan)\s+(?:doanh\s+nghiep|dn)\b", "enterprises", 1e3),
    (r"doanh\s+nghiep\b|dn\b", "enterprises", 1),
    (r"du\s+an\b", "projects", 1),
    (r"trieu\s+tan\b", "tonnes", 1e6),
    (r"(?:nghin|ngan)\s+tan\b", "th_tonnes", 1),
    (r"van\s+tan\b", "tonnes", 1e4),
    (r"tan\b", "tonnes", 1),
    (r"ha\b|hecta\b|hec\s+ta\b", "ha", 1),
    (r"(?:nghin|ngan)\s+ho\b", "households", 1e3),
    (r"ho\b", "households", 1),
]
_UNIT_RE = re.compile(r"\s{0,3}(?:" + "|".join(f"(?P<u{i}>{p})" for i, (p, _, _) in enumerate(_UNIT_TABLE))
                      + ")")

# Numbers in the normalised text (not folded: separators matter). Qualifier words before them.
_NUM_RE = re.compile(
    r"(?<![\w.,/])"
    r"(?:(?P<q>trên dưới|hơn|gần|khoảng|trên|dưới|xấp xỉ|gần như)\s+)?"
    r"(?P<sign>[-−–+](?=\d))?"
    r"(?P<n1>\d+(?:[.,]\d+)*)"
    r"(?:\s?%?\s?(?:-|–|÷|đến)\s?(?P<n2>\d+(?:[.,]\d+)*))?"
    r"(?![\w/]|[.,]\d)",
    re.IGNORECASE,
)

_STATUS_RE = re.compile(
    r"\b(?P<F>du\s+uoc|du\s+kien|kha\s+nang\s+dat|uoc\s+ca\s+nam|du\s+tinh)\b"
    r"|\b(?P<E>uoc\s+tinh|uoc\s+dat|uoc\s+thuc\s+hien|uoc)\b"
    r"|\b(?P<P>so\s+bo)\b"
    r"|\b(?P<A>chinh\s+thuc|thuc\s+hien)\b"
)

# Words that turn what follows into a plan, target, scenario or forecast.
_PLAN_RE = re.compile(
    r"\b(?:ke\s+hoach|kh|muc\s+tieu|phan\s+dau|kich\s+ban|chi\s+tieu|nghi\s+quyet|du\s+toan"
    r"|dinh\s+huong|du\s+bao|tam\s+nhin|de\s+ra|dat\s+ra|giao|dang\s+ky\s+thi\s+dua|nhiem\s+vu"
    r"|tiep\s+tuc\s+phan\s+dau|can\s+dat|phai\s+dat|yeu\s+cau)\b"
)
# Comparisons that make a figure not a figure of the province's own period.
_COMPARATIVE_RE = re.compile(
    r"\b(?:cao\s+hon|thap\s+hon|nhanh\s+hon|cham\s+hon|hon\s+muc|so\s+voi\s+muc|muc\s+tang\s+cua"
    r"|(?<!so\svoi\s)(?<!so\s)cung\s+ky(?:\s+nam\s+(?:truoc|ngoai|\d{4}))?\s+(?:da\s+)?(?:tang|giam)"
    r"|xep\s+thu|dung\s+thu|dong\s+gop|lam\s+tang|lam\s+giam|keo\s+giam|tuong\s+duong|tuong\s+ung"
    r"|binh\s+quan\s+hang\s+nam|binh\s+quan\s+moi\s+nam|binh\s+quan\s+giai\s+doan|moi\s+nam"
    r"|giai\s+doan|ca\s+nuoc|toan\s+quoc|vung|gdp|gap)\b"
)
_NATIONAL_RE = re.compile(r"\b(?:ca\s+nuoc|toan\s+quoc|gdp|tong\s+san\s+pham\s+trong\s+nuoc"
                          r"|63\s+tinh|34\s+tinh|cac\s+dia\s+phuong|binh\s+quan\s+chung"
                          r"|\d+\s*/\s*\d+\s+(?:dia\s+phuong|tinh)|\d+\s+dia\s+phuong"
                          r"|\d+\s+tinh\s*,?\s*thanh(?:\s+pho)?)\b")

# Comparison phrase after a number: "so với ...", or a plan word straight after it.
_CMP_RE = re.compile(
    r"\b(?:so\s+(?:voi\s+)?|so\s+cung\s+ky|bang\s+)?"
    r"(?P<what>binh\s+quan\s+cung\s+ky(?:\s+nam\s+(?:truoc|\d{4}))?"
    r"|thang\s+truoc(?:\s+do)?|thang\s+lien\s+ke|ky\s+truoc|quy\s+truoc"
    r"|thang\s+12\s*(?:/\s*\d{4}|nam\s+(?:truoc|\d{4}))?|cuoi\s+nam\s+(?:truoc|\d{4})|dau\s+nam"
    r"|thang\s+\d{1,2}\s*[/.\-]\s*\d{4}|thang\s+\d{1,2}\s+nam\s+(?:truoc|\d{4})|thang\s+\d{1,2}\b"
    r"|thang\s+(?:muoi\s+mot|muoi\s+hai|gieng|chap|mot|hai|ba|tu|nam|sau|bay|tam|chin|muoi)\b"
    r"|cung\s+thang(?:\s+nam\s+(?:truoc|ngoai|\d{4}))?"
    r"|cung\s+ky(?:\s+nam\s+(?:truoc|ngoai|\d{4}))?|ck\b|thang\s+cung\s+ky(?:\s+nam\s+truoc)?"
    r"|cung\s+thoi\s+diem(?:\s+nam\s+truoc)?|nam\s+truoc|nam\s+ngoai|nam\s+\d{4}"
    r"|quy\s+[ivx1-4]+\s*(?:/\s*\d{4}|nam\s+(?:truoc|\d{4}))"
    r"|ke\s+hoach|kh\b|du\s+toan|chi\s+tieu|nghi\s+quyet|muc\s+tieu|kich\s+ban)"
)

_VERB_RE = re.compile(
    r"\b(?P<v>tang\s+truong\s+am|tang\s+truong|tang|giam|dat\s+muc|dat|bang|vuot|chiem|con"
    r"|la|o\s+muc|muc|dat\s+duoc|thu\s+duoc|thu\s+hut|don|phuc\s+vu|giai\s+ngan|co|voi)\b"
)

# Words that may stand between a subject and its number, or alone before a number (folded).
_FILLER = set("""
uoc tinh dat thuc hien so bo du kien kha nang chinh thuc sau khi
tang giam bang vuot chiem con la co voi o muc dat duoc thu hut don phuc vu giai ngan
tong so cua tinh thanh pho tp toan tren dia ban ca trong do rieng chung luy ke tu dau
nam den nay het ngay thang quy nua cuoi i ii iii iv ky bao cao khoang hon gan duoi xap xi
tiep tuc van cung da duoc chi nhe manh nhieu it hang hoa truong am dien lien ke nhin
chung tinh gia so sanh hien hanh ty trong grdp the luc theo nam nay tuong doi khoang
vao tai cac doanh nghiep dia phuong va lai len xuong muc o mot phan ke du uoc
tham quan den voi tong hop thu tren cho mat tro ve moi xu huong on dinh diem du lich
nhung trong khi dong thoi nguoi
truoc dieu kien qua toi dang ghi nhan them nhieu hop khu vuc vuc so gan day
gom bao nhu sau the tuong duong ung
""".split())
# ... but never these, which name a sub-component, another subject or a comparison.
_NOT_FILLER = {"khu", "vuc"}



# ----------------------------------------------------------------------------- catalog index

@dataclass(frozen=True)
class _AliasHit:
    start: int
    end: int
    key: str | None  # None: a blocking phrase
    kind: str  # alias | sector | context


@lru_cache(maxsize=1)
def _alias_tables() -> tuple[re.Pattern, dict[str, str | None]]:
    table: dict[str, str | None] = {}
    for ind in indicators().values():
        for name in (ind.name_vi, *ind.aliases):
            k = fold(name)
            # catalog aliases may end with the verb ("GRDP tăng", "khu vực dịch vụ chiếm"): the
            # reader finds verbs itself.
            k = re.sub(r"\s+(?:tang|chiem|giam)$", "", k)
            k = re.sub(r"\s+so\s+(?:voi\s+)?(?:cung\s+ky|thang\s+truoc).*$", "", k)
            if k and k not in table:
                table[k] = ind.key
    for name, key in _EXTRA_ALIASES.items():
        table[fold(name)] = key
    # CPI keys: the comparison decides, so every CPI name is the family head cpi_yoy unless it
    # says "bình quân".
    for k, v in list(table.items()):
        if v in ("cpi_mom",):
            table[k] = "cpi_yoy"
    # sector names are context words only (see _FAMILY_CONTEXT); the catalog's "khu vực dịch vụ"
    # style aliases would otherwise read "dịch vụ" anywhere as GRDP.
    sector_words = {fold(p) for ps in _SECTORS.values() for p in ps}
    for k in list(table):
        if k in sector_words and table[k] not in (None, "-"):
            del table[k]
    pat = re.compile(r"(?<![a-z0-9])" + _trie_regex(table, r"[\s/,()]+"))
    return pat, table


@lru_cache(maxsize=1)
def _context_tables() -> dict[str, tuple[re.Pattern, dict[str, str | None]]]:
    out = {}
    fam_phr: dict[str, dict[str, str | None]] = {f: {fold(p): k for p, k in d.items()}
                                                 for f, d in _FAMILY_CONTEXT.items()}
    g = fam_phr["grdp"]
    for sector, phrases in _SECTORS.items():
        for p in phrases:
            g[fold(p)] = f"sector:{sector}" if sector else None
    for fam, d in fam_phr.items():
        pat = re.compile(r"(?<![a-z0-9])" + _trie_regex(d, r"[\s/,]+"))
        out[fam] = (pat, d)
    return out


_PUNCT_SPACE = str.maketrans({c: " " for c in "/,;:()"})


def _norm_key(folded: str) -> str:
    return " ".join(folded.translate(_PUNCT_SPACE).split())


# ----------------------------------------------------------------------------- provinces

@lru_cache(maxsize=4096)
def _province_names(on: date) -> tuple[re.Pattern | None, dict[str, str]]:
    """Folded names (and variants) of the units valid on ``on`` -> matching pattern + name map."""
    df = provinces_on(on)
    pset = "2025" if on >= date(2025, 7, 1) else "2008"
    return _province_names_of(tuple((str(r.name_vi), str(r.name_ascii)) for r in df.itertuples()), pset)


@lru_cache(maxsize=16)
def _province_names_of(units_: tuple[tuple[str, str], ...], pset: str) -> tuple[re.Pattern | None, dict[str, str]]:
    names: dict[str, str] = {}
    prefix = re.compile(r"^(?:tinh|thanh pho)\s+")
    for name_vi, name_ascii in units_:
        for n in (name_vi, name_ascii):
            k = prefix.sub("", fold(str(n)))
            if k:
                names.setdefault(k, name_vi)
    path = DATA / "name_variants.csv"
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("set") != pset:
                    continue
                k = prefix.sub("", fold(r["variant"]))
                if k and len(k) >= 3 and "cu" not in k.split():
                    names.setdefault(k, r["variant"])
    if not names:  # pragma: no cover
        return None, {}
    pat = re.compile(r"(?<![a-z0-9])(?:(?:tinh|thanh\s+pho|tp)\s+)?(?P<n>"
                     + _trie_regex(names, r"\s+") + ")")
    return pat, names


@lru_cache(maxsize=2048)
def _resolve(name: str, on: date) -> ProvinceRef | None:
    try:
        return resolve_province(name, on=on)
    except DiaphuongError:
        return None


# ----------------------------------------------------------------------------- periods

# A period phrase right after these words belongs to a comparison, a plan or a span of years.
_PERIOD_NOT_OWN = re.compile(
    r"(?:\bso(?:\s+voi)?|\bcung\s+ky|\bke\s+hoach|\bkh|\bdu\s+toan|\bnghi\s+quyet|\bchi\s+tieu"
    r"|\bmuc\s+tieu|\bkich\s+ban|\bgiai\s+doan|\bvoi|\bhon|\bthua|\bbang|\bgap|\bnhu"
    r"|\bcua|\bsau|\btruoc|\btu)(?:\s+(?:thang|quy|nam|cung|ky|ca|[0-9]+|[ivx]+|/))*\s*$")


_PERIOD_WORD = re.compile(r"\b(?:thang|quy|qui|nam|nua)\b")


def _period_phrases(text: str, ft: str) -> list[tuple[int, int, str]]:
    """find_periods over the sentence, when it has a period word at all."""
    if _PERIOD_WORD.search(ft) is None:
        return []
    return find_periods(text)


def _find_periods(text: str, doc: Period | None, ftext: str | None = None) -> list[tuple[int, int, str]]:
    """(start, end, period code) of every period phrase of ``text`` (diaphuong.text.periods_vi)
    that names the period of a figure: not inside a comparison ("so với cùng kỳ năm 2023") or a
    plan ("kế hoạch năm 2024"). A phrase without a year takes the document's. Cumulative phrases
    ("đến hết tháng 10" -> ten months) are read by periods_vi."""
    out = []
    ft = ftext if ftext is not None else _fold_keep(text)
    for s, e, code in _period_phrases(text, ft):
        before = ft[max(0, s - 40):s]
        if _PERIOD_NOT_OWN.search(before):
            continue
        if code.startswith((YEAR_PLACEHOLDER, PREV_PLACEHOLDER)):
            if doc is None:
                continue
            code = fill_year(code, doc.year)
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        out.append((s, e, p.code))
    return out


# ----------------------------------------------------------------------------- sentences

_ABBREV = re.compile(r"(?:\b(?:TP|Tp|tp|TX|Tx|TT|Q|P|TS|ThS|PGS|GS|BS|KS|St|Mr|Ms|No|Th|v\.v|Ths)"
                     r"|\b[A-ZĐ]|^\s*(?:\d{1,2}(?:\.\d{1,2})*|[IVX]{1,4}|[a-zđ]))\.$")
_SENT_END = re.compile(r"[.!?…]+[\"”’)]*\s+(?=[\"“(]?[A-ZÀ-ỸĐ0-9])")


_LIST_START = re.compile(r"\s*(?:[-+•*–]|\d{1,2}[.)]\s|[a-zđ][.)]\s|[IVX]{1,4}[.)]\s)")
_LINE_END_STOP = re.compile(r"[.!?…]\s*$")
_LINE_END_SOFT = re.compile(r"[:;]\s*$")


def _wrap_width(lengths: list[int]) -> float | None:
    """The line width of a hard-wrapped text (a PDF's text layer, a page copied line by line):
    most lines about as long as each other and short; None for a text with one paragraph a line."""
    longish = sorted(n for n in lengths if n >= 40)
    if len(longish) < 5:
        return None
    med = longish[len(longish) // 2]
    if med > 130:
        return None
    near = sum(1 for n in longish if 0.8 * med <= n <= 1.2 * med)
    return float(med) if near >= 0.6 * len(longish) else None


def _lines(text: str) -> list[tuple[int, int]]:
    """(start, end) of every logical line (a paragraph). A hard-wrapped line goes on in the next
    physical line when the next line starts no list item and is not empty, and
    * the line does not end a sentence (no ``. ! ?`` at its end; after ``: ;`` only when the next
      line starts in lower case), and the next line starts in lower case or with a digit, or the
      line itself is long (a wrapped line, not a heading); or
    * in a hard-wrapped text, the line ends a sentence but runs to the full width (the paragraph
      goes on: its last line would be short)."""
    phys = []
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        phys.append((pos, pos + len(body), body))
        pos += len(line)
    width = _wrap_width([len(b.strip()) for _, _, b in phys])
    out: list[list[int]] = []
    prev: str | None = None  # the previous physical line, when the paragraph may go on
    for start, end, body in phys:
        stripped = body.strip()
        if not stripped:
            prev = None
            continue
        if prev is not None and out and not _LIST_START.match(body) and body.count("|") < 2 \
                and prev.count("|") < 2:
            first = stripped[0]
            p = prev.strip()
            lower_or_digit = first.islower() or first.isdigit()
            if _LINE_END_STOP.search(p):
                join = width is not None and len(p) >= 0.85 * width
            elif _LINE_END_SOFT.search(p):
                join = first.islower()
            else:
                join = lower_or_digit or (width is not None and len(p) >= 0.7 * width)
            if join:
                out[-1][1] = end
                prev = body
                continue
        out.append([start, end])
        prev = body
    return [(a, b) for a, b in out]


def _sentences(text: str) -> list[tuple[int, int, int]]:
    """(start, end, paragraph number) of every sentence; the end of a logical line (see
    :func:`_lines`) always ends one."""
    out = []
    for para, (a, b) in enumerate(_lines(text)):
        body = text[a:b]
        s = 0
        for m in _SENT_END.finditer(body):
            head = body[s:m.start() + 1]
            if _ABBREV.search(head):
                continue
            out.append((a + s, a + m.start() + len(m.group(0).rstrip()), para))
            s = m.end()
        if body[s:].strip():
            out.append((a + s, b, para))
    # trim spaces
    res = []
    for a, b, p in out:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            res.append((a, b, p))
    return res


# ----------------------------------------------------------------------------- figures

@dataclass
class _Num:
    start: int
    end: int  # end of the number (and range)
    unit_end: int
    value: float
    qualifier: str | None
    original: str
    unit: str | None  # unit code, None = rejected unit
    mult: float
    unit_text: str
    has_unit: bool
    in_paren: bool = False
    ambiguous: bool = False
    signed: bool = False
    alt_value: float | None = None  # the other reading of "126,484" (thousands, not decimals)


@dataclass
class _Fig:
    key: str
    measure: str
    value: float
    unit: str
    start: int
    end: int
    status: str
    qualifier: str | None
    original_value: str
    original_unit: str
    period: str | None
    province: ProvinceRef | None
    flags: list[str] = field(default_factory=list)


@dataclass
class _Ctx:
    """What one sentence hands to the next in the same paragraph."""
    family: str | None = None
    subject: str | None = None
    status: str | None = None
    period: str | None = None
    province: ProvinceRef | None = None
    plan: bool = False
    plan_list: bool = False  # a list item under a heading of targets ("Các chỉ tiêu chủ yếu năm 2018:")
    topic: str | None = None  # the last indicator the text named (for province lists)
    grdp_para: bool = False  # the paragraph spoke of GRDP ("khu vực dịch vụ tăng ..." is its sector)


def _parse_num(m: re.Match, convention: str) -> tuple[float, str | None, bool] | None:
    q = m.group("q")
    try:
        p1 = parse_number(m.group("n1"), convention=convention)
    except NumberFormatError:
        return None
    if p1.is_symbol or math.isnan(p1.value):
        return None
    value = p1.value
    qualifier = q.lower() if q else None
    if qualifier:
        qualifier = {"gần như": "gần"}.get(qualifier, qualifier)
    if m.group("n2"):
        try:
            p2 = parse_number(m.group("n2"), convention=convention)
        except NumberFormatError:
            return None
        if not (p2.value > value):
            return None
        value = (value + p2.value) / 2
        qualifier = "range"
    if m.group("sign") and m.group("sign") in "-−–":
        value = -value
    return value, qualifier, p1.ambiguous


def _numbers(sent: str, fsent: str, convention: str) -> list[_Num]:
    out = []
    for m in _NUM_RE.finditer(sent):
        # dates and codes: 28/6, 01/NQ-CP, 9/2024
        if m.end() < len(sent) and sent[m.end()] in "/":
            continue
        if m.start() > 0 and sent[m.start() - 1] in "/-" and not m.group("sign"):
            continue
        um = _UNIT_RE.match(fsent, m.end())
        if not um:
            continue  # a number without a unit (a year, a count of things) is no figure
        g = um.lastgroup
        _, unit, mult = _UNIT_TABLE[int(g[1:])]
        has_unit = True
        unit_end = um.end()
        unit_text = sent[um.start(g):um.end()]
        parsed = _parse_num(m, convention)
        if parsed is None:
            continue
        value, qualifier, ambiguous = parsed
        n = _Num(m.start(), m.end(), unit_end, value, qualifier, m.group(0).strip(), unit, mult,
                 unit_text, has_unit, ambiguous=ambiguous, signed=m.group("sign") is not None)
        n1 = m.group("n1")
        if m.group("n2") is None and re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", n1) and len(set(re.findall(r"[.,]", n1))) == 1:
            # "126,484" in a text with decimal commas may still be 126 484 (a thousands comma)
            try:
                other = parse_number(n1, convention="en" if convention == "vi" else "vi")
                if not math.isnan(other.value) and other.value != abs(value):
                    n.alt_value = other.value * (-1 if value < 0 else 1)
            except NumberFormatError:
                pass
        out.append(n)
    # small counts written as words before a count unit: "được chín dự án", "hai doanh nghiệp"
    for m in _WORD_NUM_RE.finditer(fsent):
        um = _UNIT_RE.match(fsent, m.end("w"))
        if not um:
            continue
        for i, (_, code, mul) in enumerate(_UNIT_TABLE):
            if um.group(f"u{i}") is not None:
                if code in ("projects", "enterprises"):
                    out.append(_Num(m.start("w"), m.end("w"), um.end(), float(_WORD_NUMS[m.group("w")]), None,
                                    sent[m.start("w"):m.end("w")], code, mul,
                                    sent[um.start(f"u{i}"):um.end()], True))
                break
    if len(out) > 1:
        out.sort(key=lambda n: n.start)
    return out


_WORD_NUMS = {"mot": 1, "hai": 2, "ba": 3, "bon": 4, "nam": 5, "sau": 6, "bay": 7, "tam": 8, "chin": 9, "muoi": 10}
_WORD_NUM_RE = re.compile(r"(?<![a-z0-9])(?P<w>mot|hai|ba|bon|nam|sau|bay|tam|chin|muoi)"
                          r"(?=\s+(?:du\s+an|doanh\s+nghiep)\b)")


def _route_unit(key: str, num: _Num, head_f: str, sent_f: str) -> tuple[str, float] | None:
    """The family member whose unit family fits the number, and the value in its unit."""
    inds = indicators()
    ufam = units()[num.unit].family if num.unit in units() else None
    base_val = num.value * num.mult
    fam = _FAMILY_OF.get(key)
    candidates = [key]
    if fam:
        candidates += [k for k, f in _FAMILY_OF.items() if f == fam and k != key and k in inds]
    for k in candidates:
        if k == "grdp":
            continue
        ind = inds.get(k)
        if ind is None:
            continue
        target = ind.unit
        tfam = units()[target].family
        if k == "grdp_per_capita" and ufam == "vnd" and num.unit == "mn_vnd":
            return k, base_val
        if ufam == tfam:
            if fam == "grdp" and k in ("grdp_current_prices", "grdp_constant_prices"):
                continue  # decided by the price basis below
            try:
                return k, convert(base_val, num.unit, target)
            except UnitMismatch:  # pragma: no cover
                continue
    if fam == "grdp" and ufam == "vnd":
        # the price basis the clause names ("; theo giá so sánh đạt ..."), else the sentence's
        basis = None
        for where in (head_f, sent_f):
            if re.search(r"\bgia\s+so\s+sanh\b", where):
                basis = "grdp_constant_prices"
            if re.search(r"\bgia\s+hien\s+hanh\b|\bquy\s+mo\b", where):
                basis = "grdp_current_prices" if basis is None else None
            if basis is not None:
                break
        if key in ("grdp_current_prices", "grdp_constant_prices") and basis is None:
            basis = key
        if basis:
            return basis, convert(base_val, num.unit, inds[basis].unit)
    return None


def _comparator(fs: str, a: int, b: int) -> tuple[str | None, re.Match | None]:
    """The comparison named in folded text fs[a:b] (just after a number). A bare month after a
    number is the figure's period ("132 triệu USD trong tháng 9"), not a comparison."""
    m = _CMP_RE.search(fs, a, b)
    if not m:
        return None, None
    if re.match(r"thang\s+(?!truoc|lien)", m.group("what")) and not m.group(0).startswith(("so", "bang")):
        return None, None
    # only if it comes close after the number (a few words)
    gap = fs[a:m.start()].split()
    if len(gap) > 4:
        return None, None
    return _cmp_kind(m.group("what")), m


def _cmp_kind(what: str) -> str:
    w = " ".join(what.split())
    if w.startswith("binh quan"):
        return "avg"
    if w.startswith(("thang truoc", "thang lien ke")):
        return "mom"
    if w.startswith(("ky truoc", "quy truoc", "kich ban")):
        return "drop"
    if w.startswith(("ke hoach", "kh", "du toan", "chi tieu", "nghi quyet", "muc tieu")):
        return "plan"
    if w.startswith(("dau nam", "cuoi nam")):
        return "ytd"
    if w.startswith("cung thang"):
        return "yoy"
    m = re.match(r"thang (\d{1,2}|muoi mot|muoi hai|gieng|chap|mot|hai|ba|tu|nam|sau|bay|tam|chin|muoi)"
                 r"(?: ?[/.\-] ?(\d{4})| nam (truoc|\d{4}))?", w)
    if m:
        mo = m.group(1)
        mo = mo if mo.isdigit() else str(_MONTH_WORDS[mo])
        return f"month:{mo}:{m.group(2) or m.group(3) or ''}"
    if w.startswith("quy"):
        return "yoy"
    return "yoy"


def _month_cmp(kind: str, period: str | None) -> str:
    """Resolve "so với tháng N[/YYYY]" against the figure's period."""
    _, mo, yr = kind.split(":")
    mo = int(mo)
    try:
        p = parse_period(period) if period else None
    except PeriodError:
        p = None
    if p is None:
        return "drop"
    fig_year, fig_month = p.year, p.last_month
    year = None
    if yr == "truoc":
        year = fig_year - 1
    elif yr:
        year = int(yr)
    if mo == fig_month and (year == fig_year - 1):
        return "yoy"
    if fig_month == 1 and mo == 12 and year in (fig_year - 1, None):
        return "mom"  # January against December: the previous month (and the year to date)
    if mo == 12 and (year == fig_year - 1 or (year is None and fig_month != 12 and p.kind == "month")):
        return "ytd" if fig_month != 12 else "yoy"
    if (mo == fig_month - 1 and year in (None, fig_year)) or (fig_month == 1 and mo == 12 and year == fig_year - 1):
        return "mom"
    return "drop"


def _status_of(fs: str, upto: int, inherited: str | None,
               found: list[tuple[int, str]] | None = None) -> str | None:
    """The last status word before ``upto`` (``found``: the sentence's status words, if known)."""
    last = None
    if found is None:
        found = [(m.end(), m.lastgroup) for m in _STATUS_RE.finditer(fs)]
    for end, g in found:
        if end > upto:
            break
        last = g
    return last or inherited


def _head_ok(words: list[str]) -> bool:
    for w in words:
        if w.isdigit() or w in ("%", "/"):
            continue
        if w not in _FILLER or w in _NOT_FILLER:
            return False
    return True


def _tokens(s: str) -> list[str]:
    return s.translate(_PUNCT_SPACE).replace("%", " % ").split()


def _masked(fs: str, a: int, b: int, spans: list[tuple[int, int]]) -> str:
    """fs[a:b] with the given spans blanked."""
    chunk = fs[a:b]
    for s, e in spans:
        if s < b and e > a:
            s2, e2 = max(s, a) - a, min(e, b) - a
            chunk = chunk[:s2] + " " * (e2 - s2) + chunk[e2:]
    return chunk


_SPLIT_CHARS = set(",;:()[]")
_VA_RE = re.compile(r"\s(?:va|nhung|con|dong\s+thoi|trong\s+khi)\s+(?=(?:(?:uoc|du\s+kien|du\s+uoc|da)\s+)?"
                    r"(?:tang|giam|dat|bang|vuot|chiem|so\s+voi)\b|(?:thu|chi|kim|tong|von|khach|doanh|so|ty)\b)")


_CUT_RE = re.compile(r"[,;:()\[\]]")
_PAREN_RE = re.compile(r"[()\[\]]")


def _segments(sent: str, fs: str, protected: list[tuple[int, int]],
              numbers: list[_Num]) -> list[tuple[int, int, bool]]:
    """Clauses of a sentence: (start, end, inside parentheses). Parentheses without a figure
    ("(GRDP)", "(CPI)") do not cut."""
    def is_prot(i: int) -> bool:
        for s_, e_ in protected:
            if s_ <= i < e_:
                return True
        return False

    transparent: set[int] = set()
    stack: list[int] = []
    for m in _PAREN_RE.finditer(sent):
        i = m.start()
        if sent[i] in "([":
            stack.append(i)
        elif stack:
            o = stack.pop()
            if not any(o < n.start < i for n in numbers):
                transparent.add(o)
                transparent.add(i)
    cuts: list[tuple[int, str]] = []
    n = len(sent)
    for m in _CUT_RE.finditer(sent):
        i = m.start()
        c = sent[i]
        if i in transparent or is_prot(i):
            continue
        if c == "," and 0 < i < n - 1 and sent[i - 1].isdigit() and sent[i + 1].isdigit():
            continue
        cuts.append((i, c))
    for m in _VA_RE.finditer(fs):
        if not is_prot(m.start() + 1):
            cuts.append((m.start(), " "))
    cuts.sort()
    segs = []
    start = 0
    depth = 0
    for pos, c in cuts:
        segs.append((start, pos, depth > 0))
        if c in "([":
            depth += 1
        elif c in ")]" and depth > 0:
            depth -= 1
        start = pos + 1
    segs.append((start, n, depth > 0))
    return [(a_, b_, p_) for a_, b_, p_ in segs if b_ > a_]


_CMP_TAIL = re.compile(
    r"(?:\s+(?:nam\s+\d{4}|nam\s+nay|ca\s+nam|nam|de\s+ra|dat\s+ra|duoc\s+giao|giao|trung\s+uong"
    r"|hoi\s+dong\s+nhan\s+dan|uy\s+ban\s+nhan\s+dan|va|cap|thuc\s+hien|xay\s+dung|kh"
    r"|hdnd|ubnd|tinh|thanh\s+pho|thu\s+tuong(?:\s+chinh\s+phu)?|chinh\s+phu|dia\s+phuong|von"
    r"|dieu\s+chinh|dau\s+nam|truoc|ngoai|cung\s+ky|\d{1,2}\s*/\s*\d{4}|/|\d{4}))*")
_NEUTRAL = re.compile(r"\b(?:so|bo)\s+ke\s+hoach\s+(?:va|-)?\s*dau\s+tu\b|\bke\s+hoach\s+va\s+dau\s+tu\b"
                      r"|\bsau\s+khi\b|\bcong\s+don\b"
                      # results of the plan are outturns: "Kết quả (thực hiện) các chỉ tiêu ..."
                      r"|\b(?:ket\s+qua|tinh\s+hinh)(?:\s+thuc\s+hien)?(?:\s+(?:cac|mot\s+so))?"
                      r"\s+(?:chi\s+tieu|ke\s+hoach|nhiem\s+vu)\b")
# A heading that opens a list of targets: its list items are plans, not outturns.
_LIST_ITEM = re.compile(r"\s*(?:[-+•*–]|\d{1,2}[.)]|[a-zđ][.)]|[IVX]{1,4}[.)])\s")
# A sentence that goes on with the one before: a breakdown ("Trong đó, ...", "Riêng ...") keeps its
# subject, period, status and plan; a cumulative figure ("Tính chung 9 tháng, ...", "Lũy kế ...")
# keeps the subject only: it names its own period and its own status.
_STARTS_SUB = re.compile(r"\s*(?:trong\s+do|rieng|cu\s+the|dong\s+thoi|ngoai\s+ra)\b")
_STARTS_CUM = re.compile(r"\s*(?:tinh\s+chung|luy\s+ke|tinh\s+den|cong\s+don|ca\s+nam|tu\s+dau\s+nam"
                         r"|(?:tinh\s+)?den\s+ngay|(?:tinh\s+)?den\s+het|het)\b")


def _cum_through(p: Period | None) -> str | None:
    """The months from January to the end of the report's period ("Lũy kế từ đầu năm đến ngày
    20/11, ..." in the November report -> 11 months; in the Q3 report -> 9 months)."""
    if p is None or p.last_month == 1:
        return None
    n = p.last_month
    return {12: f"{p.year}", 3: f"{p.year}-Q1", 6: f"{p.year}-H1"}.get(n, f"{p.year}-{n}M")


def _continuation(fs: str) -> str | None:
    if _STARTS_SUB.match(fs):
        return "sub"
    if _STARTS_CUM.match(fs):
        return "cum"
    return None


def _sentence_figures(sent: str, fs: str, ctx: _Ctx, doc: _Doc, continuation: str | None) -> list[_Fig]:
    """The figures of one sentence. ``ctx`` (what the sentence before left) is read and updated."""
    alias_pat, alias_map = _alias_tables()
    ctx_tables = _context_tables()
    figs: list[_Fig] = []

    # mentions ---------------------------------------------------------------------------------
    hits: list[_AliasHit] = []
    for m in alias_pat.finditer(fs):
        hits.append(_AliasHit(m.start(), m.end(), alias_map.get(_norm_key(m.group(0))), "alias"))
    ctx_hits: dict[str, list[_AliasHit]] = {}
    for fam, (pat, d) in ctx_tables.items():
        lst = []
        for m in pat.finditer(fs):
            k = _norm_key(m.group(0).replace(",", " "))
            if k in d:
                lst.append(_AliasHit(m.start(), m.end(), d[k], "context"))
        ctx_hits[fam] = lst
    periods = _find_periods(sent, doc.period, fs)
    taken = [(a, b) for a, b, _ in periods] + [(h.start, h.end) for h in hits]
    numbers = [n for n in _numbers(sent, fs, doc.convention)
               if n.has_unit and not any(a <= n.start < b for a, b in taken)]
    if doc.convention_known:
        for n in numbers:
            n.ambiguous = False
    prov_hits: list[tuple[int, int, ProvinceRef]] = []
    if doc.province_on is not None:
        ppat, _ = _province_names(doc.province_on)
        if ppat is not None:
            for m in ppat.finditer(fs):
                st = m.start("n")
                if not sent[st].isupper():
                    continue
                ref = _resolve(sent[st:m.end()], doc.province_on)
                if ref is not None:
                    prov_hits.append((m.start(), m.end(), ref))
    neutral = [(m.start(), m.end()) for m in _NEUTRAL.finditer(fs)]
    fs_np = _masked(fs, 0, len(fs), [(a, b) for a, b, _ in prov_hits]) if prov_hits else fs
    # a remark in parentheses without a figure ("(FDI)", "(không bao gồm thu chuyển nguồn)") does not
    # end the subject, unless it takes something out ("(trừ dầu khí)")
    for m in _PAREN_REMARK.finditer(fs):
        if not any(m.start() < n.start < m.end() for n in numbers) and not _EXCLUDES.search(m.group(0)):
            neutral.append((m.start(), m.end()))
    protected = [(h.start, h.end) for h in hits] + [(n.start, n.unit_end) for n in numbers]
    for lst in ctx_hits.values():
        protected += [(h.start, h.end) for h in lst]
    protected += [(a, b) for a, b, _ in prov_hits]
    segs = _segments(sent, fs, protected, numbers)

    # comparison zone after each number: the next head starts after it
    cmp_end: dict[int, int] = {}
    for i, n in enumerate(numbers):
        nxt = numbers[i + 1].start if i + 1 < len(numbers) else len(fs)
        m = _CMP_RE.search(fs, n.unit_end, nxt)
        end = n.unit_end
        ve = _VE_RE.match(fs, n.unit_end)  # "tăng 1,4% về giấy phép và giảm 13,6% về vốn"
        if ve:
            end = ve.end()
        if m and len(fs[end:m.start()].split()) <= 4:
            t = _CMP_TAIL.match(fs, m.end())
            end = t.end() if t else m.end()
        cmp_end[n.start] = end

    subject = ctx.subject
    family = ctx.family
    plan_mode = (ctx.plan if continuation == "sub" else False) or ctx.plan_list
    period = ctx.period
    province = ctx.province
    status_inh = ctx.status if continuation == "sub" else None
    last_pct_cmp: str | None = None

    status_found = [(m.end(), m.lastgroup) for m in _STATUS_RE.finditer(fs)]
    base_spans = [(ps, pe) for ps, pe, _ in periods] + [(ps, pe) for ps, pe, _ in prov_hits] + neutral

    fs_base = _masked(fs, 0, len(fs), base_spans) if base_spans else fs

    def mask_of(a: int, b: int, extra: list[tuple[int, int]]) -> str:
        chunk = fs_base[a:b]
        for s_, e_ in extra:
            if s_ < b and e_ > a:
                s2, e2 = max(s_, a) - a, min(e_, b) - a
                chunk = chunk[:s2] + " " * (e2 - s2) + chunk[e2:]
        return chunk

    # a period named inside parentheses ("(sơ bộ quý I tăng 12,9%; ...)") holds there only; the
    # sentence hands on the period of its first figure (its main period), not a sub-period
    period_out = period
    main_period: str | None = None
    explicit_sectors = [h for h in ctx_hits.get("grdp", []) if h.key and h.key.startswith("sector:")
                        and fs.startswith("khu vuc", h.start)]
    list_subject = ctx.topic
    pending_cmp: str | None = None  # a comparison named by a clause of its own, for the next clause
    fam_dropped: str | None = "grdp" if ctx.grdp_para else None
    for seg_start, seg_end, in_paren in segs:
        seg_nums = [n for n in numbers if seg_start <= n.start < seg_end]
        pos = seg_start
        if not in_paren:
            period = period_out
        for num in seg_nums + [None]:
            h_end = num.start if num is not None else seg_end
            # mentions in this head ------------------------------------------------------------
            head_hits = [h for h in hits if pos <= h.start and h.end <= h_end]
            if family is None and fam_dropped == "grdp" and explicit_sectors:
                # "...; khu vực dịch vụ tăng 15,1%" after a clause the reader did not know
                for h in explicit_sectors:
                    if pos <= h.start and h.end <= h_end:
                        family = "grdp"
                        break
            if family:
                for h in ctx_hits.get(family, []):
                    if pos <= h.start and h.end <= h_end and not any(
                            a.start <= h.start and h.end <= a.end and a.key is not None for a in head_hits):
                        head_hits.append(h)
            head_hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
            head_hits = [h for h in head_hits if not any(
                o is not h and o.start <= h.start and h.end <= o.end and (o.end - o.start) > (h.end - h.start)
                for o in head_hits)]
            period_before = (period, period_out)
            for ps, pe, code in periods:
                if pos <= ps < h_end:
                    period = code
            if not in_paren:
                period_out = period
            for ps, pe, ref in prov_hits:
                if pos <= ps < h_end:
                    province = ref
            hit_spans = [(h.start, h.end) for h in head_hits]
            plain = mask_of(pos, h_end, hit_spans)
            cb = _CMP_BEFORE.search(plain) if "so " in plain else None
            if cb is not None:
                # "So với kế hoạch Thủ tướng Chính phủ giao (...), tỷ lệ giải ngân đạt 24,9%": the plan
                # is the base of the share that follows, not a plan statement
                tail = _CMP_TAIL.match(plain, cb.end())
                e_ = tail.end() if tail else cb.end()
                plain = plain[:cb.start()] + " " * (e_ - cb.start()) + plain[e_:]
                last_pct_cmp = "plan"
            if num is None and plain.lstrip().startswith("so "):
                lead_cmp = _CMP_RE.match(plain, len(plain) - len(plain.lstrip()))
                if lead_cmp is not None:
                    pending_cmp = _cmp_kind(lead_cmp.group("what"))
            plan_here = bool(_PLAN_RE.search(plain))
            if plan_here:
                period, period_out = period_before  # "Kế hoạch vốn ... năm 2024": the plan's year
            national = bool(_NATIONAL_RE.search(plain))
            if plan_mode and not plan_here and pos == seg_start and seg_start > 0 and fs[seg_start - 1] == ";" \
                    and _OUTTURN_RE.search(plain):
                plan_mode = False  # "Kế hoạch vốn ... được giao 6.850 tỷ đồng; đến ngày 30/6 đã giải ngân ..."
            if plan_here and (num is not None or not any(n.start < pos for n in numbers)):
                plan_mode = True
            # subject ---------------------------------------------------------------------------
            subj_end = pos
            if head_hits:
                last = head_hits[-1]
                sectors = [h for h in head_hits if h.key and h.key.startswith("sector:")]
                if last.key == "grdp_share" and sectors:
                    last = sectors[-1]  # "khu vực dịch vụ chiếm tỷ trọng 68%"
                subj_end = last.end
                if last.key is None or last.key == "-":
                    subject = None
                    if last.key == "-":
                        family = None
                else:
                    subject = last.key
                    fam = _FAMILY_OF.get(subject)
                    if fam:
                        family = fam
                    elif subject == "grdp_share":
                        family = "grdp"
                    elif not (subject.startswith("sector:") or subject in ("cpi_avg",)):
                        family = None
            if head_hits and head_hits[-1].key not in (None, "-") and not head_hits[-1].key.startswith("sector:"):
                list_subject = head_hits[-1].key
            rest = mask_of(subj_end, h_end, hit_spans)
            rest_ok = _head_ok(_tokens(rest))
            if num is None:
                if not rest_ok and not in_paren:
                    subject = None
                break
            # a clause led by a province name in a list of provinces: "Quảng Ninh (11,61%)",
            # "Hải Phòng 11,8%", "Cao Bằng tăng trưởng 6,57%", "Ninh Bình đạt mức tăng 10,65%"
            verb_override = None
            prov_here = any(pos <= ps < h_end for ps, _, _ in prov_hits)
            paren_prov = in_paren and pos == seg_start and any(
                pe <= seg_start and fs[pe:seg_start].strip() == "(" for _, pe, _ in prov_hits)
            if paren_prov:
                cut = max(fs.rfind(c, 0, seg_start - 1) for c in ",;:")
                if _COMPARATIVE_RE.search(fs_np, cut + 1, seg_start):
                    paren_prov = False  # "thấp hơn Bắc Ninh (31,2%)": another unit's figure as a yardstick
            prov_led = False
            if (prov_here or paren_prov) and not head_hits:
                toks = _tokens(plain)
                if all(t in _FILLER or t in _LIST_WORDS or t.isdigit() for t in toks):
                    lsub = list_subject or (
                        "grdp" if re.search(r"\btang\s+truong\b|\bmuc\s+tang\b", plain) else None)
                    if lsub is not None:
                        prov_led = True
                        subject = list_subject = lsub
                        family = _FAMILY_OF.get(lsub, family)
                        for vm_ in _VERB_RE.finditer(fs, 0, num.start):
                            verb_override = " ".join(vm_.group("v").split())
            prefix = None if prov_led else _prefix_subject(fs, pos, num)
            if prefix is not None:
                subject, family = prefix, _FAMILY_OF.get(prefix, family)
            elif prov_led:
                pass
            elif national:
                subject, family = None, None
            elif not rest_ok:
                subject = None
                if not head_hits:
                    if family == "grdp" and _COMPARATIVE_RE.search(rest) is None:
                        fam_dropped, family = "grdp", None
            # a bare number in parentheses is an equivalent, a plan or a comparison
            if in_paren and not head_hits and not prov_led:
                vm = None
                for vm in _VERB_RE.finditer(fs, pos, num.start):
                    pass
                if vm is None or vm.group("v") not in ("tang", "giam", "dat", "bang", "vuot", "chiem"):
                    before = fs[max(0, seg_start - 30):seg_start].rstrip(" (")
                    bv = None
                    for bv in re.finditer(r"\b(?P<v>tang|giam)\b", before):
                        pass
                    if bv is not None and not _head_ok(_tokens(before[bv.end():])):
                        bv = None
                    if not bv:
                        pos = cmp_end.get(num.start, num.unit_end)
                        continue
                    verb_override = bv.group("v")  # "so với cùng kỳ giảm nhiều (-9,28%)"
            # postfix subject: "có 500 doanh nghiệp thành lập mới", "cấp mới 6 dự án FDI"
            post = [h for h in hits if num.end <= h.start <= num.unit_end + 1 and h.start < seg_end
                    and (h.end > num.unit_end or not (head_hits and head_hits[-1].key in (None, "-")))]
            postfix = False
            post_whole = post and num.unit == "pct"  # "chiếm 63,4% tổng thu cân đối": the whole, not a subject
            if post and not post_whole:
                pk = post[0].key
                if pk is None and fs.startswith("von dau tu cong", post[0].start) \
                        and re.search(r"\bgiai\s+ngan\b", fs[pos:num.start]):
                    pk = "public_investment_disbursed"
                if pk is None or pk == "-":
                    subject = None
                else:
                    subject, postfix = pk, True
                    if _FAMILY_OF.get(pk):
                        family = _FAMILY_OF[pk]
            fig_period = period
            for ps, pe, code in periods:
                if num.unit_end <= ps <= num.unit_end + 12 and _PERIOD_AFTER.fullmatch(fs, num.unit_end, ps):
                    fig_period = code
                    break
            status_here = _status_of(fs, num.start, status_inh, status_found)
            fig = _figure(num, subject, family, fs, sent, pos, seg_end, numbers, fig_period,
                          status_here, plan_mode, doc, last_pct_cmp, postfix=postfix, fs_cmp=fs_np,
                          verb_override=verb_override, pending_cmp=pending_cmp)
            if fig is not None:
                fig.province = province
                figs.append(fig)
                if main_period is None and not in_paren:
                    main_period = period or ""
                if fig.measure == "pct_of_plan":
                    last_pct_cmp = "plan"
            pos = cmp_end.get(num.start, num.unit_end)
            if post:
                pos = max(pos, post[0].end)
        if seg_nums:
            pending_cmp = None

    ctx.subject = subject
    ctx.family = family
    ctx.topic = list_subject
    ctx.period = (main_period or None) if main_period is not None else period_out
    ctx.province = province
    ctx.plan = plan_mode
    st = _status_of(fs, len(fs), None, status_found)
    if st:
        ctx.status = st
    return figs


def _figure(num: _Num, subject: str | None, family: str | None, fs: str, sent: str,
            seg_start: int, seg_end: int, numbers: list[_Num], period: str | None,
            status: str | None, plan_mode: bool, doc: "_Doc", last_pct_cmp: str | None,
            postfix: bool = False, fs_cmp: str | None = None,
            verb_override: str | None = None, pending_cmp: str | None = None) -> _Fig | None:
    if subject is None or not num.has_unit or num.unit is None:
        return None
    if plan_mode:
        return None
    if _THRESHOLD_AFTER.match(fs, num.unit_end) or _RANGE_FROM.search(sent, max(0, num.start - 6), num.start):
        return None  # "từ 8% trở lên", "đạt từ 80,5 triệu đồng đến 81 triệu đồng": a bound
    # the verb right before the number (same clause)
    vm = None
    for m in _VERB_RE.finditer(fs, seg_start, num.start):
        vm = m
    verb = " ".join(vm.group("v").split()) if vm else verb_override
    # comparison after the number (up to the next number of the clause)
    nxt = min([n.start for n in numbers if n.start > num.start] + [seg_end])
    cmp_kind, cm = _comparator(fs, num.unit_end, nxt)
    if cmp_kind is None:
        # "so với cùng kỳ" may close a later clause ("tăng 6,2% về số DN và tăng 34,8% về số vốn
        # so với cùng kỳ") or open the clause
        c2 = None
        for m in _CMP_RE.finditer(fs, seg_start, num.start):
            if fs[m.start():m.start() + 2] == "so":
                c2 = m
        if c2 is not None:
            cmp_kind = _cmp_kind(c2.group("what"))
    if cmp_kind is None and pending_cmp is not None:
        cmp_kind = pending_cmp
    if cmp_kind is None and num.unit == "pct" and verb in ("dat", "bang") and last_pct_cmp == "plan" \
            and subject not in _GROWTH_KEYS and subject not in _LEVEL_PCT_KEYS:
        cmp_kind = "plan"  # "đạt 51,6% so với nghị quyết ...; thu nội địa ..., đạt 50,3%"
    head = fs[seg_start:num.start]
    sp = _SPAN_RE.search(fs, 0, num.start) if "ngay" in fs or "tuan" in fs else None
    if sp:
        return None  # "trong 4 ngày nghỉ lễ ...": a span of days, not the report's period
    fsc = fs_cmp if fs_cmp is not None else fs  # province names blanked ("Vũng Tàu" is no "vùng")
    m_cmp = _COMPARATIVE_RE.search(fsc[seg_start:num.start])
    if m_cmp and m_cmp.group(0).startswith("tuong") and num.unit == "pct" and cmp_kind == "plan":
        m_cmp, verb = None, "dat"  # "tương đương 46,8% dự toán": the share of the plan reached
    if m_cmp or _COMPARATIVE_RE.search(fsc[num.unit_end:nxt][:40]):
        return None
    if cmp_kind == "drop":
        return None
    if cmp_kind and cmp_kind.startswith("month:"):
        cmp_kind = _month_cmp(cmp_kind, period or (doc.period.code if doc.period else None))
        if cmp_kind == "drop":
            return None
    after = fs[num.unit_end:nxt]
    # "về số vốn đăng ký" / "về số doanh nghiệp" picks the family member
    vm2 = re.search(r"\bve\s+(?:so\s+)?(?P<w>von|doanh\s+nghiep|dn|du\s+an|luot\s+khach|luot|khach|doanh\s+thu"
                    r"|so\s+luong|giay\s+phep)", after)
    if vm2 and family in ("ent", "fdi", "tour"):
        w = vm2.group("w")
        pick = {"ent": ("new_enterprises_capital", "new_enterprises"),
                "fdi": ("fdi_registered_capital", "fdi_projects"),
                "tour": ("tourism_revenue", "visitors")}[family]
        subject = pick[0] if w in ("von", "doanh thu") else pick[1]

    key = subject
    flags: list[str] = []
    if key == "unemployment_urban":
        # the urban rate: read as the working-age rate only when the report gives no other
        # (extract_text keeps the other when both are stated)
        key = "unemployment_rate"
        flags.append("urban_rate")
    unit_fam = units()[num.unit].family if num.unit in units() else None
    inds = indicators()
    status = {"F": "F", "E": "E", "P": "P", "A": "A"}.get(status or "A", "A")

    if key.startswith("sector:") or key == "grdp_share":
        if family != "grdp":
            return None
    if unit_fam == "pct":
        if num.qualifier == "range" and verb is None:
            return None
        value = num.value
        sign = -1 if verb in ("giam", "tang truong am") else 1
        if num.signed:
            sign = 1  # "giảm (-9,28%)", "tăng (+3,63%)": the sign is written
        if key.startswith("sector:") or key == "grdp_share":
            sector = key.split(":", 1)[1] if key.startswith("sector:") else None
            if verb in ("chiem",) or key == "grdp_share" or (verb in ("la", "o muc", "dat") and re.search(r"\bty\s+trong\b|\bco\s+cau\b", fs[:num.start])):
                if sector is None:
                    return None
                if cmp_kind is not None:
                    return None
                return _mk(f"grdp_share_{sector}", "value", value, "pct", num, status, period, flags)
            if verb in ("tang", "giam", "tang truong", "tang truong am", "dat") and cmp_kind in (None, "yoy"):
                if sector is None:
                    return None
                return _mk(f"grdp_growth_{sector}", "value", sign * value, "pct", num, status, period, flags)
            return None
        if family == "cpi":
            if verb not in ("tang", "giam", "dat", "bang", "o muc", "la", None) or verb in ("dat", "bang", "la", "o muc", None) and value < 50:
                if verb not in ("tang", "giam"):
                    return None
            if verb in ("dat", "bang", "la", "o muc") or (verb == "tang" and value >= 100):
                if value < 50:
                    return None
                if verb == "tang":
                    flags.append("index_as_change")
                value = value - 100
                sign = 1
            base = cmp_kind
            # "CPI bình quân 9 tháng tăng ...", "Bình quân 9 tháng, CPI tăng ...": the average, up
            # to the clause before (";") or the sentence start
            lead = fs[:num.start]
            lead = lead[lead.rfind(";") + 1:]
            if base in (None, "yoy", "avg") and (key == "cpi_avg" or re.search(r"\bbinh\s+quan\b", lead)):
                base = "avg"
            if base is None or base not in CPI_MEASURES:
                return None
            k, measure = CPI_MEASURES[base]
            return _mk(k, measure, sign * value, "pct", num, status, period, flags)
        if key in _GROWTH_KEYS:
            if cmp_kind in ("plan",):
                return None
            k = "grdp_growth" if key == "grdp" else key
            if k.startswith("grdp") and k != "grdp_growth" and not k.startswith("grdp_growth_"):
                return None
            if verb in ("tang", "giam", "tang truong", "tang truong am"):
                if k == "iip_growth" and verb == "tang" and value >= 100:
                    value -= 100
                    flags.append("index_as_change")
                measure = "value"
                if cmp_kind == "mom":
                    measure = "mom_pct"
                elif cmp_kind == "ytd":
                    if k == "iip_growth":
                        return None
                    measure = "ytd_pct"
                elif cmp_kind not in (None, "yoy"):
                    return None
                return _mk(k, measure, sign * value, "pct", num, status, period, flags)
            if verb in ("dat", "bang", "o muc", "la", "muc", "dat muc"):
                if k == "iip_growth" or cmp_kind == "yoy" and verb == "bang":
                    if value < 50:
                        if k == "iip_growth" and verb in ("dat", "o muc", "la") and cmp_kind is None and value < 50:
                            return None
                        if verb == "bang":
                            return None
                    if value >= 50:
                        value -= 100
                measure = "mom_pct" if cmp_kind == "mom" else "value"
                if cmp_kind not in (None, "yoy", "mom"):
                    return None
                return _mk(k, measure, value, "pct", num, status, period, flags)
            return None
        if key in _LEVEL_PCT_KEYS:
            if key.startswith("grdp_share"):
                if verb in ("chiem", "la", "o muc", "dat", None) and cmp_kind is None:
                    return _mk(key, "value", value, "pct", num, status, period, flags)
                return None
            if verb in ("con", "la", "o muc", "dat", "chiem", "muc", "dat muc", None) and cmp_kind is None:
                # "tỷ lệ thất nghiệp ... ước khoảng 2,1%": no verb, only status and qualifier words
                return _mk(key, "value", value, "pct", num, status, period, flags)
            return None
        if key not in inds:
            return None
        # a level indicator: changes and shares of plan
        if key == "public_investment_disbursed" and cmp_kind is None and verb in ("dat", "bang", "giai ngan") \
                and re.search(r"\bty\s+le\s+giai\s+ngan\b|\bgiai\s+ngan\b", fs[:num.start]):
            return _mk(key, "pct_of_plan", value, "pct", num, status, period, flags)
        if cmp_kind == "plan":
            if verb in ("dat", "bang", "dat duoc", "giai ngan", None, "la"):
                return _mk(key, "pct_of_plan", value, "pct", num, status, period, flags)
            if verb in ("vuot", "tang"):
                # "vượt 5% kế hoạch", "thu ngân sách tăng 4% so với dự toán": 105 %, 104 % of plan
                return _mk(key, "pct_of_plan", 100 + value, "pct", num, status, period, flags)
            return None
        if verb in ("tang", "giam", "tang truong", "tang truong am"):
            if cmp_kind in (None, "yoy"):
                if key == "grdp_constant_prices":
                    # the change of GRDP at constant prices is the growth rate
                    return _mk("grdp_growth", "value", sign * value, "pct", num, status, period, flags)
                return _mk(key, "yoy_pct", sign * value, "pct", num, status, period, flags)
            if cmp_kind == "mom":
                return _mk(key, "mom_pct", sign * value, "pct", num, status, period, flags)
            return None
        if verb in ("bang", "dat") and cmp_kind == "yoy":
            return _mk(key, "yoy_pct", value - 100, "pct", num, status, period, flags)
        if verb in ("bang", "dat") and cmp_kind == "mom":
            return _mk(key, "mom_pct", value - 100, "pct", num, status, period, flags)
        return None

    # a level
    if cmp_kind is not None and cmp_kind not in ("yoy",) and not postfix:
        # "đạt 23.600 tỷ đồng kế hoạch": a plan amount
        if cmp_kind == "plan":
            return None
    if verb in ("tang", "giam", "vuot", "tang truong") and not postfix:
        # "tăng 500 tỷ đồng so với cùng kỳ": an absolute change, not the level
        return None
    if num.qualifier == "range":
        return None
    routed = _route_unit(key, num, head, fs)
    if routed is None:
        return None
    k, value = routed
    ind = inds[k]
    if ind.value_min is not None and value < ind.value_min and num.alt_value is not None:
        alt = _route_unit(key, _Num(num.start, num.end, num.unit_end, num.alt_value, num.qualifier, num.original,
                                    num.unit, num.mult, num.unit_text, True), head, fs)
        if alt is not None and alt[0] == k and ind.value_min <= alt[1] <= (ind.value_max or math.inf):
            value = alt[1]
            flags.append("thousands_separator_read")
    if num.unit != inds[k].unit or num.mult != 1:
        flags.append("unit_converted")
    if ind.value_min is not None and value < ind.value_min * 0.1:
        return None
    if ind.value_max is not None and value > ind.value_max:
        return None
    return _mk(k, "value", value, ind.unit, num, status, period, flags)


_OUTTURN_RE = re.compile(r"\b(?:da|uoc\s+(?:tinh|dat|thuc\s+hien)|thuc\s+hien\s+duoc|luy\s+ke|den\s+ngay|tinh\s+den"
                         r"|den\s+het)\b")
_VE_RE = re.compile(r"\s*ve\s+(?:so\s+)?(?:von(?:\s+dang\s+ky)?|doanh\s+nghiep|dn|giay\s+phep|du\s+an|lao\s+dong"
                    r"|luot\s+khach|luot|khach|doanh\s+thu|so\s+luong)\b")
_SPAN_RE = re.compile(r"\btrong\s+(?:\d+\s+ngay|(?:cac\s+|nhung\s+)?ngay\s+(?:nghi|le|tet)|ky\s+nghi|dip\s+(?:le|tet|nghi)"
                      r"|\d+\s+tuan|tuan\s+le)\b|\b\d+\s+ngay\s+(?:nghi|le|tet)\b")
_PERIOD_AFTER = re.compile(r"\s*(?:(?:trong|cua|rieng)\s+)?")
_CMP_BEFORE = re.compile(r"(?:^|[,;:(]|\b(?:va|con))\s*so(?:\s+voi)?\s+(?:ke\s+hoach|kh|du\s+toan|chi\s+tieu"
                         r"|nghi\s+quyet|muc\s+tieu)\b")
_PAREN_REMARK = re.compile(r"\([^()]{0,80}\)")
_EXCLUDES = re.compile(r"\b(?:dau\s+tho|dau\s+khi|khi\s+dot|chi\s+tinh|rieng)\b")
_LIST_WORDS = {"gom", "muc", "dan", "dau", "cung", "sau", "chi", "con", "lan", "luot", "la", "lien"}
_PREFIX_SUBJECTS = [
    # "thành lập mới 415 doanh nghiệp", "đăng ký thành lập mới 1.020 doanh nghiệp"
    (re.compile(r"\b(?:thanh\s+lap\s+moi|cap\s+phep(?:\s+thanh\s+lap)?(?:\s+moi)?|cap\s+giay\s+chung\s+nhan"
                r"(?:\s+dang\s+ky)?(?:\s+doanh\s+nghiep)?(?:\s+cho)?)(?:\s+(?:duoc|dat|cho))?\s*$"),
     "enterprises", "new_enterprises"),
    (re.compile(r"\b(?:thu\s+hut|cap\s+moi|cap\s+phep\s+moi)(?:\s+(?:duoc|them))?\s*$"), "projects", None),
]


def _prefix_subject(fs: str, pos: int, num: "_Num") -> str | None:
    """The subject a verb before the number names, read with the number's unit."""
    head = fs[pos:num.start]
    if num.unit in ("bn_vnd", "tn_vnd") and re.search(r"\bgiai\s+ngan(?:\s+(?:duoc|dat))?\s*$", head) \
            and re.search(r"\b(?:dau\s+tu\s+cong|xay\s+dung\s+co\s+ban|xdcb)\b", fs):
        return "public_investment_disbursed"  # "...; đến ngày 30/6 đã giải ngân 2.410 tỷ đồng"
    for pat, unit, key in _PREFIX_SUBJECTS:
        if num.unit == unit and pat.search(head):
            if key is None:  # projects: FDI only when the sentence said so before the number
                if re.search(r"\b(?:fdi|nuoc\s+ngoai)\b", fs[:num.start]):
                    return "fdi_projects"
                return None
            return key
    return None


_THRESHOLD_AFTER = re.compile(r"\s*(?:tro\s+(?:len|xuong)|tro\s+di)\b")
_RANGE_FROM = re.compile(r"(?<!\w)từ\s+$", re.IGNORECASE)  # on the text itself: "từ", not "tư"


def _mk(key, measure, value, unit, num: _Num, status, period, flags) -> _Fig | None:
    ind = indicators().get(key)
    if ind is None:
        return None
    if measure == "value" and unit == "pct":
        if ind.value_min is not None and value < ind.value_min:
            return None
        if ind.value_max is not None and value > ind.value_max:
            return None
    if measure in ("yoy_pct", "mom_pct") and ind.change_min is not None:
        if value < ind.change_min or (ind.change_max is not None and value > ind.change_max):
            return None
    if measure == "pct_of_plan" and not (0 <= value <= 1000):
        return None
    if num.ambiguous:
        flags = [*flags, "ambiguous_number"]
    return _Fig(key, measure, round(float(value), 10), unit, num.start, num.unit_end, status,
                num.qualifier, num.original, num.unit_text.strip(), period, None, list(flags))


# ----------------------------------------------------------------------------- documents

@dataclass
class _Doc:
    period: Period | None
    province: ProvinceRef | None
    province_on: date | None
    convention: str
    convention_known: bool = False


_HEAD_PROV_RE = re.compile(r"\b(?:tinh|thanh\s+pho|tp|ubnd\s+tinh|ubnd\s+thanh\s+pho)\s+")


# ----------------------------------------------------------------------------- tables

def _tables(text: str) -> list[list[tuple[int, int]]]:
    """The tables of a text: runs of at least two lines with two or more ``|`` cell separators (the
    document readers write a table row as ``cell | cell | cell``); each as its lines' spans."""
    out: list[list[tuple[int, int]]] = []
    run: list[tuple[int, int]] = []
    for a, b in _lines(text):
        if text.count("|", a, b) >= 2:
            run.append((a, b))
            continue
        if len(run) >= 2:
            out.append(run)
        run = []
    if len(run) >= 2:
        out.append(run)
    return out


_CELL_NUMBERING = re.compile(r"^\s*(?:(?:\d{1,2}(?:\.\d{1,2})*|[ivx]{1,4}|[a-zđ])\s*[.):]\s*|[-+*•–]\s*)?"
                             r"(?:trong\s+do\s*[:,]?\s*)?")
_TRAILING_NOTE = re.compile(r"\s*(?:\(\s*\*+\s*\)|\*+)\s*$")
_COL_SKIP = re.compile(r"^\s*(?:stt|tt|so\s+tt|ghi\s+chu)\s*$")
_COL_NAME = re.compile(r"\b(?:chi\s+tieu|noi\s+dung|danh\s+muc|ten\s+chi\s+tieu)\b")
_COL_UNIT = re.compile(r"\b(?:don\s+vi(?:\s+tinh)?|dvt)\b")
_COL_CMP = re.compile(r"\bso\s+(?:voi|sanh)\b|%|=\s*100|\btang\s*/?\s*giam\b|\btoc\s+do\b|\bso\s+(?:ck|kh|cung\s+ky|ke\s+hoach|du\s+toan)\b")
_COL_PLAN = re.compile(r"\b(?:ke\s+hoach|kh|du\s+toan|nghi\s+quyet|muc\s+tieu|chi\s+tieu\s+giao|giao)\b")
_COL_LAST_YEAR = re.compile(r"\b(?:cung\s+ky|nam\s+truoc|thuc\s+hien\s+nam\s+\d{4})\b")
_COL_VALUE = re.compile(r"\b(?:thuc\s+hien|uoc|uoc\s+tinh|so\s+bo|chinh\s+thuc|du\s+uoc|ket\s+qua|luy\s+ke|th)\b")


def _table_columns(headers: list[str], doc: "_Doc") -> list[tuple[str, str | None, str]]:
    """(role, period, status) of each column from its folded header: ``name``, ``unit``,
    ``value``, ``yoy``, ``mom``, ``ytd``, ``avg``, ``plan`` (% of plan) or ``skip``."""
    cols: list[tuple[str, str | None, str]] = []
    last_value: tuple[str | None, str] = (None, "A")
    for h in headers:
        h = " ".join(h.split())
        st = _status_of(h, len(h), None) or "A"
        per = None
        for _, _, code in _find_periods(h, doc.period, h):
            per = code
        if not h or _COL_SKIP.match(h):
            cols.append(("skip", None, "A"))
        elif _COL_UNIT.search(h):
            cols.append(("unit", None, "A"))
        elif _COL_NAME.search(h) and not _COL_CMP.search(h):
            cols.append(("name", None, "A"))
        elif _COL_CMP.search(h):
            if _COL_PLAN.search(h):
                role = "plan"
            elif re.search(r"\b(?:thang|ky|quy)\s+truoc\b", h):
                role = "mom"
            elif re.search(r"\bthang\s+12\b|\bdau\s+nam\b|\bcuoi\s+nam\b", h):
                role = "ytd"
            elif re.search(r"\bbinh\s+quan\b", h):
                role = "avg"
            elif re.search(r"\b(?:cung\s+ky|nam\s+truoc|ck)\b", h):
                role = "yoy"
            else:
                role = "skip"
            cols.append((role, per or last_value[0], last_value[1] if st == "A" else st))
        elif _COL_PLAN.search(h) or _COL_LAST_YEAR.search(h):
            cols.append(("skip", None, "A"))
        elif _COL_VALUE.search(h) or per is not None:
            cols.append(("value", per, st))
            last_value = (per, st)
        else:
            cols.append(("skip", None, "A"))
    return cols


def _cell_key(fs_cell: str) -> str | None:
    """The indicator (or family head) a table row's name cell names, by exact alias."""
    _, alias_map = _alias_tables()
    k = _TRAILING_NOTE.sub("", _CELL_NUMBERING.sub("", fs_cell))
    return alias_map.get(_norm_key(k))


def _table_figures(text: str, fs: str, lines: list[tuple[int, int]], doc: "_Doc") -> list[tuple[_Fig, int, int]]:
    """The figures of one table, read by column: the header names what each column holds (a
    value with its period and status, a comparison with the same period last year, the previous
    month, December, the plan); a row whose name cell is an indicator's name (the catalog's and the
    reader's aliases, exactly) gives one figure a column. Plan columns and last year's levels are
    skipped; a comparison written as an index ("108,5" in a "so với cùng kỳ (%)" column) is read
    as +8.5 %. Offsets are relative to the row's start; the row is the figure's sentence."""
    rows: list[list[tuple[int, int]]] = []
    for a, b in lines:
        cells = []
        for m in re.finditer(r"[^|]+", text[a:b]):
            cs, ce = a + m.start(), a + m.end()
            while cs < ce and text[cs].isspace():
                cs += 1
            while ce > cs and text[ce - 1].isspace():
                ce -= 1
            cells.append((cs, ce))
        rows.append(cells)
    first = None
    for i, cells in enumerate(rows):
        if any(_cell_key(fs[cs:ce]) not in (None, "-") for cs, ce in cells[:3]):
            first = i
            break
    if not first:  # no data row, or no header above it
        return []
    ncol = len(rows[first])
    headers = [""] * ncol
    for cells in rows[:first]:
        if len(cells) == ncol:
            for j, (cs, ce) in enumerate(cells):
                headers[j] += " " + fs[cs:ce]
    cols = _table_columns(headers, doc)
    roles = [c[0] for c in cols]
    if not any(r in ("value", "yoy", "mom", "ytd", "avg", "plan") for r in roles):
        return []
    unit_col = roles.index("unit") if "unit" in roles else None
    out: list[tuple[_Fig, int, int]] = []
    parent: str | None = None
    inds = indicators()
    for li, cells in enumerate(rows[first:], start=first):
        if len(cells) != ncol:
            continue
        row_start, row_end = lines[li]
        key = None
        name_j = None
        for j, (cs, ce) in enumerate(cells[:3]):
            if roles[j] in ("value", "yoy", "mom", "ytd", "avg", "plan", "unit"):
                continue
            key = _cell_key(fs[cs:ce])
            if key is not None:
                name_j = j
                break
            # a GRDP sector row under the GRDP row: "Nông, lâm nghiệp và thủy sản"
            sector = _context_tables()["grdp"][1].get(_norm_key(_CELL_NUMBERING.sub("", fs[cs:ce])))
            if parent and parent.startswith(("grdp_growth", "grdp_share")) and sector and sector.startswith("sector:"):
                key = ("grdp_growth_" if parent.startswith("grdp_growth") else "grdp_share_") + sector.split(":", 1)[1]
                name_j = j
                break
        if key is None or key == "-":
            continue
        name_f = fs[cells[name_j][0]:cells[name_j][1]]
        unit = mult = None
        unit_text = ""
        if unit_col is not None:
            ucs, uce = cells[unit_col]
            um = _UNIT_RE.fullmatch(fs[ucs:uce].strip()) if uce > ucs else None
            if um:
                for i2, (_, code, mul) in enumerate(_UNIT_TABLE):
                    if um.group(f"u{i2}") is not None:
                        unit, mult, unit_text = code, mul, text[ucs:uce]
                        break
        if key == "grdp" and unit == "pct":
            key = "grdp_growth"
        if key in inds:
            parent = key
        for j, (cs, ce) in enumerate(cells):
            role, per, st = cols[j]
            if role not in ("value", "yoy", "mom", "ytd", "avg", "plan") or ce <= cs:
                continue
            raw = text[cs:ce]
            m = _NUM_RE.fullmatch(raw.strip())
            if not m or m.group("n2") or m.group("q"):
                continue
            parsed = _parse_num(m, doc.convention)
            if parsed is None:
                continue
            v = parsed[0]
            num = _Num(cs - row_start, ce - row_start, ce - row_start, v, None, raw.strip(), unit, mult or 1.0,
                       unit_text, unit is not None)
            fig = _table_cell_figure(key, role, v, num, unit, name_f, headers[j], per, st)
            if fig is not None:
                out.append((fig, row_start, row_end))
    return out


def _table_cell_figure(key: str, role: str, v: float, num: _Num, unit: str | None, name_f: str,
                       header: str, per: str | None, st: str) -> _Fig | None:
    inds = indicators()
    growth = key in _GROWTH_KEYS or key.startswith("grdp_growth")
    flags: list[str] = ["table"]

    def as_change(x: float) -> float:
        if re.search(r"\btang\s*/?\s*giam\b", header):
            return x  # "Tăng/giảm (%)": already a change
        flags.append("index_as_change")  # "108,5" in a "so với cùng kỳ (%)" column: +8.5 %
        return x - 100
    if key.startswith("cpi") or key == "cpi_yoy":
        if role == "value" or role == "plan":
            return None
        x = as_change(v) if v >= 50 else v
        k, measure = CPI_MEASURES[role]
        return _mk(k, measure, x, "pct", num, st, per, flags)
    if growth:
        if role not in ("value", "yoy", "mom"):
            return None
        if unit not in (None, "pct"):
            return None
        x = as_change(v) if (v >= 50 and (role != "value" or key == "iip_growth")) else v
        k = "grdp_growth" if key == "grdp" else key
        if k not in inds:
            return None
        return _mk(k, "mom_pct" if role == "mom" else "value", x, "pct", num, st, per, flags)
    if key in _LEVEL_PCT_KEYS:
        if role == "value" and unit in (None, "pct"):
            return _mk(key, "value", v, "pct", num, st, per, flags)
        return None
    if role == "plan":
        return _mk(key, "pct_of_plan", v, "pct", num, st, per, flags) if key in inds else None
    if role in ("yoy", "mom"):
        if key not in inds:
            return None
        x = as_change(v) if v >= 30 else v
        return _mk(key, "yoy_pct" if role == "yoy" else "mom_pct", x, "pct", num, st, per, flags)
    if role != "value" or unit is None or unit == "pct":
        return None
    routed = _route_unit(key, num, name_f, name_f)
    if routed is None:
        return None
    k, value = routed
    ind = inds[k]
    if ind.value_max is not None and value > ind.value_max:
        return None
    if ind.value_min is not None and value < ind.value_min * 0.1:
        return None
    return _mk(k, "value", value, ind.unit, num, st, per, flags)


def _text_province(text: str, fs: str, on: date | None) -> ProvinceRef | None:
    """The province the heading names (the first ~400 characters), when exactly one."""
    if on is None:
        return None
    pat, _ = _province_names(on)
    if pat is None:
        return None
    head_end = min(len(fs), 400)
    refs = {}
    for m in pat.finditer(fs, 0, head_end):
        s = m.start("n")
        if not text[s].isupper():
            continue
        ref = _resolve(text[s:m.end()], on)
        if ref is not None:
            refs[ref.code] = ref
    if len(refs) == 1:
        return next(iter(refs.values()))
    return None


_TITLE_RE = re.compile(r"\b(?:bao\s+cao|tinh\s+hinh\s+kinh\s+te|kinh\s+te\s+xa\s+hoi|ktxh|kt\s+xh)\b")


def _text_period(text: str, fs: str, hint: Period | None) -> Period | None:
    """The period the heading states (a title line naming a report and a period with its year)."""
    head = text[:300]
    if not _TITLE_RE.search(fs[:300]):
        return None
    found = _find_periods(head, hint)
    codes = []
    for s, e, code in found:
        try:
            p = parse_period(code)
        except PeriodError:
            continue
        if re.search(r"\d{4}", head[s:e + 12]):
            codes.append(p)
    if not codes:
        return None
    if hint is not None:
        for p in codes:
            if p.code == hint.code:
                return p
    # "tháng 9 và 9 tháng năm 2024": the cumulative period is the report's
    return max(codes, key=lambda p: (p.months, p.end))


def extract_text(text: str, *, province: ProvinceRef | None = None, period: str | None = None,
                 source_file: str | None = None, sha256: str | None = None,
                 cycle: str | None = None) -> pd.DataFrame:
    """One row per figure the text states, with the ``observation`` table's columns.

    ``province`` and ``period`` are the defaults for figures whose clause names none (the text's
    own heading wins when it names one). ``locator`` is ``chars START-END``: offsets into ``text``
    as given. A text with no figures gives an empty frame with the same columns.
    """
    if not isinstance(text, str) or not text.strip():
        return empty_frame("observation")
    norm, omap = _offset_map(text)
    fs_all = _fold_keep(norm)
    hint = parse_period(period) if period else (parse_period(cycle) if cycle else None)
    doc_period = _text_period(norm, fs_all, hint) or hint
    on = doc_period.end if doc_period else (date.today())
    text_prov = _text_province(norm, fs_all, on)
    doc_prov = text_prov or province
    detected = detect_convention([norm])
    doc = _Doc(doc_period, doc_prov, on, detected or "vi", detected is not None)

    rows = []

    def emit(f: _Fig, s_: int, e_: int) -> None:
        """Add figure ``f`` (offsets relative to ``s_``) of the text span ``s_:e_`` to ``rows``."""
        start, end = s_ + f.start, s_ + f.end
        if omap is not None:
            start, end = omap[start], omap[end]
        per = f.period or (doc_period.code if doc_period else None)
        if per is None:
            return
        try:
            pp = parse_period(per)
        except PeriodError:
            return
        if doc_period is not None:
            if pp.year != doc_period.year:
                return  # another year's figure: history or plan
            if pp.end > doc_period.end and f.status not in ("E", "F"):
                return  # a later period without an estimate word: a plan or forecast
        prov = f.province or doc_prov
        if prov is not None and f.province is not None and pp.end != on:
            prov = _resolve(prov.name_vi, pp.end) or prov
        rows.append({
            "cycle": cycle or (doc_period.code if doc_period else per),
            "period": pp.code,
            "province_code": prov.code if prov else None,
            "province_set": prov.province_set if prov else pp.province_set,
            "indicator": f.key, "measure": f.measure, "value": f.value, "unit": f.unit,
            "status": f.status, "qualifier": f.qualifier,
            "original_value": f.original_value, "original_unit": f.original_unit,
            "source_kind": "report", "source_file": source_file, "source_sha256": sha256 or "",
            "locator": f"chars {start}-{end}",
            "sentence": text[omap[s_] if omap else s_:omap[e_] if omap else e_],
            "flag": ",".join(dict.fromkeys(f.flags)) or None,
        })

    # tables ("cell | cell | cell" rows, as the document readers give them) are read by column
    table_spans: list[tuple[int, int]] = []
    for tbl in _tables(norm):
        table_spans.append((tbl[0][0], tbl[-1][1]))
        for f, rs, re_ in _table_figures(norm, fs_all, tbl, doc):
            emit(f, rs, re_)

    ctx = _Ctx()
    last_para = -1
    lead: str | None = None
    first_of_para = False
    plan_heading = False  # the paragraph before opened a list of targets
    ctx_tables = _context_tables()
    for s, e, para in _sentences(norm):
        if table_spans and any(a <= s < b for a, b in table_spans):
            continue
        sent = norm[s:e]
        fs = fs_all[s:e]
        cont = _continuation(fs)
        if para != last_para:
            # a new paragraph starts afresh, unless it goes on with the family of the one before
            # ("Khu vực công nghiệp và xây dựng tăng ..." after the GRDP paragraph)
            fam = ctx.family
            keep = cont is not None or (fam in ctx_tables and ctx_tables[fam][0].match(fs.lstrip()) is not None)
            in_list = plan_heading and _LIST_ITEM.match(sent) is not None
            plan_heading = in_list
            ctx = _Ctx(family=fam if keep else None, subject=ctx.subject if cont else None,
                       period=(ctx.period if keep else None) if cont != "cum" else _cum_through(doc_period),
                       status=ctx.status if cont == "sub" else None, plan_list=in_list, topic=ctx.topic)
            last_para = para
            lead = ctx.period
            first_of_para = True
        elif cont is None:
            # a new sentence: its own subject and status; its period is the one the paragraph
            # opened with ("Đến hết tháng 11, ..."), not a sub-period of the sentence before
            # ("... trong đó quý III tăng 8,4%.")
            ctx = _Ctx(family=ctx.family, subject=None, status=None, period=lead,
                       province=ctx.province, plan=False, plan_list=ctx.plan_list, topic=ctx.topic,
                       grdp_para=ctx.grdp_para)
        elif cont == "cum":
            ctx = _Ctx(family=ctx.family, subject=ctx.subject, status=None, period=_cum_through(doc_period),
                       province=ctx.province, plan=False, plan_list=ctx.plan_list, topic=ctx.topic,
                       grdp_para=ctx.grdp_para)
        figs = _sentence_figures(sent, fs, ctx, doc, cont)
        if ctx.family == "grdp" or any(f.key.startswith("grdp_growth") for f in figs):
            ctx.grdp_para = True
        if not figs and sent.rstrip().endswith(":"):
            plain = _masked(fs, 0, len(fs), [(m.start(), m.end()) for m in _NEUTRAL.finditer(fs)])
            if _PLAN_RE.search(plain):
                plan_heading = True
        if first_of_para:
            lead = ctx.period
            first_of_para = False
        for f in figs:
            emit(f, s, e)
    if not rows:
        return empty_frame("observation")
    # one figure per (period, province, indicator, measure): the first statement wins, but a
    # stand-in (the urban unemployment rate) gives way to the figure itself
    keep: dict[tuple, int] = {}
    for i, r in enumerate(rows):
        k = (r["period"], r["province_code"], r["indicator"], r["measure"])
        j = keep.get(k)
        if j is None or ("urban_rate" in (rows[j]["flag"] or "") and "urban_rate" not in (r["flag"] or "")):
            keep[k] = i
    return _observation_frame([rows[i] for i in sorted(keep.values())])


@lru_cache(maxsize=1)
def _observation_dtypes() -> dict[str, object]:
    return dict(empty_frame("observation").dtypes)


def _observation_frame(rows: list[dict]) -> pd.DataFrame:
    """The rows as an ``observation`` frame: the columns and dtypes of ``schema.conform`` (a test
    checks that conform leaves it unchanged), built column by column (conform costs ~20 ms a call)."""
    cols = {}
    for name, dtype in _observation_dtypes().items():
        vals = [r.get(name) for r in rows]
        cols[name] = pd.array(vals, dtype=dtype)
    return pd.DataFrame(cols)


# ----------------------------------------------------------------------------- files

_CODE_PREFIX = re.compile(r"^(\d{2})[_\-. ]")


def _context_from_path(path: Path, raw_root: Path | None) -> tuple[str | None, str | None]:
    """(cycle, province code) from ``<raw_root>/<cycle>/reports/<code>_...``."""
    parts = path.parts
    cycle = None
    if raw_root is not None:
        try:
            rel = path.resolve().relative_to(Path(raw_root).resolve())
            if rel.parts:
                cycle = rel.parts[0]
        except ValueError:
            cycle = None
    if cycle is None and len(parts) >= 3 and parts[-2] == "reports":
        cycle = parts[-3]
    if cycle is not None:
        try:
            parse_period(cycle)
        except PeriodError:
            cycle = None
    m = _CODE_PREFIX.match(path.name)
    return cycle, (m.group(1) if m else None)


def extract_document(path: Path, *, province: str | ProvinceRef | None = None,
                     period: str | None = None, raw_root: Path | None = None,
                     sha256: str | None = None) -> pd.DataFrame:
    """Read a report file (``diaphuong.ingest.documents.read_document``) and extract its figures.

    Province and period: the text's heading when it states them, else the raw-tree context
    (``<raw_root>/<cycle>/reports/<2-digit code>_...``: the code valid on the cycle's last day,
    period = cycle), else the arguments.
    """
    from diaphuong.ingest.documents import read_document  # noqa: PLC0415 - heavy readers

    path = Path(path)
    data = path.read_bytes()
    sha = sha256 or hashlib.sha256(data).hexdigest()
    doc = read_document(path)
    cycle, code = _context_from_path(path, raw_root)
    per = cycle or period
    pref: ProvinceRef | None = None
    on = parse_period(per).end if per else None
    if code is not None:
        pref = _resolve(code, on) if on else None
    if pref is None and province is not None:
        pref = province if isinstance(province, ProvinceRef) else (
            resolve_province(str(province), on=on))
    if raw_root is not None:
        try:
            source_file = str(path.resolve().relative_to(Path(raw_root).resolve()))
        except ValueError:
            source_file = str(path)
    else:
        source_file = str(path)
    df = extract_text(doc.text, province=pref, period=per, source_file=source_file, sha256=sha,
                      cycle=cycle)
    warnings = list(getattr(doc, "warnings", []) or [])
    if warnings:
        df.attrs["warnings"] = warnings
    return df


_REPORT_EXT = {".txt", ".docx", ".pdf", ".html", ".htm"}


def extract_paths(paths: list[Path], *, province: str | None = None, period: str | None = None,
                  raw_root: Path | None = None) -> pd.DataFrame:
    """Extract every report file under ``paths`` (files or folders, recursively).

    Files that cannot be read raise nothing: they are listed in ``df.attrs['errors']`` as
    ``(file, message)``.
    """
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _REPORT_EXT
                            and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts))
        else:
            files.append(p)
    frames = []
    errors: list[tuple[str, str]] = []
    for f in files:
        try:
            frames.append(extract_document(f, province=province, period=period, raw_root=raw_root))
        except (DiaphuongError, OSError, ValueError, UnicodeError, ImportError) as exc:
            errors.append((str(f), str(exc)))
    frames = [f for f in frames if not f.empty]
    df = conform(pd.concat(frames, ignore_index=True), "observation") if frames else empty_frame("observation")
    df.attrs["errors"] = errors
    return df


def to_json_records(df: pd.DataFrame) -> list[dict]:
    """The issue's JSON shape, one dict per row."""
    out = []
    for r in df.itertuples(index=False):
        loc = str(r.locator or "")
        m = re.match(r"chars (\d+)-(\d+)", loc)
        start, end = (int(m.group(1)), int(m.group(2))) if m else (None, None)
        val = r.value
        out.append({
            "indicator": r.indicator, "measure": r.measure,
            "value": None if val is None or (isinstance(val, float) and math.isnan(val)) else float(val),
            "unit": r.unit, "province_code": r.province_code if not pd.isna(r.province_code) else None,
            "period": r.period, "status": r.status,
            "qualifier": r.qualifier if not pd.isna(r.qualifier) else None,
            "source": {"file": r.source_file if not pd.isna(r.source_file) else None,
                       "start": start, "end": end, "sentence": r.sentence if not pd.isna(r.sentence) else None},
        })
    return out
