"""Benchmark: sentences per second of diaphuong.extract on a generated corpus.

    .venv/bin/python bench/bench_extract.py [--paragraphs 10000] [--seed 7]

Generates report paragraphs (several indicators, numbers, periods, statuses and phrasings, with
plans, national figures and narrative sentences mixed in), then extracts them in one process and
prints paragraphs, sentences, figures, seconds and sentences/s. Target: >= 2,000 sentences/s.
Paragraphs are grouped into report documents of ``--per-doc`` paragraphs (one province and
period each), as the flow reads them: one ``extract_text`` call per document.
"""
from __future__ import annotations

import argparse
import random
import time

from diaphuong.extract import _sentences, extract_text  # noqa: PLC2701 - counting sentences

MONTHS = list(range(1, 13))
STATUS = ["ước đạt", "ước tính đạt", "đạt", "sơ bộ đạt", "dự ước đạt"]


def _vi(x: float, decimals: int = 1) -> str:
    s = f"{x:,.{decimals}f}"
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def _pct(r: random.Random) -> str:
    return _vi(r.uniform(0.1, 25), r.choice([1, 2]))


def paragraph(r: random.Random, year: int, month: int) -> str:
    n = month
    cum = f"{n} tháng" if n not in (3, 6) else r.choice(["quý I" if n == 3 else "6 tháng đầu năm", f"{n} tháng đầu năm"])
    pieces = [
        lambda: (f"Tổng sản phẩm trên địa bàn (GRDP) {cum} {r.choice(['ước tính', 'ước'])} tăng {_pct(r)}% so với cùng kỳ năm {year - 1}. "
                 f"Trong đó, khu vực nông, lâm nghiệp và thủy sản tăng {_pct(r)}%; khu vực công nghiệp và xây dựng tăng {_pct(r)}%; "
                 f"khu vực dịch vụ tăng {_pct(r)}%; thuế sản phẩm trừ trợ cấp sản phẩm {r.choice(['tăng', 'giảm'])} {_pct(r)}%."),
        lambda: (f"Tổng mức bán lẻ hàng hóa và doanh thu dịch vụ tiêu dùng tháng {month} {r.choice(STATUS)} {_vi(r.uniform(800, 90000), 1)} tỷ đồng, "
                 f"tăng {_pct(r)}% so với tháng trước và tăng {_pct(r)}% so với cùng kỳ. Tính chung {cum}, đạt {_vi(r.uniform(5000, 900000), 0)} tỷ đồng, tăng {_pct(r)}%."),
        lambda: (f"Kim ngạch xuất khẩu {cum} {r.choice(STATUS)} {_vi(r.uniform(50, 9000), 1)} triệu USD, {r.choice(['tăng', 'giảm'])} {_pct(r)}% so với cùng kỳ, "
                 f"đạt {_vi(r.uniform(20, 99), 1)}% kế hoạch năm; kim ngạch nhập khẩu đạt {_vi(r.uniform(0.2, 9), 2)} tỷ USD, tăng {_pct(r)}%."),
        lambda: (f"Tổng thu ngân sách nhà nước trên địa bàn {cum} {r.choice(STATUS)} {_vi(r.uniform(500, 90000), 0)} tỷ đồng, bằng {_vi(r.uniform(20, 110), 1)}% dự toán, "
                 f"tăng {_pct(r)}% so với cùng kỳ; trong đó thu nội địa {_vi(r.uniform(400, 80000), 0)} tỷ đồng, đạt {_vi(r.uniform(20, 110), 1)}% dự toán."),
        lambda: (f"Chỉ số giá tiêu dùng (CPI) tháng {month} {r.choice(['tăng', 'giảm'])} {_vi(r.uniform(0, 2), 2)}% so với tháng trước, tăng {_vi(r.uniform(0, 6), 2)}% so với tháng 12 năm trước "
                 f"và tăng {_vi(r.uniform(0, 6), 2)}% so với cùng kỳ năm trước. CPI bình quân {cum} tăng {_vi(r.uniform(0, 6), 2)}% so với bình quân cùng kỳ."),
        lambda: (f"Chỉ số sản xuất công nghiệp (IIP) tháng {month} ước tăng {_pct(r)}% so với tháng trước; tính chung {cum}, IIP tăng {_pct(r)}% so với cùng kỳ, "
                 f"trong đó ngành chế biến, chế tạo tăng {_pct(r)}%."),
        lambda: (f"{r.choice(['Trong', 'Tính chung'])} {cum}, toàn tỉnh có {r.randint(40, 3000)} doanh nghiệp thành lập mới, tăng {_pct(r)}% so với cùng kỳ; "
                 f"tổng vốn đăng ký {_vi(r.uniform(100, 40000), 0)} tỷ đồng; {r.randint(10, 900)} doanh nghiệp quay trở lại hoạt động."),
        lambda: (f"Tổng lượt khách du lịch {cum} ước đạt {_vi(r.uniform(0.1, 30), 2)} triệu lượt, tăng {_pct(r)}% so với cùng kỳ (khách quốc tế {_vi(r.uniform(5, 900), 1)} nghìn lượt); "
                 f"tổng thu từ khách du lịch ước đạt {_vi(r.uniform(50, 90000), 0)} tỷ đồng."),
        lambda: (f"Giải ngân vốn đầu tư công đến hết tháng {month} đạt {_vi(r.uniform(100, 30000), 0)} tỷ đồng, bằng {_vi(r.uniform(5, 95), 1)}% kế hoạch vốn Thủ tướng Chính phủ giao."),
        lambda: (f"Năm {year + 1}, tỉnh phấn đấu tốc độ tăng trưởng GRDP đạt {_vi(r.uniform(6, 12), 1)}%, thu ngân sách đạt {_vi(r.uniform(5000, 90000), 0)} tỷ đồng."),
        lambda: "Công tác an sinh xã hội được bảo đảm; quốc phòng, an ninh được giữ vững. Các chính sách hỗ trợ người dân được triển khai kịp thời.",
        lambda: (f"GDP cả nước {cum} tăng {_pct(r)}%, tỷ lệ hộ nghèo giảm {_vi(r.uniform(0.1, 3), 1)} điểm phần trăm so với đầu năm."),
    ]
    k = r.randint(2, 4)
    return " ".join(f() for f in r.sample(pieces, k))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paragraphs", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-doc", type=int, default=50)
    args = ap.parse_args()
    r = random.Random(args.seed)
    docs = []
    made = 0
    while made < args.paragraphs:
        year, month = r.randint(2017, 2026), r.choice(MONTHS)
        k = min(args.per_doc, args.paragraphs - made)
        docs.append(("\n".join(paragraph(r, year, month) for _ in range(k)), f"{year}-{month:02d}"))
        made += k
    sentences = sum(len(_sentences(t)) for t, _ in docs)
    extract_text(docs[0][0], period=docs[0][1])  # warm the catalogs and patterns
    t0, c0 = time.perf_counter(), time.process_time()
    figures = 0
    for text, period in docs:
        figures += len(extract_text(text, period=period))
    dt, ct = time.perf_counter() - t0, time.process_time() - c0
    # wall-clock rate (the target), and the rate on this process's own CPU time: on a shared
    # machine the two differ by how busy the other processes keep the cores
    print(f"paragraphs={made} documents={len(docs)} sentences={sentences} figures={figures} seconds={dt:.2f} "
          f"sentences_per_s={sentences / dt:,.0f} cpu_seconds={ct:.2f} cpu_sentences_per_s={sentences / ct:,.0f}")


if __name__ == "__main__":
    main()
