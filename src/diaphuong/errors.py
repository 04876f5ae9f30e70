"""The library's exceptions. Each carries a one-line message and, where useful, a hint; the CLI
prints ``error: <message>`` and ``hint: <hint>`` and exits non-zero."""
from __future__ import annotations


class DiaphuongError(Exception):
    """Base class. ``hint`` says what the user can do about it."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class CatalogError(DiaphuongError):
    """A reference file of the catalog is missing or inconsistent."""


class UnknownProvince(DiaphuongError):
    """A province name or code matched nothing (or nothing valid on the date asked)."""

    def __init__(self, text: str, candidates: list[str], *, on=None, hint: str | None = None):
        self.text = text
        self.candidates = candidates
        when = f" on {on}" if on else ""
        msg = f"unknown province {text!r}{when}"
        if candidates:
            msg += "; closest: " + ", ".join(candidates)
        super().__init__(msg, hint=hint or "use a name from name_variants.csv or the 2-digit code")


class AmbiguousProvince(DiaphuongError):
    """A name matched several provinces."""

    def __init__(self, text: str, candidates: list[str], *, on=None):
        self.text = text
        self.candidates = candidates
        when = f" on {on}" if on else ""
        super().__init__(
            f"ambiguous province {text!r}{when}: could be " + ", ".join(candidates),
            hint="write the full name (with 'Tỉnh'/'Thành phố') or the 2-digit code",
        )


class UnknownIndicator(DiaphuongError):
    """An indicator key or phrasing matched nothing in the catalog."""


class PeriodError(DiaphuongError):
    """A cycle or period string is not in DESIGN.md notation."""


class InputError(DiaphuongError):
    """A raw input cannot be used. ``locator`` names the file, sheet and cell or line."""

    reason = "unreadable"

    def __init__(self, message: str, *, file: str | None = None, locator: str | None = None,
                 reason: str | None = None, hint: str | None = None):
        self.file = file
        self.locator = locator
        if reason:
            self.reason = reason
        where = ": ".join(x for x in (file, locator) if x)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)


class LayoutError(InputError):
    """A spreadsheet whose layout the reader cannot map onto the template."""

    reason = "layout"


class UnreadableFile(InputError):
    """Corrupt, encrypted, empty or not the format its name says."""

    reason = "unreadable"


class WarehouseError(DiaphuongError):
    """The warehouse cannot be opened or written."""


class WarehouseLocked(WarehouseError):
    """Another process is writing the warehouse."""

    hint = "wait for the running load to finish, or read the Parquet export under parquet/"
