"""Cells and tables of the HTML reports: number formatting, changes, paired differences with CIs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["Cell", "Table", "diff_cell"]


@dataclass
class Cell:
    """One table cell: text, CSS classes (num, name, up, down, sure, text, code) and an optional CI line."""

    text: str
    cls: str = ""
    ci: str = ""


@dataclass
class Table:
    """A table for the templates: header texts and rows of cells."""

    header: list[str]
    rows: list[list[Cell]] = field(default_factory=list)


def _fmt(value: Any, *, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    sign = "+" if signed and value > 0 else ""
    text = f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 100 else f"{value:,.3g}"
    if "e" in text:
        text = f"{value:,.1f}"
    return sign + text.replace("-", "−")


def _num(value: Any) -> Cell:
    return Cell(_fmt(value), "num")


def _change(value: Any) -> Cell:
    if not isinstance(value, int | float) or value != value or value == 0:
        return Cell(_fmt(value), "num")
    return Cell(_fmt(value, signed=True), "num " + ("up" if value > 0 else "down"))


def diff_cell(mean: float, low: float, high: float, scale: float = 1.0) -> Cell:
    """A paired difference (times ``scale``) with its 95% interval beneath; bold if it excludes 0."""
    cell = _change(float(mean) * scale)
    if pd.notna(low) and pd.notna(high):
        cell.ci = f"({_fmt(float(low) * scale)}, {_fmt(float(high) * scale)})"
        if low > 0 or high < 0:
            cell.cls += " sure"
    return cell
