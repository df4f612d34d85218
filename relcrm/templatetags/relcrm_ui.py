"""Template helpers of the web UI: health bands in words, due times, and server-drawn SVG.

The charts are inline SVG built here, so that a page needs no JavaScript, no CDN and no
extra request to show a trend; each chart carries a text alternative for screen readers.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from accounts.models import Account
from trust.services import params as trust_params

register = template.Library()

BAND_LABELS = dict(Account.Band.choices)


def band_ranges() -> tuple[tuple[str, float, float], ...]:
    """Each band's (name, lowest score, highest score), drawn behind the history chart."""
    model = trust_params()
    return (
        (Account.Band.HEALTHY, model.healthy_from, 100),
        (Account.Band.WATCH, model.watch_from, model.healthy_from),
        (Account.Band.AT_RISK, 0, model.watch_from),
    )


Point = tuple[datetime, float]


@register.filter
def band_label(band: str | None) -> str:
    return BAND_LABELS.get(band or "", "Not computed")


@register.filter
def confidence_label(confidence: float | None) -> str:
    """How much evidence the score rests on, in a word."""
    if confidence is None:
        return "unknown"
    if confidence < 0.34:
        return "low"
    if confidence < 0.67:
        return "medium"
    return "high"


@register.filter
def signed(number) -> str:
    """+12, -3.5 (written with a real minus sign, U+2212), 0: an effect in score points."""
    try:
        value = round(float(number), 1)
    except (TypeError, ValueError):
        return ""
    text = f"{abs(value):g}"
    if value > 0:
        return f"+{text}"
    return f"\u2212{text}" if value < 0 else "0"


@register.filter
def percent(fraction) -> str:
    try:
        return f"{float(fraction) * 100:.0f}%"
    except (TypeError, ValueError):
        return "—"


@register.filter
def due(moment: datetime | None) -> str:
    """A due time as a rep says it: "Fri 3 Oct", with the time only when one was agreed.

    The log form makes a promise due at the end of the chosen day (23:59), which needs
    no time of day; due times set through the API keep theirs.
    """
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    text = f"{local:%a} {local.day} {local:%b}"
    if local.year != timezone.localdate().year:
        text += f" {local.year}"
    if (local.hour, local.minute) != (23, 59):
        text += f", {local:%H:%M}"
    return text


def _n(number: float) -> str:
    """A coordinate as SVG text (format_html escapes its arguments, so numbers go in as text)."""
    return f"{number:.1f}"


def _scale(value: float, low: float, high: float, start: float, end: float) -> float:
    if high == low:
        return (start + end) / 2
    return start + (value - low) / (high - low) * (end - start)


def _x_positions(points: Sequence[Point], left: float, right: float) -> list[float]:
    """Place points by time, so that a quiet month looks like one."""
    first, last = points[0][0].timestamp(), points[-1][0].timestamp()
    return [_scale(moment.timestamp(), first, last, left, right) for moment, _ in points]


@register.simple_tag
def sparkline(points: Sequence[Point], band: str = "") -> str:
    """A small trend line of an account's recent scores (oldest first), or a dash."""
    if len(points) < 2:
        return format_html('<span class="spark-none" title="{}">—</span>', "Not enough history")
    width, height, pad = 80, 24, 3
    scores = [score for _, score in points]
    middle = (min(scores) + max(scores)) / 2
    # At least a 16-point span, so that noise of a point or two stays flat.
    low = max(0.0, min(min(scores), middle - 8))
    high = min(100.0, max(max(scores), middle + 8))
    xs = _x_positions(points, pad, width - pad)
    ys = [_scale(score, high, low, pad, height - pad) for score in scores]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))
    label = f"Trend: {scores[0]:.0f} to {scores[-1]:.0f} over {len(scores)} computations"
    return format_html(
        '<svg class="spark spark-{}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}"><polyline points="{}" fill="none"/>'
        '<circle cx="{}" cy="{}" r="2.5"/></svg>',
        band or "none",
        width,
        height,
        width,
        height,
        label,
        line,
        _n(xs[-1]),
        _n(ys[-1]),
    )


@register.simple_tag
def history_chart(points: Sequence[Point]) -> str:
    """The score over time (oldest first) on the fixed 0-100 scale, with the bands behind it."""
    if not points:
        return ""
    width, height = 720, 240
    left, right, top, bottom = 40, width - 16, 12, height - 30

    def y(score: float) -> float:
        return _scale(score, 100, 0, top, bottom)

    ranges = band_ranges()
    bands = format_html_join(
        "",
        '<rect class="zone zone-{}" x="{}" y="{}" width="{}" height="{}"/>',
        (
            (band, left, _n(y(high)), right - left, _n(y(low) - y(high)))
            for band, low, high in ranges
        ),
    )
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (left, right, _n(y(mark)), _n(y(mark)), left - 6, _n(y(mark) + 4), f"{mark:g}")
            for mark in sorted({edge for _, low, high in ranges for edge in (low, high)})
        ),
    )
    xs = _x_positions(points, left + 6, right - 6) if len(points) > 1 else [(left + right) / 2]
    ys = [y(score) for _, score in points]
    first, last = timezone.localtime(points[0][0]), timezone.localtime(points[-1][0])
    ticks: list[tuple[float, str, datetime]] = [(left, "start", first), (right, "end", last)]
    if last - first > timedelta(days=2):
        ticks.append(((left + right) / 2, "middle", first + (last - first) / 2))
    dates = format_html_join(
        "",
        '<text class="axis" x="{}" y="{}" text-anchor="{}">{}</text>',
        (
            (_n(x), height - 8, anchor, f"{moment.day} {moment:%b %Y}")
            for x, anchor, moment in ticks
        ),
    )
    line = ""
    if len(points) > 1:
        line = format_html(
            '<polyline class="line" points="{}" fill="none"/>',
            " ".join(f"{x:.1f},{v:.1f}" for x, v in zip(xs, ys, strict=True)),
        )
    # A dot (with its value on hover) per computation, up to a readable number of them.
    dots = ""
    if len(points) <= 90:
        dots = format_html_join(
            "",
            '<circle class="dot" cx="{}" cy="{}" r="3"><title>{}: {}</title></circle>',
            (
                (_n(x), _n(v), f"{timezone.localtime(moment):%d %b %Y %H:%M}", f"{score:.0f}")
                for x, v, (moment, score) in zip(xs, ys, points, strict=True)
            ),
        )
    label = (
        f"Health history: {len(points)} computations from {first:%d %b %Y} to {last:%d %b %Y}; "
        f"score {points[0][1]:.0f} then {points[-1][1]:.0f}."
    )
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}{}{}{}</svg>',
        width,
        height,
        label,
        bands,
        grid,
        dates,
        line,
        dots,
    )
