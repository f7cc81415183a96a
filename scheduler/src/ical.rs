//! iCalendar text (RFC 5545) for subscription feeds and for e-mail invitations (RFC 5546 iTIP,
//! carried as RFC 6047 iMIP by the mailer).
//!
//! The emitter is written here rather than with the `icalendar` crate's builder, for control
//! over three things the crate gets wrong or leaves out: folding (it may fold between the
//! backslash and the letter of an escape such as `\n`, which breaks the text for strict
//! readers), VTIMEZONE blocks (it writes none, and Outlook needs one for every TZID), and
//! escaping of parameter values (DQUOTE and control characters). Everything here is pure: the
//! stamp is passed in, nothing reads a clock.
//!
//! Times are written as local wall time in the meeting's own zone with its TZID, so a meeting in
//! Tokyo shows as 10:00 Tokyo time in every client. The one exception is the second occurrence
//! of a wall time repeated when clocks go back: RFC 5545 reads such a time as the first
//! occurrence, so that instant is written in UTC instead of silently moving by an hour.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::vtimezone::VTimezone;

const PRODID: &str = "-//Plenary//Plenary//EN";

/// RFC 5545 §3.1: content lines are folded so that no physical line exceeds 75 octets, not
/// counting the CRLF.
const MAX_LINE_OCTETS: usize = 75;

/// Whether a meeting takes place; a cancelled one stays in feeds so clients remove it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Confirmed,
    Cancelled,
}

impl EventStatus {
    fn as_ical(self) -> &'static str {
        match self {
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
        }
    }
}

/// One meeting as a calendar event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable for the meeting's lifetime: clients match updates and cancellations by it.
    pub uid: String,
    /// Raised on every change clients must apply (RFC 5546 §2.1.4); a cancellation needs a
    /// higher one than the last request.
    pub sequence: u32,
    pub summary: String,
    /// Omitted from the output when empty.
    pub location: String,
    /// Omitted from the output when empty.
    pub description: String,
    pub url: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The zone of the place where the meeting happens; DTSTART and DTEND are written in it.
    pub time_zone: Tz,
    pub status: EventStatus,
    pub last_modified: DateTime<Utc>,
    /// Omitted from the output when empty.
    pub categories: Vec<String>,
}

/// A subscription feed: everything one scope (a delegation, a body, all) should see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feed {
    /// Shown by clients as the calendar's name (X-WR-CALNAME), e.g. "OSCE meetings – Austria".
    pub name: String,
    /// DTSTAMP of every event: when the feed was generated.
    pub stamp: DateTime<Utc>,
    pub events: Vec<CalendarEvent>,
}

/// The iTIP method of an invitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A new or updated meeting.
    Request,
    /// The meeting is cancelled; the event is written with STATUS:CANCELLED.
    Cancel,
}

/// A calendar user: a display name and an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    pub email: String,
}

/// One invitation to one attendee, as attached to an iMIP e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub method: Method,
    pub event: CalendarEvent,
    /// DTSTAMP: when the message was generated.
    pub stamp: DateTime<Utc>,
    pub organizer: Person,
    pub attendee: Person,
}

/// Renders a subscription feed (METHOD:PUBLISH) with one VTIMEZONE per zone used, each covering
/// the whole years of that zone's events.
#[must_use]
pub fn render_feed(feed: &Feed) -> String {
    let mut w = ContentWriter::with_capacity(1024 + feed.events.len() * 700);
    w.begin("VCALENDAR");
    calendar_header(&mut w, "PUBLISH");
    w.text("X-WR-CALNAME", &feed.name);
    w.raw("REFRESH-INTERVAL", &[("VALUE", "DURATION")], "PT1H");
    w.raw("X-PUBLISHED-TTL", &[], "PT1H");
    for vtimezone in vtimezones(&feed.events) {
        vtimezone.write(&mut w);
    }
    for event in &feed.events {
        w.begin("VEVENT");
        event_properties(&mut w, event, feed.stamp, event.status);
        w.end("VEVENT");
    }
    w.end("VCALENDAR");
    w.finish()
}

/// Renders an invitation (METHOD:REQUEST) or a cancellation (METHOD:CANCEL) for one attendee,
/// with the VTIMEZONE of the meeting's zone. A request carries the event's own status; a
/// cancellation is always STATUS:CANCELLED.
#[must_use]
pub fn render_invitation(invite: &Invitation) -> String {
    let (method, status) = match invite.method {
        Method::Request => ("REQUEST", invite.event.status),
        Method::Cancel => ("CANCEL", EventStatus::Cancelled),
    };
    let mut w = ContentWriter::with_capacity(4096);
    w.begin("VCALENDAR");
    calendar_header(&mut w, method);
    for vtimezone in vtimezones(std::slice::from_ref(&invite.event)) {
        vtimezone.write(&mut w);
    }
    w.begin("VEVENT");
    event_properties(&mut w, &invite.event, invite.stamp, status);
    let organizer = &invite.organizer;
    w.mailto("ORGANIZER", &[("CN", &organizer.name)], &organizer.email);
    let attendee = &invite.attendee;
    w.mailto(
        "ATTENDEE",
        &[("CN", &attendee.name), ("ROLE", "REQ-PARTICIPANT"), ("PARTSTAT", "NEEDS-ACTION"), ("RSVP", "TRUE")],
        &attendee.email,
    );
    w.end("VEVENT");
    w.end("VCALENDAR");
    w.finish()
}

fn calendar_header(w: &mut ContentWriter, method: &str) {
    w.raw("VERSION", &[], "2.0");
    w.raw("PRODID", &[], PRODID);
    w.raw("CALSCALE", &[], "GREGORIAN");
    w.raw("METHOD", &[], method);
}

/// One VTIMEZONE per zone used, in TZID order, each spanning the years of its events.
fn vtimezones(events: &[CalendarEvent]) -> impl Iterator<Item = VTimezone> {
    let mut spans: BTreeMap<&'static str, (Tz, DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
    for event in events {
        let (first, last) = (event.start.min(event.end), event.start.max(event.end));
        spans
            .entry(event.time_zone.name())
            .and_modify(|(_, from, to)| {
                *from = (*from).min(first);
                *to = (*to).max(last);
            })
            .or_insert((event.time_zone, first, last));
    }
    spans.into_values().map(|(tz, from, to)| VTimezone::covering_years(tz, from, to))
}

fn event_properties(w: &mut ContentWriter, event: &CalendarEvent, stamp: DateTime<Utc>, status: EventStatus) {
    w.text("UID", &event.uid);
    w.utc_date_time("DTSTAMP", stamp);
    w.zoned_date_time("DTSTART", event.start, event.time_zone);
    w.zoned_date_time("DTEND", event.end, event.time_zone);
    w.text("SUMMARY", &event.summary);
    if !event.location.is_empty() {
        w.text("LOCATION", &event.location);
    }
    if !event.description.is_empty() {
        w.text("DESCRIPTION", &event.description);
    }
    if let Some(url) = &event.url {
        w.raw("URL", &[], url);
    }
    w.number("SEQUENCE", event.sequence);
    w.raw("STATUS", &[], status.as_ical());
    w.utc_date_time("LAST-MODIFIED", event.last_modified);
    if !event.categories.is_empty() {
        w.text_list("CATEGORIES", &event.categories);
    }
}

/// Writes content lines: escapes values, quotes parameters, folds, ends lines with CRLF.
///
/// Each property is first assembled unfolded in `line`, then folded into `out`.
#[derive(Debug, Default)]
pub(crate) struct ContentWriter {
    out: String,
    line: String,
}

impl ContentWriter {
    fn with_capacity(capacity: usize) -> Self {
        Self { out: String::with_capacity(capacity), line: String::with_capacity(256) }
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }

    pub(crate) fn begin(&mut self, component: &str) {
        self.start("BEGIN", &[]);
        self.line.push_str(component);
        self.flush();
    }

    pub(crate) fn end(&mut self, component: &str) {
        self.start("END", &[]);
        self.line.push_str(component);
        self.flush();
    }

    /// A TEXT value (RFC 5545 §3.3.11), escaped.
    pub(crate) fn text(&mut self, name: &str, value: &str) {
        self.start(name, &[]);
        push_text(&mut self.line, value);
        self.flush();
    }

    /// A list of TEXT values, each escaped, separated by unescaped commas.
    fn text_list(&mut self, name: &str, values: &[String]) {
        self.start(name, &[]);
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.line.push(',');
            }
            push_text(&mut self.line, value);
        }
        self.flush();
    }

    /// A value with no escaping (URI, number, keyword); control characters are dropped so no
    /// input can start a line of its own.
    pub(crate) fn raw(&mut self, name: &str, params: &[(&str, &str)], value: &str) {
        self.start(name, params);
        push_replacing(&mut self.line, value, |byte| is_control(byte).then_some(""));
        self.flush();
    }

    fn mailto(&mut self, name: &str, params: &[(&str, &str)], email: &str) {
        self.start(name, params);
        self.line.push_str("mailto:");
        push_replacing(&mut self.line, email, |byte| (is_control(byte) || byte == b' ').then_some(""));
        self.flush();
    }

    fn number(&mut self, name: &str, value: u32) {
        self.start(name, &[]);
        // Writing to a `String` cannot fail.
        let _ = write!(self.line, "{value}");
        self.flush();
    }

    fn utc_date_time(&mut self, name: &str, at: DateTime<Utc>) {
        self.start(name, &[]);
        push_date_time(&mut self.line, at.naive_utc());
        self.line.push('Z');
        self.flush();
    }

    /// DATE-TIME with TZID in `tz`, or in UTC when the wall time would be read as another
    /// instant (the repeated hour when clocks go back).
    fn zoned_date_time(&mut self, name: &str, at: DateTime<Utc>, tz: Tz) {
        let local = at.with_timezone(&tz).naive_local();
        let reads_back = tz.from_local_datetime(&local).earliest().map(|d| d.naive_utc());
        if reads_back == Some(at.naive_utc()) {
            self.local_date_time(name, Some(tz), local);
        } else {
            self.utc_date_time(name, at);
        }
    }

    /// A floating local DATE-TIME, with a TZID parameter when `tz` is given.
    pub(crate) fn local_date_time(&mut self, name: &str, tz: Option<Tz>, local: NaiveDateTime) {
        match tz {
            Some(tz) => self.start(name, &[("TZID", tz.name())]),
            None => self.start(name, &[]),
        }
        push_date_time(&mut self.line, local);
        self.flush();
    }

    /// UTC-OFFSET (RFC 5545 §3.3.14): `+HHMM`, with seconds only when there are any.
    pub(crate) fn utc_offset(&mut self, name: &str, seconds_east: i32) {
        self.start(name, &[]);
        let sign = if seconds_east < 0 { '-' } else { '+' };
        let s = seconds_east.unsigned_abs();
        self.line.push(sign);
        push_two_digits(&mut self.line, s / 3600);
        push_two_digits(&mut self.line, s / 60 % 60);
        if !s.is_multiple_of(60) {
            push_two_digits(&mut self.line, s % 60);
        }
        self.flush();
    }

    fn start(&mut self, name: &str, params: &[(&str, &str)]) {
        self.line.clear();
        self.line.push_str(name);
        for (key, value) in params {
            self.line.push(';');
            self.line.push_str(key);
            self.line.push('=');
            push_param_value(&mut self.line, value);
        }
        self.line.push(':');
    }

    fn flush(&mut self) {
        fold_into(&mut self.out, &self.line);
    }
}

/// `YYYYMMDDTHHMMSS`, digits pushed directly: this runs twice per event and `write!` with
/// padding is several times slower.
fn push_date_time(line: &mut String, t: NaiveDateTime) {
    let year = t.year();
    if (0..=9999).contains(&year) {
        push_two_digits(line, year.unsigned_abs() / 100);
        push_two_digits(line, year.unsigned_abs() % 100);
    } else {
        // Writing to a `String` cannot fail.
        let _ = write!(line, "{year:04}");
    }
    push_two_digits(line, t.month());
    push_two_digits(line, t.day());
    line.push('T');
    push_two_digits(line, t.hour());
    push_two_digits(line, t.minute());
    push_two_digits(line, t.second());
}

/// The last two decimal digits of `n`.
fn push_two_digits(line: &mut String, n: u32) {
    const DIGITS: &[u8; 10] = b"0123456789";
    line.push(char::from(DIGITS[(n / 10 % 10) as usize]));
    line.push(char::from(DIGITS[(n % 10) as usize]));
}

/// RFC 5545's CONTROL: ASCII controls except HTAB. In TEXT, LF is escaped before this is asked.
fn is_control(byte: u8) -> bool {
    byte.is_ascii_control() && byte != b'\t'
}

/// TEXT escaping: `\` `;` `,` and newline become `\\` `\;` `\,` `\n`; CR and other controls go.
fn push_text(line: &mut String, value: &str) {
    push_replacing(line, value, |byte| match byte {
        b'\\' => Some("\\\\"),
        b';' => Some("\\;"),
        b',' => Some("\\,"),
        b'\n' => Some("\\n"),
        byte if is_control(byte) => Some(""),
        _ => None,
    });
}

/// A parameter value (RFC 5545 §3.2): quoted when it holds `:` `;` or `,`. A DQUOTE cannot
/// appear in one at all, so it becomes an apostrophe; controls are dropped.
fn push_param_value(line: &mut String, value: &str) {
    let quoted = value.contains([':', ';', ',']);
    if quoted {
        line.push('"');
    }
    push_replacing(line, value, |byte| match byte {
        b'"' => Some("'"),
        byte if is_control(byte) => Some(""),
        _ => None,
    });
    if quoted {
        line.push('"');
    }
}

/// Copies `value`, replacing each ASCII byte for which `replacement` says so. Works on bytes and
/// copies the runs in between whole, which is safe because an ASCII byte never occurs inside a
/// multi-byte UTF-8 sequence.
fn push_replacing(line: &mut String, value: &str, replacement: impl Fn(u8) -> Option<&'static str>) {
    let mut run_start = 0;
    for (i, byte) in value.bytes().enumerate() {
        if let Some(with) = replacement(byte) {
            line.push_str(&value[run_start..i]);
            line.push_str(with);
            run_start = i + 1;
        }
    }
    line.push_str(&value[run_start..]);
}

/// Appends `line` folded at 75 octets, each continuation starting with one space, CRLF after
/// each physical line. A fold never splits a UTF-8 sequence, nor an escaping backslash from the
/// character it escapes (an odd run of backslashes before the fold moves it back by one).
fn fold_into(out: &mut String, line: &str) {
    let mut start = 0;
    let mut budget = MAX_LINE_OCTETS;
    while line.len() - start > budget {
        let mut cut = start + budget;
        while !line.is_char_boundary(cut) {
            cut -= 1;
        }
        // Each segment starts where no escape is open, so parity within it is enough.
        let backslashes = line.as_bytes()[start..cut].iter().rev().take_while(|b| **b == b'\\').count();
        if backslashes % 2 == 1 {
            cut -= 1;
        }
        out.push_str(&line[start..cut]);
        out.push_str("\r\n ");
        start = cut;
        // The leading space of a continuation line counts.
        budget = MAX_LINE_OCTETS - 1;
    }
    out.push_str(&line[start..]);
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{LocalResult, TimeDelta};
    use chrono_tz::{America, Asia, Australia, Europe};
    use proptest::prelude::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap()
    }

    /// A meeting at a local wall time that exists exactly once.
    fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        tz.with_ymd_and_hms(y, m, d, h, mi, 0).single().unwrap().with_timezone(&Utc)
    }

    fn event(uid: &str, summary: &str, start: DateTime<Utc>, hours: i64, time_zone: Tz) -> CalendarEvent {
        CalendarEvent {
            uid: uid.into(),
            sequence: 0,
            summary: summary.into(),
            location: "Hofburg, Neuer Saal; Vienna".into(),
            description: String::new(),
            url: None,
            start,
            end: start + TimeDelta::hours(hours),
            time_zone,
            status: EventStatus::Confirmed,
            last_modified: utc(2026, 1, 15, 12, 0),
            categories: vec![],
        }
    }

    fn fixture_feed() -> Feed {
        let vienna = Europe::Vienna;
        let mut pc =
            event("pc-1512@plenary.osce", "Permanent Council No. 1512", local(vienna, 2026, 3, 26, 10, 0), 3, vienna);
        pc.description = "Agenda:\n1. Review of current issues\n2. Any other business\\AOB".into();
        pc.url = Some("https://plenary.example.org/meetings/42".into());
        pc.categories = vec!["PC".into(), "Plenary, regular".into()];
        pc.sequence = 2;
        let mut fsc = event(
            "fsc-1090@plenary.osce",
            "Forum for Security Co-operation",
            local(vienna, 2026, 4, 1, 10, 0),
            2,
            vienna,
        );
        fsc.location = "Hofburg, Ratsaal".into();
        let mut asia = event(
            "cg-asia-2@plenary.osce",
            "Совещание Контактной группы с азиатскими партнёрами по сотрудничеству",
            local(Asia::Tokyo, 2026, 6, 15, 10, 0),
            7,
            Asia::Tokyo,
        );
        asia.location = "Ministry of Foreign Affairs, Tokyo".into();
        asia.status = EventStatus::Cancelled;
        asia.sequence = 3;
        let mut med = event(
            "conf-med-2026@plenary.osce",
            "مؤتمر منظمة الأمن والتعاون في أوروبا المتوسطي 2026 🇯🇴",
            local(Asia::Amman, 2026, 10, 27, 9, 0),
            8,
            Asia::Amman,
        );
        med.location = "Dead Sea, Jordan".into();
        Feed {
            name: "OSCE meetings – Austria".into(), stamp: utc(2026, 5, 4, 8, 0), events: vec![pc, fsc, asia, med]
        }
    }

    fn fixture_invitation(method: Method) -> Invitation {
        let vienna = Europe::Vienna;
        let mut event = event(
            "pc-1520@plenary.osce",
            "Permanent Council No. 1520 (special session)",
            local(vienna, 2026, 11, 3, 15, 0),
            2,
            vienna,
        );
        event.sequence = if method == Method::Cancel { 1 } else { 0 };
        event.url = Some("https://plenary.example.org/meetings/57".into());
        Invitation {
            method,
            event,
            stamp: utc(2026, 10, 20, 9, 30),
            organizer: Person {
                name: "OSCE Secretariat, Conference Services".into(),
                email: "conferences@plenary.example.org".into(),
            },
            attendee: Person { name: "Dr. Anna \"Ann\" Müller".into(), email: "anna.mueller@example.at".into() },
        }
    }

    /// Our own unfold (RFC 5545 §3.1: drop every CRLF followed by one space).
    fn unfold(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    /// Our own TEXT unescape, strict: any other backslash sequence is a bug in the output.
    fn unescape(value: &str) -> String {
        let mut out = String::new();
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('\\') => out.push('\\'),
                    Some(';') => out.push(';'),
                    Some(',') => out.push(','),
                    Some('n') => out.push('\n'),
                    other => panic!("bad escape \\{other:?} in {value:?}"),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The raw (still escaped) values of every `name` property of an unfolded calendar.
    fn raw_value<'a>(unfolded: &'a str, name: &str) -> Vec<&'a str> {
        unfolded
            .split("\r\n")
            .filter_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
            .collect()
    }

    /// Every line ends with CRLF and has at most 75 octets; no fold splits an escape; and the
    /// folding is tight (a fold only where the next unit would not fit).
    fn assert_well_folded(ics: &str) {
        assert!(ics.ends_with("\r\n"));
        assert!(!ics.replace("\r\n", "").contains(['\r', '\n']), "bare CR or LF");
        let lines: Vec<&str> = ics.strip_suffix("\r\n").unwrap().split("\r\n").collect();
        for (i, line) in lines.iter().enumerate() {
            assert!(line.len() <= MAX_LINE_OCTETS, "{} octets: {line:?}", line.len());
            let folded_here = lines.get(i + 1).is_some_and(|next| next.starts_with(' '));
            if folded_here {
                // Backslashes before a fold pair up with each other, so none escapes across it.
                let run = line.chars().rev().take_while(|c| *c == '\\').count();
                assert!(run % 2 == 0, "fold after an escaping backslash: {line:?}");
                assert!(line.len() > MAX_LINE_OCTETS - 8, "fold too early: {line:?}");
            }
        }
    }

    #[test]
    fn feed_snapshot() {
        let ics = render_feed(&fixture_feed());
        assert_well_folded(&ics);
        insta::assert_snapshot!(ics.replace("\r\n", "⏎\n"));
    }

    #[test]
    fn request_snapshot() {
        let ics = render_invitation(&fixture_invitation(Method::Request));
        assert_well_folded(&ics);
        insta::assert_snapshot!(ics.replace("\r\n", "⏎\n"));
    }

    #[test]
    fn cancel_snapshot() {
        let ics = render_invitation(&fixture_invitation(Method::Cancel));
        assert_well_folded(&ics);
        insta::assert_snapshot!(ics.replace("\r\n", "⏎\n"));
    }

    #[test]
    fn cancel_is_cancelled_whatever_the_event_says_and_keeps_uid_and_sequence() {
        let request = render_invitation(&fixture_invitation(Method::Request));
        let cancel = render_invitation(&fixture_invitation(Method::Cancel));
        assert!(request.contains("METHOD:REQUEST\r\n") && request.contains("STATUS:CONFIRMED\r\n"));
        assert!(cancel.contains("METHOD:CANCEL\r\n") && cancel.contains("STATUS:CANCELLED\r\n"));
        assert!(cancel.contains("UID:pc-1520@plenary.osce\r\n") && cancel.contains("SEQUENCE:1\r\n"));
    }

    #[test]
    fn parameters_are_quoted_and_dquotes_replaced() {
        let mut line = String::new();
        push_param_value(&mut line, "Doe, John");
        push_param_value(&mut line, "|Plain Name|");
        push_param_value(&mut line, "a:b;c");
        push_param_value(&mut line, "Say \"hi\"\r\n");
        assert_eq!(line, "\"Doe, John\"|Plain Name|\"a:b;c\"Say 'hi'");
        let ics = render_invitation(&fixture_invitation(Method::Request));
        let unfolded = unfold(&ics);
        assert!(unfolded.contains(
            "ORGANIZER;CN=\"OSCE Secretariat, Conference Services\":mailto:conferences@plenary.example.org\r\n"
        ));
        assert!(unfolded.contains(
            "ATTENDEE;CN=Dr. Anna 'Ann' Müller;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:anna.mueller@example.at\r\n"
        ));
    }

    #[test]
    fn text_is_escaped_and_cr_dropped() {
        let mut line = String::new();
        push_text(&mut line, "a\\b;c,d\r\ne\u{7}\tf");
        assert_eq!(line, "a\\\\b\\;c\\,d\\ne\tf");
    }

    #[test]
    fn an_escape_at_the_fold_boundary_stays_whole() {
        // "SUMMARY:" is 8 octets; 66 more put the backslash of `\n` at octet 75.
        for pad in 64..=68 {
            let summary = format!("{}\nnext line, and more; text \\ {}", "a".repeat(pad), "b".repeat(70));
            let mut w = ContentWriter::default();
            w.text("SUMMARY", &summary);
            let ics = w.finish();
            assert_well_folded(&ics);
            if pad == 66 {
                let first = ics.split("\r\n").next().unwrap();
                assert_eq!(first, format!("SUMMARY:{}", "a".repeat(66)));
                assert!(ics.split("\r\n").nth(1).unwrap().starts_with(" \\nnext"));
            }
            assert_eq!(unescape(raw_value(&unfold(&ics), "SUMMARY")[0]), summary);
        }
    }

    #[test]
    fn multi_byte_characters_are_never_split() {
        for text in ["Ж", "ع", "語", "🇦🇹", "👩‍👩‍👧"] {
            for pad in 0..8 {
                let summary = format!("{}{}", "x".repeat(pad), text.repeat(60));
                let mut w = ContentWriter::default();
                w.text("SUMMARY", &summary);
                let ics = w.finish();
                assert_well_folded(&ics);
                assert_eq!(unescape(raw_value(&unfold(&ics), "SUMMARY")[0]), summary);
            }
        }
    }

    /// Local DTSTART/DTEND with TZID, read back through chrono-tz, or UTC with `Z`.
    fn instant(prop: &icalendar::parser::Property<'_>) -> DateTime<Utc> {
        let value = prop.val.as_str();
        if let Some(utc) = value.strip_suffix('Z') {
            return NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").unwrap().and_utc();
        }
        let tzid = prop.params.iter().find(|p| p.key == "TZID").and_then(|p| p.val.as_ref()).unwrap();
        let tz: Tz = tzid.as_str().parse().unwrap();
        let local = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").unwrap();
        match tz.from_local_datetime(&local) {
            // RFC 5545 §3.3.5: a repeated wall time means its first occurrence.
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => panic!("{local} does not exist in {tz}"),
        }
    }

    #[test]
    fn round_trip_through_the_icalendar_parser_across_dst_and_zones() {
        let cases: Vec<(Tz, DateTime<Utc>)> = vec![
            (Europe::Vienna, utc(2026, 3, 29, 0, 30)), // 01:30 CET, just before spring forward
            (Europe::Vienna, utc(2026, 3, 29, 1, 0)),  // 03:00 CEST, the first instant after
            (Europe::Vienna, utc(2026, 10, 25, 0, 30)), // 02:30 CEST, first of the repeated hour
            (Europe::Vienna, utc(2026, 10, 25, 1, 30)), // 02:30 CET, second of the repeated hour
            (Europe::Vienna, utc(2026, 12, 31, 23, 30)),
            (America::New_York, utc(2026, 3, 8, 6, 59)),
            (America::New_York, utc(2026, 11, 1, 5, 30)),
            (Asia::Amman, utc(2026, 10, 29, 21, 0)),
            (Asia::Amman, utc(2027, 2, 26, 22, 0)),
            (Asia::Tokyo, utc(2026, 12, 31, 15, 0)),
            (Australia::Adelaide, utc(2026, 4, 4, 16, 0)),
            (Australia::Adelaide, utc(2026, 4, 4, 16, 45)),
            (Australia::Adelaide, utc(2026, 10, 3, 16, 30)),
        ];
        let events: Vec<CalendarEvent> = cases
            .iter()
            .enumerate()
            .map(|(i, (tz, start))| event(&format!("e{i}"), "Meeting", *start, 3, *tz))
            .collect();
        let feed = Feed { name: "Round trip".into(), stamp: utc(2026, 1, 1, 0, 0), events: events.clone() };
        let ics = render_feed(&feed);
        assert_well_folded(&ics);
        let unfolded = icalendar::parser::unfold(&ics);
        let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
        let tzids: Vec<&str> = calendar
            .components
            .iter()
            .filter(|c| c.name == "VTIMEZONE")
            .filter_map(|c| c.find_prop("TZID").map(|p| p.val.as_str()))
            .collect();
        assert_eq!(tzids, ["America/New_York", "Asia/Amman", "Asia/Tokyo", "Australia/Adelaide", "Europe/Vienna"]);
        let parsed: Vec<_> = calendar.components.iter().filter(|c| c.name == "VEVENT").collect();
        assert_eq!(parsed.len(), events.len());
        for (event, component) in events.iter().zip(parsed) {
            let start = component.find_prop("DTSTART").unwrap();
            let end = component.find_prop("DTEND").unwrap();
            assert_eq!((instant(start), instant(end)), (event.start, event.end), "{}", event.uid);
        }
        // The second 02:30 of 25 October could not be told apart in local time.
        assert!(ics.contains("DTSTART:20261025T013000Z\r\n"));
        assert!(ics.contains("DTSTART;TZID=Europe/Vienna:20261025T023000\r\n"));
    }

    fn awkward_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(",".to_owned()),
            Just(";".to_owned()),
            Just("\\".to_owned()),
            Just("\\n".to_owned()),
            Just("\n".to_owned()),
            Just(":".to_owned()),
            Just("\"".to_owned()),
            Just("🇦🇹👩‍👩‍👧".to_owned()),
            Just("Постоянный совет Организации по безопасности и сотрудничеству в Европе".to_owned()),
            Just("المنتدى المعني بالتعاون الأمني في منظمة الأمن والتعاون في أوروبا".to_owned()),
            "[ -~]{0,12}",
            "\\PC{0,6}",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn text_values_survive_escaping_and_folding(
            summary in awkward_text(),
            location in awkward_text(),
            description in awkward_text(),
        ) {
            let mut e = event("uid", &summary, utc(2026, 3, 29, 0, 30), 2, Europe::Vienna);
            e.location = location.clone();
            e.description = description.clone();
            let ics = render_feed(&Feed { name: summary.clone(), stamp: utc(2026, 1, 1, 0, 0), events: vec![e] });
            assert_well_folded(&ics);

            // Our own strict unfold and unescape.
            let unfolded = unfold(&ics);
            let ours = |name| raw_value(&unfolded, name).first().map(|v| unescape(v)).unwrap_or_default();
            prop_assert_eq!(ours("SUMMARY"), summary.as_str());
            prop_assert_eq!(ours("X-WR-CALNAME"), summary.as_str());
            prop_assert_eq!(ours("LOCATION"), location.as_str());
            prop_assert_eq!(ours("DESCRIPTION"), description.as_str());

            // And the icalendar crate's parser, which unescapes TEXT properties it knows.
            let unfolded = icalendar::parser::unfold(&ics);
            let calendar = icalendar::parser::read_calendar(&unfolded).unwrap();
            let vevent = calendar.components.iter().find(|c| c.name == "VEVENT").unwrap();
            let theirs = |name| vevent.find_prop(name).map(|p| p.val.as_str().to_owned()).unwrap_or_default();
            prop_assert_eq!(theirs("SUMMARY"), summary);
            prop_assert_eq!(theirs("LOCATION"), location);
            prop_assert_eq!(theirs("DESCRIPTION"), description);
        }
    }
}
