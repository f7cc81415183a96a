//! The lists people print and open in spreadsheets: what is in them, in which order, under
//! which labels. One place decides, and every format follows it: the attendance list
//! ([`AttendanceSheet`]) as CSV here and as XLSX, the list of participants
//! ([`participants`]) and the name badges ([`badges`]) as PDF (written by the service).
//!
//! - Rows go by State in protocol order (French collation of the protocol names), then those
//!   registered before those waiting, the main table before the seats behind, then order of
//!   arrival.
//! - People read State names, never codes, and plain words ("Main table", "Waiting list"); no
//!   internal column (ids, arrival counters, override flags) is shown.
//! - The participants and the badges are the registered people only: someone on the waiting
//!   list has no seat yet.
//! - A file is named after the meeting and its date ([`file_name`]), with the characters that
//!   file systems refuse replaced.

use std::cmp::Ordering;

use chrono::{NaiveDate, NaiveDateTime};

use crate::{
    attendance::{Seat, Status},
    protocol::protocol_cmp,
    text::Csv,
};

/// One registered or waiting person, with what the lists show about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendee {
    /// The State's name as people read it ("Austria").
    pub state_name: String,
    /// The name protocol order sorts by ("Autriche").
    pub protocol_sort_key: String,
    pub name: String,
    pub function: String,
    pub email: String,
    pub seat: Seat,
    /// Confirmed or waiting; withdrawn people are not listed.
    pub status: Status,
    /// Order of arrival within the meeting.
    pub arrival: i64,
    /// When they were registered, on the clock of the meeting's place.
    pub registered_at: NaiveDateTime,
}

/// The column headings of the attendance list, in order; `zone_city` names the clock of the
/// registration times ("Amman"), since the reader may be elsewhere.
#[must_use]
pub fn attendance_columns(zone_city: &str) -> [String; 7] {
    [
        "State".to_owned(),
        "Name".to_owned(),
        "Function".to_owned(),
        "E-mail".to_owned(),
        "Seat".to_owned(),
        "Status".to_owned(),
        format!("Registered at ({zone_city} time)"),
    ]
}

/// The words for a seat.
#[must_use]
pub const fn seat_label(seat: Seat) -> &'static str {
    match seat {
        Seat::Main => "Main table",
        Seat::Behind => "Behind",
    }
}

/// The words for where a registration stands.
#[must_use]
pub const fn status_label(status: Status) -> &'static str {
    match status {
        Status::Confirmed => "Registered",
        Status::Waiting => "Waiting list",
        Status::Withdrawn => "Withdrawn",
    }
}

/// The attendance list: headings and rows of text, the same in every format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttendanceSheet {
    pub columns: [String; 7],
    pub rows: Vec<[String; 7]>,
}

impl AttendanceSheet {
    /// The list of `attendees` (withdrawn ones left out) in the module's order, registration
    /// times on the clock of `zone_city`.
    #[must_use]
    pub fn of(attendees: &[Attendee], zone_city: &str) -> Self {
        let rows = in_list_order(attendees.iter().filter(|attendee| attendee.status != Status::Withdrawn))
            .into_iter()
            .map(|attendee| {
                [
                    attendee.state_name.clone(),
                    attendee.name.clone(),
                    attendee.function.clone(),
                    attendee.email.clone(),
                    seat_label(attendee.seat).to_owned(),
                    status_label(attendee.status).to_owned(),
                    attendee.registered_at.format("%Y-%m-%d %H:%M").to_string(),
                ]
            })
            .collect();
        Self { columns: attendance_columns(zone_city), rows }
    }

    /// The list as CSV for spreadsheets: UTF-8 with a byte-order mark (without it Excel reads
    /// "Jürgen" as "JÃ¼rgen"), every cell defused by [`Csv`] (a name starting with `=` is text,
    /// not a formula).
    #[must_use]
    pub fn to_csv(&self) -> String {
        let columns: Vec<&str> = self.columns.iter().map(String::as_str).collect();
        let mut csv = Csv::with_header(&columns);
        for row in &self.rows {
            csv.row(row);
        }
        format!("\u{feff}{}", csv.finish())
    }
}

/// One person in the list of participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub name: String,
    pub function: String,
    pub seat: &'static str,
}

/// A State's registered people, in the list of participants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateGroup {
    pub state_name: String,
    pub people: Vec<Participant>,
}

/// The list of participants: the registered people, grouped by State in protocol order, the
/// main table first.
#[must_use]
pub fn participants(attendees: &[Attendee]) -> Vec<StateGroup> {
    let mut groups: Vec<StateGroup> = Vec::new();
    for attendee in in_list_order(attendees.iter().filter(|attendee| attendee.status == Status::Confirmed)) {
        let participant = Participant {
            name: attendee.name.clone(),
            function: attendee.function.clone(),
            seat: seat_label(attendee.seat),
        };
        match groups.last_mut() {
            Some(group) if group.state_name == attendee.state_name => group.people.push(participant),
            _ => groups.push(StateGroup { state_name: attendee.state_name.clone(), people: vec![participant] }),
        }
    }
    groups
}

/// What one name badge says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    pub name: String,
    pub function: String,
    pub state_name: String,
    pub meeting_title: String,
}

/// A badge for each registered person of meeting `meeting_title`, in the list's order.
#[must_use]
pub fn badges(attendees: &[Attendee], meeting_title: &str) -> Vec<Badge> {
    in_list_order(attendees.iter().filter(|attendee| attendee.status == Status::Confirmed))
        .into_iter()
        .map(|attendee| Badge {
            name: attendee.name.clone(),
            function: attendee.function.clone(),
            state_name: attendee.state_name.clone(),
            meeting_title: meeting_title.to_owned(),
        })
        .collect()
}

/// A download's file name: "Mediterranean Conference 2027 - 2027-10-20 - attendance.xlsx".
/// Characters that Windows or macOS refuse in a file name (`/ \ : * ? " < > |` and control
/// characters) become `-`, so the title survives a "Save as".
#[must_use]
pub fn file_name(meeting_title: &str, date: NaiveDate, what: &str, extension: &str) -> String {
    let title: String =
        meeting_title.chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '-' } else { c }).collect();
    format!("{} - {} - {what}.{extension}", title.trim(), date.format("%Y-%m-%d"))
}

fn in_list_order<'a>(attendees: impl Iterator<Item = &'a Attendee>) -> Vec<&'a Attendee> {
    let mut listed: Vec<&Attendee> = attendees.collect();
    listed.sort_by(|a, b| list_order(a, b));
    listed
}

fn list_order(a: &Attendee, b: &Attendee) -> Ordering {
    protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key)
        .then_with(|| a.state_name.cmp(&b.state_name))
        .then_with(|| rank(a.status).cmp(&rank(b.status)))
        .then_with(|| (a.seat == Seat::Behind).cmp(&(b.seat == Seat::Behind)))
        .then_with(|| a.arrival.cmp(&b.arrival))
}

const fn rank(status: Status) -> u8 {
    match status {
        Status::Confirmed => 0,
        Status::Waiting => 1,
        Status::Withdrawn => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attendee(state: (&str, &str), name: &str, seat: Seat, status: Status, arrival: i64) -> Attendee {
        Attendee {
            state_name: state.0.to_owned(),
            protocol_sort_key: state.1.to_owned(),
            name: name.to_owned(),
            function: "Adviser".to_owned(),
            email: format!("{}@example.org", arrival),
            seat,
            status,
            arrival,
            registered_at: NaiveDate::from_ymd_opt(2027, 9, 1).unwrap().and_hms_opt(14, 5, 0).unwrap(),
        }
    }

    const AUSTRIA: (&str, &str) = ("Austria", "Autriche");
    const GERMANY: (&str, &str) = ("Germany", "Allemagne");
    const UNITED_STATES: (&str, &str) = ("United States of America", "Amérique (États-Unis d')");

    fn sample() -> Vec<Attendee> {
        vec![
            attendee(AUSTRIA, "Anna Huber", Seat::Behind, Status::Waiting, 1),
            attendee(AUSTRIA, "Karl Gruber", Seat::Behind, Status::Confirmed, 2),
            attendee(UNITED_STATES, "Jane Doe", Seat::Main, Status::Confirmed, 3),
            attendee(GERMANY, "Jürgen Müller-Lüdenscheidt", Seat::Main, Status::Confirmed, 4),
            attendee(AUSTRIA, "Eva Bauer", Seat::Main, Status::Confirmed, 5),
            attendee(GERMANY, "Withdrawn Person", Seat::Behind, Status::Withdrawn, 6),
        ]
    }

    #[test]
    fn the_sheet_has_plain_columns_and_rows_by_state_in_protocol_order() {
        let sheet = AttendanceSheet::of(&sample(), "Amman");
        assert_eq!(
            sheet.columns,
            ["State", "Name", "Function", "E-mail", "Seat", "Status", "Registered at (Amman time)"].map(String::from)
        );
        let names: Vec<(&str, &str)> = sheet.rows.iter().map(|row| (row[0].as_str(), row[1].as_str())).collect();
        // Allemagne < Amérique < Autriche; registered before waiting; main table first.
        assert_eq!(
            names,
            [
                ("Germany", "Jürgen Müller-Lüdenscheidt"),
                ("United States of America", "Jane Doe"),
                ("Austria", "Eva Bauer"),
                ("Austria", "Karl Gruber"),
                ("Austria", "Anna Huber"),
            ]
        );
        assert_eq!(
            sheet.rows[4],
            ["Austria", "Anna Huber", "Adviser", "1@example.org", "Behind", "Waiting list", "2027-09-01 14:05"]
                .map(String::from)
        );
        assert_eq!(sheet.rows[2][4..6], ["Main table".to_owned(), "Registered".to_owned()]);
    }

    #[test]
    fn the_csv_starts_with_a_byte_order_mark_and_defuses_formulas() {
        let mut people = sample();
        people[0].name = "=HYPERLINK(\"http://evil.example\",\"x\")".to_owned();
        let csv = AttendanceSheet::of(&people, "Amman").to_csv();
        assert!(csv.starts_with("\u{feff}State,Name,Function,E-mail,Seat,Status,Registered at (Amman time)\r\n"));
        assert!(csv.contains("Germany,Jürgen Müller-Lüdenscheidt,Adviser,"));
        assert!(csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""), "{csv}");
    }

    #[test]
    fn participants_are_the_registered_grouped_by_state() {
        let groups = participants(&sample());
        let summary: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|group| (group.state_name.as_str(), group.people.iter().map(|person| person.name.as_str()).collect()))
            .collect();
        assert_eq!(
            summary,
            [
                ("Germany", vec!["Jürgen Müller-Lüdenscheidt"]),
                ("United States of America", vec!["Jane Doe"]),
                ("Austria", vec!["Eva Bauer", "Karl Gruber"]),
            ]
        );
        assert_eq!(groups[2].people[1].seat, "Behind");
    }

    #[test]
    fn a_badge_for_each_registered_person() {
        let badges = badges(&sample(), "Mediterranean Conference 2027");
        assert_eq!(badges.len(), 4);
        assert_eq!(
            badges[0],
            Badge {
                name: "Jürgen Müller-Lüdenscheidt".to_owned(),
                function: "Adviser".to_owned(),
                state_name: "Germany".to_owned(),
                meeting_title: "Mediterranean Conference 2027".to_owned(),
            }
        );
    }

    #[test]
    fn file_names_carry_the_title_and_date_and_nothing_a_file_system_refuses() {
        let date = NaiveDate::from_ymd_opt(2027, 10, 20).unwrap();
        assert_eq!(
            file_name("Mediterranean Conference 2027", date, "attendance", "xlsx"),
            "Mediterranean Conference 2027 - 2027-10-20 - attendance.xlsx"
        );
        assert_eq!(
            file_name("PC: \"Special\" session 1/2", date, "badges", "pdf"),
            "PC- -Special- session 1-2 - 2027-10-20 - badges.pdf"
        );
    }
}
