"""Score diaphuong.extract against ground truth: precision / recall on (indicator, measure, value)
per document.

    .venv/bin/python bench/score_extract.py [PATH ...] [--quiet] [--strict-period]

PATH is either
* a raw tree (``data/raw``) or one cycle of it (``data/raw/2025-H2``): every cycle folder holding a
  ``_truth.json`` (written by ``diaphuong.demo``) is scored. Each report is read with
  ``extract_document(path, raw_root=...)`` (province and period from the file's place in the tree),
  and compared with the figures the truth says the text states: ``text_figures`` of kind
  ``outturn`` (the cycle's figures) and ``cumulative`` (year-to-date figures of another period).
  Figures of kind ``plan``/``target`` (and ``other``, not catalog indicators) must NOT be
  extracted: any extracted figure not in the expected set counts as a false figure.
* a YAML fixture set of the extractor's tests: ``tests/fixtures/reports/cases.yaml`` (a list of
  cases) or a folder of one-case ``*.yaml`` files (``holdout/``, ``real_patterns/``); each case has
  ``text``, ``province``, ``period`` and ``expected: [[indicator, measure, value, status, period], ...]``.

Without PATH: the raw tree ``data/raw`` and the three fixture sets.

Values match within the rounding of the stated figure (the truth's ``tolerance``, else 0.0005).
Printed per set: documents, tp / fp / fn, precision and recall (micro, over all figures), then
each miss (``-``) and false figure (``+``) with its document. ``--strict-period`` also requires the
period to match (a right value on the wrong period counts as one false and one missed figure); the
number of such period errors is printed either way.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from diaphuong.catalog.provinces import resolve_province  # noqa: E402
from diaphuong.extract import extract_document, extract_text  # noqa: E402
from diaphuong.periods import parse_period  # noqa: E402

SCORED_KINDS = ("outturn", "cumulative")
DEFAULT_TOL = 0.0005


@dataclass
class Exp:
    indicator: str
    measure: str
    value: float
    period: str | None
    tol: float = DEFAULT_TOL
    note: str = ""


@dataclass
class Got:
    indicator: str
    measure: str
    value: float
    period: str | None
    sentence: str = ""


@dataclass
class DocScore:
    name: str
    tp: int = 0
    misses: list[Exp] = field(default_factory=list)
    false: list[Got] = field(default_factory=list)
    period_errors: list[tuple[Exp, Got]] = field(default_factory=list)


def _close(a: float, b: float, tol: float) -> bool:
    return abs(a - b) <= max(tol, 1e-9 * max(abs(a), abs(b)), 1e-6)


def score_doc(name: str, expected: list[Exp], got: list[Got], strict_period: bool) -> DocScore:
    """Greedy one-to-one matching of extracted figures to expected ones."""
    ds = DocScore(name)
    left = list(got)
    unmatched: list[Exp] = []
    # first pass: full match (with period); second: value only
    for e in expected:
        hit = next((g for g in left if g.indicator == e.indicator and g.measure == e.measure
                    and _close(g.value, e.value, e.tol) and (e.period is None or g.period == e.period)), None)
        if hit is not None:
            left.remove(hit)
            ds.tp += 1
        else:
            unmatched.append(e)
    for e in unmatched:
        hit = next((g for g in left if g.indicator == e.indicator and g.measure == e.measure
                    and _close(g.value, e.value, e.tol)), None)
        if hit is not None:
            left.remove(hit)
            ds.period_errors.append((e, hit))
            if strict_period:
                ds.misses.append(e)
                ds.false.append(hit)
            else:
                ds.tp += 1
        else:
            ds.misses.append(e)
    ds.false.extend(left)
    return ds


def _got(df) -> list[Got]:
    return [Got(r.indicator, r.measure, float(r.value), r.period, r.sentence or "") for r in df.itertuples()]


def raw_tree_docs(root: Path) -> list[tuple[str, list[Exp], list[Got]]]:
    cycles = [root] if (root / "_truth.json").exists() else sorted(
        p for p in root.iterdir() if (p / "_truth.json").exists())
    raw_root = root.parent if (root / "_truth.json").exists() else root
    out = []
    for cdir in cycles:
        truth = json.loads((cdir / "_truth.json").read_text(encoding="utf-8"))
        for code, pt in sorted(truth["provinces"].items()):
            rel = pt.get("report")
            if not rel:
                continue
            path = cdir / rel
            exp = [Exp(f["indicator"], f["measure"], float(f["value"]), f.get("period"),
                       float(f.get("tolerance") or DEFAULT_TOL) + 1e-9, f["kind"])
                   for f in pt.get("text_figures") or []
                   if f.get("kind") in SCORED_KINDS and f.get("indicator")]
            df = extract_document(path, raw_root=raw_root)
            out.append((f"{cdir.name}/{rel}", exp, _got(df)))
    return out


def yaml_docs(path: Path) -> list[tuple[str, list[Exp], list[Got]]]:
    if path.is_dir():
        cases = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(path.glob("*.yaml"))]
    else:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = []
    for c in cases:
        per = str(c["period"]) if c.get("period") else None
        prov = resolve_province(c["province"], on=parse_period(per).end) if c.get("province") and per else None
        df = extract_text(c["text"], province=prov, period=per, source_file=f"{c['id']}.txt",
                          sha256="0" * 64, cycle=per)
        exp = [Exp(e[0], e[1], float(e[2]), str(e[4]) if len(e) > 4 else None) for e in c["expected"]]
        out.append((c["id"], exp, _got(df)))
    return out


def report(label: str, docs, strict_period: bool, quiet: bool) -> tuple[int, int, int]:
    scores = [score_doc(n, e, g, strict_period) for n, e, g in docs]
    tp = sum(s.tp for s in scores)
    fp = sum(len(s.false) for s in scores)
    fn = sum(len(s.misses) for s in scores)
    pe = sum(len(s.period_errors) for s in scores)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / (tp + fn) if tp + fn else 1.0
    perfect = sum(1 for s in scores if not s.misses and not s.false)
    print(f"== {label}: {len(scores)} documents ({perfect} perfect), tp={tp} fp={fp} fn={fn} "
          f"precision={prec:.3f} recall={rec:.3f} period_errors={pe}")
    if not quiet:
        for s in scores:
            for e in s.misses:
                print(f"  - {s.name}: {e.indicator} {e.measure} {e.value:g} [{e.period}] {e.note}")
            for g in s.false:
                print(f"  + {s.name}: {g.indicator} {g.measure} {g.value:g} [{g.period}] | {g.sentence[:140]}")
            for e, g in s.period_errors:
                print(f"  ~ {s.name}: {e.indicator} {e.measure} {e.value:g} expected [{e.period}] got [{g.period}]")
    return tp, fp, fn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path)
    ap.add_argument("--quiet", "-q", action="store_true", help="totals only")
    ap.add_argument("--strict-period", action="store_true", help="the period must match too")
    args = ap.parse_args(argv)
    paths = args.paths or [ROOT / "data" / "raw", ROOT / "tests/fixtures/reports/cases.yaml",
                           ROOT / "tests/fixtures/reports/holdout", ROOT / "tests/fixtures/reports/real_patterns"]
    for p in paths:
        if not p.exists():
            print(f"== {p}: not found")
            continue
        if p.is_dir() and not list(p.glob("*.yaml")):
            docs = raw_tree_docs(p)
        else:
            docs = yaml_docs(p)
        report(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p), docs, args.strict_period, args.quiet)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
