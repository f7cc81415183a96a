//! A meeting's lists as downloads, through the session (a link cannot send a bearer token):
//! the attendance list as `/meetings/{id}/attendance.csv` and `.xlsx` (organisers see every
//! delegation, a delegation its own people), the list of participants
//! `/meetings/{id}/participants.pdf` and the name badges `/meetings/{id}/badges.pdf`
//! (organisers). Each file is named after the meeting and its date. The old address
//! `/organiser/meetings/{id}/attendance.csv` points to the new one for good (308).

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse as _, Redirect, Response},
    routing::get,
};
use scheduler::lists::{AttendanceSheet, badges, file_name, participants};

use super::{CurrentUser, OrganiserUser, WebError, WebResult, params::PagePath};
use crate::{
    app::AppState,
    documents::{pdf, xlsx},
    service::lists::{self, MeetingPeople},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meetings/{id}/attendance.csv", get(attendance_csv))
        .route("/meetings/{id}/attendance.xlsx", get(attendance_xlsx))
        .route("/meetings/{id}/participants.pdf", get(participants_pdf))
        .route("/meetings/{id}/badges.pdf", get(badges_pdf))
        .route("/organiser/meetings/{id}/attendance.csv", get(old_attendance_csv))
}

async fn attendance_csv(State(state): State<AppState>, user: CurrentUser, PagePath(id): PagePath<i32>) -> WebResult {
    let people = lists::attendance(&state.db, &user.principal(), id).await?;
    let csv = AttendanceSheet::of(&people.attendees, &people.zone_city).to_csv();
    Ok(download(
        "text/csv; charset=utf-8",
        &file_name(&people.title, people.date, "attendance", "csv"),
        csv.into_bytes(),
    ))
}

async fn attendance_xlsx(State(state): State<AppState>, user: CurrentUser, PagePath(id): PagePath<i32>) -> WebResult {
    let people = lists::attendance(&state.db, &user.principal(), id).await?;
    let sheet = AttendanceSheet::of(&people.attendees, &people.zone_city);
    let bytes = xlsx::attendance(&sheet).map_err(|error| WebError::Internal(error.into()))?;
    Ok(download(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &file_name(&people.title, people.date, "attendance", "xlsx"),
        bytes,
    ))
}

async fn participants_pdf(
    State(state): State<AppState>,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
) -> WebResult {
    let people = lists::participants(&state.db, &user.principal(), id).await?;
    let (heading, groups) = (heading(&people, "List of participants"), participants(&people.attendees));
    // Drawing and embedding the font takes a while: off the async workers.
    let bytes = tokio::task::spawn_blocking(move || pdf::participants(&heading, &groups))
        .await
        .map_err(anyhow::Error::from)??;
    Ok(download("application/pdf", &file_name(&people.title, people.date, "participants", "pdf"), bytes))
}

async fn badges_pdf(
    State(state): State<AppState>,
    OrganiserUser(user): OrganiserUser,
    PagePath(id): PagePath<i32>,
) -> WebResult {
    let people = lists::participants(&state.db, &user.principal(), id).await?;
    let (title, badges) = (people.title.clone(), badges(&people.attendees, &people.title));
    let bytes =
        tokio::task::spawn_blocking(move || pdf::badges(&title, &badges)).await.map_err(anyhow::Error::from)??;
    Ok(download("application/pdf", &file_name(&people.title, people.date, "badges", "pdf"), bytes))
}

/// The console's old link, kept working for bookmarks.
async fn old_attendance_csv(PagePath(id): PagePath<i32>) -> Redirect {
    Redirect::permanent(&format!("/meetings/{id}/attendance.csv"))
}

fn heading(people: &MeetingPeople, kind: &str) -> pdf::Heading {
    pdf::Heading {
        kind: kind.to_owned(),
        title: people.title.clone(),
        when: people.when.clone(),
        place: people.place.clone(),
    }
}

/// A file to save, named `name`; not kept by caches, since it lists people.
fn download(content_type: &'static str, name: &str, bytes: Vec<u8>) -> Response {
    let disposition =
        HeaderValue::from_str(&content_disposition(name)).unwrap_or(HeaderValue::from_static("attachment"));
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        bytes,
    )
        .into_response()
}

/// `attachment` with `name` twice (RFC 6266): `filename*` in UTF-8, percent-encoded as RFC 5987
/// says, which browsers prefer, and `filename` in ASCII (other characters as `_`) for the rest.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\' { c } else { '_' })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_file_name_is_given_in_ascii_and_in_utf8() {
        assert_eq!(
            content_disposition("Mediterranean Conference 2027 - 2027-10-20 - attendance.xlsx"),
            "attachment; filename=\"Mediterranean Conference 2027 - 2027-10-20 - attendance.xlsx\"; \
             filename*=UTF-8''Mediterranean%20Conference%202027%20-%202027-10-20%20-%20attendance.xlsx"
        );
        assert_eq!(
            content_disposition("Conférence \"Ö\" - 2027-10-20 - badges.pdf"),
            "attachment; filename=\"Conf_rence ___ - 2027-10-20 - badges.pdf\"; \
             filename*=UTF-8''Conf%C3%A9rence%20%22%C3%96%22%20-%202027-10-20%20-%20badges.pdf"
        );
    }
}
