//! `/`: the calendar, as a month grid or an agenda, filtered by body, with links (and arrow
//! keys, through a small script) to the months before and after.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use chrono::{Datelike as _, Months, NaiveDate, TimeDelta, Utc};
use scheduler::bodies::body;
use serde::Deserialize;

use super::{
    Chrome, WebResult,
    params::PageQuery,
    render,
    views::{BodyEntry, HOME_ZONE, MeetingItem, bodies},
};
use crate::{app::AppState, service, store::meetings::Context};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(calendar))
}

#[derive(Deserialize)]
struct CalendarQuery {
    /// `YYYY-MM`; this month by default.
    month: Option<String>,
    /// `month` (the default) or `agenda`.
    view: Option<String>,
    /// A body code; all bodies by default.
    body: Option<String>,
}

/// One day of the month grid.
struct Day {
    date: NaiveDate,
    in_month: bool,
    today: bool,
    meetings: Vec<MeetingItem>,
}

/// One day of the agenda.
struct AgendaDay {
    date: NaiveDate,
    today: bool,
    meetings: Vec<MeetingItem>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage<'a> {
    c: &'a Chrome,
    month: NaiveDate,
    agenda: bool,
    body: String,
    weeks: Vec<Vec<Day>>,
    agenda_days: Vec<AgendaDay>,
    bodies: Vec<BodyEntry>,
    prev_link: String,
    next_link: String,
    today_link: String,
    month_link: String,
    agenda_link: String,
    problems: Vec<String>,
    count: usize,
}

fn link(month: NaiveDate, agenda: bool, body: &str) -> String {
    let mut link = format!("/?month={}", month.format("%Y-%m"));
    if agenda {
        link.push_str("&view=agenda");
    }
    if !body.is_empty() {
        link.push_str("&body=");
        link.push_str(body);
    }
    link
}

async fn calendar(State(state): State<AppState>, c: Chrome, PageQuery(query): PageQuery<CalendarQuery>) -> WebResult {
    let today = Utc::now().with_timezone(&HOME_ZONE).date_naive();
    let this_month = today.with_day(1).unwrap_or(today);
    let mut problems = Vec::new();
    let month = match query.month.as_deref().filter(|text| !text.is_empty()) {
        None => this_month,
        Some(text) => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .filter(|date| (1975..=2100).contains(&date.year()))
            .unwrap_or_else(|| {
                problems.push(format!(
                    "“{text}” is not a month between 1975 and 2100 in the form 2027-03; showing this month."
                ));
                this_month
            }),
    };
    let agenda = query.view.as_deref() == Some("agenda");
    let body_code = match query.body.as_deref().map(str::trim).filter(|code| !code.is_empty()) {
        None => String::new(),
        Some(code) => match body(&code.to_uppercase()) {
            Some(body) => body.code.as_str().to_owned(),
            None => {
                problems.push(format!("There is no body “{code}”; showing every body."));
                String::new()
            }
        },
    };

    let next_month = month + Months::new(1);
    let grid_start = month - TimeDelta::days(i64::from(month.weekday().num_days_from_monday()));
    let last = next_month - TimeDelta::days(1);
    let grid_end = last + TimeDelta::days(i64::from(6 - last.weekday().num_days_from_monday()));
    let rows = service::meetings::list(
        &state.db,
        Some(grid_start),
        Some(grid_end),
        (!body_code.is_empty()).then_some(body_code.as_str()),
    )
    .await?;
    let day = TimeDelta::days(1);
    let context = Context::load(&state.db).await?;
    let items: Vec<MeetingItem> = rows.iter().map(|row| MeetingItem::new(row, &context)).collect();

    let mut weeks = Vec::new();
    let mut date = grid_start;
    while date <= grid_end {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            week.push(Day {
                date,
                in_month: date.month() == month.month(),
                today: date == today,
                meetings: items.iter().filter(|item| item.date == date).cloned().collect(),
            });
            date += day;
        }
        weeks.push(week);
    }
    let mut agenda_days: Vec<AgendaDay> = Vec::new();
    for item in items.iter().filter(|item| item.date >= month && item.date < next_month) {
        match agenda_days.last_mut() {
            Some(last) if last.date == item.date => last.meetings.push(item.clone()),
            _ => {
                agenda_days.push(AgendaDay { date: item.date, today: item.date == today, meetings: vec![item.clone()] })
            }
        }
    }
    let count = items.iter().filter(|item| item.date >= month && item.date < next_month).count();
    render(
        &c,
        &CalendarPage {
            c: &c,
            month,
            agenda,
            prev_link: link(month - Months::new(1), agenda, &body_code),
            next_link: link(next_month, agenda, &body_code),
            today_link: link(this_month, agenda, &body_code),
            month_link: link(month, false, &body_code),
            agenda_link: link(month, true, &body_code),
            body: body_code,
            weeks,
            agenda_days,
            bodies: bodies(),
            problems,
            count,
        },
    )
}
