"""Render the data-quality report: one self-contained ``index.html``.

Styles and scripts are inlined from ``templates/``; the sparklines are SVG drawn here; the grid's
cell details travel as one compact JSON blob read by a small script. Nothing is fetched from the
network: a Content-Security-Policy allows no source but the page's own two scripts (by hash), so
even a string that escaped escaping could not run. Jinja2 autoescape is on: everything that came
from a province is text.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from diaphuong.errors import DiaphuongError
from diaphuong.report import labels as L
from diaphuong.report.data import build_report_data

TEMPLATES = Path(__file__).parent / "templates"
LIST_CAP = 250  # rows shown per findings rule / change list / quarantine (the rest is counted)
LETTER_SUFFIXES = (".docx", ".doc", ".odt", ".pdf", ".txt", ".html", ".md", ".rtf")


# ----------------------------------------------------------------------------- formatting
def fmt_number(v: float | None, digits: int = 2, *, fixed: bool = False, lang: str = "vi") -> str:
    """1234.5 -> '1.234,5' (vi) or '1,234.5' (en); at most ``digits`` decimals (exactly, if fixed)."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    s = f"{v:,.{digits}f}"
    if digits and not fixed:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", "-0.0", "-0.00"):
        s = s[1:]
    return s.translate(str.maketrans(",.", ".,")) if lang == "vi" else s


def _bi(vi: str, en: str) -> Markup:
    if vi == en:
        return escape(vi)
    return Markup('<span class="vi">%s</span><span class="en">%s</span>') % (vi, en)


def _t(key: str, **fmt) -> Markup:
    return _bi(*L.ui(key, **fmt))


def _num(v, digits: int = 2, fixed: bool = False, suffix: str = "") -> Markup:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return Markup('<span class="na">—</span>')
    return Markup('<span class="num" data-v="%s" data-d="%d"%s>%s</span>%s') % (
        repr(float(v)), digits, Markup(' data-x="1"') if fixed else "", fmt_number(v, digits, fixed=fixed), suffix)


def _pct(v, digits: int = 1) -> Markup:
    return _num(v, digits, fixed=True, suffix="%")


def _delta(v, digits: int = 1, unit: str = " đ%") -> Markup:
    """A change with an arrow; 'đ%' is 'điểm phần trăm' (percentage points)."""
    if v is None:
        return Markup('<span class="na">—</span>')
    cls = "up" if v > 0.05 else "down" if v < -0.05 else "flat"
    arrow = "▲" if cls == "up" else "▼" if cls == "down" else "="
    return Markup('<span class="delta %s">%s %s<span class="vi">%s</span><span class="en"> pp</span></span>') % (
        cls, arrow, _num(v, digits, fixed=True), unit)


def _unit(code) -> Markup:
    """A unit code as words: Vietnamese name (units.csv) / the code in English."""
    if not code:
        return Markup("")
    return _bi(_unit_names().get(code, code), code)


def _unit_names() -> dict[str, str]:
    try:
        from diaphuong.catalog.units import units

        return {k: u.name_vi for k, u in units().items()}
    except DiaphuongError:
        return {}


_STATE_KEY = {"ok": "cycle_ok", "late": "cycle_late", "missing": "cycle_missing", "nodata": "cycle_nodata"}


def state_label(state: str) -> str:
    """A province's state in a cycle as 'vi / en' (for title attributes)."""
    vi, en = L.ui(_STATE_KEY.get(state, "cycle_nodata"))
    return f"{vi} / {en}"


def _sv(v) -> str:
    """Sort value for a scorecard cell."""
    if v is None:
        return ""
    return repr(float(v)) if isinstance(v, (int, float)) else str(v)


def _href(rel: str) -> str:
    return quote(rel.replace(os.sep, "/"), safe="/")


def sparkline(points: list[dict], width: int = 96, height: int = 20) -> Markup:
    """SVG line of indicator completeness (0–100) over cycles; red dot: no report, amber: late."""
    n = len(points)
    if not n:
        return Markup("")
    step = (width - 6) / max(n - 1, 1)
    xs = [3 + i * step for i in range(n)]

    def y(v: float) -> float:
        return round(height - 3 - (height - 6) * max(0.0, min(100.0, v)) / 100.0, 1)

    segs, cur, dots, titles = [], [], [], []
    for x, p in zip(xs, points):
        v = p.get("completeness")
        st = p.get("state")
        label = fmt_number(v, 1, fixed=True) + "%" if v is not None else "—"
        titles.append(f"{p['cycle']}: {label} ({state_label(st)})")
        if v is None:
            if len(cur) > 1:
                segs.append(cur)
            cur = []
        else:
            cur.append(f"{x:.1f},{y(v)}")
        if st in ("missing", "late"):
            dots.append(f'<circle class="{st[0]}" cx="{x:.1f}" cy="{y(v) if v is not None else height - 3}" r="2.2"/>')
    if len(cur) > 1:
        segs.append(cur)
    last = points[-1].get("completeness")
    if last is not None:
        dots.append(f'<circle class="cur" cx="{xs[-1]:.1f}" cy="{y(last)}" r="1.8"/>')
    lines = "".join(f'<polyline points="{" ".join(s)}"/>' for s in segs)
    title = escape("\n".join(titles))
    return Markup(
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
        f'<title>{title}</title><line class="base" x1="0" y1="{height - 3}" x2="{width}" y2="{height - 3}"/>'
        f'{lines}{"".join(dots)}</svg>')


def _json_for_script(obj) -> Markup:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&' can close the tag."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    s = s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    s = s.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return Markup(s)


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


# ----------------------------------------------------------------------------- grid
def _trim(a: list) -> list:
    while a and a[-1] is None:
        a.pop()
    return a


def _grid(data: dict) -> tuple[list[dict], list[Markup], dict]:
    """Header groups, one row of cells per province (class = status code), and the JSON details."""
    cols = data["columns"]
    groups: list[dict] = []
    for c in cols:
        if groups and groups[-1]["indicator"] == c["indicator"]:
            groups[-1]["span"] += 1
        else:
            short = L.SHORT.get(c["indicator"], (c["indicator"], c["indicator"]))
            groups.append({"indicator": c["indicator"], "span": 1, "short_vi": short[0], "short_en": short[1],
                           "name_vi": c["name_vi"], "name_en": c["name_en"]})
    pool: dict[str, int] = {}  # repeated strings (files, details, locators, sentences) travel once

    def ix(v):
        return None if not v else pool.setdefault(v, len(pool))

    units_used: set[str] = set()
    cells: dict[str, list] = {}
    rows_html: list[Markup] = []
    for ri, row in enumerate(data["grid"]):
        parts = []
        for ci, cell in enumerate(row):
            if cell is None:
                parts.append('<td class="x"></td>')
                continue
            parts.append(f'<td class="{L.STATUS_CODE.get(cell["status"], "x")}"></td>')
            if cell.get("unit"):
                units_used.add(cell["unit"])
            rec = _trim([cell.get("value"), cell.get("text_value"), ix(cell.get("detail")), ix(cell.get("locator")),
                         ix(cell.get("file")), cell.get("original"), cell.get("obs_status"), ix(cell.get("sentence")),
                         cell.get("unit")])
            if rec:
                cells[f"{ri}.{ci}"] = rec
        rows_html.append(Markup("".join(parts)))  # only fixed class names: nothing from the data
    blob = {
        "cols": [[c["indicator"], c["measure"], c["name_vi"], c["name_en"], *L.MEASURE.get(c["measure"], (c["measure"],) * 2)]
                 for c in cols],
        "rows": [[p["code"], p["name"]] for p in data["provinces"]],
        "s": list(pool),
        "cells": cells,
        "st": {L.STATUS_CODE[k]: list(v) for k, v in L.STATUS.items()},
        "os": {k: list(v) for k, v in L.OBS_STATUS.items()},
        "u": {k: [v, k] for k, v in _unit_names().items() if k in units_used},
        "L": {k: list(L.UI[k]) for k in ("province", "indicator", "status", "value", "text_value", "detail",
                                         "source", "original", "obs_status", "sentence", "measure", "close")},
    }
    return groups, rows_html, blob


# ----------------------------------------------------------------------------- links
def _links(base: Path) -> dict:
    fu = base / "followup"
    wb = fu / "followup.xlsx"
    letters = []
    if fu.is_dir():
        for p in sorted(fu.rglob("*")):
            if p.is_file() and p != wb and p.suffix.lower() in LETTER_SUFFIXES:
                rel = p.relative_to(base).as_posix()
                letters.append({"href": _href(rel), "name": p.relative_to(fu).as_posix()})
    gx = base / "gx" / "index.html"
    return {
        "followup": _href("followup/followup.xlsx") if wb.is_file() else None,
        "letters": letters,
        "gx": _href("gx/index.html") if gx.is_file() else None,
    }


# ----------------------------------------------------------------------------- render
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(t=_t, bi=_bi, num=_num, unit=_unit, state_label=state_label, pct=_pct, delta=_delta, spark=sparkline, sv=_sv,
                       L=L, cap=LIST_CAP, ui=L.ui)
    return env


def render_html(data: dict, *, base: Path | None = None) -> str:
    """The report page as a string. ``base`` is the folder the page will live in (for the links to
    the follow-up workbook, letters and GX Data Docs that exist there)."""
    env = _env()
    head_js = (TEMPLATES / "head.js").read_text(encoding="utf-8")
    main_js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    groups, grid_rows, blob = _grid(data)
    csp = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
           f"script-src {_csp_hash(head_js)} {_csp_hash(main_js)}; base-uri 'none'; form-action 'none'")
    return env.get_template("report.html.j2").render(
        d=data, h=data["headline"], hp=data.get("headline_previous"),
        groups=groups, grid_rows=grid_rows, blob=_json_for_script(blob),
        links=_links(base) if base else {"followup": None, "letters": [], "gx": None},
        csp=Markup(csp), css=Markup(css), head_js=Markup(head_js), main_js=Markup(main_js),
    )


def render_report(data: dict, out_path: Path) -> Path:
    """Write the report of ``data`` to ``out_path`` (atomically) and return the path."""
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    html = render_html(data, base=out_path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".index-", suffix=".html", dir=out_path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the report is meant to be shared
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path


def write_report(con: duckdb.DuckDBPyConnection, cycle: str, reports_dir: Path, **kw) -> Path:
    """Build and render the report of ``cycle``: ``reports_dir/<cycle>/index.html``."""
    data = build_report_data(con, cycle, **kw)
    return render_report(data, Path(reports_dir) / data["cycle"] / "index.html")
