#!/usr/bin/env python3
"""Read an iCalendar feed with Python's icalendar and recurring-ical-events; print its events.

An independent reader for the feeds suite (tests/tests/feeds.rs): a different parser, in a
different language, with its own time-zone handling. For every event it computes the start and
end in UTC twice: through the IANA database by TZID (what recurring-ical-events yields), and
through the feed's own VTIMEZONE block (icalendar's `Timezone.to_tz(lookup_tzid=False)`), and
fails when the two disagree, when a TZID has no VTIMEZONE, or when anything does not parse.

Prints JSON: {"name": X-WR-CALNAME, "tzids": [...], "events": [{"uid", "start", "end",
"sequence", "status", "summary"}]} with instants as "YYYY-MM-DDTHH:MM:SSZ", events in the
order recurring-ical-events gives them. Exit status 1 with a message on stderr on any failure.

Usage: check_feed.py FILE.ics
"""

import json
import sys
from datetime import datetime, timezone

import icalendar
import recurring_ical_events


def utc(value):
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"expected a date-time with a zone or UTC, got {value!r}")
    return value.astimezone(timezone.utc)


def iso(value):
    return utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def via_vtimezone(prop, zones):
    """The instant of a DTSTART/DTEND property read through the feed's own VTIMEZONE."""
    tzid = prop.params.get("TZID")
    if tzid is None:
        return utc(prop.dt)
    if tzid not in zones:
        raise ValueError(f"TZID {tzid} has no VTIMEZONE")
    # fold=0: a repeated wall time means its first occurrence (RFC 5545 §3.3.5).
    return prop.dt.replace(tzinfo=None).replace(tzinfo=zones[tzid]).astimezone(timezone.utc)


def main(path):
    with open(path, "rb") as handle:
        calendar = icalendar.Calendar.from_ical(handle.read())
    missing = calendar.get_missing_tzids()
    if missing:
        raise ValueError(f"TZIDs without a VTIMEZONE: {sorted(missing)}")
    zones = {str(tz["TZID"]): tz.to_tz(lookup_tzid=False) for tz in calendar.walk("VTIMEZONE")}

    by_uid = {}
    for component in calendar.walk("VEVENT"):
        uid = str(component["UID"])
        start = via_vtimezone(component["DTSTART"], zones)
        end = via_vtimezone(component["DTEND"], zones)
        if uid in by_uid:
            raise ValueError(f"UID {uid} appears twice")
        by_uid[uid] = (start, end)

    events = []
    occurrences = recurring_ical_events.of(calendar, skip_bad_series=False).between(
        datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(2200, 1, 1, tzinfo=timezone.utc)
    )
    for event in occurrences:
        uid = str(event["UID"])
        start, end = utc(event["DTSTART"].dt), utc(event["DTEND"].dt)
        own_start, own_end = by_uid[uid]
        if (start, end) != (own_start, own_end):
            raise ValueError(
                f"{uid}: the IANA zone gives {start}–{end}, the feed's VTIMEZONE {own_start}–{own_end}"
            )
        events.append(
            {
                "uid": uid,
                "start": iso(start),
                "end": iso(end),
                "sequence": int(event.get("SEQUENCE", 0)),
                "status": str(event.get("STATUS", "")),
                "summary": str(event.get("SUMMARY", "")),
            }
        )
    if len(events) != len(by_uid):
        raise ValueError(f"{len(by_uid)} events in the file, {len(events)} read by recurring-ical-events")
    print(
        json.dumps(
            {"name": str(calendar.get("X-WR-CALNAME", "")), "tzids": sorted(zones), "events": events},
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    try:
        main(sys.argv[1])
    except Exception as error:  # noqa: BLE001 - any failure is a failed check
        print(f"check_feed.py: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
