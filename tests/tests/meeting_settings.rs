//! Every organiser setting of a meeting on its page, through the real router as a browser sends
//! the forms (session cookie, CSRF token): guests and a closed session, quota/deadline/capacity,
//! cancelling with a reason and undoing it, recording a Chairmanship on the console; and the
//! same through the JSON API (`POST /meetings/{id}/reinstate`, `POST /chairmanships`). After
//! each form the organiser lands back at it, with the meeting named; refusals are in words next
//! to the field, with what was typed kept.

use plenary::{auth::Principal, service};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{TestApp, builders::NewAccount, expect_error, expect_json};

/// An organiser's browser: its session cookie and the CSRF token of its forms.
struct Organiser {
    cookie: String,
    csrf: String,
    client: reqwest::Client,
}

impl Organiser {
    async fn log_in(app: &TestApp) -> Self {
        let cookie = NewAccount::organiser("olga", "Olga Organiser").session_cookie(app).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let mut organiser = Self { cookie, csrf: String::new(), client };
        let console = organiser.get(app, "/organiser").await;
        let at = console.find("name=\"csrf\" value=\"").expect("a csrf field") + "name=\"csrf\" value=\"".len();
        organiser.csrf = console[at..].split('"').next().unwrap().to_owned();
        organiser
    }

    /// The page at `path` (with a flash cookie, if given), as HTML.
    async fn get_with(&self, app: &TestApp, path: &str, flash: Option<&str>) -> String {
        let cookies = flash.map_or_else(|| self.cookie.clone(), |flash| format!("{}; {flash}", self.cookie));
        let response =
            self.client.get(format!("{}{path}", app.base_url)).header("cookie", cookies).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    async fn get(&self, app: &TestApp, path: &str) -> String {
        self.get_with(app, path, None).await
    }

    /// Sends a form as the browser would (with the CSRF token).
    async fn post(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(format!("{}{path}", app.base_url))
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Sends a form that succeeds, and returns the page it lands on, with its message.
    async fn post_and_follow(&self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> (String, String) {
        let response = self.post(app, path, fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}: {:?}", response.text().await);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let flash = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
            .find(|cookie| cookie.starts_with("plenary_flash="))
            .expect("a message for the next page");
        let path_only = location.split('#').next().unwrap().to_owned();
        (location, self.get_with(app, &path_only, Some(&flash)).await)
    }
}

/// The text of the element with `id` in `html`, tags left out, for asserting what is shown
/// next to a field.
fn element(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page"));
    let open = html[..at].rfind('<').unwrap();
    let tag: String = html[open + 1..].chars().take_while(char::is_ascii_alphanumeric).collect();
    let start = html[at..].find('>').unwrap() + at + 1;
    let end = html[start..].find(&format!("</{tag}>")).unwrap() + start;
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.trim().to_owned()
}

/// The HTML of the section with `id` (up to its closing tag).
fn section(html: &str, id: &str) -> String {
    let at = html.find(&format!("<section aria-labelledby=\"{id}-title\"")).unwrap_or_else(|| panic!("no #{id}"));
    let end = html[at..].find("</section>").unwrap() + at;
    html[at..end].to_owned()
}

async fn planned_meeting(app: &TestApp, body: &str, month: &str) -> Value {
    service::meetings::plan(&app.state.db, 2027, &Principal::command_line()).await.unwrap();
    let list =
        app.get_json(&format!("/api/v1/meetings?body={body}&from=2027-{month}-01&to=2027-{month}-28"), 200).await;
    list[0].clone()
}

#[tokio::test]
async fn guests_and_a_closed_session_are_set_on_the_meeting_page() {
    let app = TestApp::spawn().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let id = pc["id"].as_i64().unwrap();
    let organiser = Organiser::log_in(&app).await;
    let page = organiser.get(&app, &format!("/meetings/{id}")).await;
    assert!(section(&page, "guests").contains("Closed session"), "the form is on the page");

    // A wrong address: refused next to its field, with everything typed kept.
    let path = format!("/meetings/{id}/guests");
    let refused = organiser
        .post(
            &app,
            &path,
            &[
                ("closed", "1"),
                ("official_name", "Helga Schmid"),
                ("official_organisation", "OSCE Secretariat"),
                ("official_email", "not an address"),
                ("official_language", "fr"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(!element(&html, "official-email-error").is_empty(), "the error is next to the address");
    assert!(html.contains("value=\"Helga Schmid\"") && html.contains("value=\"not an address\""), "input kept");
    assert!(section(&html, "guests").contains("id=\"guests-closed\" checked"), "the closed box stays ticked");
    assert!(element(&html, "guests-errors").contains("Permanent Council"), "the summary names the meeting");

    // Right: a closed session with the Secretary General; the Partners are left out.
    let (location, page) = organiser
        .post_and_follow(
            &app,
            &path,
            &[
                ("closed", "1"),
                ("official_name", "Helga Schmid"),
                ("official_organisation", "OSCE Secretariat"),
                ("official_email", "sg@osce.example.org"),
                ("official_language", "en"),
            ],
        )
        .await;
    assert_eq!(location, format!("/meetings/{id}?done=guests#guests"), "back at the form");
    let guests = section(&page, "guests");
    assert!(guests.contains("Who is invited to “Permanent Council” is saved"), "{guests}");
    assert!(guests.contains("Helga Schmid (OSCE Secretariat) · sg@osce.example.org"), "{guests}");
    let invitees = app.get_json(&format!("/api/v1/meetings/{id}/invitees"), 200).await;
    assert_eq!(invitees["closed"], true);
    let invited: Vec<&str> =
        invitees["invitees"].as_array().unwrap().iter().map(|i| i["iso2"].as_str().unwrap_or_default()).collect();
    assert!(!invited.contains(&"JP"), "a closed session leaves Japan out: {invited:?}");

    // Japan as a guest after all; the official is removed.
    let page = organiser.get(&app, &format!("/meetings/{id}")).await;
    assert!(section(&page, "guests").contains("value=\"JP\""), "Japan is offered as a guest");
    organiser
        .post_and_follow(&app, &path, &[("closed", "1"), ("guest", "JP"), ("remove_official", "SG@osce.example.org")])
        .await;
    let settings = expect_json(
        app.send(
            Method::GET,
            &format!("/api/v1/meetings/{id}/invitation-settings"),
            &app.organiser_token().await,
            json!(null),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(settings["guest_delegations"], json!(["JP"]));
    assert_eq!(settings["officials"], json!([]));
    let history = section(&organiser.get(&app, &format!("/meetings/{id}")).await, "history");
    assert!(history.contains("olga: Guests or closed session changed"), "{history}");
    app.stop().await;
}

#[tokio::test]
async fn quota_deadline_and_capacity_are_set_on_the_meeting_page() {
    let app = TestApp::spawn().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let id = pc["id"].as_i64().unwrap();
    let organiser = Organiser::log_in(&app).await;
    let path = format!("/meetings/{id}/attendance-settings");

    let refused =
        organiser.post(&app, &path, &[("seats_behind_quota", "lots"), ("deadline", ""), ("capacity", "40")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert!(element(&html, "quota-error").contains("“lots” is not a whole number"), "{html}");
    assert!(html.contains("name=\"capacity\" type=\"text\" inputmode=\"numeric\" size=\"6\" value=\"40\""), "kept");
    let too_many = organiser.post(&app, &path, &[("seats_behind_quota", "500")]).await;
    assert!(element(&too_many.text().await.unwrap(), "quota-error").contains("Must be at most 100"));
    let bad_date = organiser.post(&app, &path, &[("deadline", "next Tuesday")]).await;
    assert!(!element(&bad_date.text().await.unwrap(), "deadline-error").is_empty());

    let date = &pc["start"].as_str().unwrap()[..10];
    let day_before = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap().pred_opt().unwrap();
    let deadline = format!("{day_before}T12:00");
    let (location, page) = organiser
        .post_and_follow(&app, &path, &[("seats_behind_quota", "3"), ("deadline", &deadline), ("capacity", "40")])
        .await;
    assert_eq!(location, format!("/meetings/{id}?done=attendance-settings#attendance-settings"));
    let form = section(&page, "attendance-settings");
    assert!(form.contains("The registration settings of “Permanent Council” are saved: 3 seats behind"), "{form}");
    assert!(form.contains(", 12:00 (Vienna time)."), "the deadline with its place's clock: {form}");
    assert!(form.contains(&format!("value=\"{deadline}\"")), "the deadline is shown as set: {form}");
    let token = app.organiser_token().await;
    let attendance = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance"), &token, json!(null)).await,
        200,
    )
    .await;
    assert_eq!(attendance["limits"]["seats_behind_quota"], 3, "{attendance}");
    assert_eq!(attendance["limits"]["capacity"], 40);
    assert!(attendance["limits"]["deadline"].as_str().unwrap().starts_with(&format!("{day_before}T12:00:00")));

    // Empty fields bring the defaults back.
    organiser.post_and_follow(&app, &path, &[("seats_behind_quota", ""), ("deadline", ""), ("capacity", "")]).await;
    let attendance = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance"), &token, json!(null)).await,
        200,
    )
    .await;
    assert_eq!(attendance["limits"]["seats_behind_quota"], 2, "the PC's default: {attendance}");
    app.stop().await;
}

#[tokio::test]
async fn a_meeting_is_cancelled_with_a_reason_and_the_cancellation_undone_on_its_page() {
    let app = TestApp::spawn().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let id = pc["id"].as_i64().unwrap();
    let organiser = Organiser::log_in(&app).await;
    let page = organiser.get(&app, &format!("/meetings/{id}")).await;
    assert!(element(&page, "meeting-status").starts_with("Scheduled"), "no version number");
    assert!(!page.contains("(version"), "no version number anywhere");

    let (location, page) = organiser
        .post_and_follow(&app, &format!("/meetings/{id}/cancel"), &[("reason", "The Hofburg is closed for repairs.")])
        .await;
    assert_eq!(location, format!("/meetings/{id}?done=cancellation#cancellation"));
    assert!(section(&page, "cancellation").contains("“Permanent Council” is cancelled."), "named in the message");
    assert!(element(&page, "cancelled-line").contains("Reason: The Hofburg is closed for repairs."));
    assert_eq!(element(&page, "meeting-status"), "Cancelled: The Hofburg is closed for repairs.");
    let api = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!(
        (&api["status"], &api["cancellation_reason"]),
        (&json!("cancelled"), &json!("The Hofburg is closed for repairs."))
    );
    let ics = app.get(&format!("/meetings/{id}.ics")).await.text().await.unwrap();
    // The same event as in the feeds: the reason, and no registration for a cancelled meeting.
    let ics = ics.replace("\r\n ", "");
    assert!(ics.contains("STATUS:CANCELLED") && ics.contains("Reason: The Hofburg is closed for repairs."), "{ics}");
    assert!(!ics.contains("Register attendees"), "{ics}");

    let (_, page) = organiser.post_and_follow(&app, &format!("/meetings/{id}/reinstate"), &[]).await;
    assert!(section(&page, "cancellation").contains("“Permanent Council” is scheduled again"), "named");
    assert!(element(&page, "meeting-status").starts_with("Scheduled"));
    let api = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!(
        (&api["status"], &api["cancellation_reason"], &api["sequence"]),
        (&json!("scheduled"), &Value::Null, &json!(2))
    );
    let history = section(&page, "history");
    let reinstated = history.find("olga: Cancellation undone").expect("the reinstatement in the history");
    let cancelled = history.find("olga: Cancelled: The Hofburg is closed for repairs.").expect("the cancellation");
    assert!(reinstated < cancelled, "newest first: {history}");
    app.stop().await;
}

#[tokio::test]
async fn a_room_clash_names_the_room_and_links_the_other_meeting_by_title_and_date() {
    let app = TestApp::spawn().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let fscs = app.get_json("/api/v1/meetings?body=FSC&from=2027-03-01&to=2027-03-31", 200).await;
    let fsc = &fscs[0];
    let organiser = Organiser::log_in(&app).await;
    let id = pc["id"].as_i64().unwrap();
    let start = &fsc["start"].as_str().unwrap()[..16];
    let end = &fsc["end"].as_str().unwrap()[..16];
    let refused = organiser
        .post(
            &app,
            &format!("/meetings/{id}/edit"),
            &[
                ("title", "Permanent Council (moved)"),
                ("start", start),
                ("end", end),
                ("time_zone", "Europe/Vienna"),
                ("room", "HOFBURG-NEUER-SAAL"),
                ("city", ""),
                ("country", ""),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    let at = html.find("id=\"room-error\"").unwrap();
    let error = &html[at..at + html[at..].find("</p>").unwrap()];
    let date = chrono::NaiveDate::parse_from_str(&start[..10], "%Y-%m-%d").unwrap();
    assert!(
        error.contains(&format!(
            "Neuer Saal is taken by the <a href=\"/meetings/{}\" id=\"clashing-meeting\">Forum for Security Co-operation on {}, 10:00–13:00</a>",
            fsc["id"],
            date.format("%-d %B %Y")
        )),
        "{error}"
    );
    assert!(!error.contains("HOFBURG") && !error.contains("(meeting"), "no codes or ids: {error}");
    assert!(html.contains("value=\"Permanent Council (moved)\""), "the new title is kept");
    assert!(html.contains(&format!("value=\"{start}\"")), "the new time is kept");

    // The JSON API says it in the same words.
    let token = app.organiser_token().await;
    let body = json!({"start": format!("{start}:00"), "end": format!("{end}:00")});
    let message =
        expect_error(app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, body).await, 409).await;
    assert!(message.starts_with("Neuer Saal is taken by the Forum for Security Co-operation on "), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn the_reinstate_api_undoes_a_cancellation_and_sends_the_update() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let id = pc["id"].as_i64().unwrap();
    let path = format!("/api/v1/meetings/{id}/reinstate");
    let contact = json!({"name": "Anna Huber", "email": "anna.huber@bmeia.example.at", "role": "contact_point", "language": "en"});
    expect_json(app.send(Method::POST, "/api/v1/delegations/AT/contacts", &token, contact).await, 201).await;
    expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{id}/invitations"), &token, json!({})).await, 200)
        .await;

    let message = expect_error(app.send(Method::POST, &path, &token, json!({})).await, 409).await;
    assert!(message.contains("is not cancelled"), "{message}");
    let delegation = app.delegation_token("AT").await;
    expect_error(app.send(Method::POST, &path, &delegation, json!({})).await, 403).await;

    let cancelled = expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &token, json!({"reason": "No quorum."})).await,
        200,
    )
    .await;
    assert_eq!(cancelled["cancellation_reason"], "No quorum.");
    // Without a body, as before.
    let reinstated = app.request(Method::POST, &path).bearer_auth(&token).send().await.unwrap();
    let reinstated = expect_json(reinstated, 200).await;
    assert_eq!(reinstated["status"], "scheduled");
    assert_eq!(reinstated["sequence"], 2);
    assert_eq!(reinstated["cancellation_reason"], Value::Null);
    let kinds: Vec<String> = plenary::store::outbox::for_meeting(&app.state.db, i32::try_from(id).unwrap())
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.kind)
        .collect();
    assert_eq!(kinds, ["invitation", "cancellation", "update"], "the contact is told of each change");

    // Cancelled again, and its room taken meanwhile: refused in words unless forced.
    expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &token, json!({})).await, 200).await;
    let local = |field: &str| pc[field].as_str().unwrap()[..19].to_owned();
    let special = json!({"body": "PC", "title": "Special Permanent Council", "start": local("start"), "end": local("end"),
        "time_zone": "Europe/Vienna", "room": "HOFBURG-NEUER-SAAL"});
    expect_json(app.send(Method::POST, "/api/v1/meetings", &token, special).await, 201).await;
    let message = expect_error(app.send(Method::POST, &path, &token, json!({})).await, 409).await;
    assert!(message.starts_with("Neuer Saal is taken by the Special Permanent Council on "), "{message}");
    let forced = expect_json(app.send(Method::POST, &path, &token, json!({"force": true})).await, 200).await;
    assert_eq!(forced["warnings"][0]["kind"], "room_clash_forced", "{forced}");
    let spec = app.get_json("/api/openapi.json", 200).await;
    assert!(spec["paths"]["/api/v1/meetings/{id}/reinstate"]["post"].is_object(), "documented");
    app.stop().await;
}

#[tokio::test]
async fn a_chairmanship_is_recorded_on_the_console_and_through_the_api_once_per_year() {
    let app = TestApp::spawn().await;
    let pc = planned_meeting(&app, "PC", "03").await;
    let organiser = Organiser::log_in(&app).await;
    let before = organiser.get(&app, &format!("/meetings/{}", pc["id"])).await;
    assert!(before.contains("<dt>Chair</dt>\n    <dd><em>To be decided</em>"), "2027's Chair is not known yet");

    let refused = organiser.post(&app, "/organiser/chairmanships", &[("year", "2027"), ("state", "JP")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = refused.text().await.unwrap();
    assert_eq!(element(&html, "chair-state-error"), "Japan is not a participating State on 1 January 2027");
    assert!(html.contains("<option value=\"JP\" selected>"), "the choice is kept");
    let refused = organiser.post(&app, "/organiser/chairmanships", &[("year", "twenty"), ("state", "CY")]).await;
    assert!(element(&refused.text().await.unwrap(), "chair-year-error").contains("“twenty” is not a year"));

    let (location, console) =
        organiser.post_and_follow(&app, "/organiser/chairmanships", &[("year", "2027"), ("state", "CY")]).await;
    assert_eq!(location, "/organiser?done=chairmanship#chairmanship");
    let form = section(&console, "chairmanship");
    assert!(form.contains("Cyprus is recorded as the Chairmanship of 2027."), "{form}");
    assert!(form.contains("<strong>2027</strong>: Cyprus"), "{form}");
    let after = organiser.get(&app, &format!("/meetings/{}", pc["id"])).await;
    assert!(after.contains("<dt>Chair</dt>\n    <dd>Cyprus</dd>"), "the PC of 2027 names its Chair");

    // Once per year: a second one is refused, naming the first.
    let again = organiser.post(&app, "/organiser/chairmanships", &[("year", "2027"), ("state", "AT")]).await;
    assert!(element(&again.text().await.unwrap(), "chair-year-error").contains("already recorded: Cyprus"));

    // The API: 201 with the Troika; 409 for a year already decided; words for a Partner.
    let token = app.organiser_token().await;
    let created = expect_json(
        app.send(Method::POST, "/api/v1/chairmanships", &token, json!({"year": 2028, "state": "at"})).await,
        201,
    )
    .await;
    assert_eq!((&created["iso2"], &created["troika"]["previous"]), (&json!("AT"), &json!("CY")));
    let message = expect_error(
        app.send(Method::POST, "/api/v1/chairmanships", &token, json!({"year": 2028, "state": "DE"})).await,
        409,
    )
    .await;
    assert!(message.contains("already recorded: Austria"), "{message}");
    expect_error(
        app.send(Method::POST, "/api/v1/chairmanships", &token, json!({"year": 2029, "state": "XX"})).await,
        422,
    )
    .await;
    let delegation = app.delegation_token("AT").await;
    expect_error(
        app.send(Method::POST, "/api/v1/chairmanships", &delegation, json!({"year": 2029, "state": "AT"})).await,
        403,
    )
    .await;
    // Two organisers recording 2030 at the same moment: one is recorded, the other told so.
    let (first, second) = tokio::join!(
        app.send(Method::POST, "/api/v1/chairmanships", &token, json!({"year": 2030, "state": "FI"})),
        app.send(Method::POST, "/api/v1/chairmanships", &token, json!({"year": 2030, "state": "SE"})),
    );
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);
    let winner = if first.status() == StatusCode::CREATED { "FI" } else { "SE" };
    let recorded = app.get_json("/api/v1/chairmanships", 200).await;
    let year_2030: Vec<&Value> = recorded.as_array().unwrap().iter().filter(|row| row["year"] == 2030).collect();
    assert_eq!(year_2030.len(), 1);
    assert_eq!(year_2030[0]["iso2"], winner, "the answer that said 201 is the one kept");
    // The Contact Group with the Mediterranean Partners of 2027 is chaired by 2028's.
    let med = app.get_json("/api/v1/meetings?body=CG-MED&from=2027-01-01&to=2027-12-31", 200).await;
    assert_eq!(med[0]["chair"], "AT", "{}", med[0]);
    app.stop().await;
}

/// The use cases check who acts themselves, whichever edge calls them: a delegation is refused
/// every organiser setting even when no page or extractor stood in the way.
#[tokio::test]
async fn the_use_cases_refuse_a_delegation_every_organiser_setting() {
    let app = TestApp::spawn().await;
    let meeting = planned_meeting(&app, "PC", "03").await;
    let id = i32::try_from(meeting["id"].as_i64().unwrap()).unwrap();
    let austria =
        Principal { role: plenary::auth::Role::Delegation, state: Some("AT".into()), actor: "user:at".into() };
    let forbidden = |result: Result<(), service::Error>| matches!(result, Err(service::Error::Forbidden(_)));
    let state = &app.state;
    assert!(forbidden(service::meetings::cancel(state, &austria, id, Some("no")).await.map(drop)));
    assert!(forbidden(service::meetings::reinstate(state, &austria, id, false).await.map(drop)));
    let settings = service::registrations::NewSettings { seats_behind_quota: Some(9), deadline: None, capacity: None };
    assert!(forbidden(service::registrations::set_settings(state, &austria, id, settings).await.map(drop)));
    let guests = service::invitations::NewAdjustments { closed: true, guest_delegations: vec![], officials: vec![] };
    assert!(forbidden(service::invitations::set_adjustments(&state.db, &austria, id, guests).await.map(drop)));
    assert!(forbidden(service::reference::record_chairmanship(&state.db, &austria, 2031, "AT").await));
    let unchanged = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!(unchanged["status"], "scheduled");
    app.stop().await;
}

/// Two organisers cancelling (or changing) one meeting at the same moment: one change is saved
/// and mailed, the other is told the meeting changed meanwhile, never written over it.
#[tokio::test]
async fn of_two_changes_at_once_one_is_saved_and_the_other_told() {
    let app = TestApp::spawn().await;
    let meeting = planned_meeting(&app, "PC", "03").await;
    let id = i32::try_from(meeting["id"].as_i64().unwrap()).unwrap();
    let organiser = Principal::command_line();
    let (first, second) = tokio::join!(
        service::meetings::cancel(&app.state, &organiser, id, Some("The Hofburg is closed.")),
        service::meetings::cancel(&app.state, &organiser, id, Some("Nobody can come.")),
    );
    assert!(first.is_ok() != second.is_ok(), "exactly one is saved: {first:?} {second:?}");
    let refused = if first.is_ok() { second } else { first }.unwrap_err();
    assert!(matches!(refused, service::Error::Conflict { .. }), "{refused:?}");
    let saved = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!(saved["sequence"], meeting["sequence"].as_i64().unwrap() + 1, "one change, one sequence step");
    app.stop().await;
}
