//! Moving an installation with `plenary export` / `plenary import`, and `plenary backup`.
//!
//! The round trip starts from a real installation on SQLite, built through the running `plenary
//! serve`, and goes through the database of the run (PostgreSQL when
//! `PLENARY_TEST_DATABASE_URL` is set, SQLite otherwise) back to SQLite: the three exports hold
//! the same rows, and the moved installation keeps its feed addresses, passwords and tokens.
//! The refusals leave the target as it was. The backup is taken while the service writes.

use std::{
    collections::BTreeSet,
    io::{Read as _, Write as _},
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::{Duration, Instant},
};

use reqwest::{
    blocking::{Client, Response},
    redirect::Policy,
};
use serde_json::{Value, json};
use tests::{
    TestDatabase,
    binary::{self, Server},
    builders::{NewMeeting, NewRegistration, date_in},
    smtp::SmtpSink,
};

const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// A directory for the test's files, removed at the end.
fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `plenary ARGS` on `database`.
fn plenary(database: &TestDatabase, args: &[&str]) -> Output {
    binary::run(database, args)
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "plenary failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8")
}

/// Its standard error, once it failed.
fn refused(output: &Output) -> String {
    assert!(!output.status.success(), "plenary should have refused: {}", String::from_utf8_lossy(&output.stdout));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stderr.contains("error:"), "{stderr}");
    stderr
}

fn export(database: &TestDatabase, out: &Path) -> String {
    succeeded(&plenary(database, &["export", "--out", out.to_str().unwrap()]))
}

/// The file's lines after its header (which names the source and the time of the export).
fn table_data(file: &Path) -> Vec<String> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap()).read_to_string(&mut text).unwrap();
    text.lines().skip(1).map(str::to_owned).collect()
}

fn write_gzip(file: &Path, lines: &[String]) {
    let mut out = flate2::write::GzEncoder::new(std::fs::File::create(file).unwrap(), flate2::Compression::fast());
    for line in lines {
        writeln!(out, "{line}").unwrap();
    }
    out.finish().unwrap();
}

fn client() -> Client {
    Client::builder().redirect(Policy::none()).build().unwrap()
}

fn send(server: &Server, method: reqwest::Method, path: &str, token: &str, body: &Value) -> Response {
    client().request(method, format!("{}{path}", server.base_url())).bearer_auth(token).json(body).send().unwrap()
}

fn created(response: Response) -> Value {
    let status = response.status().as_u16();
    let body = response.text().unwrap();
    assert!(status == 200 || status == 201, "status {status}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// The events of a feed, as (UID, DTSTART, SUMMARY, SEQUENCE) of each VEVENT.
fn events(server: &Server, feed_path: &str) -> BTreeSet<Vec<String>> {
    let response = client().get(format!("{}{feed_path}", server.base_url())).send().unwrap();
    assert_eq!(response.status().as_u16(), 200, "{feed_path}");
    let ics = response.text().unwrap().replace("\r\n ", "").replace("\r\n", "\n");
    ics.split("BEGIN:VEVENT")
        .skip(1)
        .map(|event| {
            ["UID", "DTSTART", "SUMMARY", "SEQUENCE"]
                .iter()
                .map(|name| {
                    event
                        .lines()
                        .find(|line| line.starts_with(&format!("{name}:")) || line.starts_with(&format!("{name};")))
                        .unwrap_or_default()
                        .to_owned()
                })
                .collect()
        })
        .collect()
}

/// Logs in through the login form; the session cookie when the password was right.
fn log_in(server: &Server, username: &str, password: &str) -> Option<String> {
    let page = client().get(format!("{}/login", server.base_url())).send().unwrap();
    let cookies: Vec<String> = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect();
    let html = page.text().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let csrf = html[html.find(marker).expect("a CSRF field") + marker.len()..].split('"').next().unwrap().to_owned();
    let answer = client()
        .post(format!("{}/login", server.base_url()))
        .header("cookie", cookies.join("; "))
        .form(&[("csrf", csrf.as_str()), ("username", username), ("password", password)])
        .send()
        .unwrap();
    if answer.status().as_u16() != 303 {
        return None;
    }
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|value| value.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|cookie| cookie.starts_with("plenary_session="))
}

/// Attaches a document to `meeting` through the organiser's page, as a browser uploads it.
fn attach_document(server: &Server, session: &str, meeting: i64, bytes: &[u8]) {
    let page = client()
        .get(format!("{}/organiser/meetings/{meeting}/invitations", server.base_url()))
        .header("cookie", session)
        .send()
        .unwrap()
        .text()
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let csrf = page[page.find(marker).expect("a CSRF field") + marker.len()..].split('"').next().unwrap().to_owned();
    let boundary = "----plenary-export-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"agenda.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let answer = client()
        .post(format!("{}/organiser/meetings/{meeting}/documents", server.base_url()))
        .header("cookie", session)
        .header("content-type", format!("multipart/form-data; boundary={boundary}"))
        .body(body)
        .send()
        .unwrap();
    assert!(answer.status().is_redirection() || answer.status().is_success(), "{}", answer.text().unwrap());
}

/// What the source installation offers the checks after the move.
struct Installation {
    organiser_token: String,
    feed_path: String,
    feed_events: BTreeSet<Vec<String>>,
}

/// A real installation on `database`: the planned years, a conference abroad with its zone,
/// contacts, registrations with a waiting list, a feed, invitations delivered to `sink`, a
/// document, and the audit entries all this leaves.
fn build_installation(database: &TestDatabase, sink: &SmtpSink) -> Installation {
    let server = Server::start_with(database, |command| {
        command.env("PLENARY_ADMIN_PASSWORD", ADMIN_PASSWORD).env("PLENARY_SMTP_URL", sink.url());
    });
    let token = succeeded(&plenary(database, &["token", "create", "--role", "organiser"])).trim().to_owned();
    let conference = NewMeeting::of("MC")
        .on(date_in(40), "09:00", "18:00")
        .abroad("Europe/Malta", "Valletta", "MT")
        .with("title", json!("Ministerial Council, Valletta"));
    let meeting = created(send(&server, reqwest::Method::POST, "/api/v1/meetings", &token, &conference.json()))["id"]
        .as_i64()
        .unwrap();
    created(send(
        &server,
        reqwest::Method::PUT,
        &format!("/api/v1/meetings/{meeting}/attendance-settings"),
        &token,
        &json!({"capacity": 2}),
    ));
    for (state, name) in [("AT", "Anna Huber"), ("DE", "Jonas Weber"), ("FR", "Claire Martin")] {
        let registration = NewRegistration::of(state, name, "Head of Delegation", "main").json();
        let path = format!("/api/v1/meetings/{meeting}/registrations");
        created(send(&server, reqwest::Method::POST, &path, &token, &registration));
    }
    let attendance: Value =
        send(&server, reqwest::Method::GET, &format!("/api/v1/meetings/{meeting}/attendance"), &token, &Value::Null)
            .json()
            .unwrap();
    assert_eq!((attendance["confirmed"].as_u64(), attendance["waiting"].as_u64()), (Some(2), Some(1)), "{attendance}");
    for (state, name) in [("AT", "Petra Gruber"), ("MT", "Joseph Borg")] {
        let email = format!("{}@{}.example.org", name.to_lowercase().replace(' ', "."), state.to_lowercase());
        let contact = json!({"name": name, "email": email, "role": "head_of_delegation", "language": "en"});
        created(send(
            &server,
            reqwest::Method::POST,
            &format!("/api/v1/delegations/{state}/contacts"),
            &token,
            &contact,
        ));
    }
    let feed = created(send(&server, reqwest::Method::POST, "/api/v1/feeds", &token, &json!({"scope": "all"})));
    let feed_path = url::Url::parse(feed["url"].as_str().unwrap()).unwrap().path().to_owned();
    let session = log_in(&server, "admin", ADMIN_PASSWORD).expect("the organiser logs in");
    attach_document(&server, &session, meeting, b"%PDF-1.4\n\x00\x01\x02 binary agenda\n%%EOF\n");
    created(send(
        &server,
        reqwest::Method::POST,
        &format!("/api/v1/meetings/{meeting}/invitations"),
        &token,
        &json!({}),
    ));
    let deadline = Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < 2 {
        assert!(Instant::now() < deadline, "the invitations did not arrive");
        std::thread::sleep(Duration::from_millis(20));
    }
    let feed_events = events(&server, &feed_path);
    assert!(
        feed_events.iter().any(|event| event[1].contains("Europe/Malta")),
        "the conference is in the feed in its zone: {feed_events:?}"
    );
    assert!(server.terminate().success());
    Installation { organiser_token: token, feed_path, feed_events }
}

/// SQLite → the run's database (PostgreSQL in the PostgreSQL run) → SQLite: the three exports
/// hold the same rows; on the moved installation the feed answers the same events, the old
/// password and token work, and new rows get new ids.
#[test]
fn an_installation_moves_from_sqlite_through_the_runs_database_and_back_unchanged() {
    let files = scratch();
    let sink = SmtpSink::start();
    let source = TestDatabase::create_sqlite_blocking();
    let installation = build_installation(&source, &sink);
    let [a, b, c]: [PathBuf; 3] = ["a", "b", "c"].map(|name| files.path().join(format!("{name}.jsonl.gz")));
    let exported = export(&source, &a);
    assert!(exported.contains("meeting_documents") && exported.contains("Exported"), "{exported}");

    let middle = TestDatabase::create_blocking();
    if std::env::var("PLENARY_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
        assert!(middle.is_postgres(), "the PostgreSQL run moves the installation to PostgreSQL");
    }
    let imported = succeeded(&plenary(&middle, &["import", "--from", a.to_str().unwrap()]));
    for table in ["meetings", "registrations", "feeds", "outbox", "audit_log", "meeting_documents", "seaql_migrations"]
    {
        let line = imported
            .lines()
            .find(|line| line.starts_with(&format!("{table} ")))
            .unwrap_or_else(|| panic!("{imported}"));
        assert!(line.ends_with("verified"), "{line}");
    }
    assert!(imported.contains("every count and checksum verified"), "{imported}");
    export(&middle, &b);
    let last = TestDatabase::create_sqlite_blocking();
    succeeded(&plenary(&last, &["import", "--from", b.to_str().unwrap()]));
    export(&last, &c);

    let (a, b, c) = (table_data(&a), table_data(&b), table_data(&c));
    // Every table of the migrated schema, whichever migration created it.
    assert_eq!(tables_of(&a), tables_in(&source));
    assert_eq!(tables_of(&b), tables_in(&middle));
    assert!(a.len() > 300, "a real installation: {} lines", a.len());
    for (name, other) in [("the moved copy", &b), ("the copy moved back", &c)] {
        let differing: Vec<_> = a.iter().zip(other).filter(|(x, y)| x != y).take(3).collect();
        assert!(differing.is_empty() && a.len() == other.len(), "{name} differs: {differing:?}");
    }
    for table in ["registrations", "outbox", "meeting_documents", "feeds", "contacts", "audit_log", "users"] {
        let summary = a.last().unwrap();
        let rows = summary.split(&format!("\"table\":\"{table}\",\"rows\":")).nth(1).unwrap();
        assert!(!rows.starts_with('0'), "{table} is empty in the export: {summary}");
    }

    let moved = Server::start(&middle);
    assert_eq!(
        events(&moved, &installation.feed_path),
        installation.feed_events,
        "the old feed address answers the same"
    );
    assert!(log_in(&moved, "admin", ADMIN_PASSWORD).is_some(), "the old password works");
    assert!(log_in(&moved, "admin", "not the password").is_none());
    let highest = moved.get_json("/api/v1/meetings?from=1975-01-01&to=2100-12-31");
    let highest = highest.as_array().unwrap().iter().filter_map(|meeting| meeting["id"].as_i64()).max().unwrap();
    let new = NewMeeting::of("MC").on(date_in(60), "09:00", "18:00").abroad("Asia/Tokyo", "Tokyo", "JP");
    let new =
        created(send(&moved, reqwest::Method::POST, "/api/v1/meetings", &installation.organiser_token, &new.json()));
    assert!(new["id"].as_i64().unwrap() > highest, "a new id after the imported ones: {new}");
    assert!(moved.terminate().success());
}

/// The tables the database's catalogue lists, asked here independently of Plenary's code.
fn tables_in(database: &TestDatabase) -> BTreeSet<String> {
    let url = database.url().to_owned();
    let postgres = database.is_postgres();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let db = plenary::db::connect(&url).await.unwrap();
        let sql = if postgres {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'"
        } else {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        };
        let rows = sea_orm::ConnectionTrait::query_all_raw(
            &db,
            sea_orm::Statement::from_string(sea_orm::ConnectionTrait::get_database_backend(&db), sql),
        )
        .await
        .unwrap();
        let tables = rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect();
        db.close().await.unwrap();
        tables
    })
}

/// The tables an export holds.
fn tables_of(lines: &[String]) -> BTreeSet<String> {
    lines
        .iter()
        .filter_map(|line| line.strip_prefix("{\"table\":\""))
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// A small installation's export, to be refused.
fn small_export(files: &Path) -> PathBuf {
    let source = TestDatabase::create_blocking();
    succeeded(&plenary(&source, &["plan", "--year", "2027"]));
    let file = files.join("small.jsonl.gz");
    export(&source, &file);
    file
}

#[test]
fn import_refuses_a_used_target_a_changed_or_extended_file_and_unknown_migrations_leaving_the_target_as_it_was() {
    let files = scratch();
    let file = small_export(files.path());
    let lines = table_data(&file);
    let mut header = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&file).unwrap()).read_to_string(&mut header).unwrap();
    let header = header.lines().next().unwrap().to_owned();

    // Checks the refusal's message; the target's rows afterwards.
    let check_unchanged = |target: &TestDatabase, output: Output, expected: &str| {
        let after = files.path().join(format!("after-{}.gz", uuid::Uuid::new_v4()));
        let stderr = refused(&output);
        assert!(stderr.contains(expected), "{stderr}");
        export(target, &after);
        table_data(&after)
    };

    // A target in use: it has meetings of its own.
    let used = TestDatabase::create_blocking();
    succeeded(&plenary(&used, &["plan", "--year", "2028"]));
    let before = files.path().join("used-before.gz");
    export(&used, &before);
    let after = check_unchanged(
        &used,
        plenary(&used, &["import", "--from", file.to_str().unwrap()]),
        "already holds an installation",
    );
    assert_eq!(table_data(&before), after);

    // A row changed after the export.
    let changed = files.path().join("changed.jsonl.gz");
    let tampered: Vec<String> = std::iter::once(header.clone())
        .chain(lines.iter().map(|line| line.replacen("\"Austria\"", "\"Austria-Hungary\"", 1)))
        .collect();
    assert_ne!(tampered[1..], lines[..], "the file was changed");
    write_gzip(&changed, &tampered);
    let prepared = TestDatabase::create_blocking();
    succeeded(&plenary(&prepared, &["migrate"]));
    let before = files.path().join("prepared-before.gz");
    export(&prepared, &before);
    let after = check_unchanged(
        &prepared,
        plenary(&prepared, &["import", "--from", changed.to_str().unwrap()]),
        "changed or damaged",
    );
    assert_eq!(table_data(&before), after);

    // A file cut short.
    let cut = files.path().join("cut.jsonl.gz");
    write_gzip(
        &cut,
        &std::iter::once(header.clone()).chain(lines[..lines.len() - 1].iter().cloned()).collect::<Vec<_>>(),
    );
    let after =
        check_unchanged(&prepared, plenary(&prepared, &["import", "--from", cut.to_str().unwrap()]), "incomplete");
    assert_eq!(table_data(&before), after);

    // Anything after the summary: a line in the same gzip stream, or a second file appended.
    let extended = files.path().join("extended.jsonl.gz");
    write_gzip(&extended, &[std::slice::from_ref(&header), &lines[..], std::slice::from_ref(&lines[1])].concat());
    let after = check_unchanged(
        &prepared,
        plenary(&prepared, &["import", "--from", extended.to_str().unwrap()]),
        "after its summary",
    );
    assert_eq!(table_data(&before), after);
    let appended = files.path().join("appended.jsonl.gz");
    write_gzip(&appended, &lines[..1]);
    let joined = [std::fs::read(&file).unwrap(), std::fs::read(&appended).unwrap()].concat();
    std::fs::write(&appended, joined).unwrap();
    let after = check_unchanged(
        &prepared,
        plenary(&prepared, &["import", "--from", appended.to_str().unwrap()]),
        "another was appended",
    );
    assert_eq!(table_data(&before), after);

    // A file from a newer Plenary.
    let future = files.path().join("future.jsonl.gz");
    let newer = header.replace("]}", ",\"m20991231_000000_from_the_future\"]}");
    assert_ne!(newer, header);
    write_gzip(&future, &std::iter::once(newer).chain(lines.iter().cloned()).collect::<Vec<_>>());
    let after = check_unchanged(
        &prepared,
        plenary(&prepared, &["import", "--from", future.to_str().unwrap()]),
        "m20991231_000000_from_the_future",
    );
    assert_eq!(table_data(&before), after);

    // Into a target that only `plenary migrate` prepared, the file's reference data and
    // accounts replace set-up's.
    let imported = succeeded(&plenary(&prepared, &["import", "--from", file.to_str().unwrap()]));
    assert!(imported.contains("every count and checksum verified"), "{imported}");
    let after = files.path().join("prepared-after-import.gz");
    export(&prepared, &after);
    assert_eq!(table_data(&after), lines);

    // Export never overwrites.
    let stderr = refused(&plenary(&prepared, &["export", "--out", before.to_str().unwrap()]));
    assert!(stderr.contains("never overwritten"), "{stderr}");
}

/// `plenary backup` while `plenary serve` runs and registrations are being written: the copy
/// is checked, holds the registrations up to one instant (each whole, none skipped), and
/// `plenary serve` starts on it with the data. An existing file is never overwritten.
#[test]
fn a_backup_taken_while_the_service_writes_serves_the_data_and_is_never_overwritten() {
    let files = scratch();
    let database = TestDatabase::create_sqlite_blocking();
    let server = Server::start(&database);
    let token = succeeded(&plenary(&database, &["token", "create", "--role", "organiser"])).trim().to_owned();
    let meeting = NewMeeting::of("MC").on(date_in(30), "09:00", "18:00").abroad("Europe/Malta", "Valletta", "MT");
    let meeting = created(send(&server, reqwest::Method::POST, "/api/v1/meetings", &token, &meeting.json()))["id"]
        .as_i64()
        .unwrap();
    let states: Vec<String> = server
        .get_json("/api/v1/states")
        .as_array()
        .unwrap()
        .iter()
        .filter(|state| state["kind"] == "participating")
        .map(|state| state["iso2"].as_str().unwrap().to_owned())
        .collect();
    let backup = files.path().join("plenary-backup.db");
    let registered = AtomicUsize::new(0);
    let backed_up = AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            for (index, state) in states.iter().enumerate() {
                if backed_up.load(Ordering::SeqCst) {
                    break;
                }
                let person = NewRegistration::of(state, &format!("Delegate {index}"), "Adviser", "main").json();
                let path = format!("/api/v1/meetings/{meeting}/registrations");
                created(send(&server, reqwest::Method::POST, &path, &token, &person));
                registered.fetch_add(1, Ordering::SeqCst);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        while registered.load(Ordering::SeqCst) < 3 {
            assert!(Instant::now() < deadline, "no registrations were written");
            std::thread::sleep(Duration::from_millis(5));
        }
        let printed = succeeded(&plenary(&database, &["backup", "--out", backup.to_str().unwrap()]));
        backed_up.store(true, Ordering::SeqCst);
        assert!(printed.contains("integrity check: ok") && printed.contains("registrations"), "{printed}");
    });
    let registered = registered.load(Ordering::SeqCst);
    assert!(server.terminate().success());

    let stderr = refused(&plenary(&database, &["backup", "--out", backup.to_str().unwrap()]));
    assert!(stderr.contains("exists already"), "{stderr}");

    let restored = TestDatabase::create_sqlite_blocking();
    std::fs::copy(&backup, restored.url().trim_start_matches("sqlite://")).unwrap();
    let server = Server::start(&restored);
    let meetings = server.get_json("/api/v1/meetings?from=1975-01-01&to=2100-12-31");
    assert!(meetings.as_array().unwrap().iter().any(|found| found["id"].as_i64() == Some(meeting)), "{meetings}");
    let path = format!("/api/v1/meetings/{meeting}/registrations");
    let list: Value = send(&server, reqwest::Method::GET, &path, &token, &Value::Null).json().unwrap();
    let copied: BTreeSet<String> =
        list.as_array().unwrap().iter().map(|registration| registration["name"].as_str().unwrap().to_owned()).collect();
    let first: BTreeSet<String> = (0..copied.len()).map(|index| format!("Delegate {index}")).collect();
    assert_eq!(copied, first, "the copy holds the registrations up to one instant");
    assert!((3..=registered).contains(&copied.len()), "{} of {registered} registrations copied", copied.len());
    assert!(server.terminate().success());
}

#[test]
fn backup_on_postgresql_points_at_the_procedure_in_the_readme() {
    let database = TestDatabase::create_blocking();
    if !database.is_postgres() {
        return;
    }
    succeeded(&plenary(&database, &["migrate"]));
    let files = scratch();
    let out = files.path().join("nothing.db");
    let stderr = refused(&plenary(&database, &["backup", "--out", out.to_str().unwrap()]));
    assert!(stderr.contains("pg_dump -Fc") && stderr.contains("README"), "{stderr}");
    assert!(!out.exists());
}

/// The README's PostgreSQL procedure: `pg_dump -Fc` of a database in use, `pg_restore` into a
/// fresh one, and Plenary serves the copy (the feed and the login work).
#[test]
fn a_postgresql_dump_restored_into_a_new_database_is_served() {
    let database = TestDatabase::create_blocking();
    if !database.is_postgres() {
        return;
    }
    let files = scratch();
    let sink = SmtpSink::start();
    let installation = build_installation(&database, &sink);
    let dump = files.path().join("plenary.dump");
    let dumped = Command::new("pg_dump")
        .args(["-Fc", "--no-owner", "-f", dump.to_str().unwrap(), database.url()])
        .output()
        .unwrap();
    assert!(dumped.status.success(), "{}", String::from_utf8_lossy(&dumped.stderr));
    let restored = TestDatabase::create_blocking();
    let restore = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "-d", restored.url(), dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(restore.status.success(), "{}", String::from_utf8_lossy(&restore.stderr));
    let server = Server::start(&restored);
    assert_eq!(events(&server, &installation.feed_path), installation.feed_events);
    assert!(log_in(&server, "admin", ADMIN_PASSWORD).is_some());
    let new = NewMeeting::of("MC").on(date_in(60), "09:00", "18:00").abroad("Asia/Tokyo", "Tokyo", "JP");
    created(send(&server, reqwest::Method::POST, "/api/v1/meetings", &installation.organiser_token, &new.json()));
    assert!(server.terminate().success());
}

/// More rows in a table than one `INSERT` takes and a few documents of megabytes each move
/// unchanged: rows are streamed in canonical order, and inserts are split by size as well as
/// by count.
#[test]
fn many_rows_and_large_documents_move_unchanged() {
    let files = scratch();
    let source = TestDatabase::create_sqlite_blocking();
    let server = Server::start_with(&source, |command| {
        command.env("PLENARY_ADMIN_PASSWORD", ADMIN_PASSWORD);
    });
    for year in ["2027", "2028", "2029"] {
        succeeded(&plenary(&source, &["plan", "--year", year]));
    }
    let token = succeeded(&plenary(&source, &["token", "create", "--role", "organiser"])).trim().to_owned();
    let meetings =
        send(&server, reqwest::Method::GET, "/api/v1/meetings?from=2027-01-01&to=2029-12-31", &token, &Value::Null)
            .json::<Value>()
            .unwrap();
    let session = log_in(&server, "admin", ADMIN_PASSWORD).expect("the organiser logs in");
    // A meeting's documents may weigh 7 MB in all: one large document each for three meetings.
    for (fill, meeting) in meetings.as_array().unwrap().iter().take(3).enumerate() {
        let mut document = b"%PDF-1.4\n".to_vec();
        document.extend((0..3_000_000_u32).map(|index| (index % 251) as u8 ^ fill as u8));
        attach_document(&server, &session, meeting["id"].as_i64().unwrap(), &document);
    }
    assert!(server.terminate().success());

    let [a, b]: [PathBuf; 2] = ["a", "b"].map(|name| files.path().join(format!("{name}.jsonl.gz")));
    let exported = export(&source, &a);
    let meetings_line = exported.lines().find(|line| line.starts_with("meetings ")).unwrap();
    let rows: u64 = meetings_line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(rows > 200, "more meetings than one INSERT takes: {meetings_line}");
    let target = TestDatabase::create_blocking();
    succeeded(&plenary(&target, &["import", "--from", a.to_str().unwrap()]));
    export(&target, &b);
    let (a, b) = (table_data(&a), table_data(&b));
    assert!(a.iter().map(String::len).sum::<usize>() > 9_000_000, "the documents are in the export");
    assert!(a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y), "the moved copy differs");
}

#[test]
fn export_and_backup_never_create_their_source_write_owner_only_files_and_take_any_file_name() {
    use std::os::unix::fs::PermissionsExt as _;
    let files = scratch();

    // A SQLite path that does not exist is refused, and nothing is created there.
    let missing = files.path().join("no-such.db");
    for command in ["export", "backup"] {
        let out = files.path().join(format!("from-missing-{command}"));
        let output = binary::command_on(&format!("sqlite://{}", missing.display()))
            .args([command, "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        refused(&output);
        assert!(!missing.exists(), "{command} created the database it was to read");
        assert!(!out.exists(), "{command} wrote {}", out.display());
    }

    // The files hold password hashes and the RSVP signing key: the owner's only. A name with
    // `?`, `#` and `%` is a file name like any other.
    let source = TestDatabase::create_sqlite_blocking();
    succeeded(&plenary(&source, &["plan", "--year", "2027"]));
    let exported = files.path().join("export?#%.jsonl.gz");
    export(&source, &exported);
    let backup = files.path().join("backup?x=1#%41.db");
    succeeded(&plenary(&source, &["backup", "--out", backup.to_str().unwrap()]));
    for file in [&exported, &backup] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} has mode {mode:o}", file.display());
    }
    let names: Vec<_> = std::fs::read_dir(files.path()).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert!(!names.iter().any(|name| name.to_string_lossy().ends_with(".partial")), "{names:?}");
}
