"""Open a report page in headless Chromium (Debian's ``chromium`` package) to read back the DOM
after the page's scripts ran, take a screenshot, and time the rendering.

Used by the browser test and the benchmark; nothing here touches the network (a fresh profile,
background networking, sync and component updates off, and the page's own CSP forbids fetches).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from diaphuong.errors import DiaphuongError

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class BrowserError(DiaphuongError):
    """Headless Chromium is absent or failed on the page."""


def find_chromium() -> str | None:
    env = os.environ.get("DIAPHUONG_CHROMIUM")
    for c in ((env,) if env else ()) + CANDIDATES:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return c
    return shutil.which("chromium")


def _args(exe: str, profile: str, size: tuple[int, int]) -> list[str]:
    return [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--no-first-run", "--no-default-browser-check",
            "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"]


def _run(extra: list[str], page: Path, *, size=(1400, 2000), timeout: float = 60, exe: str | None = None,
         url_suffix: str = "") -> subprocess.CompletedProcess:
    exe = exe or find_chromium()
    if not exe:
        raise BrowserError("headless Chromium not found", hint="apt-get install -y chromium")
    page = Path(page).resolve()
    with tempfile.TemporaryDirectory(prefix="dp-chromium-") as profile:
        cmd = _args(exe, profile, size) + extra + [page.as_uri() + url_suffix]
        try:
            cp = subprocess.run(cmd, capture_output=True, timeout=timeout, env={**os.environ, "LANG": "C.UTF-8"})
        except subprocess.TimeoutExpired as e:
            raise BrowserError(f"chromium did not finish {page} within {timeout:.0f} s") from e
    if cp.returncode != 0:
        raise BrowserError(f"chromium failed on {page} (exit {cp.returncode}): "
                           + cp.stderr.decode("utf-8", "replace")[-800:])
    return cp


def _hash(lang: str | None, selftest: bool) -> str:
    parts = ([f"lang={lang}"] if lang else []) + (["selftest"] if selftest else [])
    return "#" + "&".join(parts) if parts else ""


def dump_dom(page: Path, *, lang: str | None = None, selftest: bool = False, **kw) -> str:
    """The page's DOM serialised after its load event (scripts have run). ``selftest``: the page
    hovers and clicks a grid cell, sorts the scorecard and switches language, and records the
    outcome in ``<html data-selftest>``."""
    cp = _run(["--dump-dom"], page, url_suffix=_hash(lang, selftest), **kw)
    return cp.stdout.decode("utf-8")


def screenshot(page: Path, out: Path, *, size=(1400, 2000), lang: str | None = None, **kw) -> Path:
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={out}"], page, size=size, url_suffix=_hash(lang, False), **kw)
    if not out.is_file():
        raise BrowserError(f"chromium wrote no screenshot to {out}")
    return out


def html_attr(dom: str, name: str) -> str | None:
    """An attribute of the <html> element in a dumped DOM (None when absent)."""
    m = re.search(r"<html\b[^>]*>", dom)
    if not m:
        return None
    a = re.search(r'\s' + re.escape(name) + r'="([^"]*)"', m.group(0))
    return a.group(1) if a else None


@dataclass(frozen=True)
class RenderTiming:
    wall_s: float      # the whole chromium process: start, load, scripts, layout, DOM dump, exit
    page_ms: float     # navigation start -> load event with the layout forced (the page's own clock)


def render_timing(page: Path, **kw) -> RenderTiming:
    t0 = time.perf_counter()
    dom = dump_dom(page, **kw)
    wall = time.perf_counter() - t0
    ms = html_attr(dom, "data-render-ms")
    if ms is None:
        raise BrowserError(f"{page}: the page did not record its render time (scripts did not run?)")
    return RenderTiming(wall, float(ms))
