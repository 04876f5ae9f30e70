"""The report's summary for Prefect artifacts: a markdown summary and the scorecard as table rows.

Plain functions on the dict of :func:`diaphuong.report.build_report_data`; the flow passes their
results to ``prefect.artifacts.create_markdown_artifact`` / ``create_table_artifact``. Strings a
province sent are escaped for markdown (no HTML, no table breaks).
"""
from __future__ import annotations

import html
import re

from diaphuong.report.html import fmt_number

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#<>])")


def _md(s) -> str:
    """Text safe inside markdown (and a table cell): HTML-escaped, markdown punctuation backslashed."""
    if s is None:
        return ""
    s = " ".join(str(s).split())
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(1) if m.group(1) not in "<>" else html.escape(m.group(1)), s)


def _pct(v) -> str:
    return "—" if v is None else fmt_number(v, 1, fixed=True) + "%"


def _delta(v) -> str:
    if v is None:
        return ""
    return f" ({'+' if v >= 0 else ''}{fmt_number(v, 1, fixed=True)} đ%)"


def markdown_summary(data: dict, *, top: int = 10) -> str:
    """Headline, worst provinces, chronic non-reporters and findings counts, in Vietnamese with
    English in brackets."""
    h, hp = data["headline"], data.get("headline_previous")
    prev = data.get("previous_cycle")

    def d(key):
        if not hp or h.get(key) is None or hp.get(key) is None:
            return ""
        return _delta(h[key] - hp[key])

    lines = [f"# Chất lượng số liệu kỳ {data['cycle']} (data quality, cycle {data['cycle']})", ""]
    lines.append(f"So với kỳ trước cùng loại (vs previous cycle of this kind): **{prev or '—'}**")
    lines += ["", "| Chỉ số (measure) | Kỳ này (this cycle) | Kỳ trước (previous) |", "|---|---:|---:|"]
    for key, label in (("reporting_rate", "Tỷ lệ báo cáo (reporting rate)"),
                       ("on_time_rate", "Tỷ lệ đúng hạn (on-time rate)"),
                       ("indicator_completeness", "Đầy đủ chỉ tiêu (indicator completeness)")):
        lines.append(f"| {label} | {_pct(h.get(key))}{d(key)} | {_pct(hp.get(key)) if hp else '—'} |")
    f = h.get("findings", {})
    lines += ["",
              f"- Tỉnh phải báo cáo (expected): {h.get('expected')}; đã nhận (received): "
              f"{'—' if h.get('received') is None else h['received']}; chưa nộp (not received): "
              f"{'—' if h.get('not_received') is None else h['not_received']}",
              f"- Lỗi (findings): nghiêm trọng (critical) {f.get('critical', 0)}, cảnh báo (warning) "
              f"{f.get('warning', 0)}, thông tin (info) {f.get('info', 0)}",
              f"- Mâu thuẫn lời văn/biểu (text vs table conflicts): {h.get('conflicts', 0)}; "
              f"ô/tệp bị loại (quarantined): {h.get('quarantined', 0)}"]
    worst = [s for s in data["scorecard"] if s["state"] != "ok" or (s["completeness"] or 0) < 100
             or s["critical"]][:top]
    if worst:
        lines += ["", f"## Cần đôn đốc (to chase) — {len(worst)} tỉnh kém nhất (worst first)", "",
                  "| # | Tỉnh (province) | Nộp (received) | Muộn (days late) | Đầy đủ (complete) | Nghiêm trọng (critical) |",
                  "|---:|---|---|---:|---:|---:|"]
        state = {"ok": "đúng hạn (on time)", "late": "muộn (late)", "missing": "chưa (no)", "nodata": "—"}
        for s in worst:
            lines.append(f"| {s['rank']} | {_md(s['code'])} {_md(s['name'])} | {state[s['state']]} | "
                         f"{'' if s['days_late'] is None else s['days_late']} | {_pct(s['completeness'])} | {s['critical']} |")
    ch = data["chronic"]
    lines += ["", f"## Thường xuyên thiếu/muộn (chronic: ≥{ch['k']} of last {ch['n']} cycles)", ""]
    if ch["rows"]:
        for r in ch["rows"]:
            lines.append(f"- {_md(r['code'])} {_md(r['name'])}: thiếu (missed) {r['missed']}, muộn (late) {r['late']}")
    else:
        lines.append("- Không có (none)")
    rules = [(sev["severity"], r["rule"], r["count"]) for sev in data["findings"] for r in sev["rules"]]
    if rules:
        lines += ["", "## Lỗi theo quy tắc (findings by rule)", "", "| Mức (severity) | Quy tắc (rule) | Số (count) |",
                  "|---|---|---:|"]
        lines += [f"| {s} | {_md(r)} | {n} |" for s, r, n in rules]
    ch = data["changes"]
    lines += ["", f"Thay đổi (changes): sửa (revised) {len(ch['revised'])}, rút (withdrawn) {len(ch['withdrawn'])}, "
                  f"mới (new) {len(ch['new'])}"]
    return "\n".join(lines) + "\n"


def scorecard_rows(data: dict) -> list[dict]:
    """The scorecard, worst first, as flat rows (str / float / int / None) for a table artifact."""
    out = []
    for s in data["scorecard"]:
        out.append({
            "rank": s["rank"], "province_code": s["code"], "province": s["name"], "state": s["state"],
            "received_at": s["received_at"], "days_late": s["days_late"],
            "indicator_completeness": None if s["completeness"] is None else round(s["completeness"], 1),
            "change_vs_previous": None if s["delta"] is None else round(s["delta"], 1),
            "missing": s["missing"], "invalid": s["invalid"], "conflict": s["conflict"],
            "text_only": s["text_only"], "reported_late": s["late_cells"],
            "critical": s["critical"], "warning": s["warning"],
            "trend": " ".join("—" if p["completeness"] is None else f"{p['completeness']:.0f}" for p in s["trend"]),
        })
    return out
