//! A meeting's lists, downloaded as people do through their session: the attendance list as CSV
//! (byte-order mark, State names, plain columns, formulas defused) and as XLSX (read back cell by
//! cell), a delegation's own list, and the list of participants and the badges as PDF (their
//! text extracted and searched for the names, accents and Cyrillic included).

use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx, open_workbook_from_rs};
use chrono::NaiveDate;
use reqwest::{Method, StatusCode, header};
use serde_json::json;
use tests::{
    TestApp,
    builders::{NewAccount, NewMeeting, NewRegistration, date_in},
    expect_json,
};

const TITLE: &str = "Mediterranean Conference 2027";
const FORMULA: &str = "=HYPERLINK(\"http://x.io\")";

/// The conference in Amman, 60 days ahead, with five people registered by their delegations.
async fn conference(app: &TestApp) -> (i64, NaiveDate) {
    let organiser = app.organiser_token().await;
    let date = date_in(60);
    let id = NewMeeting::of("CONF-MED")
        .on(date, "09:00", "17:00")
        .abroad("Asia/Amman", "Amman", "JO")
        .with("title", json!(TITLE))
        .create_id(app, &organiser)
        .await;
    for (state, name, seat) in [
        ("AT", "Anna Huber", "main"),
        ("AT", FORMULA, "behind"),
        ("DE", "Jürgen Müller-Lüdenscheidt", "main"),
        ("RS", "Žaneta Đurić", "main"),
        ("RU", "Ирина Петрова", "main"),
    ] {
        let token = app.delegation_token(state).await;
        let registration = NewRegistration::of(state, name, "Head of delegation", seat)
            .with("email", json!(format!("{}.{seat}@example.org", state.to_lowercase())));
        expect_json(registration.post(app, &token, id).await, 201).await;
    }
    (id, date)
}

async fn download(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    app.request(Method::GET, path).header(header::COOKIE, cookie).send().await.expect("the download answers")
}

fn disposition(response: &reqwest::Response) -> String {
    response.headers()[header::CONTENT_DISPOSITION].to_str().expect("an ASCII header").to_owned()
}

/// The file name a browser saves, from `filename*` (RFC 5987).
fn saved_name(disposition: &str) -> String {
    let encoded = disposition.split("filename*=UTF-8''").nth(1).expect("a UTF-8 file name");
    url::form_urlencoded::parse(format!("n={}", encoded.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, name)| name.into_owned())
        .expect("a percent-encoded name")
}

fn parse_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).expect("the CSV starts with a byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|record| record.expect("a CSV record").iter().map(str::to_owned).collect())
        .collect()
}

fn read_xlsx(bytes: Vec<u8>) -> Vec<Vec<String>> {
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).expect("an XLSX workbook");
    let formulas = workbook.worksheet_formula("Attendance").expect("the Attendance sheet");
    assert!(formulas.used_cells().all(|(_, _, formula)| formula.is_empty()), "no cell is a formula");
    let range = workbook.worksheet_range("Attendance").expect("the Attendance sheet");
    range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Data::String(text) => text.clone(),
                    Data::Empty => String::new(),
                    other => panic!("every cell is text, not {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn pdf_text(bytes: &[u8]) -> String {
    assert!(bytes.starts_with(b"%PDF-"), "a PDF file");
    pdf_extract::extract_text_from_mem(bytes).expect("the PDF's text")
}

#[tokio::test]
async fn an_organiser_downloads_the_attendance_list_as_csv_and_xlsx() {
    let app = TestApp::spawn().await;
    let (id, date) = conference(&app).await;
    let organiser = NewAccount::organiser("lists.organiser", "Lists Organiser").session_cookie(&app).await;

    let response = download(&app, &format!("/meetings/{id}/attendance.csv"), &organiser).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert_eq!(saved_name(&disposition(&response)), format!("{TITLE} - {date} - attendance.csv"));
    let csv = parse_csv(&response.bytes().await.unwrap());
    assert_eq!(csv[0], ["State", "Name", "Function", "E-mail", "Seat", "Status", "Registered at (Amman time)"]);
    let names: Vec<(&str, &str)> = csv[1..].iter().map(|row| (row[0].as_str(), row[1].as_str())).collect();
    // By State in protocol order: Allemagne, Autriche, Fédération de Russie / Russie, Serbie.
    assert_eq!(names[0], ("Germany", "Jürgen Müller-Lüdenscheidt"), "{csv:?}");
    assert_eq!(names[1], ("Austria", "Anna Huber"), "the main table first: {csv:?}");
    assert_eq!(names[2], ("Austria", &*format!("'{FORMULA}")), "the formula is defused: {csv:?}");
    assert!(names.contains(&("Serbia", "Žaneta Đurić")) && names.len() == 5, "{csv:?}");
    assert!(
        csv[1..].iter().all(|row| row[5] == "Registered" && ["Main table", "Behind"].contains(&row[4].as_str())),
        "seats in words: {csv:?}"
    );
    assert_eq!(csv[2][4], "Main table");
    assert_eq!(csv[3][4], "Behind");
    assert!(
        NaiveDate::parse_from_str(&csv[1][6][..10], "%Y-%m-%d").is_ok() && csv[1][6].len() == 16,
        "a local time, to the minute: {csv:?}"
    );

    let response = download(&app, &format!("/meetings/{id}/attendance.xlsx"), &organiser).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(saved_name(&disposition(&response)), format!("{TITLE} - {date} - attendance.xlsx"));
    let sheet = read_xlsx(response.bytes().await.unwrap().to_vec());
    assert_eq!(sheet[0], csv[0], "the same columns as the CSV");
    assert_eq!(sheet.len(), csv.len(), "the same rows as the CSV");
    for (cells, csv_row) in sheet.iter().zip(&csv).skip(1) {
        let unescaped: Vec<String> =
            csv_row.iter().map(|cell| cell.strip_prefix('\'').unwrap_or(cell).to_owned()).collect();
        assert_eq!(cells, &unescaped, "the cells match the CSV's, formulas kept as plain text");
    }
    assert_eq!(sheet[3][1], FORMULA);

    // The console's old address points to the new one for good.
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let old = no_redirects
        .get(format!("{}/organiser/meetings/{id}/attendance.csv", app.base_url))
        .header(header::COOKIE, &organiser)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(old.headers()[header::LOCATION], format!("/meetings/{id}/attendance.csv"));

    // The meeting page links every list for organisers.
    let page = download(&app, &format!("/meetings/{id}"), &organiser).await.text().await.unwrap();
    for link in ["attendance.xlsx", "attendance.csv", "participants.pdf", "badges.pdf"] {
        assert!(page.contains(&format!("href=\"/meetings/{id}/{link}\"")), "{link} is linked");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_delegation_gets_only_its_own_people_and_no_printed_lists() {
    let app = TestApp::spawn().await;
    let (id, _) = conference(&app).await;
    let austria = NewAccount::delegation("lists.austria", "Austria's contact point", "AT").session_cookie(&app).await;

    let csv =
        parse_csv(&download(&app, &format!("/meetings/{id}/attendance.csv"), &austria).await.bytes().await.unwrap());
    assert_eq!(csv.len(), 3, "the heading and Austria's two people: {csv:?}");
    assert!(csv[1..].iter().all(|row| row[0] == "Austria"), "{csv:?}");
    let response = download(&app, &format!("/meetings/{id}/attendance.xlsx"), &austria).await;
    assert_eq!(response.status(), StatusCode::OK);
    let sheet = read_xlsx(response.bytes().await.unwrap().to_vec());
    let names: Vec<&str> = sheet[1..].iter().map(|row| row[1].as_str()).collect();
    assert_eq!(names, ["Anna Huber", FORMULA]);

    for list in ["participants.pdf", "badges.pdf"] {
        let refused = download(&app, &format!("/meetings/{id}/{list}"), &austria).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{list}");
    }
    let page = download(&app, &format!("/meetings/{id}"), &austria).await.text().await.unwrap();
    assert!(page.contains(&format!("href=\"/meetings/{id}/attendance.xlsx\"")), "its own list is linked");
    assert!(!page.contains("badges.pdf"), "the printed lists are for organisers");

    // Visitors are asked to log in; an unknown meeting is not found.
    let anonymous = app.get(&format!("/meetings/{id}/attendance.xlsx")).await;
    assert!(anonymous.url().path().starts_with("/login"), "{}", anonymous.url());
    let unknown = download(&app, "/meetings/999999/attendance.csv", &austria).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    app.stop().await;
}

#[tokio::test]
async fn the_list_of_participants_and_the_badges_name_everyone_registered() {
    let app = TestApp::spawn().await;
    let (id, date) = conference(&app).await;
    let organiser = NewAccount::organiser("lists.organiser", "Lists Organiser").session_cookie(&app).await;
    let people = ["Anna Huber", "Jürgen Müller-Lüdenscheidt", "Žaneta Đurić", "Ирина Петрова", FORMULA];

    let response = download(&app, &format!("/meetings/{id}/participants.pdf"), &organiser).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/pdf");
    assert_eq!(saved_name(&disposition(&response)), format!("{TITLE} - {date} - participants.pdf"));
    let text = pdf_text(&response.bytes().await.unwrap());
    for expected in people.iter().chain(&[TITLE, "List of participants", "Amman", "Germany", "Austria", "Serbia"]) {
        assert!(text.contains(expected), "{expected} is in the list of participants: {text}");
    }
    let germany = text.find("Germany").unwrap();
    let austria = text.find("Austria").unwrap();
    assert!(germany < austria, "Allemagne before Autriche: {text}");

    let response = download(&app, &format!("/meetings/{id}/badges.pdf"), &organiser).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(saved_name(&disposition(&response)), format!("{TITLE} - {date} - badges.pdf"));
    let text = pdf_text(&response.bytes().await.unwrap());
    for expected in people.iter().chain(&["Germany", "Serbia", "Head of delegation"]) {
        assert!(text.contains(expected), "{expected} is on a badge: {text}");
    }
    assert_eq!(text.matches(TITLE).count(), 5, "one badge per person: {text}");
    app.stop().await;
}
