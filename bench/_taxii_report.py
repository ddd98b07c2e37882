"""How bench/taxii.py compares and prints its figures: nordcert over medallion, nordcert over each
physical limit, and the targets."""

from __future__ import annotations

from typing import Any

TARGET_VS_MEDALLION = 10.0
TARGET_VS_LIMIT = 1 / 3


def compare(m: dict[str, Any], n: dict[str, Any], limits: dict[str, Any]) -> dict[str, Any]:
    """nordcert / medallion for each figure, and nordcert / each physical limit."""
    def ratio(a: float, b: float) -> float:
        return round(a / b, 4) if b else float("inf")

    vs = {k: ratio(n[k], m[k]) for k in ("add_objects_per_s", "read_objects_per_s", "get_p50_ms", "get_p99_ms",
                                          "get_requests_per_s", "peak_rss_mib")}
    to_limit = {
        "read_vs_orjson": ratio(n["read_objects_per_s"], limits["orjson_objects_per_s"]),
        "read_vs_bare_page": ratio(n["read_objects_per_s"], limits["page_objects_per_s"]),
        "get_vs_hello": ratio(n["get_requests_per_s"], limits["hello_requests_per_s"]),
        "add_vs_bare_add": ratio(n["add_objects_per_s"], limits["add_objects_per_s"]),
    }
    # A cut medallion read gives a lower bound of the ratio (its rate is an upper bound).
    return {
        "nordcert_over_medallion": vs,
        "read_ratio_is_lower_bound": m["read_rate_is_upper_bound"],
        "meets_add_target": vs["add_objects_per_s"] >= TARGET_VS_MEDALLION,
        "meets_read_target": vs["read_objects_per_s"] >= TARGET_VS_MEDALLION,
        "nordcert_over_limit": to_limit,
        "meets_limit_target": {k: v >= TARGET_VS_LIMIT for k, v in to_limit.items()},
    }


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 120))

    def mark(ok: bool, text: str) -> str:
        return f"[green]{text}[/]" if ok else f"[red]{text}[/]"

    for block in report["results"]:
        m, n, c = block["medallion"], block["nordcert"], block["comparison"]
        vs = c["nordcert_over_medallion"]
        count = block["objects"]
        table = Table(title=f"TAXII 2.1, {count:,} indicators: medallion {report['versions']['medallion']} "
                            f"vs nordcert {report['versions']['nordcert']} (medians of {report['repeat']})")
        for col in ("figure", "medallion", "nordcert", "nordcert / medallion", "target"):
            table.add_column(col, justify="left" if col in ("figure", "target") else "right")
        read_note = " (upper bound)" if m["read_rate_is_upper_bound"] else ""
        lower = "≥ " if m["read_rate_is_upper_bound"] else ""
        table.add_row("add, objects/s", f"{m['add_objects_per_s']:,.0f}", f"{n['add_objects_per_s']:,.0f}",
                      mark(c["meets_add_target"], f"{vs['add_objects_per_s']:,.1f}×"), "≥ 10×")
        table.add_row("paginated read, objects/s", f"{m['read_objects_per_s']:,.1f}{read_note}",
                      f"{n['read_objects_per_s']:,.0f}",
                      mark(c["meets_read_target"], f"{lower}{vs['read_objects_per_s']:,.1f}×"), "≥ 10×")
        table.add_row("single GET p50, ms", f"{m['get_p50_ms']:,.2f}", f"{n['get_p50_ms']:,.2f}",
                      f"{vs['get_p50_ms']:.3f}×", "lower is better")
        table.add_row("single GET p99, ms", f"{m['get_p99_ms']:,.2f}", f"{n['get_p99_ms']:,.2f}",
                      f"{vs['get_p99_ms']:.3f}×", "lower is better")
        table.add_row("single GET, requests/s", f"{m['get_requests_per_s']:,.1f}", f"{n['get_requests_per_s']:,.0f}",
                      f"{vs['get_requests_per_s']:,.1f}×", "")
        table.add_row("server peak RSS, MiB", f"{m['peak_rss_mib']:,.0f}", f"{n['peak_rss_mib']:,.0f}",
                      f"{vs['peak_rss_mib']:.2f}×", "lower is better")
        console.print(table)
        console.print(f"  GET samples: medallion {m['get_samples']:.0f}, nordcert {n['get_samples']:.0f}; "
                      f"read: medallion {m['read_objects']:,.0f} of {count:,} objects in {m['read_seconds']:.1f} s"
                      + ("" if m["read_complete"] else f" (cut at --medallion-max {report['medallion_max_s']:.0f} s: "
                         f"its full read takes longer, so {count:,} / {m['read_seconds']:.0f} s is an upper bound "
                         "of its rate)")
                      + f"; load average at start: medallion {m.get('load_1min', '-')}, "
                        f"nordcert {n.get('load_1min', '-')}")
        lim = block["limits"]
        to = c["nordcert_over_limit"]
        ok = c["meets_limit_target"]
        table = Table(title=f"nordcert against the physical limits, {count:,} indicators")
        for col in ("figure", "nordcert", "limit", "nordcert / limit"):
            table.add_column(col, justify="left" if col == "figure" else "right")
        table.add_row("read vs in-memory orjson of the same pages, objects/s", f"{n['read_objects_per_s']:,.0f}",
                      f"{lim['orjson_objects_per_s']:,.0f}", mark(ok["read_vs_orjson"], f"{to['read_vs_orjson']:.1%}"))
        table.add_row("read vs bare uvicorn serving a ready page, objects/s", f"{n['read_objects_per_s']:,.0f}",
                      f"{lim['page_objects_per_s']:,.0f}",
                      mark(ok["read_vs_bare_page"], f"{to['read_vs_bare_page']:.1%}"))
        table.add_row("single GET vs bare hello-world, requests/s", f"{n['get_requests_per_s']:,.0f}",
                      f"{lim['hello_requests_per_s']:,.0f}", mark(ok["get_vs_hello"], f"{to['get_vs_hello']:.1%}"))
        table.add_row("add vs bare uvicorn parsing the envelope, objects/s", f"{n['add_objects_per_s']:,.0f}",
                      f"{lim['add_objects_per_s']:,.0f}", mark(ok["add_vs_bare_add"], f"{to['add_vs_bare_add']:.1%}"))
        console.print(table)
    console.print("targets: nordcert ≥ 10× medallion on add and read; ≥ 33 % of each physical limit (green/red)")
    v = report["versions"]
    console.print(f"Python {v['python']}, medallion {v['medallion']} (memory backend, Flask {v['flask']} / Werkzeug "
                  f"{v['werkzeug']} threaded server), nordcert {v['nordcert']} (uvicorn {v['uvicorn']}, FastAPI "
                  f"{v['fastapi']}, Starlette {v['starlette']}, SQLAlchemy {v['sqlalchemy']}, SQLite {v['sqlite']}, "
                  f"synchronous=FULL), httpx {v['httpx']}, orjson {v['orjson']}")
    mach = report["machine"]
    console.print(f"machine: {mach['cpus']} CPUs, {mach['memory_gib']} GiB, load average (1 min) "
                  f"{mach['load_average_1min']['start']} at start, {mach['load_average_1min']['end']} at end; "
                  f"total {report['seconds']:.0f} s")
