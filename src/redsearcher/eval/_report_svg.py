"""Plots as inline SVG strings, for a report that is one file and loads nothing from the network.

Three shapes cover every plot of the report: labelled horizontal bars (tool categories,
termination reasons), grouped vertical bars over shared bins (turn and evidence-recall
histograms) and a heat map (accuracy per treewidth × MSD cell). Each returns a complete
``<svg>`` element sized in CSS pixels; every label and tooltip goes through :func:`esc`, because
tool names, termination reasons and task metadata come from files a model or a user wrote.
Hand-written SVG keeps the package free of a plotting dependency and renders 10,000-trajectory
runs in milliseconds: the plots depend on counts, not on the number of trajectories.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

__all__ = ["COLORS", "bars", "esc", "grouped_bars", "heat_map"]

#: Series colours (colour-blind safe: Okabe-Ito), by series name; others cycle through PALETTE.
COLORS = {"correct": "#009e73", "incorrect": "#d55e00", "unscored": "#999999"}
PALETTE = ("#0072b2", "#e69f00", "#56b4e9", "#cc79a7", "#f0e442", "#009e73", "#d55e00")
_FONT = 'font-family="system-ui, sans-serif" font-size="12"'


def esc(value: object) -> str:
    """HTML/XML-escape ``value``'s text (quotes included: safe in attributes too)."""
    return html.escape(str(value), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(width)}" height="{_num(height)}" '
        f'viewBox="0 0 {_num(width)} {_num(height)}" role="img" aria-label="{esc(label)}" '
        f"{_FONT}>" + "".join(body) + "</svg>"
    )


def bars(
    items: Sequence[tuple[str, float]],
    *,
    label: str,
    width: int = 520,
    fmt: str = "{:g}",
    color: str = PALETTE[0],
) -> str:
    """Horizontal bars, one per ``(name, value)``, longest scaled to the plot width."""
    row, label_w, pad = 22, 150, 60
    top = max((v for _, v in items), default=0.0) or 1.0
    plot_w = width - label_w - pad
    body = []
    for i, (name, value) in enumerate(items):
        y = i * row
        w = max(plot_w * value / top, 0.0)
        shown = fmt.format(value)
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{esc(name)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{_num(w)}" height="{row - 6}" '
            f'fill="{color}"><title>{esc(name)}: {esc(shown)}</title></rect>'
            f'<text x="{_num(label_w + w + 4)}" y="{y + 15}">{esc(shown)}</text>'
        )
    return _svg(width, max(len(items), 1) * row + 4, body, label)


def grouped_bars(
    bins: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    label: str,
    x_title: str,
    y_title: str,
    width: int = 560,
    height: int = 220,
) -> str:
    """Vertical bars: for each bin, one bar per series (a histogram per group), with a legend.

    Args:
        bins: The bin labels along the x axis.
        series: Per series name, one value per bin.
        label: The plot's accessible name.
        x_title: The x axis title.
        y_title: The y axis title.
        width: Width in pixels.
        height: Height in pixels.
    """
    left, right, top, bottom = 44, 10, 24, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for values in series.values() for v in values), default=0.0) or 1.0
    names = list(series)
    slot = plot_w / max(len(bins), 1)
    bar_w = max(slot * 0.8 / max(len(names), 1), 1.0)
    body = [
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#444"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#444"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{esc(_num(peak))}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">'
        f"{esc(x_title)}</text>",
        f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.1f})">{esc(y_title)}</text>',
    ]
    every = max(1, len(bins) // 12)  # at most ~12 tick labels
    for b, name in enumerate(bins):
        x0 = left + b * slot + slot * 0.1
        if b % every == 0:
            body.append(
                f'<text x="{left + (b + 0.5) * slot:.1f}" y="{top + plot_h + 14}" '
                f'text-anchor="middle">{esc(name)}</text>'
            )
        for s, series_name in enumerate(names):
            value = series[series_name][b]
            if value <= 0:
                continue
            h = plot_h * value / peak
            color = COLORS.get(series_name, PALETTE[s % len(PALETTE)])
            body.append(
                f'<rect x="{x0 + s * bar_w:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{color}"><title>{esc(series_name)}, {esc(name)}: '
                f"{esc(_num(value))}</title></rect>"
            )
    x = left
    for s, series_name in enumerate(names):
        color = COLORS.get(series_name, PALETTE[s % len(PALETTE)])
        body.append(
            f'<rect x="{x}" y="4" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="13">{esc(series_name)}</text>'
        )
        x += 24 + 7 * len(series_name)
    return _svg(width, height, body, label)


def _heat(value: float) -> str:
    """A white-to-blue ramp: 0 → #f7fbff, 1 → #08519c."""
    lo, hi = (0xF7, 0xFB, 0xFF), (0x08, 0x51, 0x9C)
    r, g, b = (round(a + (z - a) * min(max(value, 0.0), 1.0)) for a, z in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def heat_map(
    rows: Sequence[int],
    cols: Sequence[int],
    cells: Mapping[tuple[int, int], tuple[float | None, str]],
    *,
    label: str,
    row_title: str,
    col_title: str,
) -> str:
    """A grid of cells coloured by a value in [0, 1], each with a short text.

    Args:
        rows: Row keys, top to bottom.
        cols: Column keys, left to right.
        cells: Per ``(row, col)``: the value (``None``: grey, nothing scored) and the cell text
            (one line per newline). Missing cells stay empty.
        label: The plot's accessible name.
        row_title: Title of the row axis.
        col_title: Title of the column axis.
    """
    cell_w, cell_h, left, top = 96, 58, 70, 40
    width, height = left + cell_w * len(cols) + 8, top + cell_h * len(rows) + 8
    body = [
        f'<text x="{left + cell_w * len(cols) / 2:.1f}" y="12" text-anchor="middle">'
        f"{esc(col_title)}</text>",
        f'<text x="4" y="{top - 8}">{esc(row_title)}</text>',
    ]
    for j, col in enumerate(cols):
        body.append(
            f'<text x="{left + (j + 0.5) * cell_w:.1f}" y="{top - 8}" text-anchor="middle">'
            f"{esc(col)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        body.append(
            f'<text x="{left - 8}" y="{y + cell_h / 2 + 4:.1f}" text-anchor="end">{esc(row)}</text>'
        )
        for j, col in enumerate(cols):
            if (row, col) not in cells:
                continue
            value, text = cells[(row, col)]
            x = left + j * cell_w
            fill = "#dddddd" if value is None else _heat(value)
            ink = "#ffffff" if value is not None and value > 0.55 else "#111111"
            lines = text.split("\n")
            body.append(
                f'<rect x="{x + 1}" y="{y + 1}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill="{fill}"><title>{esc(row_title)} {esc(row)}, {esc(col_title)} '
                f"{esc(col)}: {esc(' '.join(lines))}</title></rect>"
            )
            for k, line in enumerate(lines):
                body.append(
                    f'<text x="{x + cell_w / 2:.1f}" y="{y + 17 + k * 15}" text-anchor="middle" '
                    f'fill="{ink}">{esc(line)}</text>'
                )
    return _svg(width, height, body, label)
