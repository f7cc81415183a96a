//! How long rendering a delegation's feed of 250 meetings takes, VTIMEZONEs included: mostly
//! Vienna, some in Tokyo and Amman, over about a year and a half. `bench/render_feed.py` builds
//! the same calendar with Python's `icalendar` for comparison.

use std::hint::black_box;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scheduler::ical::{CalendarEvent, EventStatus, Feed, render_feed};

fn delegation_feed() -> Feed {
    let first = Utc.with_ymd_and_hms(2026, 1, 8, 9, 0, 0).single().expect("a valid instant");
    let events = (0..250)
        .map(|i| {
            let (time_zone, summary, location) = match i % 10 {
                0 => (chrono_tz::Asia::Tokyo, "Asian Partners for Co-operation Group", "Ministry of Foreign Affairs, Tokyo"),
                5 => (chrono_tz::Asia::Amman, "Mediterranean Partners for Co-operation Group", "Dead Sea, Jordan"),
                _ => (chrono_tz::Europe::Vienna, "Permanent Council", "Hofburg, Neuer Saal; Vienna"),
            };
            let start: DateTime<Utc> = first + TimeDelta::days(2 * i) + TimeDelta::hours(i % 3);
            CalendarEvent {
                uid: format!("meeting-{i}@plenary.example.org"),
                sequence: u32::try_from(i % 4).expect("small"),
                summary: format!("{summary} No. {}", 1500 + i),
                location: location.to_owned(),
                description: format!(
                    "Agenda:\n1. Opening, adoption of the agenda\n2. Current issues; reports\n3. Any other business\n\nMeeting {i}"
                ),
                url: Some(format!("https://plenary.example.org/meetings/{i}")),
                start,
                end: start + TimeDelta::hours(3),
                time_zone,
                status: if i % 25 == 0 { EventStatus::Cancelled } else { EventStatus::Confirmed },
                last_modified: Utc.with_ymd_and_hms(2025, 12, 1, 12, 0, 0).single().expect("a valid instant"),
                categories: vec!["OSCE".to_owned(), "Delegation of Austria".to_owned()],
            }
        })
        .collect();
    Feed {
        name: "OSCE meetings – Austria".to_owned(),
        stamp: Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).single().expect("a valid instant"),
        events,
    }
}

fn render_delegation_feed(c: &mut Criterion) {
    let feed = delegation_feed();
    c.bench_function("render_feed 250 meetings", |b| b.iter(|| render_feed(black_box(&feed))));
}

criterion_group!(benches, render_delegation_feed);
criterion_main!(benches);
