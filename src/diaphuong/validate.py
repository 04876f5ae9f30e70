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
    f, s = _run_suites(observations, suites_dir=suites_dir, docs_dir=docs_dir,
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
            bounds = next(((s.get("meta") or {}).get("bounds") for s in suites
                           if (s.get("meta") or {}).get("bounds") is not None), None)
            jobs.append((table, derive_columns(df, table, bounds=bounds), suites))
    if not jobs:
        return _empty_findings(), schema.empty_frame("suite_result")

    findings: list[pd.DataFrame] = []
    summaries = []
    if docs_dir is not None:
        _clear_docs(Path(docs_dir))
    with _quiet():
        import great_expectations as gx
        from great_expectations.core.run_identifier import RunIdentifier

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
                             run_id=RunIdentifier(run_name=cycle or "cycle"))
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
        make_docs_offline(Path(docs_dir), strict=False)
    return _finalize(findings, cycle), schema.conform(pd.DataFrame(summaries, columns=SUITE_RESULT_COLUMNS),
                                                      "suite_result")


def _clear_docs(site: Path) -> None:
    """Remove the Data Docs of an earlier run (only what GX and make_docs_offline write)."""
    import shutil

    for sub in ("validations", "expectations", "static"):
        if (site / sub).is_dir():
            shutil.rmtree(site / sub)
    if (site / "index.html").is_file():
        (site / "index.html").unlink()


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
             "severity": _sev_value(getattr(cfg, "severity", None) or "critical")}
        exc = r.exception_info or {}
        raised = exc.get("raised_exception") if isinstance(exc, dict) and "raised_exception" in exc else None
        if raised is None and isinstance(exc, dict):  # {metric id: {exception_message, ...}}
            msgs = [v.get("exception_message") for v in exc.values() if isinstance(v, dict) and v.get("raised_exception")]
            raised, msg = (bool(msgs), "; ".join(sorted(set(m for m in msgs if m))))
        else:
            msg = exc.get("exception_message") if isinstance(exc, dict) else None
        if raised:
            absent = sorted(_expectation_columns(e) - set(vdf.columns))
            why = f"column(s) missing from the {table} frame: {', '.join(absent)}" if absent else msg
            out.append(_table_finding(e, suite_name, table, cycle, "critical",
                                      f"{e['meta'].get('rule') or _describe(e)} could not be evaluated: {why}",
                                      error=msg))
            continue
        if r.success:
            continue
        res = r.result or {}
        n = res.get("unexpected_count")
        if n is None:
            observed = res.get("observed_value")
            text = f"observed {observed!r}"
            if e["type"] == "expect_table_columns_to_match_set" and isinstance(observed, list):
                want = set(e["kwargs"].get("column_set") or ())
                missing, extra = sorted(want - set(observed)), sorted(set(observed) - want)
                text = (f"missing columns: {', '.join(missing)}" if missing else "") + \
                       ("; " if missing and extra and e["kwargs"].get("exact_match") else "") + \
                       (f"unexpected columns: {', '.join(extra)}" if extra and e["kwargs"].get("exact_match") else "")
            out.append(_table_finding(e, suite_name, table, cycle, e["severity"],
                                      f"{e['meta'].get('rule') or _describe(e)}: {text}", observed=observed))
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
    if t == "expect_column_pair_values_a_to_be_greater_than_b":
        return f"{kw.get('column_A')} {'>=' if kw.get('or_equal') else '>'} {kw.get('column_B')}"
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
    bcols = e["meta"].get("bound_columns")
    if bcols and all(c in vdf.columns for c in bcols):
        lo = vdf[bcols[0]].iloc[pos].to_numpy(dtype="float64")
        hi = vdf[bcols[1]].iloc[pos].to_numpy(dtype="float64")
        f["expected"] = [f"between {_fmt(a)} and {_fmt(b)}" if not (np.isnan(a) or np.isnan(b))
                         else (f">= {_fmt(a)}" if not np.isnan(a) else f"<= {_fmt(b)}") for a, b in zip(lo, hi)]
        found = {"value": vdf["value"].iloc[pos].to_numpy()} if "value" in vdf.columns else found
    elif expected is None:
        from diaphuong.catalog.indicators import indicators

        units = {k: i.unit for k, i in indicators().items()}
        meas = _col(vdf, "measure").iloc[pos].astype("object").to_numpy()
        ind = _col(vdf, "indicator").iloc[pos].astype("object").to_numpy()
        f["expected"] = [f"unit {units.get(i, '?') if m == 'value' else 'pct'}" for i, m in zip(ind, meas)]
    else:
        f["expected"] = expected
    desc = e["meta"].get("rule") or _describe(e)
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
        elif t == "expect_column_pair_values_a_to_be_greater_than_b":
            if kw.get("ignore_row_if", "both_values_are_missing") != "either_value_is_missing":
                return None
            a = pd.to_numeric(df[kw["column_A"]], errors="coerce")
            b = pd.to_numeric(df[kw["column_B"]], errors="coerce")
            both = a.notna() & b.notna()
            bad = both & ~((a >= b) if kw.get("or_equal") else (a > b))
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


def make_docs_offline(site: Path, *, strict: bool = True) -> list[Path]:
    """Copy the vendored assets into ``<site>/static/vendor/`` and point every page's CDN references
    (scripts, styles, fonts, the GX logo) at them, relative to each page. Returns the pages changed.

    Also: ``integrity``/``crossorigin`` attributes are dropped from the rewritten tags (browsers refuse
    subresource integrity on ``file://`` pages); relative ``static/`` references are recomputed for
    each page's depth (GX 1.24 miscounts it for suite names with dots, e.g. the favicon).
    A page that loads an asset from a URL this function does not know (a GX upgrade) raises
    :class:`DiaphuongError` when ``strict``; otherwise the reference is blanked (``data:,``) and
    logged on the ``diaphuong.validate`` logger, so the pages still never reach the network and the
    cycle's run does not fail over its Data Docs."""
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
        new_text = _offline_page(text, page, static, strict=strict)
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


def _offline_page(text: str, page: Path, static: Path, *, strict: bool = True) -> str:
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
                if strict:
                    return u.group(0)
                local = "data:,"
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
        msg = f"{page}: Data Docs load assets from the network: {', '.join(sorted(set(unknown)))}"
        hint = "vendor them into src/diaphuong/report/vendor/ and add them to validate._CDN"
        if strict:
            raise DiaphuongError(msg, hint=hint)
        logging.getLogger("diaphuong.validate").warning("%s (blanked; %s)", msg, hint)
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


def _codes(parts: list[pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes (-1 for missing) and the unique strings of the concatenated series."""
    s = pd.concat([p.astype("string") for p in parts], ignore_index=True) if parts else pd.Series([], dtype="string")
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    return codes.astype("int64"), np.asarray(uniq.astype(object))


class _Periods:
    """Integer ids for canonical period codes, with year, first/last month, the same period last year
    and the cumulative period (January to month N) of each year."""

    def __init__(self):
        self.ids: dict[str, int] = {}
        self.code: list[str] = []
        self.year: list[int] = []
        self.first: list[int] = []
        self.last: list[int] = []
        self.kind: list[str] = []

    def id(self, code: str) -> int:
        i = self.ids.get(code)
        if i is None:
            per = parse_period(code)
            i = self.ids[code] = len(self.code)
            self.code.append(per.code)
            self.year.append(per.year)
            self.first.append(per.first_month)
            self.last.append(per.last_month)
            self.kind.append(per.kind)
        return i

    def of_raw(self, raw: np.ndarray) -> np.ndarray:
        out = np.full(len(raw), -1, dtype="int64")
        for j, r in enumerate(raw):
            try:
                out[j] = self.id(parse_period(str(r)).code)
            except PeriodError:
                pass
        return out

    def finish(self) -> None:
        n = len(self.code)
        years = sorted(set(self.year))
        for y in years:  # every cumulative period of every year seen, and last year's periods
            for lm in range(1, 13):
                self.id(_cum_code(y, lm))
        for i in range(n):
            per = parse_period(self.code[i])
            self.id(per.same_period_last_year().code)
        self.a_year = np.asarray(self.year, dtype="int64")
        self.a_first = np.asarray(self.first, dtype="int64")
        self.a_last = np.asarray(self.last, dtype="int64")
        self.a_code = np.asarray(self.code, dtype=object)
        self.last_year = np.asarray([self.ids.get(parse_period(c).same_period_last_year().code, -1)
                                     for c in self.code], dtype="int64")
        self.y0 = min(self.year) if self.year else 0
        ny = (max(self.year) - self.y0 + 1) if self.year else 0
        self.cum = np.full((max(ny, 1), 13), -1, dtype="int64")
        for i, (y, f, lm) in enumerate(zip(self.year, self.first, self.last)):
            if f == 1 and self.code[i] == _cum_code(y, lm):
                self.cum[y - self.y0, lm] = i
        self.year_id = np.asarray([self.ids.get(str(y), -1) for y in self.year], dtype="int64")

    def cumulative(self, year: np.ndarray, lm: np.ndarray) -> np.ndarray:
        out = np.full(len(year), -1, dtype="int64")
        ok = (lm >= 1) & (lm <= 12) & (year >= self.y0) & (year < self.y0 + self.cum.shape[0])
        out[ok] = self.cum[year[ok] - self.y0, lm[ok]]
        return out


class _Figures:
    """The cycle's observations and the history, integer-coded, one figure per
    (province_set, province_code, period, indicator, measure): the cycle's first (a submission before
    a report), then the history's latest cycle. Lookups are ``pd.Index.get_indexer`` on one int64 key."""

    def __init__(self, observations: pd.DataFrame, history: pd.DataFrame | None):
        frames = [observations] + ([history] if history is not None and len(history) else [])
        n_cur = len(observations)
        pset, self.pset_u = _codes([_col(f, "province_set") for f in frames])
        pcode, self.pcode_u = _codes([_col(f, "province_code") for f in frames])
        praw, praw_u = _codes([_col(f, "period") for f in frames])
        ind, self.ind_u = _codes([_col(f, "indicator") for f in frames])
        meas, self.meas_u = _codes([_col(f, "measure") for f in frames])
        sk, sk_u = _codes([_col(f, "source_kind") for f in frames])
        cyc, cyc_u = _codes([_col(f, "cycle") for f in frames])
        self.periods = _Periods()
        per_of_raw = self.periods.of_raw(praw_u)
        self.periods.finish()
        per = np.where(praw >= 0, per_of_raw[np.maximum(praw, 0)], -1)
        value = np.concatenate([pd.to_numeric(_col(f, "value"), errors="coerce").to_numpy(dtype="float64")
                                for f in frames])
        row = np.concatenate([np.arange(n_cur, dtype="int64"), np.full(len(value) - n_cur, -1, dtype="int64")])
        is_cur = row >= 0
        self.NP = len(self.pcode_u) + 1
        self.NPER = len(self.periods.code) + 1
        self.NI = len(self.ind_u) + 1
        self.NM = len(self.meas_u) + 1
        self.pk_all = np.where((pset >= 0) & (pcode >= 0), pset * self.NP + pcode, -1)
        ok = (self.pk_all >= 0) & (per >= 0) & (ind >= 0) & (meas >= 0)
        key = self._key(self.pk_all, per, ind, meas)
        sub_rank = np.ones(len(sk), dtype="int64")
        if "submission" in list(sk_u):
            sub_rank[sk == list(sk_u).index("submission")] = 0
        cyc_rank = np.zeros(len(cyc), dtype="int64")
        if len(cyc_u):
            ends = np.asarray([_period_end_rank(c) for c in cyc_u], dtype="int64")
            cyc_rank = np.where(cyc >= 0, -ends[np.maximum(cyc, 0)], 0)
        idx = np.flatnonzero(ok)
        order = idx[np.lexsort((cyc_rank[idx], sub_rank[idx], ~is_cur[idx], key[idx]))]
        _, first = np.unique(key[order], return_index=True)
        keep = order[first]
        self.key, self.value, self.row = key[keep], value[keep], row[keep]
        self.pk, self.per, self.ind, self.meas = self.pk_all[keep], per[keep], ind[keep], meas[keep]
        self.src = keep  # position in the concatenation (for strings)
        self.index_all = pd.Index(self.key)
        cur = self.row >= 0
        self.index_cur = pd.Index(np.where(cur, self.key, -1 - np.arange(len(self.key))))
        self.cur = np.flatnonzero(cur)
        self._frames = frames
        self._cyc, self._cyc_u = cyc, cyc_u

    def _key(self, pk, per, ind, meas) -> np.ndarray:
        return ((pk * self.NPER + per) * self.NI + ind) * self.NM + meas

    def lookup(self, pk, per, ind, meas, *, current: bool) -> np.ndarray:
        """Positions of the figures (or -1)."""
        bad = (pk < 0) | (per < 0) | (ind < 0) | (meas < 0)
        k = self._key(pk, per, ind, meas)
        pos = (self.index_cur if current else self.index_all).get_indexer(k)
        pos[bad] = -1
        return pos

    def ind_code(self, key: str) -> int:
        hit = np.flatnonzero(self.ind_u == key)
        return int(hit[0]) if len(hit) else -1

    def meas_code(self, key: str) -> int:
        hit = np.flatnonzero(self.meas_u == key)
        return int(hit[0]) if len(hit) else -1

    def text(self, col: str, pos: int):
        """The string of column ``col`` of figure ``pos`` (None for -1)."""
        if pos < 0:
            return None
        j = int(self.src[pos])
        for f in self._frames:
            if j < len(f):
                v = _col(f, col).iloc[j]
                return None if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) else str(v)
            j -= len(f)
        return None


def _period_end_rank(code) -> int:
    try:
        p = parse_period(str(code))
        return p.year * 100 + p.last_month
    except PeriodError:
        return -1


def _cum_code(year, lm) -> str:
    from diaphuong.periods import Period

    lm = int(lm)
    kind = "month" if lm == 1 else "half" if lm == 6 else "year" if lm == 12 else "quarter" if lm == 3 else "ytd"
    return Period(int(year), 1, lm, kind).code


def apply_rules(observations: pd.DataFrame, history: pd.DataFrame | None, rules) -> pd.DataFrame:
    """Evaluate the rules (``Rule`` objects, their raw dicts, or the path of ``rules.yaml``) on the
    cycle's observations, with ``history`` for the references to other periods -> ``finding`` rows."""
    return _public(_apply_rules(observations, history, rules))


def _apply_rules(observations, history, rules) -> pd.DataFrame:
    rules = _rules(rules)
    cycle = _cycle_of(observations)
    if not rules or observations is None or not len(observations):
        return _empty_findings()
    figs = _Figures(observations, history)
    out = [_evaluate_rule(r, figs, cycle) for r in rules]
    return _finalize(out, cycle)


@dataclass
class _Anchors:
    pk: np.ndarray
    per: np.ndarray
    ind: np.ndarray   # the for_each indicator (templated rules), else -1
    pos: np.ndarray   # a figure of the anchor (for its cycle)


def _anchors(rule: Rule, figs: _Figures) -> _Anchors:
    own = [r for r in rule.refs if r.offset is None]
    c = figs.cur
    ind, meas = figs.ind[c], figs.meas[c]
    if any(r.indicator == "*" for r in rule.refs):
        sel = [figs.ind_code(k) for k in _select_indicators(rule.for_each)]
        ms = [figs.meas_code(r.measure) for r in own if r.indicator == "*"]
        m = np.isin(ind, [x for x in sel if x >= 0]) & np.isin(meas, [x for x in ms if x >= 0])
        key = (figs.pk[c] * figs.NPER + figs.per[c]) * figs.NI + ind
    else:
        pairs = [figs.ind_code(r.indicator) * figs.NM + figs.meas_code(r.measure) for r in own
                 if figs.ind_code(r.indicator) >= 0 and figs.meas_code(r.measure) >= 0]
        m = np.isin(ind * figs.NM + meas, pairs)
        key = figs.pk[c] * figs.NPER + figs.per[c]
    sel_pos = c[m]
    _, first = np.unique(key[m], return_index=True)
    p = sel_pos[first]
    templ = any(r.indicator == "*" for r in rule.refs)
    return _Anchors(figs.pk[p], figs.per[p], figs.ind[p] if templ else np.full(len(p), -1, dtype="int64"), p)


def _prev_cumulative(rule: Rule, a: _Anchors, figs: _Figures) -> np.ndarray:
    """Per anchor: the period id of the latest earlier cumulative period of the same year in which
    every @previous_cumulative reference is known (-1 when none)."""
    prev = [r for r in rule.refs if r.offset == "previous_cumulative"]
    out = np.full(len(a.pk), -1, dtype="int64")
    if not prev or not len(a.pk):
        return out
    P = figs.periods
    per = np.maximum(a.per, 0)
    year, first, last = P.a_year[per], P.a_first[per], P.a_last[per]
    cumulative = (a.per >= 0) & (first == 1)
    for k in range(1, 12):
        todo = cumulative & (out < 0) & (last - k >= 1)
        if not todo.any():
            break
        cand = P.cumulative(year, last - k)
        ok = todo & (cand >= 0)
        for r in prev:
            ind = a.ind if r.indicator == "*" else np.full(len(a.pk), figs.ind_code(r.indicator), dtype="int64")
            pos = figs.lookup(a.pk, cand, ind, np.full(len(a.pk), figs.meas_code(r.measure), dtype="int64"),
                              current=False)
            ok &= (pos >= 0)
            ok[pos >= 0] &= ~np.isnan(figs.value[pos[pos >= 0]])
        out[ok] = cand[ok]
    return out


def _resolve(ref: Ref, a: _Anchors, figs: _Figures, prev: np.ndarray) -> np.ndarray:
    """Per anchor: the position of the figure ``ref`` refers to (-1 when missing)."""
    n = len(a.pk)
    P = figs.periods
    ind = a.ind if ref.indicator == "*" else np.full(n, figs.ind_code(ref.indicator), dtype="int64")
    meas = np.full(n, figs.meas_code(ref.measure), dtype="int64")
    per0 = np.maximum(a.per, 0)
    if ref.offset is None:
        per = a.per
    elif ref.offset == "last_year":
        per = np.where(a.per >= 0, P.last_year[per0], -1)
    elif ref.offset == "year":
        per = np.where(a.per >= 0, P.year_id[per0], -1)
    else:
        per = prev
    return figs.lookup(a.pk, per, ind, meas, current=ref.offset is None)


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


def _evaluate_rule(rule: Rule, figs: _Figures, cycle: str) -> pd.DataFrame:
    a = _anchors(rule, figs)
    n = len(a.pk)
    if not n:
        return _empty_findings()
    prev = _prev_cumulative(rule, a, figs)
    pos = [_resolve(ref, a, figs, prev) for ref in rule.refs]
    vals = [np.where(p >= 0, figs.value[np.maximum(p, 0)], np.nan) for p in pos]
    missing = np.column_stack([np.isnan(v) for v in vals])
    required = [i for i in range(len(rule.refs)) if i not in rule.optional_refs]
    if rule.missing_value_strategy == "skip_if_any_missing":
        skip = missing[:, required].any(axis=1) if required else np.zeros(n, bool)
    elif rule.missing_value_strategy == "skip_if_all_missing":
        skip = missing.all(axis=1)
    else:
        skip = np.zeros(n, bool)
    env = {f"r{i}": np.nan_to_num(v, nan=0.0) for i, v in enumerate(vals)}
    left = np.broadcast_to(_eval(rule.left_ast, env), (n,)).astype("float64")
    if rule.operator == "between":
        lo, hi = rule.right_ast
        right = np.full(n, np.nan)
        tol = (max(abs(lo), abs(hi)) * rule.tolerance if rule.tolerance_relative else rule.tolerance) * np.ones(n)
        ok = (left >= lo - tol) & (left <= hi + tol)
        finite = np.isfinite(left)
    else:
        right = np.broadcast_to(_eval(rule.right_ast, env), (n,)).astype("float64")
        tol = np.abs(right) * rule.tolerance if rule.tolerance_relative else np.full(n, rule.tolerance)
        with np.errstate(invalid="ignore"):
            ok = {
                "==": np.abs(left - right) <= tol + 1e-9,
                "!=": np.abs(left - right) > tol,
                ">": left > right - tol,
                ">=": left >= right - tol - 1e-9,
                "<": left < right + tol,
                "<=": left <= right + tol + 1e-9,
            }[rule.operator]
        finite = np.isfinite(left) & np.isfinite(right)
    bad = np.flatnonzero(~skip & finite & ~ok)
    if not len(bad):
        return _empty_findings()
    return _rule_findings(rule, a, figs, pos, vals, bad, left, right, tol, cycle)


def _rule_findings(rule, a, figs, pos, vals, idx, left, right, tol, cycle) -> pd.DataFrame:
    own = [i for i, r in enumerate(rule.refs) if r.offset is None]
    names = {n.id for n in ast.walk(rule.left_ast) if isinstance(n, ast.Name)}
    order = [i for i in own if f"r{i}" in names] + [i for i in own if f"r{i}" not in names]
    rows = []
    for j in idx:
        prim = next((i for i in order if pos[i][j] >= 0), order[0])
        ref = rule.refs[prim]
        anchor_ind = figs.ind_u[a.ind[j]] if a.ind[j] >= 0 else None
        ind = anchor_ind if ref.indicator == "*" else ref.indicator
        refs = {}
        for i, r in enumerate(rule.refs):
            p = int(pos[i][j])
            label = r.label.replace("*", anchor_ind or "*")
            refs[label] = {"value": _clean_float(vals[i][j]), "period": (figs.periods.code[figs.per[p]] if p >= 0 else None),
                           "locator": figs.text("locator", p), "source_file": figs.text("source_file", p),
                           "cycle": figs.text("cycle", p)}
        if rule.operator == "between":
            lo, hi = rule.right_ast
            expected, rv = f"between {_fmt(lo)} and {_fmt(hi)}", None
        else:
            rv = _clean_float(right[j])
            expected = f"{rule.operator} {_fmt(rv)}" + (f" ± {_fmt(tol[j])}" if tol[j] else "")
        lv = _clean_float(left[j])
        details = {"left": lv, "right": rv if rule.operator != "between" else list(rule.right_ast),
                   "difference": (lv - rv) if (lv is not None and rv is not None) else None,
                   "tolerance": _clean_float(tol[j]), "operator": rule.operator,
                   "missing_value_strategy": rule.missing_value_strategy,
                   "references": refs, "description_vi": rule.description_vi}
        pp = int(pos[prim][j])
        rows.append({
            "cycle": figs.text("cycle", pp) or figs.text("cycle", int(a.pos[j])) or cycle,
            "severity": rule.severity, "rule": rule.id,
            "province_code": figs.text("province_code", int(a.pos[j])), "indicator": ind, "measure": ref.measure,
            "period": figs.periods.code[a.per[j]] if a.per[j] >= 0 else None, "value": lv, "expected": expected,
            "message": f"{rule.description_en} Found {_fmt(lv)}, expected {expected}.",
            "source_file": figs.text("source_file", pp), "locator": figs.text("locator", pp),
            "details": _json(details),
            "_rows": sorted({int(figs.row[pos[i][j]]) for i in own if pos[i][j] >= 0}),
        })
    return pd.DataFrame(rows)


# =================================================================== outliers

#: indicator kinds whose `value` is a rate, share or change: comparable across provinces
RATE_KINDS = ("rate", "share", "index_change")


def _period_classes(P: _Periods) -> np.ndarray:
    """Per period id: a class id — month, quarter, half, year; year-to-date by length (ytd9)."""
    names = [k if k != "ytd" else f"ytd{lm}" for k, lm in zip(P.kind, P.last)]
    return pd.factorize(pd.Series(names, dtype="object"))[0].astype("int64") if names else np.zeros(0, "int64")


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
    n_cur = len(observations)
    frames = [observations] + ([history] if history is not None and len(history) else [])
    pset, _ = _codes([_col(f, "province_set") for f in frames])
    pcode, pcode_u = _codes([_col(f, "province_code") for f in frames])
    ind, ind_u = _codes([_col(f, "indicator") for f in frames])
    meas, meas_u = _codes([_col(f, "measure") for f in frames])
    praw, praw_u = _codes([_col(f, "period") for f in frames])
    P = _Periods()
    per_of_raw = P.of_raw(praw_u)
    per = np.where(praw >= 0, per_of_raw[np.maximum(praw, 0)], -1)
    pclass_of = _period_classes(P)
    pclass = np.where(per >= 0, pclass_of[np.maximum(per, 0)], -1)
    value = np.concatenate([pd.to_numeric(_col(f, "value"), errors="coerce").to_numpy(dtype="float64")
                            for f in frames])
    NP, NI, NM = len(pcode_u) + 1, len(ind_u) + 1, len(meas_u) + 1
    NC, NPER = int(pclass_of.max()) + 2 if len(pclass_of) else 2, len(P.code) + 1
    ok = (pset >= 0) & (pcode >= 0) & (ind >= 0) & (meas >= 0) & (per >= 0) & np.isfinite(value)
    pk = pset * NP + pcode
    own_key = ((pk * NI + ind) * NM + meas) * NC + pclass
    fig_key = ((pk * NI + ind) * NM + meas) * NPER + per
    is_cur = np.arange(len(value)) < n_cur
    cur = np.flatnonzero(ok & is_cur)
    out = []
    # --- against the province's own history (same indicator, measure and period class)
    hist = np.flatnonzero(ok & ~is_cur)
    if len(hist):
        hist = hist[~np.isin(fig_key[hist], fig_key[cur])]          # not another vintage of a figure of the cycle
        _, last = np.unique(fig_key[hist][::-1], return_index=True)  # one figure per period (the last given)
        hist = hist[::-1][last]
        st = _robust_stats(own_key[hist], value[hist])
        st = st[st["n"] >= min_history]
        j = pd.Index(st.index).get_indexer(own_key[cur])
        m = j >= 0
        out.append(_score(observations, cur[m], value[cur[m]], st.iloc[j[m]], threshold, "outlier_history",
                          "the province's own history", severity, P, per[cur[m]], pclass_of))
    # --- against the other provinces for the same period, indicator and measure
    inds = indicators()
    rate_codes = [i for i, k in enumerate(ind_u) if k in inds and inds[k].kind in RATE_KINDS]
    chg_codes = [i for i, k in enumerate(meas_u) if k in CHANGE_MEASURES]
    val_code = [i for i, k in enumerate(meas_u) if k == "value"]
    comp = cur[np.isin(meas[cur], chg_codes) | (np.isin(meas[cur], val_code) & np.isin(ind[cur], rate_codes))]
    if len(comp):
        sk = _col(observations, "source_kind").astype("string").to_numpy(dtype=object, na_value=None)
        not_sub = np.asarray([x != "submission" for x in sk[comp]], dtype=bool)
        order = comp[np.lexsort((not_sub, fig_key[comp]))]
        _, first = np.unique(fig_key[order], return_index=True)    # one figure per province (a submission first)
        comp = np.sort(order[first])
        grp = ((pset[comp] * NPER + per[comp]) * NI + ind[comp]) * NM + meas[comp]
        st = _robust_stats(grp, value[comp])
        st = st[st["n"] >= min_provinces]
        j = pd.Index(st.index).get_indexer(grp)
        m = j >= 0
        out.append(_score(observations, comp[m], value[comp[m]], st.iloc[j[m]], threshold, "outlier_cross_province",
                          "the other provinces", severity, P, per[comp[m]], pclass_of))
    return _finalize(out, cycle)


def _robust_stats(key: np.ndarray, value: np.ndarray) -> pd.DataFrame:
    """Per key: median, MAD (median of |x - median|), mean absolute deviation, n."""
    df = pd.DataFrame({"k": key, "v": value})
    g = df.groupby("k", sort=False)["v"]
    med = g.median()
    dev = np.abs(value - med.reindex(key).to_numpy())
    gd = pd.Series(dev).groupby(key, sort=False)
    return pd.DataFrame({"median": med, "mad": gd.median(), "meanad": gd.mean(), "n": g.size()})


def _score(obs: pd.DataFrame, pos: np.ndarray, x: np.ndarray, st: pd.DataFrame, threshold: float, rule: str,
           against: str, severity: str, P: _Periods, per: np.ndarray, pclass_of: np.ndarray) -> pd.DataFrame:
    if not len(pos):
        return _empty_findings()
    med, mad, meanad, n = (st[c].to_numpy(dtype="float64") for c in ("median", "mad", "meanad", "n"))
    use_mad = mad > 0
    scale = np.where(use_mad, mad / 0.6745, 1.253314 * meanad)  # in the unit of the figure
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.where(scale > 0, np.abs(x - med) / scale, np.nan)
    flag = np.flatnonzero(np.nan_to_num(score, nan=0.0) > threshold)
    if not len(flag):
        return _empty_findings()
    pos, x, med, mad, meanad, n, use_mad, scale, score, per = (
        a[flag] for a in (pos, x, med, mad, meanad, n, use_mad, scale, score, per))
    lo, hi = med - threshold * scale, med + threshold * scale
    out = _rows_frame(obs, pos)
    out["value"] = x
    out["period"] = [P.code[p] for p in per]
    out["severity"] = severity
    out["rule"] = rule
    out["expected"] = [f"between {_fmt(a)} and {_fmt(b)}" for a, b in zip(lo, hi)]
    out["message"] = [
        f"{_fmt(v)} is far from {against} (median {_fmt(md)}, {'MAD' if um else 'mean abs. deviation'} "
        f"{_fmt(ma if um else mn)}, modified z {s:.2f} > {threshold:g})"
        for v, md, ma, mn, um, s in zip(x, med, mad, meanad, use_mad, score)]
    classes = {int(c): (k if k != "ytd" else f"ytd{lm}") for c, k, lm in zip(pclass_of, P.kind, P.last)}
    out["details"] = [
        _json({"value": v, "median": md, "mad": ma, "mean_abs_deviation": mn, "scale": "mad" if um else "mean_abs_deviation",
               "score": s, "threshold": threshold, "lower": a, "upper": b, "n": int(k), "against": against,
               "period_class": classes.get(int(pclass_of[p]))})
        for v, md, ma, mn, um, s, a, b, k, p in zip(x, med, mad, meanad, use_mad, score, lo, hi, n, per)]
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
    f_suites, suite_results = _run_suites(observations, suites_dir=suites_dir, docs_dir=docs_dir,
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
