//! Austrian public holidays: the days the Hofburg is closed and no body meets in Vienna.
//!
//! Thirteen days a year, eight on fixed dates and five that move with Easter (Easter Monday,
//! Ascension, Whit Monday, Corpus Christi). Good Friday, 24 and 31 December are working days for
//! the Hofburg; they are not listed. Easter is computed with the anonymous Gregorian algorithm
//! (Meeus/Jones/Butcher), so any year can be asked for without a table.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

/// A public holiday on which the Hofburg is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Holiday {
    pub date: NaiveDate,
    /// The English name shown to organisers ("Corpus Christi").
    pub name_en: &'static str,
}

/// Holidays on the same date every year: (month, day, English name).
const FIXED: [(u32, u32, &str); 9] = [
    (1, 1, "New Year's Day"),
    (1, 6, "Epiphany"),
    (5, 1, "Labour Day"),
    (8, 15, "Assumption Day"),
    (10, 26, "Austrian National Day"),
    (11, 1, "All Saints' Day"),
    (12, 8, "Immaculate Conception"),
    (12, 25, "Christmas Day"),
    (12, 26, "St Stephen's Day"),
];

/// Holidays that follow Easter Sunday: (days after Easter, English name).
const MOVABLE: [(u64, &str); 4] =
    [(1, "Easter Monday"), (39, "Ascension Day"), (50, "Whit Monday"), (60, "Corpus Christi")];

/// Easter Sunday of `year` in the Gregorian calendar (anonymous Gregorian algorithm).
///
/// `None` only for years outside the range chrono can represent (about ±262,000).
#[must_use]
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    // month is 3 or 4 and day 1..=31 by construction, so both conversions always succeed.
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The Austrian public holidays of `year`, in date order. Two can share a date (Ascension fell on
/// 1 May in 2008); both are listed, the fixed one first.
///
/// Years chrono cannot represent (beyond about ±262,000) have no dates and give an empty list.
#[must_use]
pub fn austrian_public_holidays(year: i32) -> Vec<Holiday> {
    let fixed = FIXED.iter().filter_map(|&(month, day, name_en)| {
        NaiveDate::from_ymd_opt(year, month, day).map(|date| Holiday { date, name_en })
    });
    let movable = easter_sunday(year).into_iter().flat_map(|easter| {
        MOVABLE.iter().filter_map(move |&(offset, name_en)| {
            easter.checked_add_days(Days::new(offset)).map(|date| Holiday { date, name_en })
        })
    });
    let mut holidays: Vec<Holiday> = fixed.chain(movable).collect();
    holidays.sort_by_key(|holiday| holiday.date);
    holidays
}

/// The Austrian public holiday falling on `date`, if any.
#[must_use]
pub fn austrian_holiday_on(date: NaiveDate) -> Option<Holiday> {
    austrian_public_holidays(date.year()).into_iter().find(|holiday| holiday.date == date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;
    use proptest::prelude::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn easter_matches_the_published_dates() {
        for (year, expected) in [
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2016, "2016-03-27"),
            (2019, "2019-04-21"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2026, "2026-04-05"),
            (2027, "2027-03-28"),
            (2030, "2030-04-21"),
            (2038, "2038-04-25"),
            (2040, "2040-04-01"),
        ] {
            assert_eq!(easter_sunday(year), Some(date(expected)), "Easter {year}");
        }
    }

    #[test]
    fn ascension_on_labour_day_is_listed_twice() {
        let first_may: Vec<&str> =
            austrian_public_holidays(2008).iter().filter(|h| h.date == date("2008-05-01")).map(|h| h.name_en).collect();
        assert_eq!(first_may, ["Labour Day", "Ascension Day"]);
    }

    #[test]
    fn the_2026_holidays_are_the_thirteen_expected_days() {
        let holidays = austrian_public_holidays(2026);
        let dates: Vec<String> = holidays.iter().map(|h| h.date.to_string()).collect();
        assert_eq!(
            dates,
            [
                "2026-01-01",
                "2026-01-06",
                "2026-04-06",
                "2026-05-01",
                "2026-05-14",
                "2026-05-25",
                "2026-06-04",
                "2026-08-15",
                "2026-10-26",
                "2026-11-01",
                "2026-12-08",
                "2026-12-25",
                "2026-12-26",
            ]
        );
        assert_eq!(austrian_holiday_on(date("2026-06-04")).map(|h| h.name_en), Some("Corpus Christi"));
        assert_eq!(austrian_holiday_on(date("2026-06-05")), None);
    }

    proptest! {
        #[test]
        fn movable_feasts_fall_on_their_weekdays(year in 1975i32..=2100) {
            let holidays = austrian_public_holidays(year);
            prop_assert_eq!(holidays.len(), 13);
            let easter = easter_sunday(year).unwrap();
            prop_assert_eq!(easter.weekday(), Weekday::Sun);
            prop_assert!(easter >= NaiveDate::from_ymd_opt(year, 3, 22).unwrap());
            prop_assert!(easter <= NaiveDate::from_ymd_opt(year, 4, 25).unwrap());
            for holiday in &holidays {
                let expected = match holiday.name_en {
                    "Easter Monday" | "Whit Monday" => Some(Weekday::Mon),
                    "Ascension Day" | "Corpus Christi" => Some(Weekday::Thu),
                    _ => None,
                };
                if let Some(weekday) = expected {
                    prop_assert_eq!(holiday.date.weekday(), weekday, "{:?}", holiday);
                }
            }
            // <=, not <: Ascension can fall on 1 May (2008), and both are listed.
            prop_assert!(holidays.windows(2).all(|pair| pair[0].date <= pair[1].date));
        }
    }
}
