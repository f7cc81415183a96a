//! Attendance through the HTTP API: registering within quota, deadline and capacity, the
//! waiting list and its promotions, changes and withdrawals with their audit trail, the
//! attendance list, bad input, and many delegations registering at the same moment.

use std::collections::{HashMap, HashSet};

use chrono::{TimeDelta, Utc};
use reqwest::Method;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
use serde_json::{Value, json};
use tests::{
    TestApp,
    builders::{NewMeeting, NewRegistration},
    expect_error, expect_json,
};

use plenary::db::{
    entities::{audit_log, outbox, registrations},
    enums::{Language, RegistrationStatus, Seat},
};

/// A local date-time string in Vienna `days` days from now, at 10:00.
fn vienna_in(days: i64) -> String {
    let date = (Utc::now() + TimeDelta::days(days)).date_naive();
    format!("{date}T10:00:00")
}

/// Creates a meeting of `body` in the Ratsaal (160 seats) starting at `start` (local Vienna).
async fn meeting(app: &TestApp, token: &str, body: &str, start: &str) -> i64 {
    let end = start.replace("T10:00:00", "T13:00:00");
    NewMeeting::of(body).at(start, &end).room("HOFBURG-RATSAAL").create_id(app, token).await
}

fn attendee(state: &str, name: &str, seat: &str) -> Value {
    NewRegistration::of(state, name, "Adviser", seat).json()
}

async fn register(app: &TestApp, token: &str, meeting: i64, body: Value) -> reqwest::Response {
    app.send(Method::POST, &format!("/api/v1/meetings/{meeting}/registrations"), token, body).await
}

async fn settings(app: &TestApp, token: &str, meeting: i64, body: Value) -> Value {
    expect_json(
        app.send(Method::PUT, &format!("/api/v1/meetings/{meeting}/attendance-settings"), token, body).await,
        200,
    )
    .await
}

async fn audit(app: &TestApp, action: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find().filter(audit_log::Column::Action.eq(action)).all(&app.state.db).await.unwrap()
}

#[tokio::test]
async fn a_delegation_registers_its_head_and_two_advisers_and_a_fourth_is_refused() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let austria = app.delegation_token("AT").await;
    let germany = app.delegation_token("DE").await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;

    let head = expect_json(register(&app, &austria, id, attendee("AT", "Anna Huber", "main")).await, 201).await;
    assert_eq!(head["status"], "confirmed");
    assert_eq!(head["seat"], "main");
    assert_eq!(head["email"], "anna.huber@at.example.org");
    assert_eq!(head["position"], Value::Null);
    for name in ["Bernd Gruber", "Clara Wagner"] {
        let adviser = expect_json(register(&app, &austria, id, attendee("AT", name, "behind")).await, 201).await;
        assert_eq!(adviser["status"], "confirmed");
    }
    let fourth = expect_json(register(&app, &austria, id, attendee("AT", "Dora Bauer", "behind")).await, 409).await;
    let message = fourth["error"]["message"].as_str().unwrap();
    assert!(message.contains("quota of 2") && message.contains("Bernd Gruber, Clara Wagner"), "{fourth}");
    assert_eq!(fourth["error"]["details"]["quota"], 2);
    let second_head =
        expect_error(register(&app, &austria, id, attendee("AT", "Erich Berger", "main")).await, 409).await;
    assert!(second_head.contains("already taken by Anna Huber"), "{second_head}");
    let again = expect_error(register(&app, &austria, id, attendee("AT", "Anna Huber", "behind")).await, 409).await;
    assert!(again.contains("already registered"), "{again}");

    expect_json(register(&app, &germany, id, attendee("DE", "Hans Schmidt", "main")).await, 201).await;
    let path = format!("/api/v1/meetings/{id}/registrations");
    let own = expect_json(app.send(Method::GET, &path, &austria, Value::Null).await, 200).await;
    assert_eq!(own.as_array().unwrap().len(), 3, "Austria sees its own only: {own}");
    let all = expect_json(app.send(Method::GET, &path, &organiser, Value::Null).await, 200).await;
    assert_eq!(all.as_array().unwrap().len(), 4);

    let list = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance"), &austria, Value::Null).await,
        200,
    )
    .await;
    assert_eq!(list["delegations"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["delegations"][0]["quota_left"], 0);
    assert_eq!(list["limits"]["seats_behind_quota"], 2);
    assert_eq!(list["limits"]["capacity"], 160);
    assert_eq!(audit(&app, "registration.create").await.len(), 4);
    app.stop().await;
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_reason() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let austria = app.delegation_token("AT").await;
    let japan = app.delegation_token("JP").await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;

    let other = expect_error(register(&app, &austria, id, attendee("DE", "Hans Schmidt", "main")).await, 403).await;
    assert!(other.contains("cannot act for DE"), "{other}");
    let forcing = json!({"state": "AT", "name": "A", "email": "a@at.example.org", "seat": "main", "override": true});
    expect_error(register(&app, &austria, id, forcing).await, 403).await;

    let med = meeting(&app, &organiser, "CG-MED", &vienna_in(31)).await;
    let not_invited = expect_error(register(&app, &japan, med, attendee("JP", "Taro Yamada", "main")).await, 403).await;
    assert!(not_invited.contains("Asian Partner") && not_invited.contains("Mediterranean"), "{not_invited}");

    let soon = meeting(&app, &organiser, "PC", &vienna_in(1)).await;
    let late = expect_json(register(&app, &austria, soon, attendee("AT", "Anna Huber", "main")).await, 409).await;
    let message = late["error"]["message"].as_str().unwrap();
    assert!(message.contains("closed at") && message.contains("Europe/Vienna") && message.contains("10:00"), "{late}");
    assert!(late["error"]["details"]["deadline"].as_str().unwrap().contains("T10:00:00+01:00"), "{late}");

    let cancelled = meeting(&app, &organiser, "PC", &vienna_in(32)).await;
    expect_json(
        app.send(Method::POST, &format!("/api/v1/meetings/{cancelled}/cancel"), &organiser, json!({})).await,
        200,
    )
    .await;
    let refused =
        expect_error(register(&app, &austria, cancelled, attendee("AT", "Anna Huber", "main")).await, 409).await;
    assert!(refused.contains("cancelled"), "{refused}");

    for (body, field) in [
        (json!({"state": "AT", "name": "A", "email": "not-an-address", "seat": "main"}), "email"),
        (json!({"state": "AT", "name": "  ", "email": "a@at.example.org", "seat": "main"}), "name"),
        (json!({"state": "AT", "name": "A", "email": "a@at.example.org", "seat": "standing"}), "seat"),
        (
            json!({"state": "AT", "name": "A", "email": "a@at.example.org", "seat": "main", "language": "de"}),
            "language",
        ),
    ] {
        let message = expect_error(register(&app, &austria, id, body).await, 422).await;
        assert!(message.contains(field), "{field}: {message}");
    }
    expect_error(register(&app, &austria, 999_999, attendee("AT", "Anna Huber", "main")).await, 404).await;
    expect_error(app.send(Method::DELETE, "/api/v1/registrations/999999", &austria, Value::Null).await, 404).await;
    expect_error(
        app.send(Method::PATCH, "/api/v1/registrations/999999", &austria, json!({"function": "x"})).await,
        404,
    )
    .await;
    expect_error(app.send(Method::GET, "/api/v1/meetings/999999/attendance", &organiser, Value::Null).await, 404).await;
    expect_error(
        app.send(Method::PUT, &format!("/api/v1/meetings/{id}/attendance-settings"), &austria, json!({})).await,
        403,
    )
    .await;
    expect_error(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance.csv"), &austria, Value::Null).await,
        403,
    )
    .await;
    // Another delegation's registration is not found, not forbidden: ids reveal nothing.
    let head = expect_json(register(&app, &austria, id, attendee("AT", "Anna Huber", "main")).await, 201).await;
    let germany = app.delegation_token("DE").await;
    let path = format!("/api/v1/registrations/{}", head["id"]);
    expect_error(app.send(Method::DELETE, &path, &germany, Value::Null).await, 404).await;
    app.stop().await;
}

#[tokio::test]
async fn organisers_exceed_quota_and_deadline_only_explicitly_and_it_is_recorded() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let austria = app.delegation_token("AT").await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;
    settings(&app, &organiser, id, json!({"seats_behind_quota": 1})).await;
    expect_json(register(&app, &austria, id, attendee("AT", "Bernd Gruber", "behind")).await, 201).await;
    expect_error(register(&app, &organiser, id, attendee("AT", "Clara Wagner", "behind")).await, 409).await;
    let mut forced = attendee("AT", "Clara Wagner", "behind");
    forced["override"] = json!(true);
    let row = expect_json(register(&app, &organiser, id, forced).await, 201).await;
    assert_eq!(row["overridden"], true);
    let entries = audit(&app, "registration.create").await;
    let last: Value = serde_json::from_str(entries.last().unwrap().after.as_deref().unwrap()).unwrap();
    assert_eq!(last["overrides"], json!(["quota"]), "{last}");

    let soon = meeting(&app, &organiser, "PC", &vienna_in(1)).await;
    expect_error(register(&app, &organiser, soon, attendee("AT", "Anna Huber", "main")).await, 409).await;
    let mut late = attendee("AT", "Anna Huber", "main");
    late["override"] = json!(true);
    let row = expect_json(register(&app, &organiser, soon, late).await, 201).await;
    assert_eq!(row["overridden"], true);
    // Changes after the deadline are refused to the delegation, allowed to a forcing organiser.
    let path = format!("/api/v1/registrations/{}", row["id"]);
    expect_error(app.send(Method::PATCH, &path, &austria, json!({"function": "Ambassador"})).await, 409).await;
    let changed = expect_json(
        app.send(Method::PATCH, &path, &organiser, json!({"function": "Ambassador", "override": true})).await,
        200,
    )
    .await;
    assert_eq!(changed["function"], "Ambassador");
    app.stop().await;
}

#[tokio::test]
async fn a_full_meeting_fills_its_waiting_list_in_order_and_promotes_when_someone_withdraws() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;
    let set = settings(&app, &organiser, id, json!({"capacity": 2})).await;
    assert_eq!(set["effective"]["capacity"], 2);
    let mut ids = Vec::new();
    for (state, name) in [("AT", "Anna Huber"), ("DE", "Hans Schmidt"), ("FR", "Marie Dubois"), ("IT", "Luca Rossi")] {
        let token = app.delegation_token(state).await;
        let mut body = attendee(state, name, "main");
        body["language"] = json!(if state == "FR" { "fr" } else { "en" });
        let row = expect_json(register(&app, &token, id, body).await, 201).await;
        ids.push((row["id"].as_i64().unwrap(), row["status"].clone(), row["position"].clone(), token));
    }
    let statuses: Vec<_> = ids.iter().map(|(_, status, position, _)| (status.clone(), position.clone())).collect();
    assert_eq!(
        statuses,
        [
            (json!("confirmed"), Value::Null),
            (json!("confirmed"), Value::Null),
            (json!("waiting"), json!(1)),
            (json!("waiting"), json!(2))
        ]
    );
    // Germany withdraws: France (first in line) moves up, Italy is now first in line.
    let (germany_id, _, _, germany) = &ids[1];
    let withdrawal = expect_json(
        app.send(Method::DELETE, &format!("/api/v1/registrations/{germany_id}"), germany, Value::Null).await,
        200,
    )
    .await;
    assert_eq!(withdrawal["registration"]["status"], "withdrawn");
    assert_eq!(withdrawal["promoted"].as_array().unwrap().len(), 1, "{withdrawal}");
    assert_eq!(withdrawal["promoted"][0]["id"].as_i64(), Some(ids[2].0));
    let promotions = audit(&app, "registration.promote").await;
    assert_eq!(promotions.len(), 1);
    // France is told by mail, in the language it registered with, through the outbox.
    let mails =
        outbox::Entity::find().filter(outbox::Column::Kind.eq("waitlist_promotion")).all(&app.state.db).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient_email, "marie.dubois@fr.example.org");
    assert_eq!(mails[0].language, Language::Fr);
    assert_eq!(mails[0].meeting_id, Some(i32::try_from(id).unwrap()));
    assert!(mails[0].subject.starts_with("Une place vous est attribuée"), "{}", mails[0].subject);
    assert!(
        mails[0].text_body.contains("Marie Dubois") && mails[0].text_body.contains("10:00"),
        "{}",
        mails[0].text_body
    );
    assert!(promotions[0].before.as_deref().unwrap().contains("\"waiting\""));
    assert!(promotions[0].after.as_deref().unwrap().contains("\"confirmed\""));
    assert_eq!(audit(&app, "registration.withdraw").await.len(), 1);
    expect_error(
        app.send(Method::DELETE, &format!("/api/v1/registrations/{germany_id}"), germany, Value::Null).await,
        409,
    )
    .await;
    let italy = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/registrations"), &ids[3].3, Value::Null).await,
        200,
    )
    .await;
    assert_eq!(italy[0]["position"], 1, "{italy}");

    // A larger capacity promotes at once.
    let raised = settings(&app, &organiser, id, json!({"capacity": 10})).await;
    assert_eq!(raised["promoted"][0]["id"].as_i64(), Some(ids[3].0), "{raised}");

    let list = expect_json(
        app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance"), &organiser, Value::Null).await,
        200,
    )
    .await;
    assert_eq!((list["confirmed"].as_u64(), list["waiting"].as_u64()), (Some(3), Some(0)), "{list}");
    assert_eq!(list["confirmed_by_seat"], json!({"main": 3, "behind": 0}));
    assert_eq!(list["delegations"].as_array().unwrap().len(), 3);

    let csv = app.send(Method::GET, &format!("/api/v1/meetings/{id}/attendance.csv"), &organiser, Value::Null).await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert!(csv.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let text = csv.text().await.unwrap();
    assert_eq!(text.lines().count(), 4, "{text}");
    assert!(text.starts_with("id,state,name,function,email,seat,language,status,position,arrival,overridden"));
    assert!(text.contains("Marie Dubois"));
    app.stop().await;
}

#[tokio::test]
async fn changing_seat_or_function_keeps_the_rules_and_is_audited() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let austria = app.delegation_token("AT").await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;
    let head = expect_json(register(&app, &austria, id, attendee("AT", "Anna Huber", "main")).await, 201).await;
    let adviser = expect_json(register(&app, &austria, id, attendee("AT", "Bernd Gruber", "behind")).await, 201).await;
    let path = |row: &Value| format!("/api/v1/registrations/{}", row["id"]);
    expect_error(app.send(Method::PATCH, &path(&adviser), &austria, json!({"seat": "main"})).await, 409).await;
    let moved =
        expect_json(app.send(Method::PATCH, &path(&head), &austria, json!({"seat": "behind"})).await, 200).await;
    assert_eq!(moved["seat"], "behind");
    let promoted = expect_json(
        app.send(Method::PATCH, &path(&adviser), &austria, json!({"seat": "main", "function": "Ambassador"})).await,
        200,
    )
    .await;
    assert_eq!((promoted["seat"].as_str(), promoted["function"].as_str()), (Some("main"), Some("Ambassador")));
    expect_error(app.send(Method::PATCH, &path(&adviser), &austria, json!({"name": "x"})).await, 422).await;
    let updates = audit(&app, "registration.update").await;
    assert_eq!(updates.len(), 2);
    assert!(updates[1].before.as_deref().unwrap().contains("\"Adviser\""));
    assert!(updates[1].after.as_deref().unwrap().contains("\"Ambassador\""));
    app.stop().await;
}

/// 68 delegations send 10 registrations each, all at once, against a capacity of 150: the
/// database must end with exactly the rows the 201s announced, within every limit, the waiting
/// list in order of arrival; then 30 concurrent withdrawals promote exactly the first 30 in line.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_delegations_registering_at_once_never_break_a_limit() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let id = meeting(&app, &organiser, "PC", &vienna_in(30)).await;
    settings(&app, &organiser, id, json!({"capacity": 150})).await;
    let on = (Utc::now() + TimeDelta::days(30)).date_naive();
    let all = app.get_json(&format!("/api/v1/states?on={on}"), 200).await;
    let states: Vec<String> = all.as_array().unwrap().iter().map(|s| s["iso2"].as_str().unwrap().to_owned()).collect();
    assert_eq!(states.len(), 68);
    let mut tokens = HashMap::new();
    for state in &states {
        tokens.insert(state.clone(), app.delegation_token(state).await);
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(1000).build().unwrap();
    let url = format!("{}/api/v1/meetings/{id}/registrations", app.base_url);
    let mut tasks = Vec::new();
    for state in &states {
        for k in 0..10 {
            let (client, url, token, state) = (client.clone(), url.clone(), tokens[state].clone(), state.clone());
            tasks.push(tokio::spawn(async move {
                // Two heads (one must lose) and eight advisers (six must be over the quota).
                let seat = if k < 2 { "main" } else { "behind" };
                let body = json!({
                    "state": state, "name": format!("Person {k} of {state}"), "function": "Delegate",
                    "email": format!("p{k}@{}.example.org", state.to_lowercase()), "seat": seat,
                });
                let response = client.post(&url).bearer_auth(token).json(&body).send().await.unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }));
        }
    }
    let mut created = Vec::new();
    let mut refused = 0;
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            201 => created.push(body),
            409 => refused += 1,
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 68 * 3, "one head and two advisers per delegation");
    assert_eq!(refused, 68 * 7);

    let check = |rows: &[registrations::Model]| {
        let active: Vec<_> = rows.iter().filter(|r| r.status != RegistrationStatus::Withdrawn).collect();
        let confirmed: Vec<_> = active.iter().filter(|r| r.status == RegistrationStatus::Confirmed).collect();
        let waiting: Vec<_> = active.iter().filter(|r| r.status == RegistrationStatus::Waiting).collect();
        assert_eq!(confirmed.len(), 150, "the capacity is filled, never exceeded");
        for state in &states {
            let of = |seat: Seat| active.iter().filter(|r| &r.iso2 == state && r.seat == seat).count();
            assert!(
                of(Seat::Main) <= 1 && of(Seat::Behind) <= 2,
                "{state}: {} main, {} behind",
                of(Seat::Main),
                of(Seat::Behind)
            );
        }
        let emails: HashSet<_> = active.iter().map(|r| (&r.email, r.meeting_id)).collect();
        assert_eq!(emails.len(), active.len(), "nobody registered twice");
        let arrivals: HashSet<_> = rows.iter().map(|r| r.arrival).collect();
        assert_eq!(arrivals.len(), rows.len(), "arrivals are unique");
        waiting.len()
    };
    let rows =
        registrations::Entity::find().filter(registrations::Column::MeetingId.eq(id)).all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), created.len(), "every 201 is one row, and every row had its 201");
    let created_ids: HashSet<i64> = created.iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert!(rows.iter().all(|r| created_ids.contains(&r.id)));
    assert_eq!(check(&rows), 68 * 3 - 150);
    // First come, first served: everyone confirmed arrived before everyone waiting, and the
    // positions announced were 1, 2, 3, ... in order of arrival.
    let last_confirmed =
        rows.iter().filter(|r| r.status == RegistrationStatus::Confirmed).map(|r| r.arrival).max().unwrap();
    let first_waiting =
        rows.iter().filter(|r| r.status == RegistrationStatus::Waiting).map(|r| r.arrival).min().unwrap();
    assert!(last_confirmed < first_waiting);
    let mut announced: Vec<(i64, u64)> = created
        .iter()
        .filter(|c| c["status"] == "waiting")
        .map(|c| (c["arrival"].as_i64().unwrap(), c["position"].as_u64().unwrap()))
        .collect();
    announced.sort_unstable();
    assert_eq!(announced.iter().map(|(_, p)| *p).collect::<Vec<_>>(), (1..=54).collect::<Vec<_>>());

    // 30 confirmed attendees withdraw at once: the first 30 in line move up, no more, no less.
    let mut line: Vec<_> = rows.iter().filter(|r| r.status == RegistrationStatus::Waiting).collect();
    line.sort_by_key(|r| r.arrival);
    let first_thirty: HashSet<i64> = line.iter().take(30).map(|r| r.id).collect();
    let leaving: Vec<_> = rows.iter().filter(|r| r.status == RegistrationStatus::Confirmed).take(30).cloned().collect();
    let mut tasks = Vec::new();
    for row in leaving {
        let (client, token) = (client.clone(), tokens[&row.iso2].clone());
        let url = format!("{}/api/v1/registrations/{}", app.base_url, row.id);
        tasks.push(tokio::spawn(async move {
            client.delete(url).bearer_auth(token).send().await.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let rows =
        registrations::Entity::find().filter(registrations::Column::MeetingId.eq(id)).all(&app.state.db).await.unwrap();
    assert_eq!(check(&rows), 68 * 3 - 150 - 30);
    let now_confirmed: HashSet<i64> =
        rows.iter().filter(|r| r.status == RegistrationStatus::Confirmed).map(|r| r.id).collect();
    assert!(first_thirty.is_subset(&now_confirmed), "the first 30 in line moved up");
    assert_eq!(audit(&app, "registration.promote").await.len(), 30);
    let mails =
        outbox::Entity::find().filter(outbox::Column::Kind.eq("waitlist_promotion")).all(&app.state.db).await.unwrap();
    let told: HashSet<String> = mails.iter().map(|m| m.dedupe_key.clone()).collect();
    let expected: HashSet<String> = first_thirty.iter().map(|id| format!("waitlist_promotion:{id}")).collect();
    assert_eq!(told, expected, "each promoted attendee is told once");
    app.stop().await;
}

/// Requests racing for one meeting through two replicas are decided together in batches, and
/// each still answers for itself: 20 delegations each send two heads, four advisers and one
/// adviser twice; organisers add advisers with and without overriding the quota; a second
/// meeting, past its deadline, is hammered at the same time. Every rule holds, every 201 is
/// the row stored (status, arrival, waiting position), every refusal gives its own reason and
/// names what is stored, and each stored registration has its one audit entry and its one mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_requests_decided_together_each_get_their_own_answer() {
    let app = TestApp::spawn().await;
    let replica = app.spawn_replica().await;
    let organiser = app.organiser_token().await;
    let open = meeting(&app, &organiser, "PC", &vienna_in(30)).await;
    settings(&app, &organiser, open, json!({"capacity": 40})).await;
    let closed = meeting(&app, &organiser, "PC", &vienna_in(31)).await;
    settings(&app, &organiser, closed, json!({"deadline": "2020-01-01T00:00:00"})).await;
    let on = (Utc::now() + TimeDelta::days(30)).date_naive();
    let all = app.get_json(&format!("/api/v1/states?on={on}"), 200).await;
    let states: Vec<String> =
        all.as_array().unwrap().iter().take(20).map(|s| s["iso2"].as_str().unwrap().to_owned()).collect();
    let mut requests: Vec<(i64, String, Value)> = Vec::new();
    for (n, state) in states.iter().enumerate() {
        let token = app.delegation_token(state).await;
        let person = |k: usize, seat: &str| {
            json!({"state": state, "name": format!("Person {k} of {state}"), "function": "Delegate",
                   "email": format!("p{k}@{}.example.org", state.to_lowercase()), "seat": seat})
        };
        for k in 0..6 {
            requests.push((open, token.clone(), person(k, if k < 2 { "main" } else { "behind" })));
        }
        requests.push((open, token.clone(), person(2, "behind")));
        requests.push((closed, token.clone(), person(0, "main")));
        let mut by_organiser = person(6 + n % 2, "behind");
        by_organiser["override"] = json!(n % 2 == 0);
        requests.push((open, organiser.clone(), by_organiser.clone()));
        requests.push((closed, organiser.clone(), by_organiser));
    }
    let client = reqwest::Client::builder().pool_max_idle_per_host(1000).build().unwrap();
    let mut tasks = Vec::new();
    for (i, (id, token, body)) in requests.into_iter().enumerate() {
        let base = if i % 2 == 0 { app.base_url.clone() } else { replica.base_url.clone() };
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let response =
                client.post(format!("{base}/api/v1/meetings/{id}/registrations")).bearer_auth(token).json(&body).send();
            let response = response.await.unwrap();
            let status = response.status().as_u16();
            (id, body, status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let rows = registrations::Entity::find().all(&app.state.db).await.unwrap();
    let row = |id: i64| rows.iter().find(|r| r.id == id).unwrap_or_else(|| panic!("registration {id} is stored"));

    // Each 201 is the row stored; each refusal names its own reason and what is stored.
    let mut created = HashSet::new();
    for (meeting, body, status, answer) in &answers {
        let state = body["state"].as_str().unwrap();
        let email = body["email"].as_str().unwrap();
        match status {
            201 => {
                let stored = row(answer["id"].as_i64().unwrap());
                assert_eq!((i64::from(stored.meeting_id), stored.email.as_str()), (*meeting, email));
                assert_eq!(answer["status"], stored.status.to_string());
                assert_eq!(answer["arrival"].as_i64(), Some(stored.arrival));
                assert!(created.insert(stored.id), "one 201 per row");
            }
            409 => {
                let details = &answer["error"]["details"];
                let of_state = |seat: Seat| {
                    rows.iter()
                        .filter(move |r| i64::from(r.meeting_id) == *meeting && r.iso2 == state && r.seat == seat)
                };
                match details["reason"].as_str().unwrap() {
                    "already_registered" => {
                        let other = row(details["registration"].as_i64().unwrap());
                        assert_eq!(other.email, email, "{answer}");
                    }
                    "main_seat_taken" => {
                        let holder = of_state(Seat::Main).next().unwrap();
                        assert_eq!(details["holder"], holder.name.as_str());
                    }
                    "over_quota" => {
                        let holders: Vec<&str> = of_state(Seat::Behind).map(|r| r.name.as_str()).collect();
                        let named: HashSet<&str> =
                            details["holders"].as_array().unwrap().iter().map(|h| h.as_str().unwrap()).collect();
                        assert!(named.len() >= 2 && named.iter().all(|name| holders.contains(name)), "{answer}");
                    }
                    "past_deadline" => assert_eq!(*meeting, closed),
                    other => panic!("unexpected refusal {other}: {answer}"),
                }
            }
            other => panic!("unexpected {other}: {answer}"),
        }
    }
    assert_eq!(created.len(), rows.len(), "every row had its 201");

    // The rules, on the open meeting: one head and two advisers per delegation within the
    // quota, organisers' overrides beyond it, 40 confirmed and the rest waiting in order.
    let open_rows: Vec<_> = rows.iter().filter(|r| i64::from(r.meeting_id) == open).collect();
    for state in &states {
        let of = |seat: Seat, overridden: bool| {
            open_rows.iter().filter(|r| &r.iso2 == state && r.seat == seat && r.overridden == overridden).count()
        };
        assert_eq!((of(Seat::Main, false), of(Seat::Main, true)), (1, 0), "{state}: one head");
        assert_eq!(of(Seat::Behind, false), 2, "{state}: the quota is filled, never exceeded");
    }
    assert!(open_rows.iter().filter(|r| r.overridden).all(|r| r.email.starts_with("p6@")), "only when told to");
    let emails: HashSet<_> = open_rows.iter().map(|r| r.email.to_lowercase()).collect();
    assert_eq!(emails.len(), open_rows.len(), "nobody is registered twice");
    let confirmed: Vec<_> = open_rows.iter().filter(|r| r.status == RegistrationStatus::Confirmed).collect();
    let mut waiting: Vec<_> = open_rows.iter().filter(|r| r.status == RegistrationStatus::Waiting).collect();
    assert_eq!(confirmed.len(), 40);
    assert_eq!(confirmed.len() + waiting.len(), open_rows.len());
    waiting.sort_by_key(|r| r.arrival);
    assert!(confirmed.iter().all(|c| c.arrival < waiting[0].arrival), "first come, first served");
    for (waiting, position) in waiting.iter().zip(1_u64..) {
        let (_, _, _, answer) = answers.iter().find(|(.., answer)| answer["id"].as_i64() == Some(waiting.id)).unwrap();
        assert_eq!(answer["position"].as_u64(), Some(position), "the waiting list's places as announced");
    }
    // Past the deadline only organisers register, and only overriding.
    for stored in rows.iter().filter(|r| i64::from(r.meeting_id) == closed) {
        assert!(stored.overridden && stored.seat == Seat::Behind, "{stored:?}");
    }
    assert_eq!(rows.iter().filter(|r| i64::from(r.meeting_id) == closed).count(), 10);

    // Each registration has its one audit entry, with what its requester exceeded, and its mail.
    let entries = audit(&app, "registration.create").await;
    assert_eq!(entries.len(), rows.len());
    for stored in &rows {
        let entry = entries.iter().find(|e| e.subject_id == stored.id.to_string()).unwrap();
        let after: Value = serde_json::from_str(entry.after.as_deref().unwrap()).unwrap();
        assert_eq!(
            (entry.actor.as_str(), after["status"].as_str()),
            (stored.created_by.as_str(), Some(&*stored.status.to_string()))
        );
        let overrides = after["overrides"].as_array().map_or(0, Vec::len);
        assert_eq!(overrides > 0, stored.overridden, "{after}");
    }
    let mails = outbox::Entity::find().all(&app.state.db).await.unwrap();
    let told: HashSet<String> = mails.iter().map(|m| m.dedupe_key.clone()).collect();
    let expected: HashSet<String> = rows
        .iter()
        .map(|r| match r.status {
            RegistrationStatus::Waiting => format!("registration_waiting:{}", r.id),
            _ => format!("registration_confirmed:{}", r.id),
        })
        .collect();
    assert_eq!(told, expected, "each attendee is told once, of what the answer said");
    assert_eq!(mails.len(), rows.len());
    replica.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn the_attendance_endpoints_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let document = app.get_json("/api/openapi.json", 200).await;
    for path in [
        "/api/v1/meetings/{id}/registrations",
        "/api/v1/registrations/{id}",
        "/api/v1/meetings/{id}/attendance-settings",
        "/api/v1/meetings/{id}/attendance",
        "/api/v1/meetings/{id}/attendance.csv",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    let registration = &document["paths"]["/api/v1/registrations/{id}"];
    assert!(registration["patch"].is_object() && registration["delete"].is_object());
    app.stop().await;
}
