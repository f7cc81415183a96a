//! Planning and the life of a meeting, through the HTTP API: chairs, time zones, conflicts,
//! sequence and UID, cancellations, idempotent planning, and bad input.

use reqwest::Method;
use serde_json::{Value, json};
use tests::{TestApp, expect_error, expect_json};

fn list(value: &Value) -> &Vec<Value> {
    value.as_array().unwrap()
}

#[tokio::test]
async fn planning_a_year_creates_each_bodys_rhythm_and_twice_adds_nothing() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let first = app.plan(&token, 2026).await;
    let created = first["created"].as_u64().unwrap();
    assert!(created > 80, "{first}");
    assert!(
        list(&first["skipped"]).iter().any(|s| s["body"] == "PC" && s["date"] == "2026-05-14"),
        "Ascension Day (Thursday 14 May 2026) is reported as skipped for the PC: {first}"
    );
    let second = app.plan(&token, 2026).await;
    assert_eq!(second["created"], 0);
    assert_eq!(second["already_planned"].as_u64().unwrap(), created);

    let count = |body: &'static str| {
        let app = &app;
        async move {
            list(&app.get_json(&format!("/api/v1/meetings?body={body}&from=2026-01-01&to=2026-12-31"), 200).await).len()
        }
    };
    let pc = count("PC").await;
    assert!((41..=50).contains(&pc), "PC meetings in 2026: {pc}");
    let fsc = count("FSC").await;
    assert!((30..=38).contains(&fsc), "FSC meetings in 2026: {fsc}");
    assert_eq!(count("CG-JOINT").await, 1);
    let med = count("CG-MED").await;
    assert!((5..=7).contains(&med), "CG-MED: {med}");
    assert_eq!(list(&app.get_json("/api/v1/meetings?from=2026-01-01&to=2026-12-31", 200).await).len() as u64, created);
    app.stop().await;
}

#[tokio::test]
async fn chairs_are_derived_and_fill_in_once_the_chairmanship_is_entered() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2026).await;
    let asia = app.get_json("/api/v1/meetings?body=CG-ASIA&from=2026-01-01&to=2026-12-31", 200).await;
    assert!((5..=7).contains(&list(&asia).len()), "{asia}");
    assert!(list(&asia).iter().all(|m| m["chair"] == "FI"), "the outgoing Chairmanship (Finland) chairs: {asia}");
    let pc = app.get_json("/api/v1/meetings?body=PC&from=2026-03-01&to=2026-03-31", 200).await;
    assert!(list(&pc).iter().all(|m| m["chair"] == "CH" && m["chairs"][0]["name_en"] == "Switzerland"), "{pc}");

    let med = app.get_json("/api/v1/meetings?body=CG-MED&from=2026-01-01&to=2026-12-31", 200).await;
    let first_med = &list(&med)[0];
    assert_eq!(first_med["chair"], Value::Null, "2027's Chair is not known yet");
    assert_eq!(first_med["chairs"][0]["name_en"], "to be decided");
    let joint = app.get_json("/api/v1/meetings?body=CG-JOINT&from=2026-01-01&to=2026-12-31", 200).await;
    assert_eq!(
        list(&joint)[0]["chairs"],
        json!([
            {"role": "incoming", "iso2": null, "name_en": "to be decided"},
            {"role": "outgoing", "iso2": "FI", "name_en": "Finland"},
        ])
    );

    let response = app.send(Method::PUT, "/api/v1/chairmanships/2027", &token, json!({"iso2": "CY"})).await;
    assert_eq!(response.status(), 204);
    let again = app.get_json(&format!("/api/v1/meetings/{}", first_med["id"]), 200).await;
    assert_eq!(again["chair"], "CY");

    let fsc = app.get_json("/api/v1/meetings?body=FSC&from=2026-01-01&to=2026-12-31", 200).await;
    assert!(list(&fsc).iter().all(|m| m["chair"].is_string()), "the FSC rotation always names a chair: {fsc}");
    app.stop().await;
}

#[tokio::test]
async fn the_pc_stays_at_ten_in_vienna_across_both_dst_changes() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2027).await;
    let pc = app.get_json("/api/v1/meetings?body=PC&from=2027-01-01&to=2027-12-31", 200).await;
    for meeting in list(&pc) {
        let start = chrono::DateTime::parse_from_rfc3339(meeting["start"].as_str().unwrap()).unwrap();
        assert_eq!(start.format("%H:%M").to_string(), "10:00", "{meeting}");
        assert_eq!(start.format("%a").to_string(), "Thu", "{meeting}");
        assert_eq!(meeting["time_zone"], "Europe/Vienna");
        let utc_hour = start.with_timezone(&chrono::Utc).format("%H").to_string();
        let summer = start.offset().local_minus_utc() == 7200;
        assert_eq!(utc_hour, if summer { "08" } else { "09" }, "{meeting}");
    }
    let starts: Vec<&str> = list(&pc).iter().map(|m| m["start"].as_str().unwrap()).collect();
    assert!(starts.iter().any(|s| s.ends_with("+01:00")) && starts.iter().any(|s| s.ends_with("+02:00")), "{starts:?}");
    app.stop().await;
}

#[tokio::test]
async fn moving_a_meeting_raises_its_sequence_keeps_its_uid_and_is_audited_and_replanning_keeps_it() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2026).await;
    let asia = app.get_json("/api/v1/meetings?body=CG-ASIA&from=2026-01-01&to=2026-12-31", 200).await;
    let meeting = &list(&asia)[1];
    let id = meeting["id"].as_i64().unwrap();
    let start = chrono::DateTime::parse_from_rfc3339(meeting["start"].as_str().unwrap()).unwrap();
    let week_later = (start + chrono::TimeDelta::days(7)).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string();

    let response =
        app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, json!({"start": week_later})).await;
    let moved = expect_json(response, 200).await;
    assert_eq!(moved["uid"], meeting["uid"]);
    assert_eq!(moved["sequence"], meeting["sequence"].as_i64().unwrap() + 1);
    let moved_start = chrono::DateTime::parse_from_rfc3339(moved["start"].as_str().unwrap()).unwrap();
    assert_eq!(moved_start.naive_local().format("%Y-%m-%dT%H:%M:%S").to_string(), week_later);
    let old_length = chrono::DateTime::parse_from_rfc3339(meeting["end"].as_str().unwrap()).unwrap() - start;
    let new_length = chrono::DateTime::parse_from_rfc3339(moved["end"].as_str().unwrap()).unwrap() - moved_start;
    assert_eq!(old_length, new_length, "moving the start alone keeps the length");

    let renamed = expect_json(
        app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, json!({"title": "Renamed"})).await,
        200,
    )
    .await;
    assert_eq!(renamed["sequence"], moved["sequence"].as_i64().unwrap() + 1);
    let unchanged = expect_json(
        app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, json!({"title": "Renamed"})).await,
        200,
    )
    .await;
    assert_eq!(unchanged["sequence"], renamed["sequence"], "a change that changes nothing does not raise the sequence");

    let cancel_id = list(&asia)[2]["id"].as_i64().unwrap();
    expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{cancel_id}/cancel"), &token, json!({})).await, 200)
        .await;
    let replanned = app.plan(&token, 2026).await;
    assert_eq!(replanned["created"], 0);
    let after = app.get_json(&format!("/api/v1/meetings/{id}"), 200).await;
    assert_eq!(after["start"], moved["start"]);
    assert_eq!(after["title"], "Renamed");
    assert_eq!(app.get_json(&format!("/api/v1/meetings/{cancel_id}"), 200).await["status"], "cancelled");

    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let audit = plenary::db::entities::audit_log::Entity::find()
        .filter(plenary::db::entities::audit_log::Column::SubjectId.eq(id.to_string()))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(audit.iter().filter(|entry| entry.action == "meeting.update").count(), 2);
    assert!(audit.iter().all(|entry| entry.actor.starts_with("token:") && entry.before.is_some()));
    app.stop().await;
}

#[tokio::test]
async fn cancelled_meetings_stay_visible_and_cannot_be_cancelled_or_changed_again() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2026).await;
    let pc = app.get_json("/api/v1/meetings?body=PC&from=2026-03-01&to=2026-03-31", 200).await;
    let id = list(&pc)[0]["id"].as_i64().unwrap();
    let cancelled =
        expect_json(app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &token, json!({})).await, 200)
            .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["sequence"], 1);
    let still_listed = app.get_json("/api/v1/meetings?body=PC&from=2026-03-01&to=2026-03-31", 200).await;
    assert_eq!(list(&still_listed).len(), list(&pc).len());
    expect_error(app.send(Method::POST, &format!("/api/v1/meetings/{id}/cancel"), &token, json!({})).await, 409).await;
    expect_error(app.send(Method::PATCH, &format!("/api/v1/meetings/{id}"), &token, json!({"title": "x"})).await, 409)
        .await;
    app.stop().await;
}

#[tokio::test]
async fn conferences_abroad_keep_their_local_time_in_their_own_zone() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let cases = [
        ("CONF-ASIA", "Asia/Tokyo", "Tokyo", "JP", "2027-06-15T09:00:00", "2027-06-15T09:00:00+09:00"),
        ("CONF-MED", "Asia/Amman", "Amman", "JO", "2027-10-20T09:30:00", "2027-10-20T09:30:00+03:00"),
        ("CONF-ASIA", "Australia/Adelaide", "Adelaide", "AU", "2027-01-20T09:00:00", "2027-01-20T09:00:00+10:30"),
        ("CONF-ASIA", "Australia/Adelaide", "Adelaide", "AU", "2027-07-20T09:00:00", "2027-07-20T09:00:00+09:30"),
        ("CONF-ASIA", "Asia/Bangkok", "Bangkok", "TH", "2027-03-28T02:30:00", "2027-03-28T02:30:00+07:00"),
    ];
    for (body, zone, city, host, start, expected) in cases {
        let end = start.replace("T09", "T17").replace("T02:30", "T05:30");
        let response = app
            .send(
                Method::POST,
                "/api/v1/meetings",
                &token,
                json!({
                    "body": body, "title": format!("Conference in {city}"), "start": start, "end": end,
                    "time_zone": zone, "city": city, "country": host, "host": host,
                }),
            )
            .await;
        let created = expect_json(response, 201).await;
        assert_eq!(created["start"], expected, "{zone}");
        assert_eq!(created["time_zone"], zone);
        assert_eq!(created["host"], host);
        assert_eq!(created["sequence"], 0);
        assert!(created["uid"].as_str().unwrap().ends_with("@plenary"));
    }
    app.stop().await;
}

#[tokio::test]
async fn local_times_that_do_not_exist_or_exist_twice_are_refused_naming_the_zone() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let create = |start: &str, end: &str| {
        app.send(
            Method::POST,
            "/api/v1/meetings",
            &token,
            json!({
                "body": "PC", "title": "Special session", "start": start, "end": end,
                "time_zone": "Europe/Vienna", "room": "HOFBURG-SEGMENTGALERIE",
            }),
        )
    };
    let gap = expect_error(create("2027-03-28T02:30:00", "2027-03-28T04:00:00").await, 422).await;
    assert!(gap.contains("Europe/Vienna") && gap.contains("does not exist"), "{gap}");
    let twice = expect_error(create("2027-10-31T02:30:00", "2027-10-31T04:00:00").await, 422).await;
    assert!(twice.contains("Europe/Vienna") && twice.contains("twice"), "{twice}");
    app.stop().await;
}

#[tokio::test]
async fn a_room_clash_is_409_naming_the_other_meeting_unless_forced() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    app.plan(&token, 2026).await;
    let pc = &list(&app.get_json("/api/v1/meetings?body=PC&from=2026-03-01&to=2026-03-31", 200).await)[0].clone();
    let local = chrono::DateTime::parse_from_rfc3339(pc["start"].as_str().unwrap()).unwrap().naive_local();
    let special = json!({
        "body": "FSC", "title": "Joint PC/FSC", "start": (local + chrono::TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%S").to_string(),
        "end": (local + chrono::TimeDelta::hours(2)).format("%Y-%m-%dT%H:%M:%S").to_string(),
        "time_zone": "Europe/Vienna", "room": "HOFBURG-NEUER-SAAL",
    });
    let response = app.send(Method::POST, "/api/v1/meetings", &token, special.clone()).await;
    let body = expect_json(response, 409).await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("Neuer Saal is taken by the Permanent Council on "), "in words: {body}");
    assert!(!message.contains("HOFBURG") && !message.contains("(meeting"), "no codes or ids: {body}");
    assert_eq!(body["error"]["details"]["other_meeting"], pc["id"]);

    let mut forced = special;
    forced["force"] = json!(true);
    let created = expect_json(app.send(Method::POST, "/api/v1/meetings", &token, forced).await, 201).await;
    assert!(list(&created["warnings"]).iter().any(|w| w["kind"] == "room_clash_forced"), "{created}");
    app.stop().await;
}

#[tokio::test]
async fn closures_and_recesses_are_accepted_with_a_warning() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let response = app
        .send(
            Method::POST,
            "/api/v1/meetings",
            &token,
            json!({
                "body": "PC", "title": "Reinforced PC", "start": "2026-12-08T10:00:00", "end": "2026-12-08T13:00:00",
                "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL",
            }),
        )
        .await;
    let created = expect_json(response, 201).await;
    let kinds: Vec<&str> = list(&created["warnings"]).iter().map(|w| w["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"hofburg_closed"), "8 December is a public holiday: {created}");
    let august = app
        .send(
            Method::POST,
            "/api/v1/meetings",
            &token,
            json!({
                "body": "PC", "title": "Special PC", "start": "2026-08-13T10:00:00", "end": "2026-08-13T12:00:00",
                "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL",
            }),
        )
        .await;
    let created = expect_json(august, 201).await;
    assert!(list(&created["warnings"]).iter().any(|w| w["kind"] == "recess"), "{created}");
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let base = json!({
        "body": "CONF-ASIA", "title": "Asian Conference", "start": "2027-06-15T09:00:00", "end": "2027-06-16T17:00:00",
        "time_zone": "Asia/Seoul", "city": "Seoul", "country": "KR", "host": "KR",
    });
    let with = |field: &str, value: Value| {
        let mut body = base.clone();
        body[field] = value;
        body
    };
    let cases = [
        (with("body", json!("XYZ")), 422, "body"),
        (with("time_zone", json!("Mars/Olympus")), 422, "Mars/Olympus"),
        (with("room", json!("NOWHERE")), 422, "room"),
        (with("host", json!("XQ")), 422, "host"),
        (with("end", json!("2027-06-14T09:00:00")), 422, "end"),
        (with("end", json!("2027-08-15T09:00:00")), 422, "31 days"),
        (with("start", json!("15/06/2027 09:00")), 422, "start"),
    ];
    for (body, status, needle) in cases {
        let message =
            expect_error(app.send(Method::POST, "/api/v1/meetings", &token, body.clone()).await, status).await;
        assert!(message.contains(needle), "{needle:?} not in {message:?} for {body}");
    }
    let response = app
        .request(Method::POST, "/api/v1/plan")
        .bearer_auth(&token)
        .json(&json!({"year": 1900}))
        .send()
        .await
        .unwrap();
    assert!(expect_error(response, 422).await.contains("year"));
    expect_error(app.get("/api/v1/meetings/999999").await, 404).await;
    expect_error(app.send(Method::PATCH, "/api/v1/meetings/999999", &token, json!({"title": "x"})).await, 404).await;
    assert!(expect_error(app.get("/api/v1/meetings?body=NOPE").await, 400).await.contains("body"));
    assert!(expect_error(app.get("/api/v1/meetings?from=2026-13-01").await, 400).await.contains("from"));
    let delegation = app.delegation_token("AT").await;
    expect_error(app.send(Method::POST, "/api/v1/meetings", &delegation, base).await, 403).await;
    app.stop().await;
}
