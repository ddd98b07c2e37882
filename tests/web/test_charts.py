"""The server-drawn SVG charts: values are escaped, empty data says so, scales fit the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nordcert.web import charts


def test_labels_from_intel_are_escaped() -> None:
    hostile = '<script>alert(1)</script>"&'
    for svg in (charts.stacked_bars([(hostile, {"amber": 3, "red": 1})], title=hostile),
                charts.columns([(hostile, 4), ("b", 0)], title=hostile),
                charts.bars([(hostile, 2, '/search?q="x"')], title=hostile)):
        assert "<script>" not in svg
        root = ET.fromstring(str(svg))  # well-formed XML
        assert root.get("role") == "img" and root.get("aria-label") == hostile


def test_empty_charts_say_so() -> None:
    assert "nothing yet" in charts.stacked_bars([], title="New intel")
    assert "nothing yet" in charts.columns([], title="Sightings")
    assert "nothing yet" in charts.bars([], title="Correlated")


def test_scales_round_up() -> None:
    assert [charts._nice_max(n) for n in (0, 3, 7, 12, 180, 2397)] == [1, 3, 10, 20, 200, 5000]
