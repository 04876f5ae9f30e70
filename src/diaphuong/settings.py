"""Paths and profiles, one validated object. Environment variables ``DIAPHUONG_*`` override the
defaults; CLI options override both."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from diaphuong.errors import DiaphuongError


@dataclass(frozen=True)
class Settings:
    raw_dir: Path
    warehouse_dir: Path
    expectations_dir: Path
    prefect_home: Path
    chronic_k: int = 2          # missing or late in at least k ...
    chronic_n: int = 3          # ... of the last n cycles
    lock_wait_seconds: float = 0.0  # a second writer waits this long, then stops with a message

    @property
    def duckdb_path(self) -> Path:
        return self.warehouse_dir / "diaphuong.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.warehouse_dir / "parquet"

    @property
    def reports_dir(self) -> Path:
        return self.warehouse_dir / "reports"

    @property
    def cache_dir(self) -> Path:
        """Parsed files by content hash: a rerun reads only new or changed files."""
        return self.warehouse_dir / ".cache"

    @property
    def logs_dir(self) -> Path:
        return self.warehouse_dir / "logs"

    def with_(self, **kw) -> "Settings":
        kw = {k: (Path(v) if k.endswith(("_dir", "_home")) and v is not None else v) for k, v in kw.items() if v is not None}
        return replace(self, **kw)


def project_root() -> Path:
    """The checkout this package runs from (src layout), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def load_settings(**overrides) -> Settings:
    env = os.environ
    root = Path.cwd()
    warehouse = Path(env.get("DIAPHUONG_WAREHOUSE", root / "data" / "warehouse"))
    s = Settings(
        raw_dir=Path(env.get("DIAPHUONG_RAW", root / "data" / "raw")),
        warehouse_dir=warehouse,
        expectations_dir=Path(env.get("DIAPHUONG_EXPECTATIONS", project_root() / "expectations")),
        prefect_home=Path(env.get("DIAPHUONG_PREFECT_HOME", env.get("PREFECT_HOME", warehouse / ".prefect"))),
        chronic_k=int(env.get("DIAPHUONG_CHRONIC_K", 2)),
        chronic_n=int(env.get("DIAPHUONG_CHRONIC_N", 3)),
        lock_wait_seconds=float(env.get("DIAPHUONG_LOCK_WAIT", 0)),
    )
    s = s.with_(**overrides)
    if s.chronic_k > s.chronic_n or s.chronic_k < 1:
        raise DiaphuongError(f"chronic non-reporter rule needs 1 <= k <= n, got k={s.chronic_k}, n={s.chronic_n}")
    return s
