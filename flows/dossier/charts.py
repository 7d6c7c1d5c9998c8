"""Inline SVG charts written by hand: no chart library, no script, no font or network
request, so a saved page renders the same offline and in the PDF. Every label is escaped."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

FONT = "font-family:sans-serif;font-size:11px"
UNKNOWN = "#bbbbbb"


def _svg(kind: str, title: str, width: int, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg class="chart chart-{escape(kind)}" role="img" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" style="{FONT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#222") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}">{escape(text)}</text>'
    )


def _amount(value: float) -> str:
    for size, suffix in ((1e12, "T"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f} {suffix}"
    return f"{value:,.0f}"


def column_chart(kind: str, title: str, points: Sequence[tuple[str, float]], unit: str) -> Markup:
    """Vertical bars, e.g. revenue by fiscal year; negative values hang below the axis."""
    width, height, left, top, bottom = 520, 220, 60, 24, 30
    plot = height - top - bottom
    values = [v for _, v in points] or [0.0]
    high, low = max(max(values), 0.0), min(min(values), 0.0)
    span = (high - low) or 1.0
    zero = top + plot * high / span
    step = (width - left - 10) / max(len(points), 1)
    body = [_text(left, 14, f"{title} ({unit})")]
    body.append(
        f'<line x1="{left}" y1="{zero:.1f}" x2="{width - 10}" y2="{zero:.1f}" stroke="#888"/>'
    )
    for i, (label, value) in enumerate(points):
        x = left + i * step + step * 0.15
        h = plot * abs(value) / span
        y = zero - h if value >= 0 else zero
        colour = "#2f6f9f" if value >= 0 else "#b03a2e"
        body.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
            f'height="{max(h, 0.5):.1f}" fill="{colour}"><title>{escape(label)}: '
            f"{escape(_amount(value))} {escape(unit)}</title></rect>"
        )
        body.append(_text(x + step * 0.35, height - 12, label, "middle"))
        body.append(
            _text(
                x + step * 0.35,
                y - 3 if value >= 0 else y + h + 11,
                _amount(value),
                "middle",
                "#555",
            )
        )
    return _svg(kind, title, width, height, body)


def paired_bars(
    kind: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float | None]],
    low: float,
    high: float,
    names: tuple[str, str] = ("partner", "home"),
) -> Markup:
    """Two bars per row (partner, home) on a common scale from `low` to `high` with the axis
    at zero; an unknown value is drawn as a grey 'unknown' label, never as a zero bar."""
    width, label_w, row_h = 520, 170, 30
    height = 34 + row_h * len(rows)
    plot = width - label_w - 20

    def x_of(v: float) -> float:
        return label_w + plot * (min(max(v, low), high) - low) / (high - low)

    zero = x_of(0.0) if low < 0 < high else x_of(low)
    body = [
        _text(label_w, 12, f"{title}: {names[0]} (dark) vs {names[1]} (light)"),
        f'<line x1="{zero:.1f}" y1="18" x2="{zero:.1f}" y2="{height - 4}" stroke="#888"/>',
    ]
    for i, (label, partner, home) in enumerate(rows):
        y = 22 + i * row_h
        body.append(_text(label_w - 6, y + 13, label, "end"))
        for j, (value, colour) in enumerate(((partner, "#2f6f9f"), (home, "#9cc3e0"))):
            top = y + j * 12
            if value is None:
                body.append(_text(zero + 4, top + 10, f"{names[j]}: unknown", fill=UNKNOWN))
                continue
            x1, x2 = sorted((zero, x_of(value)))
            body.append(
                f'<rect class="bar" x="{x1:.1f}" y="{top}" width="{max(x2 - x1, 0.5):.1f}" '
                f'height="10" fill="{colour}"><title>{escape(names[j])} {escape(label)}: '
                f"{value:+.2f}</title></rect>"
            )
    return _svg(kind, title, width, height, body)


def _score_bar(
    x: float,
    y: float,
    plot: float,
    height: int,
    score: float | None,
    fill: str,
    tip: str,
    missing: str,
) -> list[str]:
    """A 0-100 bar on its grey track with the score written after it; `missing` instead of
    a bar when the score is unknown."""
    track = f'<rect x="{x}" y="{y}" width="{plot}" height="{height}" fill="#eeeeee"/>'
    if score is None:
        return [track, _text(x + 4, y + height - 3, missing, fill="#888")]
    return [
        track,
        f'<rect class="bar" x="{x}" y="{y}" width="{plot * score / 100:.1f}" '
        f'height="{height}" fill="{fill}"><title>{escape(tip)}{score:.1f}</title></rect>',
        _text(x + plot * score / 100 + 4, y + height - 3, f"{score:.0f}"),
    ]


def score_bars(
    kind: str, title: str, rows: Sequence[tuple[str, float | None, float | None]]
) -> Markup:
    """0-100 score bars with the coverage (share of inputs with data) written beside them;
    a missing score says 'no data' instead of drawing a bar."""
    width, label_w, row_h = 520, 190, 24
    height = 26 + row_h * len(rows)
    plot = width - label_w - 90
    body = [_text(label_w, 12, title)]
    for i, (label, score, coverage) in enumerate(rows):
        y = 20 + i * row_h
        body.append(_text(label_w - 6, y + 12, label, "end"))
        body += _score_bar(label_w, y, plot, 14, score, "#2f6f9f", f"{label}: ", "no data")
        cov = "coverage unknown" if coverage is None else f"coverage {coverage:.0%}"
        body.append(_text(width - 4, y + 11, cov, "end", "#555"))
    return _svg(kind, title, width, height, body)


C_COLOURS = ("#2f6f9f", "#6a9f2f", "#c08a1e", "#8e44ad")


def comparison(
    kind: str,
    title: str,
    rows: Sequence[tuple[str, float | None, Sequence[tuple[str, float | None]]]],
) -> Markup:
    """One block per partner: its overall score as a wide bar and the four C sub-scores as
    thin coloured bars beneath, all on 0-100; unknown scores say so instead of a bar."""
    width, label_w = 700, 180
    plot = width - label_w - 50
    block = 16 + 6 * 4 + 10
    height = 40 + block * len(rows)
    legend = rows[0][2] if rows else []
    body = [_text(label_w, 12, title)]
    for j, (name, _) in enumerate(legend):
        x = label_w + j * 150
        body.append(f'<rect x="{x}" y="20" width="10" height="8" fill="{C_COLOURS[j % 4]}"/>')
        body.append(_text(x + 14, 28, name))
    for i, (label, overall, cs) in enumerate(rows):
        y = 38 + i * block
        body.append(_text(label_w - 6, y + 11, label, "end"))
        body += _score_bar(
            label_w, y, plot, 13, overall, "#555", f"{label} overall ", "overall: no data"
        )
        for j, (name, score) in enumerate(cs):
            top = y + 16 + j * 6
            if score is None:
                body.append(_text(label_w + 2, top + 5, "?", fill=UNKNOWN))
                continue
            body.append(
                f'<rect class="bar" x="{label_w}" y="{top}" '
                f'width="{max(plot * score / 100, 1.5):.1f}" '
                f'height="4" fill="{C_COLOURS[j % 4]}"><title>{escape(label)} {escape(name)} '
                f"{score:.0f}</title></rect>"
            )
    return _svg(kind, title, width, height, body)
