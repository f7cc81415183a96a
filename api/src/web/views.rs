//! What templates show of a meeting, a body or a State, worked out once here so templates stay
//! simple: local times in the meeting's own zone, colours by body, places in words.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use scheduler::{
    bodies::all_bodies,
    when_where::{Language, zone_city},
};

use crate::{
    db::entities::meetings,
    db::enums::MeetingStatus,
    store::meetings::{Context, time_of},
};

/// The zone Plenary's calendar counts "today" in: where most meetings are.
pub const HOME_ZONE: Tz = chrono_tz::Europe::Vienna;

/// A meeting in a list or a calendar cell.
#[derive(Debug, Clone)]
pub struct MeetingItem {
    pub id: i32,
    pub title: String,
    pub body: String,
    /// CSS class giving the body's colour, e.g. `b-cg-med`.
    pub body_class: String,
    /// The local date it starts on, where it happens.
    pub date: NaiveDate,
    /// RFC 3339 with the local offset, for `<time datetime>` (the script adds the viewer's time).
    pub start_iso: String,
    /// Local start and end, `10:00`; the end with its date when it is another day.
    pub start_time: String,
    pub end_time: String,
    /// Local date, start and end in full: "Tuesday 15 June 2027, 10:00–13:00".
    pub when: String,
    /// IANA zone, e.g. `Asia/Tokyo`.
    pub zone: String,
    /// The zone's city, e.g. `Tokyo`.
    pub zone_city: String,
    /// Room or city.
    pub place: String,
    pub cancelled: bool,
}

impl MeetingItem {
    #[must_use]
    pub fn new(meeting: &meetings::Model, context: &Context) -> Self {
        let zone = meeting.zone();
        let start = local(meeting.starts_at, zone);
        let end = local(meeting.ends_at, zone);
        let room = meeting.room_code.as_deref().and_then(|code| context.room(code));
        let place = match (room, &meeting.city) {
            (Some((room, venue)), _) => format!("{}, {}", room.name, venue.name),
            (None, Some(city)) => city.clone(),
            (None, None) => meeting.venue.clone().unwrap_or_default(),
        };
        Self {
            id: meeting.id,
            title: meeting.title.clone(),
            body: meeting.body_code.clone(),
            body_class: body_class(&meeting.body_code),
            date: start.date_naive(),
            start_iso: start.to_rfc3339(),
            start_time: start.format("%H:%M").to_string(),
            end_time: if end.date_naive() == start.date_naive() {
                end.format("%H:%M").to_string()
            } else {
                end.format("%a %-d %b, %H:%M").to_string()
            },
            when: time_of(meeting).period(Language::English),
            zone: meeting.time_zone.clone(),
            zone_city: zone_city(&meeting.time_zone),
            place,
            cancelled: meeting.status == MeetingStatus::Cancelled,
        }
    }
}

/// "1 seat", "3 seats".
#[must_use]
pub fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// A Unix instant as wall time in `zone`.
#[must_use]
pub fn local(unix: i64, zone: Tz) -> DateTime<Tz> {
    DateTime::<Utc>::from_timestamp(unix, 0).unwrap_or_default().with_timezone(&zone)
}

/// `CG-MED` → `b-cg-med`.
#[must_use]
pub fn body_class(code: &str) -> String {
    format!("b-{}", code.to_lowercase())
}

/// One entry of the colour legend and the body filter.
#[derive(Debug, Clone)]
pub struct BodyEntry {
    pub code: &'static str,
    pub name: &'static str,
    pub class: String,
}

/// Every body, in the scheduler's order.
#[must_use]
pub fn bodies() -> Vec<BodyEntry> {
    all_bodies()
        .iter()
        .map(|body| BodyEntry { code: body.code.as_str(), name: body.name_en, class: body_class(body.code.as_str()) })
        .collect()
}

/// A State or Partner for a select list.
#[derive(Debug, Clone)]
pub struct StateOption {
    pub iso2: String,
    pub name: String,
    /// The IANA zone of its capital, offered when it hosts a meeting.
    pub zone: &'static str,
}

/// Every State and Partner ever known, by English name.
#[must_use]
pub fn state_options(context: &Context) -> Vec<StateOption> {
    let mut options: Vec<StateOption> = context
        .states
        .states
        .iter()
        .map(|state| StateOption {
            iso2: state.iso2.clone(),
            name: state.name_en.clone(),
            zone: capital_zone(&state.iso2).unwrap_or(""),
        })
        .collect();
    options.sort_by(|a, b| a.name.cmp(&b.name));
    options.dedup_by(|a, b| a.iso2 == b.iso2);
    options
}

/// A State's English name, or its code when unknown.
#[must_use]
pub fn state_name(context: &Context, iso2: &str) -> String {
    context.state_name(iso2, Language::English)
}

/// The zone of a participating State's or Partner's capital: a starting point the organiser
/// can change (a conference in Chiang Mai is still Asia/Bangkok; one in Vladivostok is not
/// Europe/Moscow).
#[must_use]
pub fn capital_zone(iso2: &str) -> Option<&'static str> {
    CAPITAL_ZONES.iter().find(|(code, _)| *code == iso2).map(|(_, zone)| *zone)
}

const CAPITAL_ZONES: &[(&str, &str)] = &[
    ("AD", "Europe/Andorra"),
    ("AF", "Asia/Kabul"),
    ("AL", "Europe/Tirane"),
    ("AM", "Asia/Yerevan"),
    ("AT", "Europe/Vienna"),
    ("AU", "Australia/Sydney"),
    ("AZ", "Asia/Baku"),
    ("BA", "Europe/Sarajevo"),
    ("BE", "Europe/Brussels"),
    ("BG", "Europe/Sofia"),
    ("BY", "Europe/Minsk"),
    ("CA", "America/Toronto"),
    ("CH", "Europe/Zurich"),
    ("CY", "Asia/Nicosia"),
    ("CZ", "Europe/Prague"),
    ("DE", "Europe/Berlin"),
    ("DK", "Europe/Copenhagen"),
    ("DZ", "Africa/Algiers"),
    ("EE", "Europe/Tallinn"),
    ("EG", "Africa/Cairo"),
    ("ES", "Europe/Madrid"),
    ("FI", "Europe/Helsinki"),
    ("FR", "Europe/Paris"),
    ("GB", "Europe/London"),
    ("GE", "Asia/Tbilisi"),
    ("GR", "Europe/Athens"),
    ("HR", "Europe/Zagreb"),
    ("HU", "Europe/Budapest"),
    ("IE", "Europe/Dublin"),
    ("IL", "Asia/Jerusalem"),
    ("IS", "Atlantic/Reykjavik"),
    ("IT", "Europe/Rome"),
    ("JO", "Asia/Amman"),
    ("JP", "Asia/Tokyo"),
    ("KG", "Asia/Bishkek"),
    ("KR", "Asia/Seoul"),
    ("KZ", "Asia/Almaty"),
    ("LI", "Europe/Vaduz"),
    ("LT", "Europe/Vilnius"),
    ("LU", "Europe/Luxembourg"),
    ("LV", "Europe/Riga"),
    ("MA", "Africa/Casablanca"),
    ("MC", "Europe/Monaco"),
    ("MD", "Europe/Chisinau"),
    ("ME", "Europe/Podgorica"),
    ("MK", "Europe/Skopje"),
    ("MN", "Asia/Ulaanbaatar"),
    ("MT", "Europe/Malta"),
    ("NL", "Europe/Amsterdam"),
    ("NO", "Europe/Oslo"),
    ("PL", "Europe/Warsaw"),
    ("PT", "Europe/Lisbon"),
    ("RO", "Europe/Bucharest"),
    ("RS", "Europe/Belgrade"),
    ("RU", "Europe/Moscow"),
    ("SE", "Europe/Stockholm"),
    ("SI", "Europe/Ljubljana"),
    ("SK", "Europe/Bratislava"),
    ("SM", "Europe/San_Marino"),
    ("TH", "Asia/Bangkok"),
    ("TJ", "Asia/Dushanbe"),
    ("TM", "Asia/Ashgabat"),
    ("TN", "Africa/Tunis"),
    ("TR", "Europe/Istanbul"),
    ("UA", "Europe/Kyiv"),
    ("US", "America/New_York"),
    ("UZ", "Asia/Tashkent"),
    ("VA", "Europe/Vatican"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_capital_zone_is_a_known_zone() {
        for (iso2, zone) in CAPITAL_ZONES {
            assert!(zone.parse::<Tz>().is_ok(), "{iso2}: {zone}");
        }
    }

    #[test]
    fn every_state_in_the_reference_data_has_a_capital_zone() {
        let data = scheduler::reference::ReferenceData::bundled();
        for state in &data.states {
            assert!(capital_zone(&state.iso2).is_some(), "{} has no capital zone", state.iso2);
        }
    }
}
