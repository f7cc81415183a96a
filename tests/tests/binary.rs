//! The `plenary` binary itself: first start, restart, graceful shutdown and the token command.
//!
//! Each test runs the real executable on a fresh SQLite file (or, when
//! `PLENARY_TEST_DATABASE_URL` is set, a fresh PostgreSQL database) and talks to it over HTTP.

use std::{
    io::{BufRead as _, BufReader},
    process::{Command, Stdio},
};

use tests::{
    TestDatabase,
    binary::{self, Server, run},
    smtp::free_port,
};

#[test]
fn first_start_prints_the_password_once_restart_adds_nothing_and_sigterm_stops_cleanly() {
    let database = TestDatabase::create_blocking();
    let first = Server::start(&database);
    let printed = first.printed();
    assert!(printed.contains(&format!("Plenary is ready at http://127.0.0.1:{}/", first.port())), "{printed}");
    assert!(printed.contains("Log in as `admin` with the password"), "{printed}");
    assert_eq!(first.get_json("/api/v1/states").as_array().unwrap().len(), 68);
    let bodies = first.get_json("/api/v1/bodies").as_array().unwrap().len();
    assert!(first.terminate().success());

    let second = Server::start(&database);
    assert!(!second.printed().contains("password"), "the password is printed only on the first start");
    assert_eq!(second.get_json("/api/v1/states").as_array().unwrap().len(), 68);
    assert_eq!(second.get_json("/api/v1/bodies").as_array().unwrap().len(), bodies);
    assert!(second.terminate().success());
}

#[test]
fn a_configured_admin_password_is_used_and_not_printed() {
    let database = TestDatabase::create_blocking();
    let port = free_port();
    let mut child = binary::command(&database)
        .env("PLENARY_ADMIN_PASSWORD", "from-the-environment")
        .env("PLENARY_ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first_line).unwrap();
    assert!(first_line.contains(&format!("127.0.0.1:{port}")), "PLENARY_ADDR is honoured: {first_line}");
    let _ = child.kill();
    let _ = child.wait();
    assert!(!first_line.contains("from-the-environment"));
}

#[test]
fn token_create_prints_one_line_and_refuses_what_it_cannot_do() {
    let database = TestDatabase::create_blocking();
    let organiser = run(&database, &["token", "create", "--role", "organiser"]);
    assert!(organiser.status.success(), "{}", String::from_utf8_lossy(&organiser.stderr));
    let stdout = String::from_utf8(organiser.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    assert!(stdout.starts_with("plt_") && stdout.trim().len() > 40, "{stdout:?}");

    let delegation = run(&database, &["token", "create", "--role", "delegation", "--state", "at"]);
    assert!(delegation.status.success());

    let no_state = run(&database, &["token", "create", "--role", "delegation"]);
    assert!(!no_state.status.success());
    assert!(String::from_utf8_lossy(&no_state.stderr).contains("--state"));

    let unknown = run(&database, &["token", "create", "--role", "delegation", "--state", "XQ"]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("XQ"));
    assert!(unknown.stdout.is_empty());

    let bad_role = run(&database, &["token", "create", "--role", "emperor"]);
    assert!(!bad_role.status.success());

    // The input policy holds on the command line too (issue 12): a label is one line of text.
    let hostile = run(&database, &["token", "create", "--role", "organiser", "--label", "ops\u{1b}[2J"]);
    assert!(!hostile.status.success());
    let stderr = String::from_utf8_lossy(&hostile.stderr);
    assert!(stderr.contains("--label") && stderr.contains("U+001B ESCAPE"), "{stderr}");
    assert!(hostile.stdout.is_empty());
}

#[test]
fn migrate_prepares_the_database_and_help_lists_every_command() {
    let database = TestDatabase::create_blocking();
    let migrate = run(&database, &["migrate"]);
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));
    let printed = String::from_utf8_lossy(&migrate.stdout);
    assert!(
        printed.contains("Log in as `admin` with the password"),
        "the command that creates the account shows its password: {printed}"
    );
    let again = run(&database, &["plan", "--year", "2027"]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let printed = String::from_utf8_lossy(&again.stdout);
    assert!(!printed.contains("password"), "only once: {printed}");
    assert!(printed.contains("Planned 2027:"), "{printed}");
    let help = String::from_utf8(Command::new(binary::path()).arg("--help").output().unwrap().stdout).unwrap();
    for command in ["serve", "migrate", "token"] {
        assert!(help.contains(command), "{command} missing from --help:\n{help}");
    }
    let bad_url =
        Command::new(binary::path()).args(["--database-url", "mysql://nowhere/db", "migrate"]).output().unwrap();
    assert!(!bad_url.status.success());
    assert!(String::from_utf8_lossy(&bad_url.stderr).contains("error:"));
}

/// Replicas started at the same instant on a fresh database (a first rollout, or an upgrade on
/// three hosts) wait for each other's set-up instead of failing on half-created tables, and all
/// serve; the first account is created, and its password printed, exactly once.
#[test]
fn replicas_started_together_on_a_fresh_database_all_come_up() {
    let database = TestDatabase::create_blocking();
    let printed: Vec<String> = std::thread::scope(|scope| {
        let starting: Vec<_> = (0..3)
            .map(|_| {
                scope.spawn(|| {
                    let server = Server::start(&database);
                    assert_eq!(server.get_json("/api/v1/states").as_array().unwrap().len(), 68);
                    let printed = server.printed();
                    assert!(server.terminate().success());
                    printed
                })
            })
            .collect();
        starting.into_iter().map(|replica| replica.join().expect("a replica failed to start")).collect()
    });
    let passwords = printed.iter().filter(|text| text.contains("Log in as `admin` with the password")).count();
    assert_eq!(passwords, 1, "{printed:?}");
}

/// An empty `PLENARY_*` variable (`PLENARY_SMTP_URL=` in a unit file) means "not set", as for
/// any other program, rather than a value to refuse.
#[test]
fn empty_settings_in_the_environment_count_as_unset() {
    let database = TestDatabase::create_blocking();
    let server = Server::start_with(&database, |command| {
        command.env("PLENARY_SMTP_URL", "").env("PLENARY_PUBLIC_URL", "").env("PLENARY_ADMIN_PASSWORD", "");
    });
    assert!(server.printed().contains(&format!("Plenary is ready at http://127.0.0.1:{}/", server.port())));
    assert_eq!(server.get_json("/readyz")["checks"]["mail_worker"]["status"], "not configured");
    assert!(server.terminate().success());
}
