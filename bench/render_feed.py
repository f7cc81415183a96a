#!/usr/bin/env python3
"""Render the same delegation feed as `scheduler/benches/render_feed.rs` with Python's icalendar.

250 meetings (every tenth in Asia/Tokyo, every tenth offset by five in Asia/Amman, the rest in
Europe/Vienna), the same fields, VTIMEZONEs added with `Calendar.add_missing_timezones()` where
the installed icalendar has it. Reports the mean time per render, measured with timeit:

* "build + render": the Calendar built from plain data, VTIMEZONEs added, serialized; this is
  what the Rust benchmark measures (`render_feed` from plain structs to text).
* "render only": `to_ical()` of an already built calendar.

Usage: pip install icalendar && python3 bench/render_feed.py [--repeat N] [--number N]
"""

import argparse
import statistics
import timeit
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
from icalendar import Calendar, Event, vDuration

VIENNA, TOKYO, AMMAN = ZoneInfo("Europe/Vienna"), ZoneInfo("Asia/Tokyo"), ZoneInfo("Asia/Amman")
FIRST = datetime(2026, 1, 8, 9, 0, tzinfo=timezone.utc)
STAMP = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
LAST_MODIFIED = datetime(2025, 12, 1, 12, 0, tzinfo=timezone.utc)


def meetings():
    """The same 250 meetings as the Rust benchmark, as plain dicts."""
    out = []
    for i in range(250):
        if i % 10 == 0:
            zone, summary, location = TOKYO, "Asian Partners for Co-operation Group", "Ministry of Foreign Affairs, Tokyo"
        elif i % 10 == 5:
            zone, summary, location = AMMAN, "Mediterranean Partners for Co-operation Group", "Dead Sea, Jordan"
        else:
            zone, summary, location = VIENNA, "Permanent Council", "Hofburg, Neuer Saal; Vienna"
        start = FIRST + timedelta(days=2 * i, hours=i % 3)
        out.append(
            {
                "uid": f"meeting-{i}@plenary.example.org",
                "sequence": i % 4,
                "summary": f"{summary} No. {1500 + i}",
                "location": location,
                "description": "Agenda:\n1. Opening, adoption of the agenda\n2. Current issues; reports\n"
                f"3. Any other business\n\nMeeting {i}",
                "url": f"https://plenary.example.org/meetings/{i}",
                "start": start.astimezone(zone),
                "end": (start + timedelta(hours=3)).astimezone(zone),
                "status": "CANCELLED" if i % 25 == 0 else "CONFIRMED",
                "categories": ["OSCE", "Delegation of Austria"],
            }
        )
    return out


def build(events):
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", "-//Plenary//Plenary//EN")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "OSCE meetings – Austria")
    cal.add("refresh-interval", vDuration(timedelta(hours=1)), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    for m in events:
        event = Event()
        event.add("uid", m["uid"])
        event.add("dtstamp", STAMP)
        event.add("dtstart", m["start"])
        event.add("dtend", m["end"])
        event.add("summary", m["summary"])
        event.add("location", m["location"])
        event.add("description", m["description"])
        event.add("url", m["url"])
        event.add("sequence", m["sequence"])
        event.add("status", m["status"])
        event.add("last-modified", LAST_MODIFIED)
        event.add("categories", m["categories"])
        cal.add_component(event)
    if hasattr(cal, "add_missing_timezones"):
        cal.add_missing_timezones()
    return cal


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="timeit repeats (the best and mean are shown)")
    parser.add_argument("--number", type=int, default=10, help="renders per repeat")
    args = parser.parse_args()

    events = meetings()
    built = build(events)
    text = built.to_ical()
    vtimezones = text.count(b"BEGIN:VTIMEZONE")
    print(f"icalendar {icalendar.__version__}: {len(events)} events, {vtimezones} VTIMEZONEs, {len(text)} bytes")

    for label, stmt in (("build + render", lambda: build(events).to_ical()), ("render only", built.to_ical)):
        runs = timeit.repeat(stmt, repeat=args.repeat, number=args.number)
        per_render = [run / args.number for run in runs]
        print(
            f"{label:>15}: mean {statistics.mean(per_render) * 1e3:.3f} ms, "
            f"best {min(per_render) * 1e3:.3f} ms per render ({args.repeat} x {args.number} renders)"
        )


if __name__ == "__main__":
    main()
