//! `/`: the calendar, as a month grid or an agenda, filtered by body and (for a delegation) to
//! the meetings it is invited to, with links (and arrow keys, through a small script) to the
//! months before and after.
//!
//! Without a chosen view the page carries both, and the style sheet shows the agenda on small
//! screens (where a grid cell cannot hold a meeting's name and time) and the grid elsewhere, so
//! a phone gets the agenda without any script. The agenda of this month starts today; earlier
//! days are folded away.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use chrono::{Datelike as _, Months, NaiveDate, TimeDelta, Utc};
use scheduler::{bodies::body, when_where::Language};
use serde::Deserialize;

use super::{
    Chrome, WebResult,
    params::PageQuery,
    render,
    views::{BodyEntry, HOME_ZONE, MeetingItem, bodies},
};
use crate::{
    app::AppState,
    service,
    store::{self, meetings::Context},
};

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
    /// Set (`1`): only the meetings the logged-in delegation is invited to.
    mine: Option<String>,
}

/// Which view was asked for: none (the screen's size decides), the grid or the agenda.
#[derive(Clone, Copy, PartialEq, Eq)]
enum View {
    BySize,
    Month,
    Agenda,
}

/// The filters a link to another month or view keeps.
struct Filters {
    body: String,
    mine: bool,
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
    view: View,
    body: String,
    /// The filter to the delegation's own meetings is on.
    mine: bool,
    /// The State of a logged-in delegation, who may use that filter.
    /// The logged-in delegation's State, by name.
    my_state: Option<String>,
    weeks: Vec<Vec<Day>>,
    /// The agenda from today (this month) or the month's first day.
    agenda_days: Vec<AgendaDay>,
    /// This month's days before today, folded away in the agenda.
    earlier_days: Vec<AgendaDay>,
    bodies: Vec<BodyEntry>,
    prev_link: String,
    next_link: String,
    today_link: String,
    month_link: String,
    agenda_link: String,
    problems: Vec<String>,
    count: usize,
}

fn link(month: NaiveDate, view: View, filters: &Filters) -> String {
    let mut link = format!("/?month={}", month.format("%Y-%m"));
    match view {
        View::BySize => {}
        View::Month => link.push_str("&view=month"),
        View::Agenda => link.push_str("&view=agenda"),
    }
    if !filters.body.is_empty() {
        link.push_str("&body=");
        link.push_str(&filters.body);
    }
    if filters.mine {
        link.push_str("&mine=1");
    }
    link
}

impl CalendarPage<'_> {
    /// This month and view, showing the body `code` only.
    fn body_link(&self, code: &str) -> String {
        link(self.month, self.view, &Filters { body: code.to_owned(), mine: self.mine })
    }
}

/// Groups meetings (in date order) by day.
fn by_day<'a>(items: impl Iterator<Item = &'a MeetingItem>, today: NaiveDate) -> Vec<AgendaDay> {
    let mut days: Vec<AgendaDay> = Vec::new();
    for item in items {
        match days.last_mut() {
            Some(last) if last.date == item.date => last.meetings.push(item.clone()),
            _ => days.push(AgendaDay { date: item.date, today: item.date == today, meetings: vec![item.clone()] }),
        }
    }
    days
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
    let view = match query.view.as_deref() {
        Some("agenda") => View::Agenda,
        Some("month") => View::Month,
        _ => View::BySize,
    };
    let my_state = c.user.as_ref().filter(|_| c.is_delegation()).and_then(|user| user.iso2.clone());
    let mine = query.mine.as_deref().is_some_and(|value| !value.is_empty());
    if mine && my_state.is_none() {
        problems.push(
            "Only meetings your delegation is invited to can be shown once you are logged in as a delegation; showing every meeting."
                .to_owned(),
        );
    }
    let mine = mine && my_state.is_some();
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
    let mut items: Vec<MeetingItem> = Vec::with_capacity(rows.len());
    for row in &rows {
        if let Some(iso2) = my_state.as_deref().filter(|_| mine) {
            let (invited, _adjustments) = store::invitations::invitees(&state.db, &context, row).await?;
            if !invited.iter().any(|invitee| invitee.delegation.iso2 == iso2) {
                continue;
            }
        }
        items.push(MeetingItem::new(row, &context));
    }

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
    let in_month = || items.iter().filter(|item| item.date >= month && item.date < next_month);
    // This month's agenda starts today.
    let agenda_start = if month == this_month { today } else { month };
    let earlier_days = by_day(in_month().filter(|item| item.date < agenda_start), today);
    let agenda_days = by_day(in_month().filter(|item| item.date >= agenda_start), today);
    let count = in_month().count();
    let filters = Filters { body: body_code, mine };
    render(
        &c,
        &CalendarPage {
            c: &c,
            month,
            view,
            prev_link: link(month - Months::new(1), view, &filters),
            next_link: link(next_month, view, &filters),
            today_link: link(this_month, view, &filters),
            month_link: link(month, View::Month, &filters),
            agenda_link: link(month, View::Agenda, &filters),
            body: filters.body,
            mine,
            my_state: my_state.as_deref().map(|iso2| context.state_name(iso2, Language::English)),
            weeks,
            agenda_days,
            earlier_days,
            bodies: bodies(),
            problems,
            count,
        },
    )
}
