"""Keep the documents honest: every query in docs/queries.md runs on the sample warehouse and
gives the output the document shows."""
from pathlib import Path

import duckdb

from diaphuong import docs_queries

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"


def test_queries_doc_has_at_least_12_questions():
    assert len(docs_queries.parse(DOC.read_text(encoding="utf-8"))) >= 12


def test_every_query_in_the_doc_gives_the_output_shown(sample_warehouse):
    wh = sample_warehouse[0]
    con = duckdb.connect(str(wh / "diaphuong.duckdb"), read_only=True)
    try:
        stale = docs_queries.check(DOC, con)
    finally:
        con.close()
    assert not stale, ("outputs in docs/queries.md are out of date; run `make docs`:\n\n"
                       + "\n---\n".join(stale))
