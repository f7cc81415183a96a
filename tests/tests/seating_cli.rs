//! `plenary seating --meeting ID --format svg|json|csv` on the real binary: the plan on stdout,
//! the same lot on every run, and a message with a non-zero exit for an unknown meeting or a room
//! too small.
//!
//! Runs on a fresh SQLite file, or a fresh PostgreSQL database when `PLENARY_TEST_DATABASE_URL`
//! is set.

use std::process::Command;

use serde_json::Value;
use tests::{
    TestDatabase,
    binary::{self, Server, run, stdout},
    builders::NewMeeting,
};

#[test]
fn seating_writes_the_plan_as_json_csv_and_svg_and_fails_clearly() {
    let database = TestDatabase::create_blocking();
    let server = Server::start(&database);
    let token = stdout(&run(&database, &["token", "create", "--role", "organiser"])).trim().to_owned();
    let client = reqwest::blocking::Client::new();
    let created: Value = client
        .post(format!("{}/api/v1/meetings", server.base_url()))
        .bearer_auth(&token)
        .json(
            &NewMeeting::of("PC")
                .with("title", "Special session".into())
                .at("2026-11-24T10:00:00", "2026-11-24T12:00:00")
                .room("HOFBURG-NEUER-SAAL")
                .forced()
                .json(),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let id = created["id"].as_i64().unwrap().to_string();

    let json: Value =
        serde_json::from_str(&stdout(&run(&database, &["seating", "--meeting", &id, "--format", "json"])))
            .expect("--format json writes JSON");
    assert_eq!(json["plan"]["room"], "Neuer Saal");
    assert_eq!(json["plan"]["head"][0]["label"], "Chairperson (Switzerland)");
    let delegations = json["plan"]["seats"].as_array().unwrap().iter().filter(|s| s["kind"] == "delegation").count();
    assert_eq!(delegations, 68);
    let again: Value =
        serde_json::from_str(&stdout(&run(&database, &["seating", "--meeting", &id, "--format", "json"]))).unwrap();
    assert_eq!(again["lot"], json["lot"], "the lot is stored, not drawn again");
    let served: Value =
        client.get(format!("{}/api/v1/meetings/{id}/seating", server.base_url())).send().unwrap().json().unwrap();
    assert_eq!(served["lot"], json["lot"], "the CLI and the API agree");

    let csv = stdout(&run(&database, &["seating", "--meeting", &id, "--format", "csv"]));
    let lines: Vec<&str> = csv.split("\r\n").filter(|line| !line.is_empty()).collect();
    assert_eq!(lines[0], "seat,place,behind_seat,x,y,angle,kind,delegation,label,occupant");
    assert_eq!(lines.len(), 1 + 84 + 68 * 2, "a header and every seat");
    assert!(lines[1].ends_with(",chair,CH,Chairperson (Switzerland),"), "{}", lines[1]);

    let svg = stdout(&run(&database, &["seating", "--meeting", &id]));
    assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "svg is the default format");
    assert!(svg.contains(json["plan"]["lot_note"].as_str().unwrap()));

    let unknown = run(&database, &["seating", "--meeting", "999999", "--format", "json"]);
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no meeting 999999"));

    let small: Value = client
        .post(format!("{}/api/v1/meetings", server.base_url()))
        .bearer_auth(&token)
        .json(
            &NewMeeting::of("PC")
                .at("2026-11-23T10:00:00", "2026-11-23T12:00:00")
                .room("HOFBURG-SEGMENTGALERIE")
                .forced()
                .json(),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let small = small["id"].as_i64().unwrap().to_string();
    let too_small = run(&database, &["seating", "--meeting", &small, "--format", "svg"]);
    assert!(!too_small.status.success());
    assert!(too_small.stdout.is_empty());
    let message = String::from_utf8_lossy(&too_small.stderr);
    assert!(message.contains("Segmentgalerie") && message.contains("40 seats") && message.contains("70"), "{message}");

    let bad_format = run(&database, &["seating", "--meeting", &id, "--format", "pdf"]);
    assert!(!bad_format.status.success());
    let help = String::from_utf8(Command::new(binary::path()).arg("--help").output().unwrap().stdout).unwrap();
    assert!(help.contains("seating"), "{help}");
}
