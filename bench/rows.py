"""One row of the results table, and how the table is printed."""

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    row: str
    node: float | None
    baseline: float | None
    unit: str
    goal: str
    holds: bool | None
    ratio: float | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def ratio(node: float, baseline: float) -> float | None:
    return round(node / baseline, 3) if baseline else None


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def format_table(rows: list[Row]) -> str:
    header = ("row", "node", "baseline", "ratio", "unit", "goal", "holds")
    lines = [
        (
            r.row,
            _fmt(r.node),
            _fmt(r.baseline),
            _fmt(r.ratio),
            r.unit,
            r.goal,
            {True: "yes", False: "NO", None: "—"}[r.holds],
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    notes = [f"  {r.row}: {r.note}" for r in rows if r.note]
    return "\n".join(out + (["", "notes:"] + notes if notes else []))
