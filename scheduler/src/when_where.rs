//! A meeting's time and place in words: the one way the pages, the mail and the feeds write
//! them, in English and French.
//!
//! - A date is written in full, weekday first: "Tuesday 15 June 2027", "mardi 15 juin 2027"
//!   (French writes the first of the month "1er").
//! - Times are on the 24-hour clock of the meeting's place, which is what the invitation, the
//!   room booking and the interpreters go by.
//! - A meeting within one day reads "Tuesday 15 June 2027, 10:00–13:00"; one over several
//!   days gives both ends in full: "Tuesday 15 June 2027, 09:00 – Wednesday 16 June 2027, 18:00".
//! - Mail goes to readers in other zones, so it adds the zone's IANA name (which reads the same
//!   in every language): "… 10:00–13:00 (Europe/Vienna)". The pages show the zone beside the
//!   time, where a script can add the viewer's own time.
//! - A place is its parts, most specific first: "Neuer Saal, Hofburg, Vienna". The country is
//!   named only for a place outside Plenary's own rooms (a conference abroad).
//!
//! Month and weekday names are written out here rather than taken from a locale database: two
//! languages need nineteen words each, and the text stays the same on every machine.

use chrono::{DateTime, Datelike as _, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The languages Plenary writes mail in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    French,
}

impl Language {
    /// The language of a stored code: `fr` is French; anything else is English, the
    /// Secretariat's working language.
    #[must_use]
    pub fn from_code(code: &str) -> Self {
        if code == "fr" { Self::French } else { Self::English }
    }

    /// The code, as `<html lang>` wants it.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Self::English => "en",
            Self::French => "fr",
        }
    }

    fn weekday(self, day: Weekday) -> &'static str {
        let index = day.num_days_from_monday() as usize;
        match self {
            Self::English => ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"][index],
            Self::French => ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"][index],
        }
    }

    fn month(self, month: u32) -> &'static str {
        let index = month.saturating_sub(1) as usize;
        match self {
            Self::English => [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ][index],
            Self::French => [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ][index],
        }
    }
}

/// A date in full: "Tuesday 15 June 2027", "jeudi 1er juillet 2027".
#[must_use]
pub fn date(day: NaiveDate, language: Language) -> String {
    let number = match (language, day.day()) {
        (Language::French, 1) => "1er".to_owned(),
        (_, number) => number.to_string(),
    };
    format!("{} {number} {} {}", language.weekday(day.weekday()), language.month(day.month()), day.year())
}

/// A moment on the clock of `at`'s zone: "Tuesday 15 June 2027, 10:00".
#[must_use]
pub fn moment<Z: TimeZone>(at: &DateTime<Z>, language: Language) -> String {
    let local = at.naive_local();
    format!("{}, {}", date(local.date(), language), local.format("%H:%M"))
}

/// When a meeting happens: its start and end, and the zone of its place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeetingTime {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub zone: Tz,
}

impl MeetingTime {
    /// The meeting's local start and end: "Tuesday 15 June 2027, 10:00–13:00", or for a
    /// meeting over several days "Tuesday 15 June 2027, 09:00 – Wednesday 16 June 2027, 18:00".
    #[must_use]
    pub fn period(&self, language: Language) -> String {
        let (start, end) = (self.start.with_timezone(&self.zone), self.end.with_timezone(&self.zone));
        if start.date_naive() == end.date_naive() {
            format!("{}–{}", moment(&start, language), end.format("%H:%M"))
        } else {
            format!("{} – {}", moment(&start, language), moment(&end, language))
        }
    }

    /// [`Self::period`] with the zone's name, for readers elsewhere:
    /// "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)".
    #[must_use]
    pub fn period_with_zone(&self, language: Language) -> String {
        format!("{} ({})", self.period(language), self.zone.name())
    }
}

/// The city a zone is named after, as pages say "Vienna time": `Europe/Vienna` → `Vienna`,
/// `America/New_York` → `New York`.
#[must_use]
pub fn zone_city(zone: &str) -> String {
    zone.rsplit('/').next().unwrap_or(zone).replace('_', " ")
}

/// Where a meeting happens; any part may be unknown yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Place {
    /// The name of one of Plenary's own rooms (in the Hofburg).
    pub room: Option<String>,
    pub venue: Option<String>,
    pub city: Option<String>,
    /// The country's name, in the reader's language.
    pub country: Option<String>,
}

impl Place {
    /// The known parts, most specific first, in one line: "Neuer Saal, Hofburg, Vienna", or
    /// abroad "Tokyo International Forum, Tokyo, Japan". Everyone knows where Plenary's own
    /// rooms are, so the country is named only for a place outside them. Empty when nothing is
    /// known yet.
    #[must_use]
    pub fn line(&self) -> String {
        let country = if self.room.is_none() { self.country.as_deref() } else { None };
        [self.room.as_deref(), self.venue.as_deref(), self.city.as_deref(), country]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use proptest::prelude::*;

    use super::{Language::*, *};

    fn time(start: &str, end: &str, zone: Tz) -> MeetingTime {
        let at = |text: &str| {
            let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
            zone.from_local_datetime(&local).single().unwrap().with_timezone(&Utc)
        };
        MeetingTime { start: at(start), end: at(end), zone }
    }

    #[test]
    fn a_meeting_within_one_day_reads_in_english_and_french() {
        let meeting = time("2027-06-15 10:00", "2027-06-15 13:00", chrono_tz::Europe::Vienna);
        assert_eq!(meeting.period(English), "Tuesday 15 June 2027, 10:00–13:00");
        assert_eq!(meeting.period(French), "mardi 15 juin 2027, 10:00–13:00");
        assert_eq!(meeting.period_with_zone(English), "Tuesday 15 June 2027, 10:00–13:00 (Europe/Vienna)");
        assert_eq!(meeting.period_with_zone(French), "mardi 15 juin 2027, 10:00–13:00 (Europe/Vienna)");
    }

    #[test]
    fn a_meeting_over_several_days_gives_both_ends_in_full() {
        let conference = time("2027-06-15 09:00", "2027-06-16 18:00", chrono_tz::Asia::Tokyo);
        assert_eq!(conference.period(English), "Tuesday 15 June 2027, 09:00 – Wednesday 16 June 2027, 18:00");
        assert_eq!(conference.period(French), "mardi 15 juin 2027, 09:00 – mercredi 16 juin 2027, 18:00");
    }

    #[test]
    fn times_are_on_the_clock_of_the_place_not_utc() {
        // 23:00–01:00 in Tokyo is 14:00–16:00 UTC on one day, but two days where it happens.
        let late = time("2027-06-15 23:00", "2027-06-16 01:00", chrono_tz::Asia::Tokyo);
        assert_eq!(late.period(English), "Tuesday 15 June 2027, 23:00 – Wednesday 16 June 2027, 01:00");
        // Summer and winter time in Vienna: the clock, not the offset, is what is written.
        let winter = time("2027-01-14 10:00", "2027-01-14 13:00", chrono_tz::Europe::Vienna);
        assert_eq!(winter.period(English), "Thursday 14 January 2027, 10:00–13:00");
    }

    #[test]
    fn french_writes_the_first_of_the_month_1er() {
        let day = NaiveDate::from_ymd_opt(2027, 7, 1).unwrap();
        assert_eq!(date(day, French), "jeudi 1er juillet 2027");
        assert_eq!(date(day, English), "Thursday 1 July 2027");
        assert_eq!(date(NaiveDate::from_ymd_opt(2027, 8, 2).unwrap(), French), "lundi 2 août 2027");
    }

    #[test]
    fn a_moment_is_a_date_and_a_time() {
        let at = chrono_tz::Europe::Vienna.with_ymd_and_hms(2027, 12, 5, 18, 0, 0).unwrap();
        assert_eq!(moment(&at, English), "Sunday 5 December 2027, 18:00");
        assert_eq!(moment(&at, French), "dimanche 5 décembre 2027, 18:00");
        assert_eq!(moment(&at.fixed_offset(), English), "Sunday 5 December 2027, 18:00");
    }

    #[test]
    fn a_zone_is_named_after_its_city() {
        assert_eq!(zone_city("Europe/Vienna"), "Vienna");
        assert_eq!(zone_city("America/New_York"), "New York");
        assert_eq!(zone_city("America/Argentina/Buenos_Aires"), "Buenos Aires");
        assert_eq!(zone_city("UTC"), "UTC");
    }

    #[test]
    fn a_place_names_its_country_only_abroad() {
        let hofburg = Place {
            room: Some("Neuer Saal".into()),
            venue: Some("Hofburg".into()),
            city: Some("Vienna".into()),
            country: Some("Austria".into()),
        };
        assert_eq!(hofburg.line(), "Neuer Saal, Hofburg, Vienna");
        let abroad = Place { room: None, venue: None, city: Some("Tokyo".into()), country: Some("Japan".into()) };
        assert_eq!(abroad.line(), "Tokyo, Japan");
        let blank = Place { venue: Some("  ".into()), city: Some(" Skopje ".into()), ..Place::default() };
        assert_eq!(blank.line(), "Skopje");
        assert_eq!(Place::default().line(), "");
    }

    #[test]
    fn a_language_is_read_from_its_code() {
        assert_eq!(Language::from_code("fr"), French);
        assert_eq!(Language::from_code("en"), English);
        assert_eq!(Language::from_code("de"), English);
        assert_eq!((English.code(), French.code()), ("en", "fr"));
    }

    proptest! {
        /// Every meeting of up to three days reads with its start's date and ends with its
        /// end's time, in both languages.
        #[test]
        fn every_period_starts_with_its_date_and_ends_with_its_end(
            start in 1_700_000_000_i64..2_200_000_000,
            minutes in 1_i64..(3 * 24 * 60),
            zone in prop::sample::select(vec![
                chrono_tz::Europe::Vienna, chrono_tz::Asia::Tokyo, chrono_tz::America::New_York, chrono_tz::UTC,
            ]),
        ) {
            let start = DateTime::from_timestamp(start, 0).unwrap();
            let meeting = MeetingTime { start, end: start + chrono::TimeDelta::minutes(minutes), zone };
            let (local_start, local_end) = (start.with_timezone(&zone), meeting.end.with_timezone(&zone));
            for language in [English, French] {
                let period = meeting.period(language);
                prop_assert!(period.starts_with(&date(local_start.date_naive(), language)), "{}", period);
                let end_time = local_end.format("%H:%M").to_string();
                prop_assert!(period.ends_with(&end_time), "{}", period);
            }
        }
    }
}
