//! VTIMEZONE blocks for IANA zones, derived from chrono-tz.
//!
//! A calendar that writes `DTSTART;TZID=Europe/Vienna:...` must also say what `Europe/Vienna`
//! means (RFC 5545 §3.6.5); Outlook in particular refuses or misplaces events whose TZID has no
//! VTIMEZONE. The `icalendar` crate does not write them, so they are built here.
//!
//! Rather than guessing recurrence rules, every offset change inside the requested span is found
//! by asking chrono-tz (scan in steps, then bisect to the exact second) and written as its own
//! STANDARD or DAYLIGHT sub-component with a single DTSTART: explicit, and right for every
//! instant in the span by construction, including zones whose rules changed (Asia/Amman has been
//! on permanent +03 since October 2022). One sub-component per transition rather than one with
//! RDATEs, because several clients (Outlook among them) ignore RDATE inside a VTIMEZONE.

use chrono::{DateTime, Datelike, NaiveDateTime, Offset, SubsecRound, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz, TzOffset};

use crate::ical::ContentWriter;

/// How far apart the scan samples the zone. A pair of offset changes closer than this that
/// cancel out would be missed. Scanning every zone of chrono-tz 0.10's database from 1990 to 2040
/// in 30-minute steps found the shortest gap between two changes to be 166 hours
/// (America/Cambridge_Bay, 2000), so a day leaves a wide margin.
const SCAN_STEP: TimeDelta = TimeDelta::hours(24);

/// Whether an observance is standard time or daylight saving time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObservanceKind {
    /// Written as a `STANDARD` sub-component.
    Standard,
    /// Written as a `DAYLIGHT` sub-component: chrono-tz reports a non-zero DST offset.
    Daylight,
}

/// One STANDARD or DAYLIGHT sub-component: from `onset` on, local time is `offset_to` seconds
/// ahead of UTC and is called `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observance {
    pub kind: ObservanceKind,
    /// The instant the observance begins (whole seconds).
    pub onset: DateTime<Utc>,
    /// Seconds east of UTC just before `onset`; DTSTART is the local time in this offset, as
    /// RFC 5545 requires.
    pub offset_from: i32,
    /// Seconds east of UTC from `onset` on.
    pub offset_to: i32,
    /// The abbreviation chrono-tz gives (`CET`, `CEST`, `JST`), or the numeric form (`+03`)
    /// where the tz database has none.
    pub name: String,
}

impl Observance {
    /// DTSTART: the wall time just before the change, in the offset that was in force then.
    #[must_use]
    pub fn local_onset(&self) -> NaiveDateTime {
        self.onset.naive_utc() + TimeDelta::seconds(i64::from(self.offset_from))
    }
}

/// A zone's VTIMEZONE for a span of instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VTimezone {
    pub tz: Tz,
    /// In order of onset. The first starts at the beginning of the span with
    /// `offset_from == offset_to` (the offset in force then); each further one is a change.
    pub observances: Vec<Observance>,
}

impl VTimezone {
    /// The VTIMEZONE of `tz`, right for every instant in `[from, to]` (an empty or reversed span
    /// is treated as the single instant `from`).
    #[must_use]
    pub fn covering(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let offset_at = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc());
        // Offsets change on whole seconds, so whole seconds lose nothing.
        let (from, to) = (from.trunc_subsecs(0), to.trunc_subsecs(0));
        let mut current = offset_at(from);
        let total = seconds_east(&current);
        let mut observances = vec![observance(from, total, &current)];

        let mut t = from;
        while t < to {
            let next = (t + SCAN_STEP).min(to);
            if offset_at(next) == current {
                t = next;
                continue;
            }
            // Invariant: the offset at `lo` is `current`, the offset at `hi` is not.
            let (mut lo, mut hi) = (t, next);
            while (hi - lo).num_seconds() > 1 {
                let mid = lo + TimeDelta::seconds((hi - lo).num_seconds() / 2);
                if offset_at(mid) == current {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let changed = offset_at(hi);
            observances.push(observance(hi, seconds_east(&current), &changed));
            current = changed;
            t = hi;
        }
        Self { tz, observances }
    }

    /// The VTIMEZONE covering whole calendar years (UTC) around `[from, to]`: from 1 January of
    /// `from`'s year to 1 January after `to`'s year. Rounding to years keeps the block the same
    /// for every feed and invitation in those years, so clients and caches see no churn.
    #[must_use]
    pub fn covering_years(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        let jan_first = |year: i32| Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single();
        // Both fall back to the exact instants only at the very ends of chrono's range.
        let start = jan_first(from.year()).unwrap_or(from);
        let end = to.year().checked_add(1).and_then(jan_first).unwrap_or(to);
        Self::covering(tz, start, end)
    }

    /// The block as iCalendar text, `BEGIN:VTIMEZONE` to `END:VTIMEZONE`, CRLF line ends.
    #[must_use]
    pub fn to_ics(&self) -> String {
        let mut writer = ContentWriter::default();
        self.write(&mut writer);
        writer.finish()
    }

    pub(crate) fn write(&self, w: &mut ContentWriter) {
        w.begin("VTIMEZONE");
        w.raw("TZID", &[], self.tz.name());
        for observance in &self.observances {
            let component = match observance.kind {
                ObservanceKind::Standard => "STANDARD",
                ObservanceKind::Daylight => "DAYLIGHT",
            };
            w.begin(component);
            w.local_date_time("DTSTART", None, observance.local_onset());
            w.utc_offset("TZOFFSETFROM", observance.offset_from);
            w.utc_offset("TZOFFSETTO", observance.offset_to);
            w.text("TZNAME", &observance.name);
            w.end(component);
        }
        w.end("VTIMEZONE");
    }
}

fn seconds_east(offset: &TzOffset) -> i32 {
    offset.fix().local_minus_utc()
}

fn observance(onset: DateTime<Utc>, offset_from: i32, offset: &TzOffset) -> Observance {
    Observance {
        kind: if offset.dst_offset().is_zero() { ObservanceKind::Standard } else { ObservanceKind::Daylight },
        onset,
        offset_from,
        offset_to: seconds_east(offset),
        // chrono-tz's Display is the abbreviation, or `+03`-style when the database has none.
        name: offset.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;
    use chrono_tz::Tz;

    /// What a client would make of our text: every observance's onset (as UTC) with its offset
    /// and name, read back from the rendered lines rather than from the structs.
    fn evaluator(ics: &str) -> Vec<(DateTime<Utc>, i32, String)> {
        fn offset(value: &str) -> i32 {
            let sign = if value.starts_with('-') { -1 } else { 1 };
            let digits = &value[1..];
            let part =
                |range: std::ops::Range<usize>| digits.get(range).map_or(0, |s| s.parse::<i32>().expect("digits"));
            sign * (part(0..2) * 3600 + part(2..4) * 60 + part(4..6))
        }
        let mut out = Vec::new();
        let (mut start, mut from, mut to, mut name) = (None, None, None, None);
        for line in ics.split("\r\n") {
            let (key, value) = line.split_once(':').unwrap_or((line, ""));
            match key {
                "DTSTART" => {
                    start = Some(NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap());
                }
                "TZOFFSETFROM" => from = Some(offset(value)),
                "TZOFFSETTO" => to = Some(offset(value)),
                "TZNAME" => name = Some(value.to_owned()),
                "END" if value == "STANDARD" || value == "DAYLIGHT" => {
                    let onset = start.take().unwrap() - TimeDelta::seconds(from.take().unwrap().into());
                    out.push((onset.and_utc(), to.take().unwrap(), name.take().unwrap()));
                }
                _ => {}
            }
        }
        out.sort_by_key(|(onset, ..)| *onset);
        out
    }

    fn implied(observances: &[(DateTime<Utc>, i32, String)], t: DateTime<Utc>) -> (i32, &str) {
        let (_, offset, name) = observances
            .iter()
            .rev()
            .find(|(onset, ..)| *onset <= t)
            .expect("an observance starts at or before every instant in the span");
        (*offset, name)
    }

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, s).unwrap()
    }

    /// Every hour of the span, plus one second either side of every change, agrees with chrono-tz
    /// on the offset and the abbreviation.
    fn assert_matches_chrono_tz(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> VTimezone {
        let vtimezone = VTimezone::covering(tz, from, to);
        let ics = vtimezone.to_ics();
        let observances = evaluator(&ics);
        let mut instants: Vec<_> =
            std::iter::successors(Some(from), |t| Some(*t + TimeDelta::hours(1))).take_while(|t| *t <= to).collect();
        for o in &vtimezone.observances {
            instants.extend([o.onset - TimeDelta::seconds(1), o.onset, o.onset + TimeDelta::seconds(1)]);
        }
        instants.push(to);
        for t in instants.into_iter().filter(|t| (from..=to).contains(t)) {
            let expected = tz.offset_from_utc_datetime(&t.naive_utc());
            let (offset, name) = implied(&observances, t);
            assert_eq!(offset, expected.fix().local_minus_utc(), "{tz} at {t}\n{ics}");
            assert_eq!(name, expected.to_string(), "{tz} at {t}");
        }
        vtimezone
    }

    fn kinds(v: &VTimezone) -> Vec<(ObservanceKind, i32)> {
        v.observances.iter().map(|o| (o.kind, o.offset_to / 60)).collect()
    }

    #[test]
    fn europe_vienna_matches_chrono_tz_with_exact_transitions() {
        let v = assert_matches_chrono_tz(chrono_tz::Europe::Vienna, utc(2025, 1, 1, 0, 0, 0), utc(2028, 1, 1, 0, 0, 0));
        assert_eq!(v.observances.len(), 1 + 6);
        // Last Sunday of March 2026, 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        let spring = &v.observances[3];
        assert_eq!(spring.onset, utc(2026, 3, 29, 1, 0, 0));
        assert_eq!(spring.local_onset().to_string(), "2026-03-29 02:00:00");
        assert_eq!((spring.kind, spring.offset_from, spring.offset_to), (ObservanceKind::Daylight, 3600, 7200));
        assert_eq!(spring.name, "CEST");
        let autumn = &v.observances[4];
        assert_eq!(autumn.local_onset().to_string(), "2026-10-25 03:00:00");
        assert_eq!(autumn.name, "CET");
    }

    #[test]
    fn america_new_york_matches_chrono_tz() {
        let v =
            assert_matches_chrono_tz(chrono_tz::America::New_York, utc(2026, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
        assert_eq!(
            kinds(&v),
            [(ObservanceKind::Standard, -300), (ObservanceKind::Daylight, -240), (ObservanceKind::Standard, -300)]
        );
        assert_eq!(v.observances[1].local_onset().to_string(), "2026-03-08 02:00:00");
    }

    #[test]
    fn australia_adelaide_southern_hemisphere_half_hour_offsets() {
        let v = assert_matches_chrono_tz(
            chrono_tz::Australia::Adelaide,
            utc(2026, 1, 1, 0, 0, 0),
            utc(2027, 1, 1, 0, 0, 0),
        );
        assert_eq!(
            kinds(&v),
            [(ObservanceKind::Daylight, 630), (ObservanceKind::Standard, 570), (ObservanceKind::Daylight, 630)]
        );
        // First Sunday of April 2026: 03:00 ACDT back to 02:00 ACST.
        assert_eq!(v.observances[1].local_onset().to_string(), "2026-04-05 03:00:00");
        assert_eq!(v.to_ics().matches("TZOFFSETTO:+0930").count(), 1);
    }

    #[test]
    fn asia_amman_is_permanent_plus_three_since_2022() {
        let v = assert_matches_chrono_tz(chrono_tz::Asia::Amman, utc(2023, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
        assert_eq!(kinds(&v), [(ObservanceKind::Standard, 180)]);
        // Across the change of rules the last switch is still found.
        let v = assert_matches_chrono_tz(chrono_tz::Asia::Amman, utc(2022, 1, 1, 0, 0, 0), utc(2023, 1, 1, 0, 0, 0));
        assert_eq!(v.observances.last().map(|o| o.offset_to), Some(3 * 3600));
    }

    #[test]
    fn zones_without_dst_get_a_single_standard() {
        for (tz, minutes) in [(chrono_tz::Asia::Tokyo, 540), (chrono_tz::Asia::Bangkok, 420)] {
            let v = assert_matches_chrono_tz(tz, utc(2026, 1, 1, 0, 0, 0), utc(2028, 1, 1, 0, 0, 0));
            assert_eq!(kinds(&v), [(ObservanceKind::Standard, minutes)]);
        }
        let tokyo = VTimezone::covering(chrono_tz::Asia::Tokyo, utc(2026, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0));
        assert_eq!(
            tokyo.to_ics(),
            "BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo\r\nBEGIN:STANDARD\r\nDTSTART:20260101T090000\r\n\
             TZOFFSETFROM:+0900\r\nTZOFFSETTO:+0900\r\nTZNAME:JST\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        );
    }

    #[test]
    fn covering_years_rounds_to_whole_utc_years() {
        let v =
            VTimezone::covering_years(chrono_tz::Europe::Vienna, utc(2026, 6, 3, 8, 0, 0), utc(2026, 6, 3, 9, 0, 0));
        assert_eq!(v.observances[0].onset, utc(2026, 1, 1, 0, 0, 0));
        assert_eq!(v.observances.len(), 3);
    }
}
