"""The sector's incidents page: its stacked column chart."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nordcert.web import charts


def test_stacked_columns_stack_the_series_with_a_legend_and_escape_labels() -> None:
    hostile = '<script>alert(1)</script>"&'
    series = [("major", "major", "#d0312d"), ("not_major", hostile, "#8a96a3")]
    svg = charts.stacked_columns([(hostile, {"major": 2, "not_major": 3}), ("Feb 2026", {"major": 0})],
                                 title=hostile, series=series)
    assert "<script>" not in svg
    root = ET.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-label") == hostile
    ns = "{http://www.w3.org/2000/svg}"
    columns = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    assert [r.find(f"{ns}title").text for r in columns] == [  # type: ignore[union-attr]
        f"{hostile}: 2 major", f"{hostile}: 3 {hostile}"]
    major, minor = columns
    top_of_major = float(minor.get("y", 0)) + float(minor.get("height", 0))
    assert top_of_major == pytest.approx(float(major.get("y", 0)), abs=0.11)  # stacked on it
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert texts[:2] == ["major", hostile]  # the legend, in the series' order
    assert "5" in texts and "Feb 2026" in texts  # the total on top; every label fits
    assert "nothing yet" in charts.stacked_columns([], title="Incidents", series=series)
    # 24 months on a narrow chart: every other label, from the first.
    months = [(f"M{i:02d} 2026", {"major": 1}) for i in range(24)]
    labels = [t.text for t in ET.fromstring(str(charts.stacked_columns(months, title="t", series=series))).iter(
        f"{ns}text") if (t.text or "").startswith("M")]
    assert labels[0] == "M00 2026" and 6 <= len(labels) <= 12 and "M01 2026" not in labels
