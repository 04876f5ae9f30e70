"""Regenerate the committed sample data under data/raw/ (two cycles, fixed seed).

    .venv/bin/python scripts/make_sample.py            # writes data/raw/2018-H1 and data/raw/2025-H2
    .venv/bin/python scripts/make_sample.py --check    # regenerate into a temporary folder and
                                                       # compare byte for byte with data/raw

2018-H1 is the period of the department's review meeting (63 provinces); 2025-H2 is the first
half-year of the 34-province list. The same seed always gives the same bytes.
"""
from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from diaphuong.demo import write_demo  # noqa: E402

SAMPLE_CYCLES = ["2018-H1", "2025-H2"]
SAMPLE_SEED = 20180620
MAX_BYTES = 6 * 1024 * 1024


def _tree_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _differences(a: Path, b: Path) -> list[str]:
    out = []
    fa = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    fb = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    for rel in sorted(fa ^ fb):
        out.append(f"only in one tree: {rel}")
    for rel in sorted(fa & fb):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            out.append(f"differs: {rel}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "raw")
    ap.add_argument("--check", action="store_true", help="compare a fresh generation with --out")
    args = ap.parse_args(argv)

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            write_demo(Path(tmp), SAMPLE_CYCLES, seed=SAMPLE_SEED)
            diffs = [d for c in SAMPLE_CYCLES for d in _differences(Path(tmp) / c, args.out / c)]
        for d in diffs:
            print(d)
        print("sample data up to date" if not diffs else f"{len(diffs)} difference(s)")
        return 1 if diffs else 0

    truths = write_demo(args.out, SAMPLE_CYCLES, seed=SAMPLE_SEED)
    total = 0
    for cycle, t in truths.items():
        size = _tree_size(args.out / cycle)
        total += size
        m = t["mess_injected"]
        print(f"{cycle}: {len(t['provinces_expected'])} provinces, {len(t['files'])} files, "
              f"{size / 1024:.0f} KiB, deadline {t['deadline']}, "
              + ", ".join(f"{k} {len(v)}" for k, v in m.items() if v))
    print(f"total {total / 1024 / 1024:.2f} MiB under {args.out}")
    if total > MAX_BYTES:
        print(f"warning: sample data is larger than {MAX_BYTES // 1024 // 1024} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
