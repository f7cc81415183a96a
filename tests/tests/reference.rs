//! The public reference endpoints, the JSON error shape, and authentication by role.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tests::{TestApp, expect_error, expect_json};

fn count(states: &Value, kind: &str) -> usize {
    states.as_array().unwrap().iter().filter(|s| s["kind"] == kind).count()
}

#[tokio::test]
async fn states_today_are_57_participating_and_11_partners() {
    let app = TestApp::spawn().await;
    let states = app.get_json("/api/v1/states?on=2026-11-27", 200).await;
    assert_eq!(count(&states, "participating"), 57);
    assert_eq!(count(&states, "partner"), 11);
    let med = states.as_array().unwrap().iter().filter(|s| s["partner_group"] == "mediterranean").count();
    assert_eq!(med, 6);
    // Protocol order: Albania first, the United States right after Germany.
    let codes: Vec<&str> = states.as_array().unwrap().iter().map(|s| s["iso2"].as_str().unwrap()).collect();
    assert_eq!(codes[0], "AL");
    let position = |iso2| codes.iter().position(|c| *c == iso2).unwrap();
    assert_eq!(position("US"), position("DE") + 1);
    app.stop().await;
}

#[tokio::test]
async fn mongolia_is_a_partner_in_2010_and_a_participating_state_in_2013() {
    let app = TestApp::spawn().await;
    let find = |states: Value| states.as_array().unwrap().iter().find(|s| s["iso2"] == "MN").cloned().unwrap();
    let in_2010 = find(app.get_json("/api/v1/states?on=2010-06-01", 200).await);
    assert_eq!(in_2010["kind"], "partner");
    assert_eq!(in_2010["partner_group"], "asian");
    let in_2013 = find(app.get_json("/api/v1/states?on=2013-06-01", 200).await);
    assert_eq!(in_2013["kind"], "participating");
    assert_eq!(in_2013["partner_group"], Value::Null);
    let states_2010 = app.get_json("/api/v1/states?on=2010-06-01", 200).await;
    assert_eq!(count(&states_2010, "participating"), 56);
    assert_eq!(count(&states_2010, "partner"), 12);
    app.stop().await;
}

#[tokio::test]
async fn one_state_with_its_history_and_an_unknown_code_is_404_naming_it() {
    let app = TestApp::spawn().await;
    let mongolia = app.get_json("/api/v1/states/mn", 200).await;
    assert_eq!(mongolia["name_fr"], "Mongolie");
    assert_eq!(mongolia["memberships"].as_array().unwrap().len(), 2);
    let message = expect_error(app.get("/api/v1/states/XQ").await, 404).await;
    assert!(message.contains("XQ"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_date_is_400_naming_the_parameter_and_format() {
    let app = TestApp::spawn().await;
    let message = expect_error(app.get("/api/v1/states?on=27.11.2026").await, 400).await;
    assert!(message.contains("`on`") && message.contains("YYYY-MM-DD"), "{message}");
    app.stop().await;
}

#[tokio::test]
async fn chairmanships_carry_the_troika_and_unknown_years_are_null() {
    let app = TestApp::spawn().await;
    let years = app.get_json("/api/v1/chairmanships", 200).await;
    let year = |y: i64| years.as_array().unwrap().iter().find(|c| c["year"] == y).cloned().unwrap();
    assert_eq!(year(2025)["iso2"], "FI");
    assert_eq!(year(2025)["troika"], json!({"previous": "MT", "current": "FI", "next": "CH"}));
    assert_eq!(year(2026)["troika"]["next"], Value::Null);
    assert_eq!(year(2027)["iso2"], Value::Null);
    assert_eq!(year(2027)["name_en"], Value::Null);
    app.stop().await;
}

#[tokio::test]
async fn an_organiser_records_a_new_chairmanship_and_a_delegation_may_not() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    let delegation = app.delegation_token("AT").await;
    let put = |token: String, body: Value| {
        app.request(Method::PUT, "/api/v1/chairmanships/2027").bearer_auth(token).json(&body).send()
    };
    expect_error(put(delegation, json!({"iso2": "CY"})).await.unwrap(), 403).await;
    let message = expect_error(put(organiser.clone(), json!({"iso2": "JP"})).await.unwrap(), 422).await;
    assert!(message.contains("Japan is not a participating State on 1 January 2027"), "in words: {message}");
    assert_eq!(put(organiser, json!({"iso2": "cy"})).await.unwrap().status(), StatusCode::NO_CONTENT);
    let years = app.get_json("/api/v1/chairmanships", 200).await;
    let y2027 = years.as_array().unwrap().iter().find(|c| c["year"] == 2027).unwrap();
    assert_eq!(y2027["iso2"], "CY");
    assert_eq!(y2027["name_en"], "Cyprus");
    app.stop().await;
}

#[tokio::test]
async fn bodies_list_every_code() {
    let app = TestApp::spawn().await;
    let bodies = app.get_json("/api/v1/bodies", 200).await;
    let codes: Vec<&str> = bodies.as_array().unwrap().iter().map(|b| b["code"].as_str().unwrap()).collect();
    for code in [
        "PC",
        "FSC",
        "CG-MED",
        "CG-ASIA",
        "CG-JOINT",
        "CONF-MED",
        "CONF-ASIA",
        "MC",
        "TROIKA-PARTNERS",
        "ASRC",
        "EEF",
        "HDIM",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn tokens_are_required_and_checked_and_roles_are_enforced() {
    let app = TestApp::spawn().await;
    let put = |token: Option<&str>, body: &str| {
        let request = app
            .request(Method::PUT, "/api/v1/chairmanships/2030")
            .header("content-type", "application/json")
            .body(body.to_owned());
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    let missing = put(None, r#"{"iso2":"AT"}"#).await.unwrap();
    assert_eq!(missing.headers()["www-authenticate"], "Bearer");
    expect_error(missing, 401).await;
    expect_error(put(Some("plt_not-a-real-token"), r#"{"iso2":"AT"}"#).await.unwrap(), 401).await;
    let delegation = app.delegation_token("FR").await;
    let message = expect_error(put(Some(&delegation), r#"{"iso2":"AT"}"#).await.unwrap(), 403).await;
    assert!(message.contains("organiser"), "{message}");
    let admin = app.token(plenary::auth::Role::Admin, None).await;
    let malformed = expect_error(put(Some(&admin), r#"{"iso2": "AT""#).await.unwrap(), 400).await;
    assert!(malformed.contains("JSON"), "{malformed}");
    let wrong_shape = expect_error(put(Some(&admin), r#"{"country": "AT"}"#).await.unwrap(), 422).await;
    assert!(wrong_shape.contains("iso2"), "{wrong_shape}");
    assert_eq!(put(Some(&admin), r#"{"iso2":"AT"}"#).await.unwrap().status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_shape() {
    let app = TestApp::spawn().await;
    expect_error(app.get("/api/v1/nothing-here").await, 404).await;
    expect_error(app.request(Method::DELETE, "/api/v1/states").send().await.unwrap(), 405).await;
    app.stop().await;
}

#[tokio::test]
async fn health_and_the_openapi_document_describe_the_api() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").await;
    assert!(response.headers().contains_key("x-request-id"));
    expect_json(response, 200).await;
    let document = app.get_json("/api/openapi.json", 200).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in ["/api/v1/states", "/api/v1/states/{iso2}", "/api/v1/chairmanships", "/api/v1/bodies"] {
        assert!(document["paths"][path].is_object(), "{path} missing from the OpenAPI document");
    }
    assert_eq!(app.get("/api/docs").await.status(), StatusCode::OK);
    app.stop().await;
}

#[tokio::test]
async fn loading_the_reference_data_again_adds_nothing() {
    let app = TestApp::spawn().await;
    let data = scheduler_reference();
    plenary::store::reference::load(&app.state.db, &data).await.unwrap();
    plenary::store::reference::load(&app.state.db, &data).await.unwrap();
    let states = app.get_json("/api/v1/states?on=2026-11-27", 200).await;
    assert_eq!(states.as_array().unwrap().len(), 68);
    let all = plenary::store::reference::states_and_memberships(&app.state.db).await.unwrap();
    assert_eq!(all.states.len(), 68);
    assert_eq!(all.memberships.len(), 69);
    app.stop().await;
}

#[tokio::test]
async fn changed_reference_data_is_applied_on_the_next_load() {
    let app = TestApp::spawn().await;
    let mut data = scheduler_reference();
    let albania = data.states.iter_mut().find(|state| state.iso2 == "AL").unwrap();
    albania.name_en = "Republic of Albania".into();
    let mongolia_as_partner = data.memberships.iter_mut().find(|m| m.iso2 == "MN" && m.until.is_some()).unwrap();
    mongolia_as_partner.until = Some("2012-11-22".parse().unwrap());
    plenary::store::reference::load(&app.state.db, &data).await.unwrap();
    let albania = app.get_json("/api/v1/states/AL", 200).await;
    assert_eq!(albania["name_en"], "Republic of Albania");
    let mongolia = app.get_json("/api/v1/states/MN", 200).await;
    assert_eq!(mongolia["memberships"][0]["until"], "2012-11-22");
    assert_eq!(mongolia["memberships"].as_array().unwrap().len(), 2, "updated in place, not added");
    app.stop().await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let response = app
        .request(Method::PUT, "/api/v1/chairmanships/2031")
        .header("authorization", format!("bearer {token}"))
        .json(&json!({"iso2": "AT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    app.stop().await;
}

fn scheduler_reference() -> scheduler::reference::ReferenceData {
    scheduler::reference::ReferenceData::bundled()
}
