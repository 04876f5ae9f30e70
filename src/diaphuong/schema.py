"""Every warehouse column, declared once.

From these declarations come the DuckDB DDL (:func:`ddl`), the Arrow schema (:func:`arrow_schema`),
empty and conformed DataFrames (:func:`empty_frame`, :func:`conform`), the Frictionless
descriptor and the structural Great Expectations suites. Nothing else in the project repeats a
column list by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # DuckDB type: VARCHAR, DOUBLE, BIGINT, INTEGER, BOOLEAN, DATE, TIMESTAMPTZ, JSON
    description: str
    unit: str | None = None
    nullable: bool = True
    allowed: tuple[str, ...] | None = None  # closed vocabulary, checked by the GX suites


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    fields: tuple[Field, ...]
    key: tuple[str, ...] = ()
    kind: str = "fact"  # reference | fact | log

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name}.{name}")


def F(name, type_, description, unit=None, nullable=True, allowed=None) -> Field:
    return Field(name, type_, description, unit, nullable, tuple(allowed) if allowed else None)


SEVERITIES = ("critical", "warning", "info")
STATUSES = ("A", "E", "P", "F", "M")
MEASURES = ("value", "yoy_pct", "mom_pct", "pct_of_plan", "ytd_pct", "avg_yoy_pct")
SOURCE_KINDS = ("submission", "report")
REPORTING_STATUSES = ("reported", "reported_late", "missing", "invalid", "text_only", "conflict",
                      "not_applicable")
UNITS = ("pct", "vnd", "mn_vnd", "bn_vnd", "tn_vnd", "usd", "th_usd", "mn_usd", "bn_usd", "persons",
         "th_persons", "enterprises", "projects", "visits", "th_visits", "mn_visits",
         "mn_vnd_per_person", "usd_per_person", "tonnes", "th_tonnes", "ha", "households", "pp")

_CYCLE = F("cycle", "VARCHAR", "Reporting cycle in DESIGN.md notation (2018-H1, 2025-Q3, 2024-9M, 2025)", nullable=False)
_PROV = F("province_code", "VARCHAR", "2-digit official code of the unit valid on the period's last day")
_PSET = F("province_set", "VARCHAR", "Which province list the code belongs to: 2008 (63 units) or 2025 (34 units)",
          allowed=("2008", "2025"))
_RUN = F("run_id", "VARCHAR", "The flow run that wrote the row")

TABLES: dict[str, Table] = {}


def _table(t: Table) -> Table:
    TABLES[t.name] = t
    return t


_table(Table("province", "Provincial units of both sets with their validity", (
    F("code", "VARCHAR", "2-digit official code", nullable=False),
    _PSET,
    F("name_vi", "VARCHAR", "Official Vietnamese name", nullable=False),
    F("name_ascii", "VARCHAR", "Name without diacritics"),
    F("kind", "VARCHAR", "tinh or thanh_pho_truc_thuoc_trung_uong"),
    F("region", "VARCHAR", "Socio-economic region"),
    F("valid_from", "DATE", "First day the unit (under this name) exists", nullable=False),
    F("valid_to", "DATE", "Last day, empty while valid"),
), key=("code", "province_set", "valid_from"), kind="reference"))

_table(Table("province_crosswalk", "Each 63-list unit and the 34-list unit it went wholly into (Resolution 202/2025/QH15)", (
    F("old_code", "VARCHAR", "Code in the 2008 set", nullable=False),
    F("old_name_vi", "VARCHAR", "Name in the 2008 set"),
    F("new_code", "VARCHAR", "Code in the 2025 set", nullable=False),
    F("new_name_vi", "VARCHAR", "Name in the 2025 set"),
    F("effective_date", "DATE", "Date the merger took effect"),
), key=("old_code",), kind="reference"))

_table(Table("indicator", "The indicator catalog", (
    F("indicator", "VARCHAR", "snake_case key", nullable=False),
    F("name_vi", "VARCHAR", "Vietnamese name"),
    F("name_en", "VARCHAR", "English name"),
    F("group_name", "VARCHAR", "Indicator group"),
    F("unit", "VARCHAR", "Catalog unit code of `value`", allowed=UNITS),
    F("additive", "BOOLEAN", "Can be summed across provinces (levels); rates, shares, indices cannot"),
    F("value_min", "DOUBLE", "Lower plausible bound of `value`"),
    F("value_max", "DOUBLE", "Upper plausible bound of `value`"),
    F("change_min", "DOUBLE", "Lower plausible bound of a % change", unit="pct"),
    F("change_max", "DOUBLE", "Upper plausible bound of a % change", unit="pct"),
), key=("indicator",), kind="reference"))

_table(Table("requirement", "Which indicator and measure each cycle kind must carry", (
    F("cycle_kind", "VARCHAR", "month, quarter, half, nine_months or year", nullable=False),
    F("indicator", "VARCHAR", "Indicator key", nullable=False),
    F("measure", "VARCHAR", "Measure", nullable=False, allowed=MEASURES),
), key=("cycle_kind", "indicator", "measure"), kind="reference"))

_table(Table("cycle", "Reporting cycles loaded, with their calendar", (
    _CYCLE,
    F("cycle_kind", "VARCHAR", "Requirement kind: month, quarter, half, nine_months, year"),
    F("period_start", "DATE", "First day of the period"),
    F("period_end", "DATE", "Last day of the period"),
    F("cutoff", "DATE", "Data cut-off day"),
    F("deadline", "DATE", "Last day a submission counts as on time (after moving off weekends and holidays)"),
    _PSET,
    F("expected_reports", "INTEGER", "Provinces expected to report"),
    _RUN,
), key=("cycle",)))

_table(Table("submission", "One row per received file (spreadsheet or report text)", (
    F("sha256", "VARCHAR", "SHA-256 of the file's bytes", nullable=False),
    _CYCLE, _PROV, _PSET,
    F("kind", "VARCHAR", "spreadsheet or report", allowed=("spreadsheet", "report")),
    F("path", "VARCHAR", "Path relative to the raw tree", nullable=False),
    F("file_format", "VARCHAR", "xlsx, xls, ods, csv, txt, docx, pdf, html"),
    F("size_bytes", "BIGINT", "File size", unit="bytes"),
    F("received_at", "TIMESTAMPTZ", "Receipt time (inbox.csv, else file modification time)"),
    F("received_at_source", "VARCHAR", "inbox or mtime", allowed=("inbox", "mtime")),
    F("deadline", "DATE", "Deadline of the cycle"),
    F("days_late", "INTEGER", "Calendar days after the deadline (0 when on time)", unit="days"),
    F("working_days_late", "INTEGER", "Working days after the deadline (weekends and VN holidays excluded)", unit="days"),
    F("province_source", "VARCHAR", "Where the province came from: content, file_name or inbox"),
    F("outcome", "VARCHAR", "accepted, quarantined or superseded", allowed=("accepted", "quarantined", "superseded")),
    F("error", "VARCHAR", "Why the file was quarantined"),
    F("observations", "INTEGER", "Observations read from the file"),
    F("quarantined_rows", "INTEGER", "Cells or rows of the file sent to quarantine"),
    F("note", "VARCHAR", "What the reader noticed (sheet chosen, units converted, ...)"),
    _RUN,
), key=("cycle", "path")))

_table(Table("observation", "Tidy facts with provenance and vintages", (
    _CYCLE,
    F("period", "VARCHAR", "Period the figure refers to (DESIGN.md notation)", nullable=False),
    _PROV, _PSET,
    F("indicator", "VARCHAR", "Indicator key", nullable=False),
    F("measure", "VARCHAR", "value, yoy_pct, mom_pct, pct_of_plan, ...", nullable=False, allowed=MEASURES),
    F("value", "DOUBLE", "The figure, in `unit`"),
    F("unit", "VARCHAR", "Unit code (pct for every measure but value)", allowed=UNITS),
    F("status", "VARCHAR", "SDMX observation status: A official, E estimate, P preliminary, F projection, M missing",
      allowed=STATUSES),
    F("qualifier", "VARCHAR", "hơn / gần / khoảng / range / symbol kept from the source"),
    F("original_value", "VARCHAR", "The figure as written in the source"),
    F("original_unit", "VARCHAR", "The unit as written in the source"),
    F("source_kind", "VARCHAR", "submission or report", nullable=False, allowed=SOURCE_KINDS),
    F("source_file", "VARCHAR", "Path of the source file relative to the raw tree"),
    F("source_sha256", "VARCHAR", "SHA-256 of the source file", nullable=False),
    F("locator", "VARCHAR", "Sheet!C12 for a cell, 'chars 120-188' for a text span", nullable=False),
    F("sentence", "VARCHAR", "The sentence a text figure was read from"),
    F("flag", "VARCHAR", "Reader's remarks (index_as_change, unit_converted, fuzzy_match, ...)"),
    F("severity", "VARCHAR", "Worst validation finding on the figure", allowed=SEVERITIES),
    F("valid_from_run", "VARCHAR", "Run that loaded this vintage", nullable=False),
    F("superseded_by_run", "VARCHAR", "Run whose newer vintage replaced it (empty while current)"),
), key=("cycle", "period", "province_code", "indicator", "measure", "source_kind", "valid_from_run")))

_table(Table("quarantine", "Rejected files, rows and cells, with the reason", (
    _CYCLE,
    F("file", "VARCHAR", "Path relative to the raw tree", nullable=False),
    F("source_sha256", "VARCHAR", "SHA-256 of the file"),
    F("locator", "VARCHAR", "Sheet!C12, line, or empty for a whole file"),
    F("reason", "VARCHAR", "Reason code", nullable=False),
    F("message", "VARCHAR", "Plain-words explanation"),
    F("raw_value", "VARCHAR", "What the cell or row said"),
    F("indicator", "VARCHAR", "Indicator of the rejected cell or row, when known"),
    F("measure", "VARCHAR", "Measure of the rejected cell, when known"),
    _PROV, _RUN,
), key=("cycle", "file", "locator", "reason")))

_table(Table("reporting_status", "Cycle x province x required indicator and measure", (
    _CYCLE, _PROV, _PSET,
    F("indicator", "VARCHAR", "Indicator key", nullable=False),
    F("measure", "VARCHAR", "Measure", nullable=False, allowed=MEASURES),
    F("status", "VARCHAR", "reported, reported_late, missing, invalid, text_only, conflict, not_applicable",
      nullable=False, allowed=REPORTING_STATUSES),
    F("value", "DOUBLE", "The submitted figure, if any"),
    F("text_value", "DOUBLE", "The figure the report text states, if any"),
    F("detail", "VARCHAR", "Why this status"),
    F("locator", "VARCHAR", "Where the figure (or the problem) is"),
    _RUN,
), key=("cycle", "province_code", "indicator", "measure")))

_table(Table("completeness", "DHIS2-style reporting rates per cycle x province", (
    _CYCLE, _PROV, _PSET,
    F("expected_reports", "INTEGER", "1 if the unit is expected to report the cycle"),
    F("actual_reports", "INTEGER", "1 if at least one readable spreadsheet arrived"),
    F("actual_reports_on_time", "INTEGER", "1 if the first readable spreadsheet arrived by the deadline"),
    F("reporting_rate", "DOUBLE", "100 * actual / expected", unit="pct"),
    F("reporting_rate_on_time", "DOUBLE", "100 * on time / expected", unit="pct"),
    F("timeliness_among_received", "DOUBLE", "100 * on time / actual", unit="pct"),
    F("required_cells", "INTEGER", "Required indicator x measure cells"),
    F("reported_cells", "INTEGER", "Required cells reported (on time or late)"),
    F("indicator_completeness", "DOUBLE", "100 * reported cells / required cells", unit="pct"),
    F("first_received_at", "TIMESTAMPTZ", "Receipt of the first readable spreadsheet"),
    F("days_late", "INTEGER", "Calendar days late of the first readable spreadsheet", unit="days"),
    F("working_days_late", "INTEGER", "Working days late", unit="days"),
    _RUN,
), key=("cycle", "province_code")))

_table(Table("finding", "Every validation failure, outlier, conflict and reporting problem", (
    _CYCLE,
    F("severity", "VARCHAR", "critical, warning or info", nullable=False, allowed=SEVERITIES),
    F("rule", "VARCHAR", "Rule or expectation that raised it", nullable=False),
    _PROV,
    F("indicator", "VARCHAR", "Indicator key"),
    F("measure", "VARCHAR", "Measure"),
    F("period", "VARCHAR", "Period"),
    F("value", "DOUBLE", "The value found"),
    F("expected", "VARCHAR", "What was expected"),
    F("message", "VARCHAR", "Plain-words explanation"),
    F("source_file", "VARCHAR", "File the value came from"),
    F("locator", "VARCHAR", "Cell or text span"),
    F("details", "JSON", "Rule-specific numbers (median, MAD, score, bounds, ...)"),
    _RUN,
), key=("cycle", "rule", "province_code", "indicator", "measure", "locator")))

_table(Table("suite_result", "Great Expectations results per suite and cycle", (
    _CYCLE,
    F("suite", "VARCHAR", "Suite name", nullable=False),
    F("evaluated", "INTEGER", "Expectations evaluated"),
    F("successful", "INTEGER", "Expectations met"),
    F("unsuccessful", "INTEGER", "Expectations not met"),
    F("success_percent", "DOUBLE", "100 * successful / evaluated", unit="pct"),
    _RUN,
), key=("cycle", "suite")))

_table(Table("run", "One row per distinct load: a rerun on identical inputs is the same run", (
    F("run_id", "VARCHAR", "cycle + hash of the inputs, code version and parameters", nullable=False),
    _CYCLE,
    F("started_at", "TIMESTAMPTZ", "First start"),
    F("finished_at", "TIMESTAMPTZ", "Finish of the latest attempt"),
    F("attempts", "INTEGER", "How many times these exact inputs were run"),
    F("parameters", "JSON", "Flow parameters"),
    F("input_hashes", "JSON", "path -> sha256 of every input file"),
    F("row_counts", "JSON", "table -> rows written"),
    F("timings", "JSON", "stage -> seconds"),
    F("outcome", "VARCHAR", "completed or failed"),
    F("prefect_flow_run_id", "VARCHAR", "Prefect's id of the latest attempt"),
), key=("run_id",), kind="log"))


_ARROW = {
    "VARCHAR": pa.string(), "DOUBLE": pa.float64(), "BIGINT": pa.int64(), "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "JSON": pa.string(),
}
_PANDAS = {
    "VARCHAR": "string", "DOUBLE": "float64", "BIGINT": "Int64", "INTEGER": "Int32", "BOOLEAN": "boolean",
    "DATE": "object", "TIMESTAMPTZ": "datetime64[us, UTC]", "JSON": "string",
}


def ddl(name: str) -> str:
    t = TABLES[name]
    cols = ",\n  ".join(
        f"{f.name} {f.type}{'' if f.nullable else ' NOT NULL'}" for f in t.fields
    )
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  {cols}\n);"


def comments(name: str) -> list[str]:
    t = TABLES[name]
    out = [f"COMMENT ON TABLE {name} IS '{_q(t.description)}';"]
    for f in t.fields:
        unit = f" [{f.unit}]" if f.unit else ""
        out.append(f"COMMENT ON COLUMN {name}.{f.name} IS '{_q(f.description + unit)}';")
    return out


def _q(s: str) -> str:
    return s.replace("'", "''")


def arrow_schema(name: str) -> pa.Schema:
    t = TABLES[name]
    return pa.schema([pa.field(f.name, _ARROW[f.type], nullable=f.nullable) for f in t.fields])


def empty_frame(name: str) -> pd.DataFrame:
    t = TABLES[name]
    return pd.DataFrame({f.name: pd.Series(dtype=_PANDAS[f.type]) for f in t.fields})


def conform(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Columns of table ``name`` in declared order and types; missing columns become nulls;
    unknown columns raise (a typo should fail loudly, not vanish)."""
    t = TABLES[name]
    extra = set(df.columns) - set(t.columns)
    if extra:
        raise KeyError(f"{name}: undeclared columns {sorted(extra)}")
    out = {}
    for f in t.fields:
        s = df[f.name] if f.name in df.columns else pd.Series([None] * len(df), index=df.index)
        if f.type == "DATE":
            s = pd.to_datetime(s).dt.date.astype(object).where(s.notna(), None) if len(s) else s.astype(object)
        elif f.type == "TIMESTAMPTZ":
            s = pd.to_datetime(s, utc=True).astype(_PANDAS[f.type])
        elif f.type in ("VARCHAR", "JSON"):
            s = s.astype(object).where(s.notna(), None).astype("string")
        else:
            s = s.astype(_PANDAS[f.type])
        out[f.name] = s
    return pd.DataFrame(out, index=df.index).reset_index(drop=True)


def to_arrow(df: pd.DataFrame, name: str) -> pa.Table:
    return pa.Table.from_pandas(conform(df, name), schema=arrow_schema(name), preserve_index=False)
