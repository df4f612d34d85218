"""The server-drawn SVG and the small formatting filters of the web UI."""

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from relcrm.templatetags.relcrm_ui import (
    confidence_label,
    due,
    history_chart,
    percent,
    signed,
    sparkline,
)

START = datetime(2026, 3, 1, 12, tzinfo=UTC)


def points(*scores, days=1):
    return [(START + timedelta(days=index * days), score) for index, score in enumerate(scores)]


def test_a_sparkline_needs_two_points():
    assert "<svg" not in sparkline([])
    assert "<svg" not in sparkline(points(50))


def test_a_sparkline_draws_every_point_and_ends_on_the_latest():
    svg = sparkline(points(70, 60, 40), "at_risk")
    assert svg.startswith('<svg class="spark spark-at_risk"')
    assert svg.count(",") == 3
    assert 'aria-label="Trend: 70 to 40 over 3 computations"' in svg
    # The latest (lowest) score sits at the bottom right.
    assert '<circle cx="77.0" cy="21.0"' in svg


def test_a_flat_sparkline_stays_in_the_middle_rather_than_dividing_by_zero():
    svg = sparkline([(START, 55), (START, 55)], "watch")
    assert 'cy="12.0"' in svg


def test_the_history_chart_has_the_bands_axes_and_one_dot_per_computation():
    svg = history_chart(points(80, 65, 30, days=10))
    assert svg.count('<rect class="zone') == 3
    assert svg.count('<circle class="dot"') == 3
    assert ">1 Mar 2026<" in svg and ">21 Mar 2026<" in svg
    assert "<title>21 Mar 2026 12:00: 30</title>" in svg
    assert history_chart([]) == ""


def test_a_single_computation_is_a_dot_without_a_line():
    svg = history_chart(points(64))
    assert "<polyline" not in svg and svg.count('<circle class="dot"') == 1


def test_words_for_numbers():
    assert [confidence_label(v) for v in (None, 0.1, 0.5, 0.9)] == [
        "unknown",
        "low",
        "medium",
        "high",
    ]
    assert [signed(v) for v in (12, -3.5, 0, "x")] == ["+12", "\u22123.5", "0", ""]
    assert [percent(v) for v in (0.8, None)] == ["80%", "—"]


def test_a_due_time_shows_its_hour_only_when_one_was_agreed():
    next_year = timezone.localdate().year + 1
    end_of_day = datetime(next_year, 3, 6, 23, 59, tzinfo=UTC)
    assert due(end_of_day) == f"{end_of_day:%a} 6 Mar {next_year}"
    assert (
        due(end_of_day.replace(hour=14, minute=30)) == f"{end_of_day:%a} 6 Mar {next_year}, 14:30"
    )
    assert str(next_year - 1) not in due(timezone.now())
    assert due(None) == ""


def test_the_history_chart_draws_the_bands_where_the_model_puts_them(settings):
    settings.RELCRM_TRUST_PARAMS = {"healthy_from": 80.0, "watch_from": 50.0}
    svg = history_chart(points(45, 60, 85))
    labels = [part.split("<")[0] for part in svg.split('class="axis"')[1:]]
    assert [label.rsplit(">", 1)[1] for label in labels][:4] == ["0", "50", "80", "100"]
    assert '<rect class="zone zone-watch" x="40" y="51.6"' in svg
