#!/usr/bin/env python3
"""Markdown table and target ratios from bench/http.sh's results (one JSON object a line).

    python3 bench/report.py RESULTS.jsonl [--update-docs docs/performance.md] ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import re
import subprocess
from pathlib import Path

NAMES = {
    "A": "GET posts?per_page=10, anonymous",
    "B": "same, Basic Auth (app password)",
    "C": "GET users/me, Basic Auth",
    "D": "POST posts (drafts), Basic Auth",
    "E": "B as a user holding 200 tokens (oldest)",
    "F": "B with a wrong token",
    "G": "GET posts?per_page=100, 50 pages in turn",
    "hello": "bare axum, 17-byte JSON",
    "body": "bare axum, B's answer body (ceiling)",
}
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def rps(r: dict) -> float:
    return r["requests"] / r["seconds"] if r["seconds"] else 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--connections", default="?")
    ap.add_argument("--duration", default="?")
    ap.add_argument("--data", default="")
    ap.add_argument("--update-docs")
    a = ap.parse_args()
    rows = [json.loads(l) for l in Path(a.results).read_text().splitlines() if l.strip()]
    by = {(r["target"], r["scenario"]): r for r in rows}

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
    except OSError:
        commit = "?"
    out = [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit}, "
        f"{platform.machine()} with {len(__import__('os').sched_getaffinity(0))} cores; wrk -t2 "
        f"-c{a.connections} -d{a.duration}s per row; data: {a.data}.",
        "",
        "| target | scenario | requests/s | p50 ms | p99 ms | peak RSS MB | statuses |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(r["statuses"].items()))
        if r.get("errors"):
            statuses += f", socket errors×{r['errors']}"
        out.append(
            f"| {r['target']} | {r['scenario']}: {NAMES.get(r['scenario'], '')} | {rps(r):,.0f} | "
            f"{r['p50_us'] / 1000:.2f} | {r['p99_us'] / 1000:.2f} | {r['rss_kb'] / 1024:.1f} | "
            f"{statuses} |")

    def ratio(x, y):
        if x in by and y in by and rps(by[y]):
            return rps(by[x]) / rps(by[y])
        return None

    fp = "ferropress"
    checks = [
        ("B / WordPress B", ratio((fp, "B"), ("wordpress", "B")), ">= 50", lambda v: v >= 50),
        ("B / A (cost of authentication)", ratio((fp, "B"), (fp, "A")), ">= 0.9",
         lambda v: v >= 0.9),
        ("B / bare ceiling (same body)", ratio((fp, "B"), ("bare", "body")), ">= 0.5",
         lambda v: v >= 0.5),
        ("B / bare hello", ratio((fp, "B"), ("bare", "hello")), "(info)", None),
        ("E / B (200 tokens vs 1)", ratio((fp, "E"), (fp, "B")), "within 0.95-1.05",
         lambda v: 0.95 <= v <= 1.05),
        ("PostgreSQL B / SQLite B", ratio(("postgres", "B"), (fp, "B")), ">= 0.5",
         lambda v: v >= 0.5),
        ("PostgreSQL C / SQLite C", ratio(("postgres", "C"), (fp, "C")), ">= 0.5",
         lambda v: v >= 0.5),
        ("2 PostgreSQL instances B / SQLite B", ratio(("postgres2", "B"), (fp, "B")), ">= 0.5",
         lambda v: v >= 0.5),
        ("2 PostgreSQL instances C / SQLite C", ratio(("postgres2", "C"), (fp, "C")), ">= 0.5",
         lambda v: v >= 0.5),
        ("PostgreSQL A / SQLite A", ratio(("postgres", "A"), (fp, "A")), "(info)", None),
        ("PostgreSQL D / SQLite D", ratio(("postgres", "D"), (fp, "D")), "(info)", None),
        ("A / WordPress A", ratio((fp, "A"), ("wordpress", "A")), "(info)", None),
        ("C / WordPress C", ratio((fp, "C"), ("wordpress", "C")), "(info)", None),
        ("D / WordPress D", ratio((fp, "D"), ("wordpress", "D")), "(info)", None),
    ]
    out += ["", "| ratio | value | target | met |", "|---|---:|---|---|"]
    for name, v, target, ok in checks:
        if v is None:
            continue
        met = "" if ok is None else ("yes" if ok(v) else "**no**")
        out.append(f"| {name} | {v:.2f} | {target} | {met} |")
    if (fp, "B") in by:
        p99 = by[(fp, "B")]["p99_us"] / 1000
        out.append(f"| B p99 latency | {p99:.2f} ms | < 10 ms at 16 connections | "
                   f"{'yes' if p99 < 10 else '**no**'} |")
    if (fp, "D") in by:
        d = rps(by[(fp, "D")])
        out.append(f"| D drafts created per second | {d:,.0f} | >= 2,000 | "
                   f"{'yes' if d >= 2000 else '**no**'} |")
    peak = max((r["rss_kb"] for r in rows if r["target"] in (fp, "postgres")), default=0)
    if peak:
        out.append(f"| ferropress peak RSS under load | {peak / 1024:.1f} MB | < 64 MB | "
                   f"{'yes' if peak < 64 * 1024 else '**no**'} |")
    text = "\n".join(out) + "\n"
    print(text)
    if a.update_docs:
        doc = Path(a.update_docs)
        old = doc.read_text()
        if BEGIN not in old or END not in old:
            raise SystemExit(f"{doc} lacks the {BEGIN} / {END} markers")
        new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END),
                     lambda _: f"{BEGIN}\n{text}{END}", old, flags=re.S)
        doc.write_text(new)


if __name__ == "__main__":
    main()
