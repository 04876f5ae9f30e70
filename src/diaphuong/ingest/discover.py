"""Discover and register the raw tree: ``<raw>/<cycle>/{inbox.csv, submissions/, reports/}``.

Registration hashes every file (sha256) and never opens a file for writing: raw inputs are never
modified. Files and folders whose name starts with ``_`` or ``.`` are ignored (``_truth.json`` of the
demo generator, editor droppings).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from diaphuong.errors import InputError
from diaphuong.periods import is_period, parse_period

SPREADSHEET_EXT = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}
REPORT_EXT = {".txt", ".docx", ".pdf", ".html", ".htm"}
FOLDERS = {"submissions": "spreadsheet", "reports": "report"}


def discover_cycles(raw_dir: Path) -> list[str]:
    """Cycle folders under ``raw_dir`` in chronological order (by period end, then code)."""
    if not raw_dir.is_dir():
        raise InputError(f"raw folder not found: {raw_dir}", hint="pass --raw DIR or set DIAPHUONG_RAW")
    names = [p.name for p in raw_dir.iterdir() if p.is_dir() and is_period(p.name)]
    return sorted(names, key=lambda c: (parse_period(c).end, parse_period(c).start, c))


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def register_files(raw_dir: Path, cycle: str) -> pd.DataFrame:
    """One row per file of the cycle: path (relative to the raw tree), rel (relative to the cycle
    folder, as inbox.csv names it), kind, file_format, size_bytes, mtime (UTC), sha256, supported."""
    cdir = raw_dir / cycle
    rows = []
    for folder, kind in FOLDERS.items():
        base = cdir / folder
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if not p.is_file() or any(part.startswith(("_", ".")) for part in p.relative_to(cdir).parts):
                continue
            ext = p.suffix.lower()
            ok = ext in (SPREADSHEET_EXT if kind == "spreadsheet" else REPORT_EXT)
            st = p.stat()
            rows.append({
                "path": p.relative_to(raw_dir).as_posix(),
                "rel": p.relative_to(cdir).as_posix(),
                "kind": kind,
                "file_format": ext.lstrip(".") or "none",
                "size_bytes": st.st_size,
                "mtime": datetime.fromtimestamp(st.st_mtime, tz=timezone.utc),
                "sha256": sha256_file(p),
                "supported": ok,
            })
    cols = ["path", "rel", "kind", "file_format", "size_bytes", "mtime", "sha256", "supported"]
    return pd.DataFrame(rows, columns=cols)


INBOX_COLUMNS = ["file", "received_at", "sender", "note"]


def read_inbox(raw_dir: Path, cycle: str) -> tuple[pd.DataFrame, list[InputError]]:
    """``inbox.csv`` of the cycle: file, received_at (tz-aware), sender, note, line.

    A row whose time cannot be read is left out and returned as an error naming its line; a missing
    inbox gives an empty frame (every file then falls back on its modification time)."""
    path = raw_dir / cycle / "inbox.csv"
    empty = pd.DataFrame(columns=[*INBOX_COLUMNS, "line"])
    if not path.exists():
        return empty, []
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as e:  # noqa: BLE001 - any parse failure is reported with the file
        return empty, [InputError(f"cannot read inbox: {e}", file=str(path), reason="inbox_unreadable")]
    missing = [c for c in ("file", "received_at") if c not in df.columns]
    if missing:
        return empty, [InputError(f"inbox.csv lacks column(s) {missing}", file=str(path), reason="inbox_layout")]
    for c in INBOX_COLUMNS:
        if c not in df.columns:
            df[c] = ""
    df["line"] = range(2, len(df) + 2)
    errors: list[InputError] = []
    times = []
    for f, t, line in zip(df["file"], df["received_at"], df["line"]):
        try:
            ts = pd.Timestamp(t)
            if ts.tzinfo is None:  # a time without offset is Vietnam time
                ts = ts.tz_localize("Asia/Ho_Chi_Minh")
            times.append(ts.tz_convert("UTC"))
        except (ValueError, TypeError):
            errors.append(InputError(f"received_at {t!r} for {f!r} is not an ISO 8601 time",
                                     file=str(path), locator=f"line {line}", reason="inbox_time"))
            times.append(pd.NaT)
    df["received_at"] = pd.to_datetime(pd.Series(times, index=df.index, dtype="object"), utc=True)
    df["file"] = df["file"].str.strip().str.replace("\\", "/", regex=False)
    df = df[df["received_at"].notna()]
    return df[[*INBOX_COLUMNS, "line"]].reset_index(drop=True), errors


def tree_hash(path: Path) -> str:
    """One SHA-256 over every file's relative path and bytes: tells whether a tree changed."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        if p.is_file():
            h.update(p.relative_to(path).as_posix().encode())
            h.update(sha256_file(p).encode())
    return h.hexdigest()
