"""Validation: Great Expectations suites, rules between figures, outliers against history.

Public functions
----------------
:func:`run_suites`   the suites in ``expectations/*.json`` (GX 1.x: ephemeral context, pandas data
                     source, dataframe asset, batch definition, a ValidationDefinition and a Checkpoint
                     per suite) -> ``finding`` rows and a ``suite_result`` row per suite; optionally the
                     cycle's Data Docs, made to render offline.
:func:`apply_rules`  the rules between figures of ``expectations/rules.yaml`` (DHIS2's shape).
:func:`outliers`     modified z-scores against the province's own history and against the other
                     provinces of the cycle.
:func:`validate`     the whole stage -> :class:`ValidationResult` (findings, suite results, and the worst
                     severity per observation row, which the loader writes to ``observation.severity``:
                     ``critical`` keeps a figure out of ``observation_current``).

Great Expectations is imported lazily (2-3 s).

How a failed expectation becomes rows of ``finding``
-----------------------------------------------------
Each suite runs once through its Checkpoint with result format ``BASIC`` (the Data Docs and the
suite summary come from this run). GX 1.24 builds ``unexpected_index_list`` in Python row by row
even for ``SUMMARY`` (measured: ~0.5 ms per failing row for ``in_set``, ~1.2 ms for a compound key, so
10^5 failing rows took 50-190 s), so the failing rows are then fetched in a second pass:
expectations with at most :data:`GX_ROW_LIMIT` failing rows are re-run through GX with ``COMPLETE``
and ``unexpected_index_column_names=['row_id']``; above that limit the same condition is evaluated
with pandas (:func:`_mirror_unexpected`) and its count is checked against GX's ``unexpected_count``
(a mismatch is itself reported). An expectation that raised (``exception_info``) becomes a
``critical`` finding: it never passes silently.
"""
from __future__ import annotations

import ast
import json
import logging
import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from diaphuong import schema
from diaphuong.errors import DiaphuongError, PeriodError
from diaphuong.periods import parse_period

SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
_RANK_SEVERITY = {v: k for k, v in SEVERITY_RANK.items()}
GX_ROW_LIMIT = 1000
VENDOR_DIR = Path(__file__).parent / "report" / "vendor"
FINDING_COLUMNS = schema.TABLES["finding"].columns
SUITE_RESULT_COLUMNS = schema.TABLES["suite_result"].columns
CHANGE_MEASURES = ("yoy_pct", "mom_pct", "pct_of_plan", "ytd_pct", "avg_yoy_pct")


class RuleError(DiaphuongError):
    """A rule in rules.yaml is malformed."""


@dataclass
class ValidationResult:
    findings: pd.DataFrame          # columns of the `finding` table (run_id left empty)
    suite_results: pd.DataFrame     # columns of the `suite_result` table (run_id left empty)
    severity_by_observation: pd.Series  # index of the observations given; critical/warning/info or None


# =================================================================== helpers


def _empty_findings() -> pd.DataFrame:
    f = schema.empty_frame("finding")
    f["_rows"] = pd.Series(dtype="object")
    return f


def _cycle_of(df: pd.DataFrame | None, cycle: str | None = None) -> str:
    if cycle:
        return cycle
    if df is not None and "cycle" in df.columns and len(df):
        m = df["cycle"].dropna()
        if len(m):
            return str(m.astype(str).mode().iloc[0])
    return ""


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "∅"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.6g}"


def _json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, sort_keys=True, default=_json_default)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        f = float(o)
        return f if math.isfinite(f) else None
    if o is pd.NA or o is pd.NaT:
        return None
    return str(o)


def _clean_float(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series([None] * len(df), index=df.index, dtype="object")


def _rows_frame(obs: pd.DataFrame, pos: np.ndarray, **const) -> pd.DataFrame:
    """Finding rows for observation rows at positions ``pos`` (vectorised)."""
    sub = obs.iloc[pos]
    out = pd.DataFrame({
        "cycle": _col(sub, "cycle").astype("object").to_numpy(),
        "province_code": _col(sub, "province_code").astype("object").to_numpy(),
        "indicator": _col(sub, "indicator").astype("object").to_numpy(),
        "measure": _col(sub, "measure").astype("object").to_numpy(),
        "period": _col(sub, "period").astype("object").to_numpy(),
        "value": pd.to_numeric(_col(sub, "value"), errors="coerce").to_numpy(dtype="float64"),
        "source_file": _col(sub, "source_file").astype("object").to_numpy(),
        "locator": _col(sub, "locator").astype("object").to_numpy(),
    })
    for k, v in const.items():
        out[k] = v
    out["_rows"] = [[int(p)] for p in pos]
    return out


def _finalize(frames: list[pd.DataFrame], cycle: str) -> pd.DataFrame:
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return _empty_findings()
    out = pd.concat(frames, ignore_index=True)
    if "cycle" not in out.columns:
        out["cycle"] = cycle
    out["cycle"] = out["cycle"].where(out["cycle"].notna(), cycle)
    for c in FINDING_COLUMNS:
        if c not in out.columns:
            out[c] = None
    if "_rows" not in out.columns:
        out["_rows"] = [[] for _ in range(len(out))]
    res = schema.conform(out[FINDING_COLUMNS], "finding")
    res["_rows"] = out["_rows"].to_numpy()
    return res


def _public(findings: pd.DataFrame) -> pd.DataFrame:
    return findings.drop(columns=["_rows"], errors="ignore").reset_index(drop=True)


@contextmanager
def _quiet():
    """No warnings or GX log records on the console while GX runs."""
    lg = logging.getLogger("great_expectations")
    old = lg.level
    lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        lg.setLevel(old)


# =================================================================== suites


def load_suites(suites_dir: Path, table: str | None = None) -> list[dict]:
    """Every ``*.json`` suite in ``suites_dir`` (sorted by name), optionally only those of ``table``."""
    out = []
    for p in sorted(Path(suites_dir).glob("*.json")):
        try:
            s = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise RuleError(f"{p}: not valid JSON: {e}", hint="run `diaphuong expectations --write`") from None
        if table is None or (s.get("meta") or {}).get("table") == table:
            out.append(s)
    return out


def _gx_context(docs_dir: Path | None):
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites = {"diaphuong": {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }}
    cfg = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    return gx.get_context(project_config=cfg, mode="ephemeral")


def _needed_columns(suite: dict) -> set[str] | None:
    """Columns the suite's expectations read; None when one needs the whole table."""
    cols: set[str] = {"row_id"}
    for e in suite["expectations"]:
        if e["type"].startswith("expect_table_"):
            return None
        cols |= _expectation_columns(e)
    return cols


def _expectation_columns(e: dict) -> set[str]:
    kw = e["kwargs"]
    cols = set()
    for k in ("column", "column_A", "column_B"):
        if k in kw:
            cols.add(kw[k])
    cols |= set(kw.get("column_list") or ())
    rc = kw.get("row_condition")
    if isinstance(rc, dict):
        cols |= _condition_columns(rc)
    return cols


def _condition_columns(c: dict) -> set[str]:
    if "conditions" in c:
        out = set()
        for x in c["conditions"]:
            out |= _condition_columns(x)
        return out
    col = c.get("column")
    return {col["name"]} if isinstance(col, dict) and "name" in col else set()


def _frame_for_gx(df: pd.DataFrame, cols: set[str] | None) -> pd.DataFrame:
    f = df if cols is None else df[[c for c in df.columns if c in cols]]
    # GX's pandas fast paths expect nanosecond datetimes (pandas 3 makes microseconds): STACK-NOTES
    conv = {c: (str(t).replace("[us", "[ns").replace("[ms", "[ns").replace("[s", "[ns"))
            for c, t in f.dtypes.items() if str(t).startswith("datetime64[") and "[ns" not in str(t)}
    if conv:
        f = f.astype(conv)
    return f


def run_suites(observations: pd.DataFrame, *, suites_dir: Path, docs_dir: Path | None = None,
               submissions: pd.DataFrame | None = None, cycle: str | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the ``observation`` suites (and the ``submission`` suites when ``submissions`` is given).

    Returns (findings in the ``finding`` table's columns, one ``suite_result`` row per suite).
    With ``docs_dir``, the cycle's GX Data Docs are built there and made to render offline.
    """
    f, s, _ = _run_suites(observations, suites_dir=suites_dir, docs_dir=docs_dir,
                          submissions=submissions, cycle=cycle)
    return _public(f), s


def _run_suites(observations, *, suites_dir, docs_dir=None, submissions=None, cycle=None):
    from diaphuong.expectations_gen import derive_columns

    cycle = _cycle_of(observations, cycle)
    frames = {"observation": observations}
    if submissions is not None:
        frames["submission"] = submissions
    jobs = []
    for table, df in frames.items():
        suites = load_suites(suites_dir, table)
        if suites:
            jobs.append((table, derive_columns(df, table), suites))
    if not jobs:
        return _empty_findings(), schema.empty_frame("suite_result"), {}

    findings: list[pd.DataFrame] = []
    summaries = []
    with _quiet():
        import great_expectations as gx

        ctx = _gx_context(Path(docs_dir) if docs_dir is not None else None)
        for table, vdf, suites in jobs:
            asset = ctx.data_sources.add_pandas(f"diaphuong_{table}").add_dataframe_asset(table)
            bd = asset.add_batch_definition_whole_dataframe(f"cycle {cycle}".strip())
            for sdict in suites:
                name = sdict["name"]
                suite = ctx.suites.add(gx.ExpectationSuite(**_strip_ids(sdict)))
                vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=bd, suite=suite))
                cp = ctx.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[vd],
                                                       result_format={"result_format": "BASIC"}))
                cols = _needed_columns(sdict)
                res = cp.run(batch_parameters={"dataframe": _frame_for_gx(vdf, cols)},
                             run_id=None)
                vres = next(iter(res.run_results.values()))
                st = vres.statistics
                summaries.append({
                    "cycle": cycle, "suite": name,
                    "evaluated": st["evaluated_expectations"], "successful": st["successful_expectations"],
                    "unsuccessful": st["unsuccessful_expectations"],
                    "success_percent": float(st["success_percent"]) if st["success_percent"] is not None else None,
                })
                findings.append(_suite_findings(vres.results, name, table, vdf, bd, cycle))
        if docs_dir is not None:
            ctx.build_data_docs(site_names=["diaphuong"])
    if docs_dir is not None:
        make_docs_offline(Path(docs_dir))
    obs_rows = {}
    fnd = _finalize(findings, cycle)
    return fnd, schema.conform(pd.DataFrame(summaries, columns=SUITE_RESULT_COLUMNS), "suite_result"), obs_rows


def _strip_ids(s: dict) -> dict:
    s = json.loads(json.dumps(s))
    s.pop("id", None)
    for e in s["expectations"]:
        e.pop("id", None)
    return s


def _suite_findings(results, suite_name: str, table: str, vdf: pd.DataFrame, bd, cycle: str) -> pd.DataFrame:
    out: list[pd.DataFrame] = []
    to_detail: list[tuple[dict, int]] = []
    for r in results:
        cfg = r.expectation_config
        e = {"type": cfg.type, "kwargs": _plain_kwargs(cfg.kwargs), "meta": dict(cfg.meta or {}),
             "severity": str(getattr(cfg, "severity", None) or (cfg.meta or {}).get("severity") or "critical")}
        e["severity"] = _sev_value(e["severity"])
        exc = r.exception_info or {}
        raised = exc.get("raised_exception") if isinstance(exc, dict) and "raised_exception" in exc else None
        if raised is None and isinstance(exc, dict):  # {metric id: {exception_message, ...}}
            msgs = [v.get("exception_message") for v in exc.values() if isinstance(v, dict) and v.get("raised_exception")]
            raised, msg = (bool(msgs), "; ".join(sorted(set(m for m in msgs if m))))
        else:
            msg = exc.get("exception_message") if isinstance(exc, dict) else None
        if raised:
            out.append(_table_finding(e, suite_name, table, cycle, "critical",
                                      f"expectation could not be evaluated: {msg}", error=msg))
            continue
        if r.success:
            continue
        res = r.result or {}
        n = res.get("unexpected_count")
        if n is None:
            observed = res.get("observed_value")
            out.append(_table_finding(e, suite_name, table, cycle, e["severity"],
                                      f"{_describe(e)}; observed {observed!r}", observed=observed))
            continue
        to_detail.append((e, int(n)))
    small = [(e, n) for e, n in to_detail if n <= GX_ROW_LIMIT]
    big = [(e, n) for e, n in to_detail if n > GX_ROW_LIMIT]
    positions: dict[int, np.ndarray] = {}
    if small:
        positions.update(_gx_unexpected_rows([e for e, _ in small], vdf, bd))
    for e, n in small + big:
        pos = positions.get(id(e))
        how = "gx_unexpected_index_list"
        if pos is None:
            pos = _mirror_unexpected(e, vdf)
            how = "pandas_mirror"
        if pos is None:
            out.append(_table_finding(e, suite_name, table, cycle, e["severity"],
                                      f"{_describe(e)}: {n} rows fail (rows not attributable)"))
            continue
        if len(pos) != n:
            out.append(_table_finding(e, suite_name, table, cycle, "info",
                                      f"GX counted {n} failing rows, the row lookup found {len(pos)}",
                                      gx_count=n, found=len(pos)))
        out.append(_expectation_rows(e, suite_name, table, vdf, np.asarray(pos, dtype="int64"), how))
    return pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else _empty_findings()


def _sev_value(s) -> str:
    s = getattr(s, "value", s)
    s = str(s).lower()
    return s if s in SEVERITY_RANK else "critical"


def _plain_kwargs(kw) -> dict:
    d = dict(kw)
    rc = d.get("row_condition")
    if rc is not None and not isinstance(rc, (dict, str)):
        d["row_condition"] = json.loads(rc.json()) if hasattr(rc, "json") else str(rc)
    d.pop("batch_id", None)
    return d


def _describe(e: dict) -> str:
    kw = e["kwargs"]
    t = e["type"]
    col = kw.get("column") or ",".join(kw.get("column_list") or []) or kw.get("column_A")
    return f"{t}({col})" if col else t


def _expected_text(e: dict) -> str:
    kw, t = e["kwargs"], e["type"]
    if t == "expect_column_values_to_be_in_set":
        vs = kw.get("value_set") or []
        return "one of " + ", ".join(map(str, vs)) if len(vs) <= 8 else f"one of the {len(vs)} values of the suite"
    if t == "expect_column_values_to_be_between":
        lo, hi = kw.get("min_value"), kw.get("max_value")
        if lo is not None and hi is not None:
            return f"between {_fmt(lo)} and {_fmt(hi)}"
        return f">= {_fmt(lo)}" if lo is not None else f"<= {_fmt(hi)}"
    if t == "expect_column_values_to_not_be_null":
        return "not empty"
    if t == "expect_column_values_to_match_regex":
        return f"matches {kw.get('regex')}"
    if t == "expect_compound_columns_to_be_unique":
        return "unique (" + ", ".join(kw.get("column_list") or []) + ")"
    if t == "expect_column_pair_values_to_be_equal":
        return f"{kw.get('column_A')} = {kw.get('column_B')}"
    if t == "expect_column_values_to_be_of_type":
        return f"type {kw.get('type_')}"
    if t.startswith("expect_table_columns"):
        return "columns: " + ", ".join(kw.get("column_set") or kw.get("column_list") or [])
    return _describe(e)


def _table_finding(e, suite_name, table, cycle, severity, message, **extra) -> pd.DataFrame:
    details = {"suite": suite_name, "table": table, "expectation_type": e["type"],
               "kwargs": {k: v for k, v in e["kwargs"].items() if k != "value_set"}, **extra}
    return pd.DataFrame([{
        "cycle": cycle, "severity": severity, "rule": e["meta"].get("rule") or _describe(e),
        "indicator": e["meta"].get("indicator"), "expected": _expected_text(e),
        "message": message, "details": _json(details), "_rows": [],
    }])


def _expectation_rows(e, suite_name, table, vdf, pos, how) -> pd.DataFrame:
    kw = e["kwargs"]
    col = kw.get("column") or kw.get("column_A")
    cols = [col] if col else list(kw.get("column_list") or [])
    if kw.get("column_B"):
        cols.append(kw["column_B"])
    found = {c: vdf[c].iloc[pos].astype("object").to_numpy() for c in cols if c in vdf.columns}
    expected = _expected_text(e)
    if e["meta"].get("rule") == "observation.unit.matches_catalog":
        expected = None  # filled per row below
    if table == "observation":
        f = _rows_frame(vdf, pos)
    else:  # submission rows: the file is the source
        sub = vdf.iloc[pos]
        f = pd.DataFrame({"cycle": _col(sub, "cycle").astype("object").to_numpy(),
                          "province_code": _col(sub, "province_code").astype("object").to_numpy(),
                          "source_file": _col(sub, "path").astype("object").to_numpy()})
        f["_rows"] = [[] for _ in range(len(f))]
    f["severity"] = e["severity"]
    f["rule"] = e["meta"].get("rule") or _describe(e)
    if expected is None:
        from diaphuong.catalog.indicators import indicators

        units = {k: i.unit for k, i in indicators().items()}
        meas = _col(vdf, "measure").iloc[pos].astype("object").to_numpy()
        ind = _col(vdf, "indicator").iloc[pos].astype("object").to_numpy()
        f["expected"] = [f"unit {units.get(i, '?') if m == 'value' else 'pct'}" for i, m in zip(ind, meas)]
    else:
        f["expected"] = expected
    desc = _describe(e)
    vals = [" ".join(f"{c}={_short(found[c][i])}" for c in found) for i in range(len(pos))]
    f["message"] = [f"{desc}: {v}; expected {x}" for v, x in zip(vals, f["expected"])]
    base = {"suite": suite_name, "expectation_type": e["type"], "rows_from": how}
    f["details"] = [_json({**base, "found": {c: found[c][i] for c in found}, "row": int(p)})
                    for i, p in enumerate(pos)]
    if table != "observation":
        f["_rows"] = [[] for _ in range(len(f))]
    return f


def _short(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "∅"
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _gx_unexpected_rows(exps: list[dict], vdf: pd.DataFrame, bd) -> dict[int, np.ndarray]:
    """Re-run the failed expectations with COMPLETE + row_id to get their failing rows from GX."""
    import great_expectations as gx

    cols: set[str] = {"row_id"}
    for e in exps:
        cols |= _expectation_columns(e)
    suite = gx.ExpectationSuite(name="rows", expectations=[
        {"type": e["type"], "kwargs": e["kwargs"], "meta": e["meta"]} for e in exps])
    batch = bd.get_batch(batch_parameters={"dataframe": _frame_for_gx(vdf, cols)})
    res = batch.validate(suite, result_format={"result_format": "COMPLETE",
                                               "unexpected_index_column_names": ["row_id"],
                                               "return_unexpected_index_query": False})
    by_rule = {}
    for r in res.results:
        lst = (r.result or {}).get("unexpected_index_list")
        if lst is None:
            continue
        rows = [d["row_id"] if isinstance(d, dict) else d for d in lst]
        by_rule[(r.expectation_config.type, json.dumps(_plain_kwargs(r.expectation_config.kwargs),
                                                       sort_keys=True, default=str))] = np.asarray(rows, dtype="int64")
    out = {}
    for e in exps:
        key = (e["type"], json.dumps(e["kwargs"], sort_keys=True, default=str))
        if key in by_rule:
            out[id(e)] = by_rule[key]
    return out


def _condition_mask(df: pd.DataFrame, c: dict) -> pd.Series | None:
    t = c.get("type")
    if t in ("and", "or") or "conditions" in c:
        masks = [_condition_mask(df, x) for x in c.get("conditions", [])]
        if any(m is None for m in masks):
            return None
        out = masks[0]
        for m in masks[1:]:
            out = (out & m) if t != "or" else (out | m)
        return out
    if t == "nullity":
        s = df[c["column"]["name"]]
        return s.isna() if c.get("is_null") else s.notna()
    if t == "comparison":
        s = df[c["column"]["name"]]
        p, op = c["parameter"], c["operator"]
        ops = {"==": s == p, "!=": s != p} if op in ("==", "!=") else {}
        if op in ops:
            return ops[op].fillna(False).astype(bool)
        if op == "IN":
            return s.isin(p)
        if op == "NOT_IN":
            return ~s.isin(p)
        cmp = {"<": s.__lt__, "<=": s.__le__, ">": s.__gt__, ">=": s.__ge__}.get(op)
        return cmp(p).fillna(False).astype(bool) if cmp else None
    return None


def _mirror_unexpected(e: dict, df: pd.DataFrame) -> np.ndarray | None:
    """Row positions failing expectation ``e``, evaluated with pandas (same semantics as GX for the
    expectation types the generator writes); None for a type it does not know."""
    kw, t = e["kwargs"], e["type"]
    base = pd.Series(True, index=df.index)
    rc = kw.get("row_condition")
    if rc:
        if not isinstance(rc, dict):
            return None
        m = _condition_mask(df, rc)
        if m is None:
            return None
        base = m
    try:
        if t == "expect_column_values_to_not_be_null":
            bad = df[kw["column"]].isna()
        elif t == "expect_column_values_to_be_in_set":
            s = df[kw["column"]]
            bad = s.notna() & ~s.isin(kw["value_set"])
        elif t == "expect_column_values_to_be_between":
            s = pd.to_numeric(df[kw["column"]], errors="coerce")
            bad = pd.Series(False, index=df.index)
            if kw.get("min_value") is not None:
                bad |= (s < kw["min_value"]) if not kw.get("strict_min") else (s <= kw["min_value"])
            if kw.get("max_value") is not None:
                bad |= (s > kw["max_value"]) if not kw.get("strict_max") else (s >= kw["max_value"])
            bad &= s.notna()
        elif t == "expect_column_values_to_match_regex":
            s = df[kw["column"]]
            bad = s.notna() & ~s.astype("string").str.contains(kw["regex"], regex=True).fillna(False)
        elif t == "expect_compound_columns_to_be_unique":
            cols = list(kw["column_list"])
            sub = df[cols]
            bad = sub.duplicated(keep=False) & ~sub.isna().all(axis=1)
        elif t == "expect_column_pair_values_to_be_equal":
            a, b = df[kw["column_A"]], df[kw["column_B"]]
            both = a.notna() & b.notna()
            bad = both & (a.astype("object") != b.astype("object"))
        else:
            return None
    except KeyError:
        return None
    bad = (bad.fillna(False).astype(bool) & base.astype(bool))
    return np.flatnonzero(bad.to_numpy())


# =================================================================== Data Docs offline

#: CDN URL -> path under the vendored assets (report/vendor/)
_CDN = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/3.7.1/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/4.3.1/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/4.3.1/js/bootstrap.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/1.12.9/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/1.19.1/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "font-awesome/6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark/1.1.0/css/bootstrap-prefers-dark.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/6.29.0/vega-embed.min.js",
}
_GX_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
_ATTR_URL = re.compile(r"""(?P<attr>\b(?:src|href))\s*=\s*(?P<q>["'])(?P<url>https?://[^"']*)(?P=q)""", re.I)
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_TAG = re.compile(r"<(?:script|link|img)\b[^>]*>", re.I)


def make_docs_offline(site: Path) -> list[Path]:
    """Copy the vendored assets into ``<site>/static/vendor/`` and point every page's CDN references
    (scripts, styles, fonts, the GX logo) at them, relative to each page. Returns the pages changed.

    Also: ``integrity``/``crossorigin`` attributes are dropped from the rewritten tags (browsers refuse
    subresource integrity on ``file://`` pages); relative ``static/`` references are recomputed for
    each page's depth (GX 1.24 miscounts it for suite names with dots, e.g. the favicon).
    Raises :class:`DiaphuongError` when a page loads an asset from a URL this function does not know,
    so a GX upgrade cannot bring the network back silently."""
    import shutil

    site = Path(site)
    static = site / "static"
    vendor = static / "vendor"
    if vendor.exists():
        shutil.rmtree(vendor)
    shutil.copytree(VENDOR_DIR, vendor, ignore=shutil.ignore_patterns("README.md", "__pycache__", "*.py"))
    images = static / "images"
    styles = static / "styles"
    for css in sorted(styles.glob("*.css")) if styles.exists() else []:
        text = css.read_text(encoding="utf-8")
        new = _fix_css_urls(text, Path(_relpath(images, css.parent)), images)
        if new != text:
            css.write_text(new, encoding="utf-8")
    changed = []
    for page in sorted(site.rglob("*.html")):
        if vendor in page.parents:
            continue
        text = page.read_text(encoding="utf-8")
        new_text = _offline_page(text, page, static)
        if new_text != text:
            page.write_text(new_text, encoding="utf-8")
            changed.append(page)
    return changed


def _fix_css_urls(text: str, rel_images: Path, images: Path) -> str:
    def repl(m: re.Match) -> str:
        name = m.group(0)[len(_GX_ASSETS):]
        local = name if (images / name).exists() else "logo-long.png"
        return (rel_images / local).as_posix()

    return re.sub(re.escape(_GX_ASSETS) + r"[^'\")\s]*", repl, text)


_REL_STATIC = re.compile(r"""(?P<attr>\b(?:src|href))\s*=\s*(?P<q>["'])(?:\./|\.\./)*static/(?P<rest>[^"']*)(?P=q)""", re.I)


def _offline_page(text: str, page: Path, static: Path) -> str:
    rel_static = Path(_relpath(static, page.parent))
    rel_vendor = rel_static / "vendor"
    rel_images = rel_static / "images"
    unknown: list[str] = []

    def fix_tag(m: re.Match) -> str:
        tag = m.group(0)

        def fix_url(u: re.Match) -> str:
            url = u.group("url")
            if url in _CDN:
                local = (rel_vendor / _CDN[url]).as_posix()
            elif url.startswith(_GX_ASSETS):
                name = url[len(_GX_ASSETS):].split("?")[0]
                local = (rel_images / (name if (static / "images" / name).exists() else "logo-long.png")).as_posix()
            else:
                unknown.append(url)
                return u.group(0)
            return f'{u.group("attr")}={u.group("q")}{local}{u.group("q")}'

        new = _ATTR_URL.sub(fix_url, tag)
        if new != tag:
            new = _SRI.sub("", new)
        new = _REL_STATIC.sub(lambda r: f'{r.group("attr")}={r.group("q")}{(rel_static / r.group("rest")).as_posix()}'
                                        f'{r.group("q")}', new)
        return new

    out = _TAG.sub(fix_tag, text)
    out = _fix_css_urls(out, rel_images, static / "images")
    if unknown:
        raise DiaphuongError(
            f"{page}: Data Docs load assets from the network: {', '.join(sorted(set(unknown)))}",
            hint="vendor them into src/diaphuong/report/vendor/ and add them to validate._CDN")
    return out


def _relpath(target: Path, start: Path) -> str:
    import os

    return os.path.relpath(target, start)


# =================================================================== rules

_REF = re.compile(r"#\{\s*(?P<ind>[a-z0-9_*]+)\.(?P<meas>[a-z_]+)(?:@(?P<off>[a-z_]+))?\s*\}")
OPERATORS = ("==", "!=", ">", ">=", "<", "<=", "between")
STRATEGIES = ("skip_if_any_missing", "skip_if_all_missing", "never_skip")
OFFSETS = (None, "last_year", "previous_cumulative", "year")
_FUNCS = {"optional", "abs"}


@dataclass(frozen=True)
class Ref:
    indicator: str  # '*' binds to the rule's for_each indicator
    measure: str
    offset: str | None

    @property
    def label(self) -> str:
        return f"{self.indicator}.{self.measure}" + (f"@{self.offset}" if self.offset else "")


@dataclass
class Rule:
    id: str
    description_vi: str
    description_en: str
    left: str
    operator: str
    right: str | list
    tolerance: float
    tolerance_relative: bool
    missing_value_strategy: str
    severity: str
    for_each: object = None
    refs: tuple = ()
    optional_refs: frozenset = frozenset()
    left_ast: object = None
    right_ast: object = None


def _compile(expr: str, rid: str, refs: list[Ref], optional: set[int]) -> ast.Expression:
    names: dict[str, int] = {}

    def sub(m: re.Match) -> str:
        r = Ref(m["ind"], m["meas"], m["off"])
        if r.offset not in OFFSETS:
            raise RuleError(f"rules.yaml: {rid}: unknown offset @{r.offset} (use last_year, previous_cumulative, year)")
        if r not in refs:
            refs.append(r)
        i = refs.index(r)
        names[f"r{i}"] = i
        return f"r{i}"

    text = _REF.sub(sub, str(expr))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise RuleError(f"rules.yaml: {rid}: cannot parse {expr!r}: {e.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in _FUNCS) or len(node.args) != 1:
                raise RuleError(f"rules.yaml: {rid}: only optional(x) and abs(x) are allowed in {expr!r}")
            if node.func.id == "optional":
                if not isinstance(node.args[0], ast.Name):
                    raise RuleError(f"rules.yaml: {rid}: optional() takes one reference")
                optional.add(names[node.args[0].id])
        elif isinstance(node, ast.Name):
            if node.id not in names and node.id not in _FUNCS:
                raise RuleError(f"rules.yaml: {rid}: unknown name {node.id!r} in {expr!r} (write #{{indicator.measure}})")
        elif not isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Load, ast.Add, ast.Sub,
                                   ast.Mult, ast.Div, ast.USub, ast.UAdd, ast.Pow)):
            raise RuleError(f"rules.yaml: {rid}: {type(node).__name__} not allowed in {expr!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, (int, float)):
            raise RuleError(f"rules.yaml: {rid}: only numbers allowed as constants in {expr!r}")
    return tree


def parse_rules(raw: list[dict], source: str = "rules.yaml") -> list[Rule]:
    from diaphuong.catalog.indicators import indicators

    if not isinstance(raw, list):
        raise RuleError(f"{source}: expected a list of rules")
    inds = indicators()
    out, seen = [], set()
    for i, r in enumerate(raw):
        rid = r.get("id") or f"#{i + 1}"
        for k in ("id", "left", "operator", "right", "missing_value_strategy", "severity"):
            if k not in r:
                raise RuleError(f"{source}: rule {rid}: missing {k!r}")
        if rid in seen:
            raise RuleError(f"{source}: duplicate rule id {rid!r}")
        seen.add(rid)
        if r["operator"] not in OPERATORS:
            raise RuleError(f"{source}: {rid}: operator {r['operator']!r} not one of {', '.join(OPERATORS)}")
        if r["missing_value_strategy"] not in STRATEGIES:
            raise RuleError(f"{source}: {rid}: missing_value_strategy {r['missing_value_strategy']!r} "
                            f"not one of {', '.join(STRATEGIES)}")
        if r["severity"] not in SEVERITY_RANK:
            raise RuleError(f"{source}: {rid}: severity {r['severity']!r} not one of critical, warning, info")
        tol = r.get("tolerance", 0) or 0
        rel = isinstance(tol, str) and tol.strip().endswith("%")
        try:
            tolv = float(str(tol).strip().rstrip("%")) / (100 if rel else 1)
        except ValueError:
            raise RuleError(f"{source}: {rid}: tolerance {tol!r} is not a number or 'N%'") from None
        refs: list[Ref] = []
        opt: set[int] = set()
        left = _compile(r["left"], rid, refs, opt)
        if r["operator"] == "between":
            if not (isinstance(r["right"], list) and len(r["right"]) == 2):
                raise RuleError(f"{source}: {rid}: `between` takes right: [low, high]")
            right = [float(x) for x in r["right"]]
        else:
            right = _compile(r["right"], rid, refs, opt)
        for ref in refs:
            if ref.indicator != "*" and ref.indicator not in inds:
                raise RuleError(f"{source}: {rid}: unknown indicator {ref.indicator!r}")
            if ref.measure not in schema.MEASURES and ref.measure != "plan":
                raise RuleError(f"{source}: {rid}: unknown measure {ref.measure!r}")
        if any(ref.indicator == "*" for ref in refs) and not r.get("for_each"):
            raise RuleError(f"{source}: {rid}: uses #{{*...}} without for_each")
        if not any(ref.offset is None for ref in refs):
            raise RuleError(f"{source}: {rid}: needs at least one reference to the cycle's own period")
        out.append(Rule(
            id=rid, description_vi=str(r.get("description_vi", "")).strip(),
            description_en=str(r.get("description_en", "")).strip(), left=str(r["left"]).strip(),
            operator=r["operator"], right=r["right"], tolerance=tolv, tolerance_relative=rel,
            missing_value_strategy=r["missing_value_strategy"], severity=r["severity"],
            for_each=r.get("for_each"), refs=tuple(refs), optional_refs=frozenset(opt),
            left_ast=left, right_ast=right,
        ))
    return out


def load_rules(path: Path) -> list[Rule]:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuleError(f"{path}: rules file not found") from None
    except yaml.YAMLError as e:
        raise RuleError(f"{path}: not valid YAML: {e}") from None
    return parse_rules(raw or [], source=str(path))


def _rules(rules) -> list[Rule]:
    if rules is None:
        return []
    if isinstance(rules, (str, Path)):
        return load_rules(Path(rules))
    rules = list(rules)
    if rules and isinstance(rules[0], Rule):
        return rules
    return parse_rules(rules)


def _select_indicators(sel) -> list[str]:
    from diaphuong.catalog.indicators import indicators

    inds = indicators()
    if isinstance(sel, (list, tuple)):
        return [k for k in sel if k in inds]
    if isinstance(sel, dict):
        out = []
        kinds = sel.get("kind")
        kinds = [kinds] if isinstance(kinds, str) else kinds
        for k, i in inds.items():
            if kinds and i.kind not in kinds:
                continue
            if "additive" in sel and bool(i.additive) != bool(sel["additive"]):
                continue
            if k in (sel.get("exclude") or ()):
                continue
            out.append(k)
        return out
    raise RuleError(f"for_each must be a list of indicators or a selector, not {sel!r}")


@dataclass
class _PeriodInfo:
    code: str | None
    year: int
    first_month: int
    last_month: int
    kind: str


def _period_table(periods: pd.Series) -> pd.DataFrame:
    """Per unique period string: canonical code, year, first/last month, kind (invalid -> code None)."""
    rows = []
    for p in pd.unique(periods.dropna().astype(str)):
        try:
            per = parse_period(p)
            rows.append((p, per.code, per.year, per.first_month, per.last_month, per.kind))
        except PeriodError:
            rows.append((p, None, -1, -1, -1, ""))
    return pd.DataFrame(rows, columns=["period_raw", "pcode", "year", "first_month", "last_month", "pkind"])


_POOL_COLS = ["cycle", "province_set", "province_code", "period", "indicator", "measure", "value",
              "source_kind", "source_file", "locator"]


def _pool(observations: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
    """One figure per (province_set, province_code, period, indicator, measure): the cycle's
    observations first (a submission before a report), then the history's latest cycle."""
    cur = pd.DataFrame({c: _col(observations, c).to_numpy() for c in _POOL_COLS})
    cur["_row"] = np.arange(len(observations), dtype="int64")
    cur["_cur"] = True
    parts = [cur]
    if history is not None and len(history):
        h = pd.DataFrame({c: _col(history, c).to_numpy() for c in _POOL_COLS})
        h["_row"] = -1
        h["_cur"] = False
        parts.append(h)
    pool = pd.concat(parts, ignore_index=True)
    for c in ("cycle", "province_set", "province_code", "period", "indicator", "measure", "source_kind"):
        pool[c] = pool[c].astype("object").where(pool[c].notna(), None)
        pool[c] = pool[c].map(lambda v: None if v is None else str(v))
    pool["value"] = pd.to_numeric(pool["value"], errors="coerce").astype("float64")
    pt = _period_table(pool["period"])
    pool = pool.merge(pt, left_on="period", right_on="period_raw", how="left").drop(columns=["period_raw"])
    pool = pool[pool["pcode"].notna()]
    ct = _period_table(pool["cycle"]).set_index("period_raw")
    cyc_end = pool["cycle"].map(ct["year"] * 100 + ct["last_month"]).fillna(-1)
    pool = pool.assign(_sub=(pool["source_kind"] != "submission").astype(int), _cyc=-cyc_end)
    pool = pool.sort_values(["_cur", "_sub", "_cyc"], ascending=[False, True, True], kind="stable")
    pool = pool.drop_duplicates(["province_set", "province_code", "pcode", "indicator", "measure"], keep="first")
    return pool.drop(columns=["_sub", "_cyc"]).reset_index(drop=True)


_KEY = ["province_set", "province_code"]


def apply_rules(observations: pd.DataFrame, history: pd.DataFrame | None, rules) -> pd.DataFrame:
    """Evaluate the rules (``Rule`` objects, their raw dicts, or the path of ``rules.yaml``) on the
    cycle's observations, with ``history`` for the references to other periods -> ``finding`` rows."""
    return _public(_apply_rules(observations, history, rules))


def _apply_rules(observations, history, rules) -> pd.DataFrame:
    rules = _rules(rules)
    cycle = _cycle_of(observations)
    if not rules or observations is None or not len(observations):
        return _empty_findings()
    pool = _pool(observations, history)
    cur = pool[pool["_cur"]]
    out = [_evaluate_rule(r, pool, cur, cycle) for r in rules]
    return _finalize(out, cycle)


def _anchors(rule: Rule, cur: pd.DataFrame) -> pd.DataFrame:
    own = [r for r in rule.refs if r.offset is None]
    templ = any(r.indicator == "*" for r in rule.refs)
    if templ:
        sel = set(_select_indicators(rule.for_each))
        meas_star = {r.measure for r in own if r.indicator == "*"}
        m = cur["indicator"].isin(sel) & cur["measure"].isin(meas_star)
        a = cur.loc[m, _KEY + ["pcode", "indicator", "year", "first_month", "last_month", "pkind", "cycle"]]
        a = a.drop_duplicates(_KEY + ["pcode", "indicator"])
    else:
        pairs = {(r.indicator, r.measure) for r in own}
        m = pd.Series([(i, me) in pairs for i, me in zip(cur["indicator"], cur["measure"])], index=cur.index, dtype=bool)
        a = cur.loc[m, _KEY + ["pcode", "year", "first_month", "last_month", "pkind", "cycle"]]
        a = a.drop_duplicates(_KEY + ["pcode"])
        a = a.assign(indicator=None)
    return a.reset_index(drop=True).assign(_aid=lambda d: np.arange(len(d)))


def _ref_indicator(ref: Ref, anchors: pd.DataFrame) -> pd.Series:
    if ref.indicator == "*":
        return anchors["indicator"]
    return pd.Series(ref.indicator, index=anchors.index, dtype="object")


def _prev_cumulative(rule: Rule, anchors: pd.DataFrame, pool: pd.DataFrame) -> pd.Series:
    """Per anchor: the last_month of the latest earlier cumulative period of the same year in which
    every @previous_cumulative reference is known (NaN when none)."""
    prev = [r for r in rule.refs if r.offset == "previous_cumulative"]
    res = pd.Series(np.nan, index=anchors.index)
    if not prev or not len(anchors):
        return res
    cum = pool[(pool["first_month"] == 1) & pool["value"].notna()]
    templ = any(r.indicator == "*" for r in prev)
    keys = _KEY + ["year"] + (["indicator"] if templ else [])
    avail = None
    for r in prev:
        c = cum[cum["measure"] == r.measure]
        if r.indicator != "*":
            c = c[c["indicator"] == r.indicator]
        c = c[keys + ["last_month"]].drop_duplicates() if r.indicator == "*" or not templ else \
            c[_KEY + ["year", "last_month"]].drop_duplicates()
        if avail is None:
            avail = c
        else:
            on = [k for k in keys + ["last_month"] if k in c.columns and k in avail.columns]
            avail = avail.merge(c, on=on, how="inner")
    if avail is None or not len(avail):
        return res
    a = anchors[["_aid", "year", "first_month", "last_month"] + _KEY + (["indicator"] if templ else [])]
    a = a[a["first_month"] == 1]
    m = a.merge(avail.rename(columns={"last_month": "prev_lm"}), on=keys, how="inner")
    m = m[m["prev_lm"] < m["last_month"]]
    best = m.groupby("_aid")["prev_lm"].max()
    res.loc[best.index] = best.to_numpy()
    return res


def _resolve(rule: Rule, ref: Ref, anchors: pd.DataFrame, pool: pd.DataFrame, cur: pd.DataFrame,
             prev_lm: pd.Series) -> pd.DataFrame:
    """Per anchor: value, _row, locator, source_file, period of ``ref`` (NaN value when missing)."""
    ind = _ref_indicator(ref, anchors)
    if ref.offset is None:
        target = anchors["pcode"]
        src = cur
    else:
        src = pool
        if ref.offset == "last_year":
            target = pd.Series([_shift_year(p) for p in anchors["pcode"]], index=anchors.index, dtype="object")
        elif ref.offset == "year":
            target = anchors["year"].astype(int).astype(str)
        else:  # previous_cumulative
            target = pd.Series([_cum_code(y, lm) for y, lm in zip(anchors["year"], prev_lm)],
                               index=anchors.index, dtype="object")
    q = pd.DataFrame({"_aid": anchors["_aid"], "province_set": anchors["province_set"],
                      "province_code": anchors["province_code"], "pcode": target, "indicator": ind})
    s = src[src["measure"] == ref.measure][["province_set", "province_code", "pcode", "indicator", "value", "_row",
                                             "locator", "source_file", "cycle"]]
    r = q.merge(s, on=["province_set", "province_code", "pcode", "indicator"], how="left")
    r = r.drop_duplicates("_aid").set_index("_aid").reindex(anchors["_aid"])
    r["_row"] = r["_row"].fillna(-1).astype("int64")
    return r.reset_index(drop=True)


def _shift_year(code: str | None) -> str | None:
    if code is None:
        return None
    return parse_period(code).same_period_last_year().code


def _cum_code(year, lm) -> str | None:
    if lm is None or (isinstance(lm, float) and math.isnan(lm)):
        return None
    from diaphuong.periods import Period

    lm = int(lm)
    kind = "month" if lm == 1 else "half" if lm == 6 else "year" if lm == 12 else "quarter" if lm == 3 else "ytd"
    return Period(int(year), 1, lm, kind).code


def _eval(node, env: dict[str, np.ndarray]) -> np.ndarray:
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return np.float64(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Pow):
                return a ** b
    if isinstance(node, ast.Call):
        v = _eval(node.args[0], env)
        return np.abs(v) if node.func.id == "abs" else v  # optional(): missing already counted as 0
    raise RuleError(f"cannot evaluate {ast.dump(node)}")


def _evaluate_rule(rule: Rule, pool: pd.DataFrame, cur: pd.DataFrame, cycle: str) -> pd.DataFrame:
    anchors = _anchors(rule, cur)
    if not len(anchors):
        return _empty_findings()
    prev_lm = _prev_cumulative(rule, anchors, pool)
    resolved = [_resolve(rule, ref, anchors, pool, cur, prev_lm) for ref in rule.refs]
    n = len(anchors)
    missing = np.column_stack([r["value"].isna().to_numpy() for r in resolved])
    required = [i for i in range(len(rule.refs)) if i not in rule.optional_refs]
    if rule.missing_value_strategy == "skip_if_any_missing":
        skip = missing[:, required].any(axis=1) if required else np.zeros(n, bool)
    elif rule.missing_value_strategy == "skip_if_all_missing":
        skip = missing.all(axis=1)
    else:
        skip = np.zeros(n, bool)
    env = {f"r{i}": np.nan_to_num(r["value"].to_numpy(dtype="float64"), nan=0.0) for i, r in enumerate(resolved)}
    left = np.broadcast_to(_eval(rule.left_ast, env), (n,)).astype("float64")
    if rule.operator == "between":
        lo, hi = rule.right_ast
        right = np.full(n, np.nan)
        tol = np.full(n, rule.tolerance if not rule.tolerance_relative else 0.0)
        if rule.tolerance_relative:
            tol = np.maximum(abs(lo), abs(hi)) * rule.tolerance * np.ones(n)
        ok = (left >= lo - tol) & (left <= hi + tol)
    else:
        right = np.broadcast_to(_eval(rule.right_ast, env), (n,)).astype("float64")
        tol = np.abs(right) * rule.tolerance if rule.tolerance_relative else np.full(n, rule.tolerance)
        op = rule.operator
        with np.errstate(invalid="ignore"):
            ok = {
                "==": np.abs(left - right) <= tol + 1e-9,
                "!=": np.abs(left - right) > tol,
                ">": left > right - tol,
                ">=": left >= right - tol - 1e-9,
                "<": left < right + tol,
                "<=": left <= right + tol + 1e-9,
            }[op]
    finite = np.isfinite(left) & (np.isfinite(right) if rule.operator != "between" else True)
    bad = ~skip & finite & ~ok
    idx = np.flatnonzero(bad)
    if not len(idx):
        return _empty_findings()
    return _rule_findings(rule, anchors, resolved, idx, left, right, tol, cycle)


def _rule_findings(rule, anchors, resolved, idx, left, right, tol, cycle) -> pd.DataFrame:
    own = [i for i, r in enumerate(rule.refs) if r.offset is None]
    left_refs = [i for i in own if f"r{i}" in ast.unparse(rule.left_ast)]
    order = left_refs + [i for i in own if i not in left_refs]
    rows = []
    for a in idx:
        prim = next((i for i in order if resolved[i]["_row"].iat[a] >= 0), order[0])
        pr = resolved[prim]
        ref = rule.refs[prim]
        ind = anchors["indicator"].iat[a] if ref.indicator == "*" else ref.indicator
        refs = {}
        for i, r in enumerate(rule.refs):
            rr = resolved[i]
            label = r.label.replace("*", str(anchors["indicator"].iat[a]) if anchors["indicator"].iat[a] else "*")
            refs[label] = {"value": _clean_float(rr["value"].iat[a]), "locator": rr["locator"].iat[a],
                           "source_file": rr["source_file"].iat[a], "cycle": rr["cycle"].iat[a]}
        if rule.operator == "between":
            lo, hi = rule.right_ast
            expected = f"between {_fmt(lo)} and {_fmt(hi)}"
            rv = None
        else:
            rv = _clean_float(right[a])
            expected = f"{rule.operator} {_fmt(rv)}" + (f" ± {_fmt(tol[a])}" if tol[a] else "")
        lv = _clean_float(left[a])
        details = {"left": lv, "right": rv if rule.operator != "between" else list(rule.right_ast),
                   "difference": (lv - rv) if (lv is not None and rv is not None) else None,
                   "tolerance": _clean_float(tol[a]), "operator": rule.operator,
                   "missing_value_strategy": rule.missing_value_strategy,
                   "references": refs, "description_vi": rule.description_vi}
        rows.append({
            "cycle": pr["cycle"].iat[a] if pr["_row"].iat[a] >= 0 else anchors["cycle"].iat[a],
            "severity": rule.severity, "rule": rule.id,
            "province_code": anchors["province_code"].iat[a], "indicator": ind, "measure": ref.measure,
            "period": anchors["pcode"].iat[a], "value": lv, "expected": expected,
            "message": f"{rule.description_en} Found {_fmt(lv)}, expected {expected}.",
            "source_file": pr["source_file"].iat[a] if pr["_row"].iat[a] >= 0 else None,
            "locator": pr["locator"].iat[a] if pr["_row"].iat[a] >= 0 else None,
            "details": _json(details),
            "_rows": sorted({int(resolved[i]["_row"].iat[a]) for i in own if resolved[i]["_row"].iat[a] >= 0}),
        })
    return pd.DataFrame(rows)


# =================================================================== outliers

#: indicator kinds whose `value` is a rate, share or change: comparable across provinces
RATE_KINDS = ("rate", "share", "index_change")


def _period_class(pt: pd.DataFrame) -> pd.Series:
    """month, quarter, half, year; year-to-date periods by their length (ytd9 for 9 months)."""
    return pt["pkind"].where(pt["pkind"] != "ytd", "ytd" + pt["last_month"].astype(str))


def outliers(observations: pd.DataFrame, history: pd.DataFrame | None, *, threshold: float = 3.5,
             min_history: int = 5, min_provinces: int = 5, severity: str = "warning") -> pd.DataFrame:
    """Modified z-scores (Iglewicz & Hoaglin: 0.6745 · |x − median| / MAD) -> ``finding`` rows.

    * ``outlier_history``: each figure against the same province's history of the same indicator,
      measure and period class (months with months, quarters with quarters, 9-month figures with
      9-month figures), at least ``min_history`` earlier figures. Applies to every measure (levels
      only ever compare with their own province).
    * ``outlier_cross_province``: rates, shares and index changes (``value`` of those indicators) and
      every % measure (yoy_pct, mom_pct, pct_of_plan, ...) against the other provinces for the same
      period, indicator and measure, at least ``min_provinces`` provinces; levels are not compared
      across provinces (their size differs by orders of magnitude).

    When the MAD is 0 the mean absolute deviation is used (score = |x − median| / (1.253314 · meanAD));
    when both are 0 the figure is not scored. ``details`` holds value, median, mad, score, lower and
    upper bounds (median ± threshold · scale / 0.6745), n and the scale used.
    """
    return _public(_outliers(observations, history, threshold=threshold, min_history=min_history,
                             min_provinces=min_provinces, severity=severity))


def _outliers(observations, history, *, threshold=3.5, min_history=5, min_provinces=5, severity="warning"):
    from diaphuong.catalog.indicators import indicators

    cycle = _cycle_of(observations)
    if observations is None or not len(observations):
        return _empty_findings()
    cur = pd.DataFrame({c: _col(observations, c).to_numpy() for c in _POOL_COLS})
    cur["_row"] = np.arange(len(observations), dtype="int64")
    cur["value"] = pd.to_numeric(cur["value"], errors="coerce").astype("float64")
    cur = cur[cur["value"].notna() & np.isfinite(cur["value"])]
    pt = _period_table(cur["period"])
    cur = cur.merge(pt, left_on="period", right_on="period_raw", how="left")
    cur = cur[cur["pcode"].notna()].reset_index(drop=True)
    cur["pclass"] = _period_class(cur)
    for c in ("province_set", "province_code", "indicator", "measure", "source_kind"):
        cur[c] = cur[c].astype("object").map(lambda v: None if v is None or v is pd.NA else str(v))
    out = []
    # --- against the province's own history
    if history is not None and len(history):
        h = pd.DataFrame({c: _col(history, c).to_numpy() for c in
                          ("province_set", "province_code", "period", "indicator", "measure", "value")})
        h["value"] = pd.to_numeric(h["value"], errors="coerce").astype("float64")
        h = h[h["value"].notna() & np.isfinite(h["value"])]
        for c in ("province_set", "province_code", "indicator", "measure"):
            h[c] = h[c].astype("object").map(lambda v: None if v is None or v is pd.NA else str(v))
        hpt = _period_table(h["period"])
        h = h.merge(hpt, left_on="period", right_on="period_raw", how="left")
        h = h[h["pcode"].notna()]
        h["pclass"] = _period_class(h)
        key = ["province_set", "province_code", "indicator", "measure", "pclass"]
        # a figure of the cycle is not compared with another vintage of itself
        h = h.merge(cur[key + ["pcode"]].drop_duplicates().assign(_same=True), on=key + ["pcode"], how="left")
        h = h[h["_same"].isna()].drop(columns="_same")
        h = h.drop_duplicates(key + ["pcode"], keep="last")
        stats = _robust_stats(h, key)
        stats = stats[stats["n"] >= min_history]
        m = cur.merge(stats, on=key, how="inner")
        out.append(_score(m, threshold, "outlier_history", "the province's own history", severity, cycle))
    # --- against the other provinces of the same cycle
    inds = indicators()
    rate_inds = {k for k, i in inds.items() if i.kind in RATE_KINDS}
    comparable = cur["measure"].isin(CHANGE_MEASURES) | (cur["measure"].eq("value") & cur["indicator"].isin(rate_inds))
    c2 = cur[comparable].copy()
    c2["_sub"] = (c2["source_kind"] != "submission").astype(int)
    c2 = c2.sort_values("_sub", kind="stable").drop_duplicates(
        ["province_set", "province_code", "pcode", "indicator", "measure"], keep="first")
    key2 = ["province_set", "pcode", "indicator", "measure"]
    stats2 = _robust_stats(c2, key2)
    stats2 = stats2[stats2["n"] >= min_provinces]
    m2 = c2.merge(stats2, on=key2, how="inner")
    out.append(_score(m2, threshold, "outlier_cross_province", "the other provinces", severity, cycle))
    return _finalize(out, cycle)


def _robust_stats(df: pd.DataFrame, key: list[str]) -> pd.DataFrame:
    g = df.groupby(key, sort=False, dropna=False)["value"]
    med = g.median().rename("median")
    d = df[key + ["value"]].merge(med.reset_index(), on=key, how="left")
    d["_dev"] = (d["value"] - d["median"]).abs()
    gd = d.groupby(key, sort=False, dropna=False)["_dev"]
    return pd.concat([med, gd.median().rename("mad"), gd.mean().rename("meanad"), g.size().rename("n")],
                     axis=1).reset_index()


def _score(m: pd.DataFrame, threshold: float, rule: str, against: str, severity: str, cycle: str) -> pd.DataFrame:
    if not len(m):
        return _empty_findings()
    dev = (m["value"] - m["median"]).abs()
    use_mad = m["mad"] > 0
    scale = np.where(use_mad, m["mad"] / 0.6745, 1.253314 * m["meanad"])  # in the unit of the figure
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, dev / scale, np.nan)
    flag = np.nan_to_num(score, nan=0.0) > threshold
    m = m.assign(_score=score, _scale=scale, _use_mad=use_mad)[flag]
    if not len(m):
        return _empty_findings()
    lo = m["median"] - threshold * m["_scale"]
    hi = m["median"] + threshold * m["_scale"]
    out = pd.DataFrame({
        "cycle": _col(m, "cycle").to_numpy(), "severity": severity, "rule": rule,
        "province_code": m["province_code"].to_numpy(), "indicator": m["indicator"].to_numpy(),
        "measure": m["measure"].to_numpy(), "period": m["pcode"].to_numpy(), "value": m["value"].to_numpy(),
        "expected": [f"between {_fmt(a)} and {_fmt(b)}" for a, b in zip(lo, hi)],
        "source_file": m["source_file"].to_numpy(), "locator": m["locator"].to_numpy(),
    })
    out["message"] = [
        f"{_fmt(v)} is far from {against} (median {_fmt(md)}, {'MAD' if um else 'mean abs. deviation'} "
        f"{_fmt(ma if um else mn)}, modified z {s:.2f} > {threshold:g})"
        for v, md, ma, mn, um, s in zip(m["value"], m["median"], m["mad"], m["meanad"], m["_use_mad"], m["_score"])]
    out["details"] = [
        _json({"value": v, "median": md, "mad": ma, "mean_abs_deviation": mn, "scale": "mad" if um else "mean_abs_deviation",
               "score": s, "threshold": threshold, "lower": a, "upper": b, "n": int(n), "against": against,
               "period_class": pc})
        for v, md, ma, mn, um, s, a, b, n, pc in zip(m["value"], m["median"], m["mad"], m["meanad"], m["_use_mad"],
                                                    m["_score"], lo, hi, m["n"], m["pclass"])]
    out["_rows"] = [[int(r)] for r in m["_row"]]
    return out


# =================================================================== the stage


def severity_by_row(findings: pd.DataFrame, n_rows: int) -> np.ndarray:
    """Worst severity rank (0 none, 1 info, 2 warning, 3 critical) per observation position."""
    worst = np.zeros(n_rows, dtype="int8")
    if findings is None or not len(findings) or "_rows" not in findings.columns:
        return worst
    ranks = findings["severity"].map(SEVERITY_RANK).fillna(0).astype("int8").to_numpy()
    lens = np.fromiter((len(r) for r in findings["_rows"]), dtype="int64", count=len(findings))
    if lens.sum() == 0:
        return worst
    pos = np.fromiter((p for r in findings["_rows"] for p in r), dtype="int64", count=int(lens.sum()))
    rk = np.repeat(ranks, lens)
    ok = (pos >= 0) & (pos < n_rows)
    np.maximum.at(worst, pos[ok], rk[ok])
    return worst


def validate(observations: pd.DataFrame, history: pd.DataFrame | None, *, suites_dir: Path,
             docs_dir: Path | None = None, submissions: pd.DataFrame | None = None,
             rules=None, threshold: float = 3.5, cycle: str | None = None) -> ValidationResult:
    """The validation stage: suites, rules (``rules`` or ``<suites_dir>/rules.yaml``), outliers.

    ``severity_by_observation`` is indexed like ``observations`` and holds the worst severity of the
    findings on each row (None where there is none): the loader writes it to ``observation.severity``;
    ``critical`` keeps the figure out of ``observation_current`` and makes its reporting status
    ``invalid``; ``warning`` loads it flagged; ``info`` only reports."""
    suites_dir = Path(suites_dir)
    cycle = _cycle_of(observations, cycle)
    f_suites, suite_results, _ = _run_suites(observations, suites_dir=suites_dir, docs_dir=docs_dir,
                                             submissions=submissions, cycle=cycle)
    if rules is None:
        rp = suites_dir / "rules.yaml"
        rules = load_rules(rp) if rp.exists() else []
    f_rules = _apply_rules(observations, history, rules)
    f_out = _outliers(observations, history, threshold=threshold)
    allf = [f for f in (f_suites, f_rules, f_out) if len(f)]
    findings = pd.concat(allf, ignore_index=True) if allf else _empty_findings()
    worst = severity_by_row(findings, len(observations))
    sev = pd.Series([_RANK_SEVERITY.get(int(r)) for r in worst], index=observations.index, dtype="object")
    return ValidationResult(_public(findings), suite_results, sev)
