//! Wall-clock times in a meeting's own time zone, resolved without silent shifts.
//!
//! Meetings are planned in the local time of the place they happen (10:00 in Vienna, 09:30 in
//! Amman). Around daylight-saving changes a local time may not exist (the clocks spring forward
//! over it) or may exist twice (the clocks fall back): both are reported as errors that name the
//! zone and the time, so an organiser decides; nothing is moved by an hour behind their back.
//! Where an organiser has decided which of two repeated times they mean, [`resolve_local_choosing`]
//! records that explicit choice.

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use thiserror::Error;

/// Why a local time or a zone name could not be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocalTimeError {
    /// The clocks skip this time (daylight-saving time begins).
    #[error(
        "local time {local} does not exist in time zone {zone}: the clocks skip it when daylight-saving time begins"
    )]
    Nonexistent { local: NaiveDateTime, zone: Tz },
    /// The clocks show this time twice (daylight-saving time ends).
    #[error(
        "local time {local} occurs twice in time zone {zone} when daylight-saving time ends \
         (at {earliest} and at {latest}); choose one explicitly"
    )]
    Ambiguous {
        local: NaiveDateTime,
        zone: Tz,
        /// The first occurrence, still on daylight-saving time.
        earliest: DateTime<Tz>,
        /// The second occurrence, after the clocks went back.
        latest: DateTime<Tz>,
    },
    /// The text is not a local date-time (`2027-06-15T09:00:00`, seconds optional).
    #[error("expected a local date-time without offset such as 2027-06-15T09:00:00, got {text:?}")]
    Malformed { text: String },
    /// The name is not an IANA time-zone name.
    #[error("unknown time zone {name:?}: expected an IANA name such as \"Europe/Vienna\"")]
    UnknownZone { name: String },
}

/// Which of the two occurrences of a repeated local time an organiser means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    /// The first one, before the clocks go back.
    Earlier,
    /// The second one, after the clocks went back.
    Later,
}

/// Parses a local wall-clock time as forms and the API send it: `2027-06-15T09:00:00` or
/// `2027-06-15T09:00`, without an offset (the zone is given apart).
///
/// # Errors
/// [`LocalTimeError::Malformed`], quoting the text.
pub fn parse_local(text: &str) -> Result<NaiveDateTime, LocalTimeError> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| LocalTimeError::Malformed { text: text.to_owned() })
}

/// Parses an IANA time-zone name ("Europe/Vienna", "Asia/Amman").
///
/// # Errors
/// [`LocalTimeError::UnknownZone`], naming the zone, when `name` is not in the IANA database.
pub fn parse_zone(name: &str) -> Result<Tz, LocalTimeError> {
    name.parse::<Tz>().map_err(|_| LocalTimeError::UnknownZone { name: name.to_owned() })
}

/// The instant a local wall-clock time denotes in `zone`.
///
/// # Errors
/// [`LocalTimeError::Nonexistent`] when the clocks skip `local` (spring forward) and
/// [`LocalTimeError::Ambiguous`] when they show it twice (fall back); both name the zone and time.
pub fn resolve_local(local: NaiveDateTime, zone: Tz) -> Result<DateTime<Tz>, LocalTimeError> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(instant) => Ok(instant),
        LocalResult::Ambiguous(earliest, latest) => Err(LocalTimeError::Ambiguous { local, zone, earliest, latest }),
        LocalResult::None => Err(LocalTimeError::Nonexistent { local, zone }),
    }
}

/// Like [`resolve_local`], but a repeated local time resolves to the occurrence the organiser
/// chose.
///
/// # Errors
/// [`LocalTimeError::Nonexistent`] when the clocks skip `local`: there is nothing to choose.
pub fn resolve_local_choosing(
    local: NaiveDateTime,
    zone: Tz,
    occurrence: Occurrence,
) -> Result<DateTime<Tz>, LocalTimeError> {
    match resolve_local(local, zone) {
        Err(LocalTimeError::Ambiguous { earliest, latest, .. }) => Ok(match occurrence {
            Occurrence::Earlier => earliest,
            Occurrence::Later => latest,
        }),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate, Timelike, Utc};
    use chrono_tz::{Asia, Australia, Europe};
    use proptest::prelude::*;

    fn local(text: &str) -> NaiveDateTime {
        text.parse().unwrap()
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn vienna_spring_forward_is_an_error_naming_zone_and_time() {
        let error = resolve_local(local("2027-03-28T02:30:00"), Europe::Vienna).unwrap_err();
        assert!(matches!(error, LocalTimeError::Nonexistent { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("Europe/Vienna"), "{message}");
        assert!(message.contains("2027-03-28 02:30:00"), "{message}");
        assert!(message.contains("does not exist"), "{message}");
    }

    #[test]
    fn vienna_fall_back_is_an_error_unless_an_occurrence_is_chosen() {
        let time = local("2027-10-31T02:30:00");
        let error = resolve_local(time, Europe::Vienna).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("occurs twice") && message.contains("Europe/Vienna"), "{message}");
        assert!(message.contains("2027-10-31 02:30:00"), "{message}");
        let earlier = resolve_local_choosing(time, Europe::Vienna, Occurrence::Earlier).unwrap();
        let later = resolve_local_choosing(time, Europe::Vienna, Occurrence::Later).unwrap();
        assert_eq!(earlier.with_timezone(&Utc), utc("2027-10-31T00:30:00Z"));
        assert_eq!(later.with_timezone(&Utc), utc("2027-10-31T01:30:00Z"));
        assert!(resolve_local_choosing(local("2027-03-28T02:30:00"), Europe::Vienna, Occurrence::Later).is_err());
    }

    #[test]
    fn vienna_ten_o_clock_is_nine_utc_in_winter_and_eight_in_summer() {
        let winter = resolve_local(local("2027-01-14T10:00:00"), Europe::Vienna).unwrap();
        let summer = resolve_local(local("2027-06-17T10:00:00"), Europe::Vienna).unwrap();
        assert_eq!(winter.with_timezone(&Utc), utc("2027-01-14T09:00:00Z"));
        assert_eq!(summer.with_timezone(&Utc), utc("2027-06-17T08:00:00Z"));
    }

    #[test]
    fn amman_had_daylight_saving_until_2022() {
        // Jordan moved its clocks forward at midnight after the last Thursday of March and back
        // at 01:00 on the last Friday of October, until it kept UTC+3 all year from late 2022.
        assert!(matches!(
            resolve_local(local("2021-03-26T00:30:00"), Asia::Amman),
            Err(LocalTimeError::Nonexistent { .. })
        ));
        assert!(matches!(
            resolve_local(local("2021-10-29T00:30:00"), Asia::Amman),
            Err(LocalTimeError::Ambiguous { .. })
        ));
        let conference = resolve_local(local("2026-10-29T09:30:00"), Asia::Amman).unwrap();
        assert_eq!(conference.with_timezone(&Utc), utc("2026-10-29T06:30:00Z"));
    }

    #[test]
    fn adelaide_springs_forward_in_october_and_falls_back_in_april() {
        let gap = resolve_local(local("2026-10-04T02:30:00"), Australia::Adelaide).unwrap_err();
        assert!(gap.to_string().contains("Australia/Adelaide"), "{gap}");
        assert!(matches!(gap, LocalTimeError::Nonexistent { .. }));
        assert!(matches!(
            resolve_local(local("2027-04-04T02:30:00"), Australia::Adelaide),
            Err(LocalTimeError::Ambiguous { .. })
        ));
        // Southern summer: UTC+10:30 in January, UTC+9:30 in July.
        let january = resolve_local(local("2027-01-14T10:00:00"), Australia::Adelaide).unwrap();
        let july = resolve_local(local("2027-07-15T10:00:00"), Australia::Adelaide).unwrap();
        assert_eq!(january.with_timezone(&Utc), utc("2027-01-13T23:30:00Z"));
        assert_eq!(july.with_timezone(&Utc), utc("2027-07-15T00:30:00Z"));
    }

    #[test]
    fn unknown_zones_are_named() {
        assert_eq!(parse_zone("Asia/Tokyo"), Ok(Asia::Tokyo));
        let error = parse_zone("Europe/Viena").unwrap_err();
        assert!(error.to_string().contains("\"Europe/Viena\""), "{error}");
    }

    proptest! {
        #[test]
        fn zones_without_daylight_saving_resolve_every_local_time(
            days in 0i64..(365 * 40),
            minute in 0u32..(24 * 60),
            zone in prop_oneof![Just(Asia::Tokyo), Just(Asia::Bangkok)],
        ) {
            let time = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
                + chrono::TimeDelta::days(days)
                + chrono::TimeDelta::minutes(i64::from(minute));
            let resolved = resolve_local(time, zone).unwrap();
            prop_assert_eq!(resolved.naive_local(), time);
        }

        #[test]
        fn vienna_resolves_uniquely_except_between_two_and_three_on_change_days(
            days in 0i64..(365 * 40),
            minute in 0u32..(24 * 60),
        ) {
            let time = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap()
                + chrono::TimeDelta::days(days)
                + chrono::TimeDelta::minutes(i64::from(minute));
            match resolve_local(time, Europe::Vienna) {
                Ok(resolved) => prop_assert_eq!(resolved.naive_local(), time),
                Err(error) => {
                    prop_assert_eq!(time.hour(), 2, "{}", error);
                    prop_assert_eq!(time.date().weekday(), chrono::Weekday::Sun);
                }
            }
        }
    }

    #[test]
    fn local_times_come_with_or_without_seconds_and_never_with_an_offset() {
        let expected = NaiveDateTime::parse_from_str("2027-06-15 09:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(parse_local("2027-06-15T09:00:00"), Ok(expected));
        assert_eq!(parse_local("2027-06-15T09:00"), Ok(expected));
        for text in ["2027-06-15T09:00:00+02:00", "2027-06-15", "15/06/2027 09:00", ""] {
            let error = parse_local(text).unwrap_err();
            assert_eq!(error, LocalTimeError::Malformed { text: text.into() });
            assert!(error.to_string().contains("such as 2027-06-15T09:00:00"), "{error}");
        }
    }
}
