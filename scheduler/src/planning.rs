//! Planning a year of regular meetings from the bodies' rules.
//!
//! [`plan_year`] turns each regular body's [`Cadence`] into dated meetings in Vienna: the PC's
//! Thursdays and the FSC's Wednesdays outside their recesses, the Contact Groups' six meetings
//! spread over the working year, the joint meeting once a year. The Hofburg is closed on Austrian
//! public holidays, so a weekly meeting that would fall on one is not planned and is listed in
//! [`YearPlan::skipped`] with the reason; so is a meeting whose room is already taken by a body
//! listed earlier. One-off bodies (conferences, the Ministerial Council) are created by
//! organisers and not planned here.
//!
//! Every meeting carries a [`PlannedMeeting::plan_key`] (`"PC-2027-01-14"`): the same year and
//! rules always give the same keys, so re-planning adds nothing twice and the service can keep
//! the meetings organisers have moved.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};
use thiserror::Error;

use crate::bodies::{Body, BodyCode, Cadence, MonthDay, Recess};
use crate::holidays::{Holiday, austrian_public_holidays};
use crate::localtime::{LocalTimeError, resolve_local};

/// The time zone of every regular meeting: they all happen in the Hofburg.
pub const VIENNA: Tz = chrono_tz::Europe::Vienna;
/// The first year Plenary plans (the Helsinki Final Act).
pub const FIRST_YEAR: i32 = 1975;
/// The last year Plenary plans.
pub const LAST_YEAR: i32 = 2100;

/// Why a year could not be planned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    /// The year is outside [`FIRST_YEAR`]..=[`LAST_YEAR`].
    #[error("field `year`: {year} is outside the years Plenary plans ({FIRST_YEAR}–{LAST_YEAR})")]
    YearOutOfRange { year: i32 },
    /// A regular body has no room to plan its meetings in.
    #[error("body {body}: field `default_room` is empty, so its regular meetings cannot be planned")]
    NoDefaultRoom { body: BodyCode },
    /// An annual meeting found no open day between its earliest date and the end of the year.
    #[error(
        "body {body}: no open {weekday} from {month:02}-{day:02} to the end of {year} for its annual meeting",
        month = on_or_after.month,
        day = on_or_after.day
    )]
    NoOpenDay { body: BodyCode, year: i32, weekday: Weekday, on_or_after: MonthDay },
    /// A body's start time does not exist, or exists twice, on a planned day in Vienna.
    #[error("body {body} on {date}: {source}")]
    LocalTime {
        body: BodyCode,
        date: NaiveDate,
        #[source]
        source: LocalTimeError,
    },
}

/// A meeting the rules call for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedMeeting {
    /// `"{body}-{YYYY-MM-DD}"`: unique per body and day, and the same every time the year is
    /// planned, so re-planning recognises meetings already created (and moved) from it.
    pub plan_key: String,
    pub body: BodyCode,
    pub title: String,
    /// Wall-clock start in [`Self::time_zone`].
    pub start: NaiveDateTime,
    /// Wall-clock end in [`Self::time_zone`].
    pub end: NaiveDateTime,
    #[serde(serialize_with = "serialize_zone")]
    pub time_zone: Tz,
    /// The start as an instant, as the service stores it.
    pub start_utc: DateTime<Utc>,
    /// The end as an instant.
    pub end_utc: DateTime<Utc>,
    /// Room code from `data/rooms.csv`.
    pub room: String,
}

/// A day a body would have met by its cadence, and why it does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedDate {
    pub body: BodyCode,
    pub date: NaiveDate,
    /// Shown to organisers: "Hofburg closed: Ascension Day (Austrian public holiday)".
    pub reason: String,
}

/// A year of regular meetings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct YearPlan {
    /// In order of start, then body.
    pub meetings: Vec<PlannedMeeting>,
    /// In order of date, then body.
    pub skipped: Vec<SkippedDate>,
}

/// Plans the regular meetings of `year` for the regular bodies among `bodies` (usually
/// [`crate::bodies::all_bodies`]); one-off bodies are ignored. Where two bodies' meetings would
/// share a room at once, the body listed first keeps the room.
///
/// # Errors
/// [`PlanError::YearOutOfRange`] outside 1975–2100; [`PlanError::NoDefaultRoom`] for a regular
/// body without a room; [`PlanError::NoOpenDay`] when an annual meeting finds no day;
/// [`PlanError::LocalTime`] when a start time does not exist in Vienna on a planned day.
pub fn plan_year(year: i32, bodies: &[Body]) -> Result<YearPlan, PlanError> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        return Err(PlanError::YearOutOfRange { year });
    }
    let holidays = austrian_public_holidays(year);
    let mut plan = YearPlan::default();
    for body in bodies.iter().filter(|body| body.is_regular()) {
        let room = body.default_room.ok_or(PlanError::NoDefaultRoom { body: body.code })?;
        let mut planner = BodyPlanner { body, room, plan: &mut plan };
        match body.cadence {
            Cadence::Weekly { weekday, start, recesses } => {
                for date in weekdays_of(year, weekday).filter(|&date| !in_recess(recesses, date)) {
                    match holiday_on(&holidays, date) {
                        Some(holiday) => planner.skip(date, closed_reason(holiday)),
                        None => {
                            planner.add(date, start)?;
                        }
                    }
                }
            }
            Cadence::Spread { per_year, weekday, start, recesses } => {
                let open: Vec<NaiveDate> = weekdays_of(year, weekday)
                    .filter(|&date| !in_recess(recesses, date))
                    .filter(|&date| holiday_on(&holidays, date).is_none())
                    .collect();
                for date in spread(&open, per_year) {
                    planner.add(date, start)?;
                }
            }
            Cadence::Annual { weekday, start, on_or_after } => {
                let no_day = PlanError::NoOpenDay { body: body.code, year, weekday, on_or_after };
                let earliest =
                    NaiveDate::from_ymd_opt(year, on_or_after.month, on_or_after.day).ok_or_else(|| no_day.clone())?;
                let mut candidates = weekdays_of(year, weekday).filter(|&date| date >= earliest);
                loop {
                    let date = candidates.next().ok_or_else(|| no_day.clone())?;
                    match holiday_on(&holidays, date) {
                        Some(holiday) => planner.skip(date, closed_reason(holiday)),
                        None if planner.add(date, start)? => break,
                        None => {}
                    }
                }
            }
            Cadence::OneOff { .. } => {}
        }
    }
    plan.meetings.sort_by(|a, b| a.start_utc.cmp(&b.start_utc).then(a.body.cmp(&b.body)));
    plan.skipped.sort_by(|a, b| a.date.cmp(&b.date).then(a.body.cmp(&b.body)));
    Ok(plan)
}

/// Adds one body's meetings to a plan, keeping rooms free of double bookings.
struct BodyPlanner<'a> {
    body: &'a Body,
    room: &'static str,
    plan: &'a mut YearPlan,
}

impl BodyPlanner<'_> {
    /// Plans a meeting on `date`, or records why not; whether it was planned.
    fn add(&mut self, date: NaiveDate, start: NaiveTime) -> Result<bool, PlanError> {
        let local_start = date.and_time(start);
        let local_end = local_start + self.body.default_duration;
        let resolve = |local| {
            resolve_local(local, VIENNA)
                .map(|instant| instant.with_timezone(&Utc))
                .map_err(|source| PlanError::LocalTime { body: self.body.code, date, source })
        };
        let (start_utc, end_utc) = (resolve(local_start)?, resolve(local_end)?);
        let taken = self
            .plan
            .meetings
            .iter()
            .find(|other| other.start_utc < end_utc && start_utc < other.end_utc && other.room == self.room);
        if let Some(other) = taken {
            let reason = format!(
                "room {} already taken by {} ({}, {}–{})",
                self.room,
                other.title,
                other.plan_key,
                other.start.format("%H:%M"),
                other.end.format("%H:%M"),
            );
            self.skip(date, reason);
            return Ok(false);
        }
        self.plan.meetings.push(PlannedMeeting {
            plan_key: format!("{}-{date}", self.body.code),
            body: self.body.code,
            title: self.body.name_en.to_owned(),
            start: local_start,
            end: local_end,
            time_zone: VIENNA,
            start_utc,
            end_utc,
            room: self.room.to_owned(),
        });
        Ok(true)
    }

    fn skip(&mut self, date: NaiveDate, reason: String) {
        self.plan.skipped.push(SkippedDate { body: self.body.code, date, reason });
    }
}

/// Every `weekday` of `year`, in order.
fn weekdays_of(year: i32, weekday: Weekday) -> impl Iterator<Item = NaiveDate> {
    let first = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|new_year| {
        let offset = (7 + weekday.num_days_from_monday() - new_year.weekday().num_days_from_monday()) % 7;
        new_year.checked_add_days(Days::new(u64::from(offset)))
    });
    std::iter::successors(first, |date| date.checked_add_days(Days::new(7))).take_while(move |date| date.year() == year)
}

fn in_recess(recesses: &[Recess], date: NaiveDate) -> bool {
    recesses.iter().any(|recess| recess.contains(date))
}

fn holiday_on(holidays: &[Holiday], date: NaiveDate) -> Option<&Holiday> {
    holidays.iter().find(|holiday| holiday.date == date)
}

fn closed_reason(holiday: &Holiday) -> String {
    format!("Hofburg closed: {} (Austrian public holiday)", holiday.name_en)
}

/// `count` dates picked evenly from `open`: the middle of each of `count` equal shares.
fn spread(open: &[NaiveDate], count: u32) -> impl Iterator<Item = NaiveDate> + '_ {
    let count = usize::try_from(count).unwrap_or(usize::MAX).min(open.len());
    (0..count).map(move |share| open[(2 * share + 1) * open.len() / (2 * count)])
}

fn serialize_zone<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(zone.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bodies::{all_bodies, rooms};
    use crate::holidays::austrian_holiday_on;
    use chrono::{TimeDelta, Timelike};
    use proptest::prelude::*;

    fn plan(year: i32) -> YearPlan {
        plan_year(year, all_bodies()).unwrap()
    }

    fn count(plan: &YearPlan, body: BodyCode) -> usize {
        plan.meetings.iter().filter(|m| m.body == body).count()
    }

    fn date(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// Last Sunday of `month`, computed without chrono-tz: the EU's clock-change days.
    fn last_sunday(year: i32, month: u32) -> NaiveDate {
        let last = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap().pred_opt().unwrap();
        last - TimeDelta::days(i64::from(last.weekday().num_days_from_sunday()))
    }

    #[test]
    fn years_outside_the_range_are_refused_naming_the_field() {
        for year in [1974, 2101] {
            let error = plan_year(year, all_bodies()).unwrap_err();
            assert_eq!(error, PlanError::YearOutOfRange { year });
            assert!(error.to_string().contains("field `year`"), "{error}");
            assert!(error.to_string().contains(&year.to_string()), "{error}");
        }
        assert!(plan_year(1975, all_bodies()).is_ok());
        assert!(plan_year(2100, all_bodies()).is_ok());
    }

    #[test]
    fn the_2027_pc_starts_on_14_january_and_skips_ascension_and_corpus_christi() {
        let plan = plan(2027);
        let pc: Vec<&PlannedMeeting> = plan.meetings.iter().filter(|m| m.body == BodyCode::Pc).collect();
        assert_eq!(pc[0].plan_key, "PC-2027-01-14");
        assert_eq!(pc[0].title, "Permanent Council");
        assert_eq!(pc[0].room, rooms::NEUER_SAAL);
        assert_eq!(pc[0].end - pc[0].start, TimeDelta::hours(3));
        let last = pc.last().unwrap();
        assert_eq!(last.plan_key, "PC-2027-12-16");
        assert!(!pc.iter().any(|m| m.start.month() == 8));
        let skipped: Vec<(NaiveDate, &str)> =
            plan.skipped.iter().filter(|s| s.body == BodyCode::Pc).map(|s| (s.date, s.reason.as_str())).collect();
        assert_eq!(
            skipped,
            [
                (date("2027-05-06"), "Hofburg closed: Ascension Day (Austrian public holiday)"),
                (date("2027-05-27"), "Hofburg closed: Corpus Christi (Austrian public holiday)"),
            ]
        );
    }

    #[test]
    fn planning_twice_gives_the_same_unique_keys() {
        let first = plan(2031);
        assert_eq!(first, plan(2031));
        let mut keys: Vec<&str> = first.meetings.iter().map(|m| m.plan_key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), first.meetings.len());
    }

    #[test]
    fn the_contact_groups_meet_six_times_in_the_ratsaal_and_jointly_once() {
        let plan = plan(2027);
        for body in [BodyCode::CgMed, BodyCode::CgAsia] {
            let meetings: Vec<&PlannedMeeting> = plan.meetings.iter().filter(|m| m.body == body).collect();
            assert_eq!(meetings.len(), 6, "{body}");
            assert!(meetings.iter().all(|m| m.room == rooms::RATSAAL));
            // Spread over the year: at least one in each half, never two in one month.
            let months: Vec<u32> = meetings.iter().map(|m| m.start.month()).collect();
            assert!(months.iter().any(|&m| m <= 6) && months.iter().any(|&m| m >= 9), "{months:?}");
            assert!(months.windows(2).all(|pair| pair[0] < pair[1]), "{months:?}");
        }
        let joint: Vec<&PlannedMeeting> = plan.meetings.iter().filter(|m| m.body == BodyCode::CgJoint).collect();
        assert_eq!(joint.len(), 1);
        assert_eq!(joint[0].plan_key, "CG-JOINT-2027-11-16");
    }

    #[test]
    fn a_body_asking_for_a_taken_room_is_skipped_with_the_other_meeting_named() {
        let clashing = Body {
            cadence: Cadence::Weekly {
                weekday: Weekday::Thu,
                start: NaiveTime::from_hms_opt(11, 0, 0).unwrap(),
                recesses: &[],
            },
            default_room: Some(rooms::NEUER_SAAL),
            ..*BodyCode::CgMed.body()
        };
        let plan = plan_year(2027, &[*BodyCode::Pc.body(), clashing]).unwrap();
        assert_eq!(count(&plan, BodyCode::CgMed), 52 - count(&plan, BodyCode::Pc) - 2);
        let reason =
            &plan.skipped.iter().find(|s| s.body == BodyCode::CgMed && s.date == date("2027-01-14")).unwrap().reason;
        assert_eq!(reason, "room HOFBURG-NEUER-SAAL already taken by Permanent Council (PC-2027-01-14, 10:00–13:00)");
    }

    #[test]
    fn an_annual_meeting_whose_room_is_taken_moves_to_the_next_week() {
        // A PC meeting on Tuesday 16 November 2027 only, overlapping the joint meeting's 15:00.
        const ALL_BUT_16_NOVEMBER: &[Recess] = &[
            Recess { name: "before", from: MonthDay::new(1, 1), to: MonthDay::new(11, 15) },
            Recess { name: "after", from: MonthDay::new(11, 17), to: MonthDay::new(12, 31) },
        ];
        let tuesday_pc = Body {
            cadence: Cadence::Weekly {
                weekday: Weekday::Tue,
                start: NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
                recesses: ALL_BUT_16_NOVEMBER,
            },
            ..*BodyCode::Pc.body()
        };
        let plan = plan_year(2027, &[tuesday_pc, *BodyCode::CgJoint.body()]).unwrap();
        let joint: Vec<&str> =
            plan.meetings.iter().filter(|m| m.body == BodyCode::CgJoint).map(|m| m.plan_key.as_str()).collect();
        assert_eq!(joint, ["CG-JOINT-2027-11-23"]);
        assert_eq!(count(&plan, BodyCode::Pc), 1);
        assert!(plan.skipped.iter().any(|s| s.body == BodyCode::CgJoint && s.date == date("2027-11-16")));
    }

    #[test]
    fn a_regular_body_without_a_room_cannot_be_planned() {
        let roomless = Body { default_room: None, ..*BodyCode::Fsc.body() };
        let error = plan_year(2027, &[roomless]).unwrap_err();
        assert_eq!(error, PlanError::NoDefaultRoom { body: BodyCode::Fsc });
        assert!(error.to_string().contains("default_room"), "{error}");
    }

    #[test]
    fn one_off_bodies_are_not_planned() {
        let plan = plan_year(2027, &[*BodyCode::Mc.body(), *BodyCode::Hdim.body()]).unwrap();
        assert_eq!(plan, YearPlan::default());
    }

    #[test]
    fn every_year_from_2000_to_2040_has_the_expected_counts() {
        for year in 2000..=2040 {
            let plan = plan(year);
            let pc = count(&plan, BodyCode::Pc);
            let fsc = count(&plan, BodyCode::Fsc);
            assert!((41..=43).contains(&pc), "{year}: {pc} PC meetings");
            assert!((30..=38).contains(&fsc), "{year}: {fsc} FSC meetings");
            assert_eq!(count(&plan, BodyCode::CgMed), 6, "{year}");
            assert_eq!(count(&plan, BodyCode::CgAsia), 6, "{year}");
            assert_eq!(count(&plan, BodyCode::CgJoint), 1, "{year}");
        }
    }

    proptest! {
        #[test]
        fn no_two_meetings_share_a_room_at_once(year in FIRST_YEAR..=LAST_YEAR) {
            let plan = plan(year);
            for (index, a) in plan.meetings.iter().enumerate() {
                for b in &plan.meetings[index + 1..] {
                    let overlap = a.start_utc < b.end_utc && b.start_utc < a.end_utc;
                    prop_assert!(a.room != b.room || !overlap, "{} and {}", a.plan_key, b.plan_key);
                }
            }
        }

        #[test]
        fn no_meeting_on_a_holiday_or_in_its_recess(year in FIRST_YEAR..=LAST_YEAR) {
            for meeting in plan(year).meetings {
                let day = meeting.start.date();
                prop_assert_eq!(austrian_holiday_on(day), None, "{}", meeting.plan_key);
                prop_assert_eq!(meeting.body.body().cadence.recess_on(day), None, "{}", meeting.plan_key);
                prop_assert_eq!(day.year(), year);
            }
        }

        #[test]
        fn the_pc_meets_thursdays_at_ten_in_vienna_across_daylight_saving(year in 2000i32..=2040) {
            let summer_from = last_sunday(year, 3);
            let summer_until = last_sunday(year, 10);
            for meeting in plan(year).meetings.iter().filter(|m| m.body == BodyCode::Pc) {
                prop_assert_eq!(meeting.start.weekday(), Weekday::Thu);
                prop_assert_eq!((meeting.start.hour(), meeting.start.minute()), (10, 0));
                prop_assert_eq!(meeting.time_zone, VIENNA);
                let day = meeting.start.date();
                let utc_hour = if summer_from < day && day < summer_until { 8 } else { 9 };
                prop_assert_eq!(meeting.start_utc.hour(), utc_hour, "{}", meeting.plan_key);
                prop_assert_eq!(meeting.start_utc.date_naive(), day);
            }
        }
    }
}
