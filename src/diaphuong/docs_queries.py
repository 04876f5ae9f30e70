"""``docs/queries.md``: worked analyst questions in SQL with their output. Each question is a
``## `` heading, a ```` ```sql ```` block and the output as a Markdown table right after it.
:func:`refresh` runs every block against a warehouse and rewrites the tables;
:func:`check` says which ones differ (the test keeps the document honest)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

_BLOCK = re.compile(r"```sql\n(?P<sql>.*?)```\n(?:\n(?P<table>(?:\|[^\n]*\n)+))?", re.S)


@dataclass
class Query:
    sql: str
    table: str | None
    start: int
    end: int


def parse(text: str) -> list[Query]:
    return [Query(m["sql"].strip(), m["table"], m.start(), m.end()) for m in _BLOCK.finditer(text)]


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return ""
    if isinstance(v, float):
        return f"{v:.2f}".rstrip("0").rstrip(".") if abs(v) < 1e15 else str(v)
    return str(v).replace("|", "\\|").replace("\n", " ")


def markdown_table(df: pd.DataFrame, max_rows: int = 15) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |\n"
    sep = "|" + "|".join("---" for _ in df.columns) + "|\n"
    rows = "".join("| " + " | ".join(_cell(v) for v in row) + " |\n" for row in df.head(max_rows).itertuples(index=False))
    more = f"| … {len(df) - max_rows} more rows |" + " |" * (len(df.columns) - 1) + "\n" if len(df) > max_rows else ""
    return head + sep + rows + more


def run_all(text: str, con) -> list[tuple[Query, str]]:
    return [(q, markdown_table(con.execute(q.sql).df())) for q in parse(text)]


def refresh(path: Path, con) -> int:
    text = path.read_text(encoding="utf-8")
    out, pos, n = [], 0, 0
    for q, table in run_all(text, con):
        out.append(text[pos:q.start])
        out.append(f"```sql\n{q.sql}\n```\n\n{table}")
        pos = q.end
        n += 1
    out.append(text[pos:])
    path.write_text("".join(out), encoding="utf-8")
    return n


def check(path: Path, con) -> list[str]:
    """The SQL of every question whose output in the document differs from the warehouse's."""
    text = path.read_text(encoding="utf-8")
    return [q.sql for q, table in run_all(text, con) if (q.table or "") != table]


def refresh_from_sample(doc: Path, raw: Path) -> int:
    """Run the flow on a copy of the sample tree (as the test does) and refresh ``doc``."""
    import tempfile

    import duckdb

    from diaphuong.demo import copy_demo_tree
    from diaphuong.prefect_env import configure

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        configure(tmp / "prefect")
        from diaphuong.prefect_env import no_heartbeat
        from diaphuong_flows.reporting_cycle import reporting_cycle

        copy = copy_demo_tree(raw, tmp / "raw")
        with no_heartbeat():
            reporting_cycle(raw_dir=str(copy), warehouse_dir=str(tmp / "wh"))
        con = duckdb.connect(str(tmp / "wh" / "diaphuong.duckdb"), read_only=True)
        try:
            return refresh(doc, con)
        finally:
            con.close()


if __name__ == "__main__":  # python -m diaphuong.docs_queries docs/queries.md data/raw
    import sys

    print(f"refreshed {refresh_from_sample(Path(sys.argv[1]), Path(sys.argv[2]))} queries in {sys.argv[1]}")
