//! Seating plans through the HTTP API: golden cases (a Permanent Council today, the Asian Contact
//! Group, Mongolia before and after it joined), the lot drawn once and redrawn only on request,
//! the SVG picture, seating rules, and bad input.

use plenary::db::entities::audit_log;
use reqwest::Method;
use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _};
use serde_json::{Value, json};
use tests::{
    TestApp,
    builders::{NewMeeting, NewRegistration},
    expect_error, expect_json,
};

/// Creates a meeting of `body` in a Hofburg room on a local `date` at `time` and returns its id.
async fn meeting_in(app: &TestApp, token: &str, body: &str, room: &str, date: &str, time: (&str, &str)) -> i64 {
    NewMeeting::of(body).on(date, time.0, time.1).room(room).forced().create_id(app, token).await
}

async fn seating(app: &TestApp, id: i64) -> Value {
    app.get_json(&format!("/api/v1/meetings/{id}/seating"), 200).await
}

fn seats(plan: &Value) -> &Vec<Value> {
    plan["plan"]["seats"].as_array().unwrap()
}

/// The delegations in their own seats (main table and any Partners' row), in seat order, of one
/// kind (`participating` or `partner`).
fn ring(plan: &Value, kind: &str) -> Vec<String> {
    let mut own: Vec<&Value> =
        seats(plan).iter().filter(|s| s["kind"] == "delegation" && s["state_kind"] == kind).collect();
    own.sort_by_key(|s| s["number"].as_u64());
    own.iter().map(|s| s["delegation"].as_str().unwrap().to_owned()).collect()
}

/// The participating States and Partners on `date`, each in protocol order, from the public
/// reference endpoint.
async fn protocol_order(app: &TestApp, date: &str) -> (Vec<String>, Vec<String>) {
    let states = app.get_json(&format!("/api/v1/states?on={date}"), 200).await;
    let of = |kind: &str| {
        states
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] == kind)
            .map(|s| s["iso2"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    (of("participating"), of("partner"))
}

/// Where `iso2` is in the ring, and the States right before and after it, going round.
fn neighbours<'a>(ring: &'a [String], iso2: &str) -> (&'a str, &'a str) {
    let at = ring.iter().position(|s| s == iso2).unwrap_or_else(|| panic!("{iso2} not in {ring:?}"));
    (&ring[(at + ring.len() - 1) % ring.len()], &ring[(at + 1) % ring.len()])
}

fn labels(plan: &Value) -> Vec<String> {
    plan["plan"]["head"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap().to_owned()).collect()
}

async fn audit(app: &TestApp, action: &str, subject_id: &str) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .filter(audit_log::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit_log::Column::Id)
        .all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_permanent_council_today_seats_57_states_and_11_partners_in_protocol_order_from_the_lot() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "PC", "HOFBURG-NEUER-SAAL", "2026-11-26", ("10:00", "13:00")).await;
    let plan = seating(&app, id).await;

    assert_eq!(plan["plan"]["room"], "Neuer Saal");
    assert_eq!(plan["date"], "2026-11-26");
    assert_eq!(labels(&plan), ["Chairperson (Switzerland)", "Secretary General"]);
    assert_eq!(plan["plan"]["head"][0]["kind"], "chair");
    assert_eq!(plan["plan"]["head"][1]["kind"], "official");

    let drawn = plan["lot"]["drawn"].as_str().unwrap();
    assert_eq!(plan["starts_with"], drawn);
    assert_eq!(plan["lot"]["year"], 2026);
    assert_eq!(plan["lot"]["drawn_by"], "Plenary");
    assert!(plan["lot"]["seed"].as_str().unwrap().parse::<u64>().is_ok(), "{}", plan["lot"]);
    let drawn_on = &plan["lot"]["drawn_at"].as_str().unwrap()[..10];
    assert_eq!(
        plan["plan"]["lot_note"],
        format!("Order starts with {}, drawn on {drawn_on} by Plenary", plan["lot"]["drawn_name"].as_str().unwrap())
    );

    let states = ring(&plan, "participating");
    let partners = ring(&plan, "partner");
    assert_eq!((states.len(), partners.len()), (57, 11));
    let (mut expected_states, expected_partners) = protocol_order(&app, "2026-11-26").await;
    let start = expected_states.iter().position(|s| s == drawn).unwrap();
    expected_states.rotate_left(start);
    assert_eq!(states, expected_states, "protocol order as a ring from the drawn State");
    assert_eq!(partners, expected_partners, "the Partners follow in protocol order");

    let first = seats(&plan).iter().find(|s| s["number"] == 2).unwrap();
    assert_eq!((first["delegation"].as_str(), first["kind"].as_str()), (Some(drawn), Some("delegation")));
    let last_state = seats(&plan)
        .iter()
        .filter(|s| s["kind"] == "delegation" && s["state_kind"] == "participating")
        .map(|s| s["number"].as_u64().unwrap())
        .max()
        .unwrap();
    assert!(
        seats(&plan).iter().filter(|s| s["kind"] == "delegation" && s["state_kind"] == "partner").all(|s| s["number"]
            .as_u64()
            .unwrap()
            > last_state
            && s["place"] == "main_table"),
        "the Partners sit at the main table after every participating State"
    );
    assert_eq!(neighbours(&states, "US").0, "DE", "Amérique (États-Unis d') right after Allemagne");
    assert_eq!(neighbours(&states, "GB"), ("GE", "GR"), "Grande-Bretagne between Géorgie and Grèce");
    assert_eq!(seats(&plan).iter().filter(|s| s["kind"] == "adviser").count(), 68 * 2);
    assert_eq!(seats(&plan).iter().filter(|s| s["kind"] == "vacant").count(), 84 - 70);
    app.stop().await;
}

#[tokio::test]
async fn the_asian_contact_group_seats_the_five_asian_partners_only() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "CG-ASIA", "HOFBURG-RATSAAL", "2026-03-13", ("15:00", "17:00")).await;
    let plan = seating(&app, id).await;
    assert_eq!(plan["plan"]["room"], "Ratsaal");
    assert_eq!(plan["plan"]["table"]["shape"], "horseshoe");
    assert_eq!(labels(&plan), ["Chairperson (Finland)"], "the outgoing Chairmanship presides; no officials");
    assert_eq!(ring(&plan, "participating").len(), 57);
    assert_eq!(ring(&plan, "partner"), ["AF", "AU", "JP", "KR", "TH"]);
    app.stop().await;
}

#[tokio::test]
async fn mongolia_sits_as_a_partner_in_2010_and_as_a_participating_state_in_2013() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let in_2010 = meeting_in(&app, &token, "CG-ASIA", "HOFBURG-RATSAAL", "2010-03-12", ("15:00", "17:00")).await;
    let plan = seating(&app, in_2010).await;
    assert_eq!(ring(&plan, "participating").len(), 56);
    assert!(!ring(&plan, "participating").contains(&"MN".to_owned()));
    let partners = ring(&plan, "partner");
    assert!(partners.contains(&"MN".to_owned()), "{partners:?}");
    assert_eq!(labels(&plan), ["Chairperson (Greece)"], "2009's Chairmanship chairs the Asian group in 2010");

    let in_2013 = meeting_in(&app, &token, "CG-ASIA", "HOFBURG-RATSAAL", "2013-03-15", ("15:00", "17:00")).await;
    let plan = seating(&app, in_2013).await;
    let states = ring(&plan, "participating");
    assert_eq!(states.len(), 57);
    assert_eq!(neighbours(&states, "MN"), ("MC", "ME"), "Mongolie between Monaco and Monténégro");
    assert!(!ring(&plan, "partner").contains(&"MN".to_owned()));
    app.stop().await;
}

#[tokio::test]
async fn the_lot_is_drawn_once_per_body_and_year_and_changes_only_on_an_audited_redraw() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let first = meeting_in(&app, &token, "PC", "HOFBURG-NEUER-SAAL", "2026-11-19", ("10:00", "13:00")).await;
    let second = meeting_in(&app, &token, "PC", "HOFBURG-NEUER-SAAL", "2026-11-26", ("10:00", "13:00")).await;
    let lot = seating(&app, first).await["lot"].clone();
    for _ in 0..3 {
        assert_eq!(seating(&app, first).await["lot"], lot);
    }
    assert_eq!(seating(&app, second).await["lot"], lot, "one lot for the body's whole year");
    let draws = audit(&app, "seating_lot.draw", "PC/2026").await;
    assert_eq!(draws.len(), 1, "the first draw is recorded once");
    assert!(draws[0].after.as_deref().unwrap().contains(lot["seed"].as_str().unwrap()));

    // Only organisers redraw.
    let delegation = app.delegation_token("AT").await;
    let refused = app.send(Method::POST, "/api/v1/seating-lots/PC/2026/redraw", &delegation, json!({})).await;
    assert!(expect_error(refused, 403).await.contains("organisers"));
    let anonymous = app.request(Method::POST, "/api/v1/seating-lots/PC/2026/redraw").send().await.unwrap();
    expect_error(anonymous, 401).await;
    assert_eq!(seating(&app, first).await["lot"], lot);

    let response = app.send(Method::POST, "/api/v1/seating-lots/PC/2026/redraw", &token, json!({})).await;
    let redrawn = expect_json(response, 200).await;
    assert_ne!(redrawn["seed"], lot["seed"]);
    assert_ne!(redrawn["drawn_by"], "Plenary");
    assert!(redrawn["drawn_by"].as_str().unwrap().starts_with("token:"), "{redrawn}");
    let plan = seating(&app, second).await;
    assert_eq!(plan["lot"], redrawn);
    assert_eq!(ring(&plan, "participating")[0], redrawn["drawn"].as_str().unwrap());
    assert!(plan["plan"]["lot_note"].as_str().unwrap().contains(redrawn["drawn_name"].as_str().unwrap()));

    let redraws = audit(&app, "seating_lot.redraw", "PC/2026").await;
    assert_eq!(redraws.len(), 1);
    assert!(redraws[0].before.as_deref().unwrap().contains(lot["seed"].as_str().unwrap()));
    assert!(redraws[0].after.as_deref().unwrap().contains(redrawn["seed"].as_str().unwrap()));
    assert_eq!(redraws[0].actor, redrawn["drawn_by"].as_str().unwrap());

    // Another body's lot, and another year's, are their own.
    let fsc = app.send(Method::POST, "/api/v1/seating-lots/fsc/2027/redraw", &token, json!({})).await;
    assert_eq!(expect_json(fsc, 200).await["body"], "FSC");
    assert_eq!(seating(&app, second).await["lot"], redrawn);
    let unknown = app.send(Method::POST, "/api/v1/seating-lots/XYZ/2026/redraw", &token, json!({})).await;
    assert!(expect_error(unknown, 404).await.contains("XYZ"));
    let year = app.send(Method::POST, "/api/v1/seating-lots/PC/1066/redraw", &token, json!({})).await;
    assert!(expect_error(year, 422).await.contains("1066"));
    app.stop().await;
}

#[tokio::test]
async fn the_svg_is_valid_xml_with_every_invited_delegation_named_once_on_the_main_table() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "PC", "HOFBURG-NEUER-SAAL", "2026-11-26", ("10:00", "13:00")).await;
    let response = app.get(&format!("/api/v1/meetings/{id}/seating.svg")).await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("image/svg+xml"), "{content_type}");
    let svg = response.text().await.unwrap();
    let document = roxmltree::Document::parse(&svg).unwrap_or_else(|error| panic!("not XML ({error}): {svg}"));
    assert_eq!(document.root_element().tag_name().name(), "svg");

    let plan = seating(&app, id).await;
    let invited: Vec<&Value> = seats(&plan).iter().filter(|s| s["kind"] == "delegation").collect();
    assert_eq!(invited.len(), 68);
    let plates: Vec<roxmltree::Node<'_, '_>> = document
        .descendants()
        .filter(|node| node.has_tag_name("g"))
        .filter(|node| {
            let class = node.attribute("class").unwrap_or_default();
            class.contains("main-table") && (class.contains("participating") || class.contains("partner"))
        })
        .collect();
    assert_eq!(plates.len(), 68);
    let text_of = |plate: &roxmltree::Node<'_, '_>, class: &str| {
        plate
            .children()
            .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some(class))
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for seat in invited {
        let iso2 = seat["delegation"].as_str().unwrap();
        let name = seat["label"].as_str().unwrap();
        let mine: Vec<_> = plates.iter().filter(|p| p.attribute("data-delegation") == Some(iso2)).collect();
        assert_eq!(mine.len(), 1, "{iso2} has one plate at the main table");
        assert_eq!(text_of(mine[0], "label"), name, "{iso2}'s plate reads its name");
        let named: Vec<_> = plates.iter().filter(|p| text_of(p, "label") == name).collect();
        assert_eq!(named.len(), 1, "{name} appears once on the main table");
    }
    let chair = document
        .descendants()
        .find(|n| n.has_tag_name("g") && n.attribute("class").unwrap_or_default().contains("chair"))
        .expect("the chair is marked");
    assert!(text_of(&chair, "label").contains("Switzerland"));
    let note = plan["plan"]["lot_note"].as_str().unwrap();
    assert!(document.descendants().any(|n| n.text() == Some(note)), "the lot is noted: {note}");
    app.stop().await;
}

#[tokio::test]
async fn a_room_too_small_is_a_422_naming_the_room_its_seats_and_the_seats_needed() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "PC", "HOFBURG-SEGMENTGALERIE", "2026-11-25", ("10:00", "13:00")).await;
    let message = expect_error(app.get(&format!("/api/v1/meetings/{id}/seating")).await, 422).await;
    assert!(
        message.contains("Segmentgalerie") && message.contains("40 seats") && message.contains("needs 70"),
        "{message}"
    );
    let svg = expect_error(app.get(&format!("/api/v1/meetings/{id}/seating.svg")).await, 422).await;
    assert_eq!(svg, message);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_meeting_is_a_404_and_the_endpoints_are_documented() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/meetings/4242/seating", "/api/v1/meetings/4242/seating.svg"] {
        assert!(expect_error(app.get(path).await, 404).await.contains("4242"), "{path}");
    }
    let openapi = app.get_json("/api/openapi.json", 200).await;
    for path in [
        "/api/v1/meetings/{id}/seating",
        "/api/v1/meetings/{id}/seating.svg",
        "/api/v1/bodies/{code}/seating-rules",
        "/api/v1/seating-lots/{body}/{year}/redraw",
    ] {
        assert!(openapi["paths"][path].is_object(), "{path} is documented");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_conference_abroad_gets_a_generic_table_with_the_seats_it_needs() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = NewMeeting::of("CONF-ASIA")
        .at("2026-10-05T09:00:00", "2026-10-06T17:00:00")
        .abroad("Asia/Tokyo", "Tokyo", "JP")
        .create_id(&app, &token)
        .await;
    let plan = seating(&app, id).await;
    assert_eq!(plan["plan"]["room"], "Tokyo");
    assert_eq!(plan["plan"]["table"]["shape"], "generic");
    let main = seats(&plan).iter().filter(|s| s["place"] == "main_table").count();
    assert_eq!(main + 1, 1 + 57 + 5, "the chair, the States and the five Asian Partners, nothing vacant");
    assert!(seats(&plan).iter().all(|s| s["kind"] != "vacant"));
    app.stop().await;
}

#[tokio::test]
async fn seating_rules_default_per_body_are_changed_by_organisers_and_checked() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let pc = app.get_json("/api/v1/bodies/PC/seating-rules", 200).await;
    assert_eq!(
        pc["rules"],
        json!({"partners_at_main_table": true, "officials": ["Secretary General"], "seats_behind": 2})
    );
    assert_eq!(pc["is_default"], true);
    assert!(pc["known_officials"].as_array().unwrap().contains(&json!("Director of ODIHR")));
    let asia = app.get_json("/api/v1/bodies/cg-asia/seating-rules", 200).await;
    assert_eq!(asia["rules"]["officials"], json!([]));
    assert!(expect_error(app.get("/api/v1/bodies/NOPE/seating-rules").await, 404).await.contains("NOPE"));

    let path = "/api/v1/bodies/CG-ASIA/seating-rules";
    let rules = |officials: Value| json!({"partners_at_main_table": true, "officials": officials, "seats_behind": 1});
    let unknown = app.send(Method::PUT, path, &token, rules(json!(["Secretary General", "Grand Vizier"]))).await;
    let message = expect_error(unknown, 422).await;
    assert!(message.contains("Grand Vizier") && message.contains("Secretary General"), "{message}");
    let twice = app.send(Method::PUT, path, &token, rules(json!(["Director of ODIHR", "director of odihr"]))).await;
    assert!(expect_error(twice, 422).await.contains("twice"));
    let extra = app
        .send(
            Method::PUT,
            path,
            &token,
            json!({"officials": [], "seats_behind": 1, "partners_at_main_table": true, "first_state": "XX"}),
        )
        .await;
    expect_error(extra, 422).await;
    let many = app
        .send(Method::PUT, path, &token, json!({"officials": [], "seats_behind": 40, "partners_at_main_table": true}))
        .await;
    assert!(expect_error(many, 422).await.contains("seats_behind"));
    let delegation = app.delegation_token("JP").await;
    expect_error(app.send(Method::PUT, path, &delegation, rules(json!([]))).await, 403).await;
    assert_eq!(app.get_json(path, 200).await["is_default"], true, "refused changes leave the defaults");

    let saved =
        expect_json(app.send(Method::PUT, path, &token, rules(json!([" director of odihr "]))).await, 200).await;
    assert_eq!(saved["rules"]["officials"], json!(["Director of ODIHR"]));
    assert_eq!(saved["is_default"], false);
    assert!(saved["updated_by"].as_str().unwrap().starts_with("token:"));
    let audited = audit(&app, "seating_rules.update", "CG-ASIA").await;
    assert_eq!(audited.len(), 1);
    assert!(audited[0].before.as_deref().unwrap().contains("\"officials\":[]"));
    assert!(audited[0].after.as_deref().unwrap().contains("Director of ODIHR"));

    let id = meeting_in(&app, &token, "CG-ASIA", "HOFBURG-RATSAAL", "2026-03-13", ("15:00", "17:00")).await;
    let plan = seating(&app, id).await;
    assert_eq!(labels(&plan), ["Chairperson (Finland)", "Director of ODIHR"]);
    assert_eq!(seats(&plan).iter().filter(|s| s["kind"] == "adviser").count(), 62, "one seat behind each");
    app.stop().await;
}

#[tokio::test]
async fn plans_asked_for_at_once_share_one_lazily_drawn_lot() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "FSC", "HOFBURG-NEUER-SAAL", "2026-11-18", ("10:00", "13:00")).await;
    let url = format!("{}/api/v1/meetings/{id}/seating", app.base_url);
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (client, url) = (app.client.clone(), url.clone());
        requests.spawn(async move { expect_json(client.get(url).send().await.unwrap(), 200).await["lot"].clone() });
    }
    let lots = requests.join_all().await;
    assert!(lots.iter().all(|lot| *lot == lots[0]), "{lots:?}");
    assert_eq!(audit(&app, "seating_lot.draw", "FSC/2026").await.len(), 1);
    app.stop().await;
}

fn registration(state: &str, name: &str, seat: &str) -> Value {
    NewRegistration::of(state, name, "Delegate", seat).json()
}

#[tokio::test]
async fn registered_names_are_written_on_their_seats_in_the_json_and_the_svg() {
    let app = TestApp::spawn().await;
    let organiser = app.organiser_token().await;
    // Registration closes 48 hours before a Vienna meeting: a month ahead is open.
    let date = (chrono::Utc::now() + chrono::TimeDelta::days(30)).date_naive().to_string();
    let id = meeting_in(&app, &organiser, "PC", "HOFBURG-NEUER-SAAL", &date, ("10:00", "13:00")).await;
    let path = format!("/api/v1/meetings/{id}/registrations");
    let austria = app.delegation_token("AT").await;
    let japan = app.delegation_token("JP").await;
    for (token, body) in [
        (&austria, registration("AT", "Anna Huber", "main")),
        (&austria, registration("AT", "Bernd Gruber", "behind")),
        (&austria, registration("AT", "Clara Wagner", "behind")),
        (&japan, registration("JP", "Sato Hanako", "behind")),
    ] {
        expect_json(app.send(Method::POST, &path, token, body).await, 201).await;
    }
    // An organiser admits a third Austrian adviser past the quota of two: the plan makes room.
    let mut forced = registration("AT", "Dora Mayer", "behind");
    forced["override"] = json!(true);
    expect_json(app.send(Method::POST, &path, &organiser, forced).await, 201).await;
    // A withdrawn registration holds no seat.
    let gone =
        expect_json(app.send(Method::POST, &path, &japan, registration("JP", "Tanaka Ken", "main")).await, 201).await;
    let withdraw = app
        .request(Method::DELETE, &format!("/api/v1/registrations/{}", gone["id"]))
        .bearer_auth(&japan)
        .send()
        .await
        .unwrap();
    assert!(withdraw.status().is_success(), "{}", withdraw.status());

    // Names are for callers who take part in Plenary (a token or a session); see the security
    // suite's `exposure` module for what anonymous visitors see.
    let plan = expect_json(
        app.request(Method::GET, &format!("/api/v1/meetings/{id}/seating")).bearer_auth(&japan).send().await.unwrap(),
        200,
    )
    .await;
    assert_eq!(plan["rules"]["seats_behind"], 3);
    let own = |iso2: &str| {
        seats(&plan).iter().find(|s| s["kind"] == "delegation" && s["delegation"] == iso2).unwrap().clone()
    };
    let behind = |iso2: &str| {
        let number = own(iso2)["number"].clone();
        seats(&plan).iter().filter(|s| s["behind"] == number).map(|s| s["occupant"].clone()).collect::<Vec<_>>()
    };
    assert_eq!(own("AT")["occupant"], "Anna Huber");
    assert_eq!(behind("AT"), [json!("Bernd Gruber"), json!("Clara Wagner"), json!("Dora Mayer")]);
    assert_eq!(own("JP")["occupant"], Value::Null, "Japan's head of delegation withdrew; the plate stays");
    assert_eq!(behind("JP"), [json!("Sato Hanako"), Value::Null, Value::Null]);
    assert!(seats(&plan).iter().all(|s| s["occupant"] != "Tanaka Ken"));

    let svg = app
        .request(Method::GET, &format!("/api/v1/meetings/{id}/seating.svg"))
        .bearer_auth(&japan)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let document = roxmltree::Document::parse(&svg).unwrap();
    let plate_of = |seat: &Value| {
        document
            .descendants()
            .find(|n| n.has_tag_name("g") && n.attribute("data-seat") == Some(&seat["number"].to_string()))
            .unwrap_or_else(|| panic!("no plate for seat {}", seat["number"]))
    };
    let occupant = |node: roxmltree::Node<'_, '_>| {
        node.children()
            .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("occupant"))
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let austria_plate = plate_of(&own("AT"));
    assert!(austria_plate.attribute("class").unwrap().contains("main-table"));
    assert_eq!(occupant(austria_plate), "Anna Huber");
    let first_behind = seats(&plan).iter().find(|s| s["occupant"] == "Bernd Gruber").unwrap();
    assert_eq!(occupant(plate_of(first_behind)), "Bernd Gruber");
    for name in ["Anna Huber", "Bernd Gruber", "Clara Wagner", "Dora Mayer", "Sato Hanako"] {
        assert_eq!(svg.matches(name).count(), 1, "{name} is written once");
    }
    assert!(!svg.contains("Tanaka Ken"));
    app.stop().await;
}

#[tokio::test]
async fn guests_are_seated_and_may_register_and_a_closed_session_seats_no_other_partners() {
    let app = TestApp::spawn().await;
    let token = app.organiser_token().await;
    let id = meeting_in(&app, &token, "CG-ASIA", "HOFBURG-RATSAAL", "2027-03-12", ("15:00", "17:00")).await;
    let settings = format!("/api/v1/meetings/{id}/invitation-settings");
    expect_json(app.send(Method::PUT, &settings, &token, json!({"guest_delegations": ["EG"]})).await, 200).await;
    let partners = ring(&seating(&app, id).await, "partner");
    assert_eq!(partners.len(), 6, "{partners:?}");
    assert!(partners.contains(&"EG".to_owned()), "Egypt, a guest, has its seat: {partners:?}");
    let egypt = app.delegation_token("EG").await;
    let path = format!("/api/v1/meetings/{id}/registrations");
    let registered = app.send(Method::POST, &path, &egypt, registration("EG", "Amira Said", "main")).await;
    expect_json(registered, 201).await;

    let closed = json!({"closed": true, "guest_delegations": ["EG"]});
    expect_json(app.send(Method::PUT, &settings, &token, closed).await, 200).await;
    assert_eq!(ring(&seating(&app, id).await, "partner"), ["EG"], "a closed session seats only its guests");
    assert_eq!(ring(&seating(&app, id).await, "participating").len(), 57);
    let japan = app.delegation_token("JP").await;
    let refused = app.send(Method::POST, &path, &japan, registration("JP", "Ken Sato", "main")).await;
    let message = expect_error(refused, 403).await;
    assert!(message.contains("closed session of the participating States"), "{message}");
    // The meeting page says so, and lists the guest.
    let page = app.get(&format!("/meetings/{id}")).await.text().await.unwrap();
    assert!(page.contains("<strong>closed session</strong>"), "the page names the closed session");
    assert!(page.contains("Guests of this meeting") && page.contains("Egypt") && !page.contains("Japan"));
    app.stop().await;
}
