//! Three `plenary serve` replicas on one PostgreSQL database, behind Debian's nginx running
//! `deploy/nginx.conf`, under a mixed load for the whole test: calendar feeds read, delegations
//! registering against a meeting's capacity and quota round after round, and an invitation batch
//! delivered to a real SMTP server.
//!
//! Phase "kill": one replica is killed with SIGKILL while it holds claimed mail, and restarted.
//! Requests it was answering may fail (that is a crash); its mail comes back when its short lease
//! runs out. Phase "rolling": the README's rolling restart, one replica at a time: marked `down`
//! in nginx and reloaded (once the old workers are gone, nothing sends it a request), SIGTERM
//! (exit 0), started again, ready at `/readyz`, back in nginx. Not one request may fail then, nor
//! before the kill or after the restart. Afterwards: no rule of attendance is broken, every
//! registration a client was told about is stored exactly once, every message arrived, and no
//! more messages arrived twice than the killed replica held at its death.
//!
//! The client opens a connection per request: the requests counted are those the replicas and
//! nginx answer, not HTTP/1.1 keep-alive races between the test's client and nginx's reload
//! (a client sending on a kept-alive connection that an old nginx worker closes at that moment,
//! which every HTTP client meets with any server that reloads, and retries).
//!
//! PostgreSQL only: replicas share one PostgreSQL. On SQLite the test says why it does not run.

use std::{
    collections::{BTreeMap, HashMap},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use tests::{
    TestDatabase,
    binary::{self, Server},
    nginx::Nginx,
    smtp::{SmtpSink, free_port},
};

const REPLICAS: usize = 3;
/// Delegations registering in every round, each sending `PER_DELEGATION` registrations at once.
const DELEGATIONS: usize = 16;
/// Two for the main seat (one is refused), three behind it (one is over the quota of two).
const PER_DELEGATION: usize = 5;
const CAPACITY: i64 = 30;
const QUOTA_BEHIND: i64 = 2;
/// Contacts receiving each delegation's invitation.
const CONTACTS_PER_DELEGATION: usize = 3;
/// How long a killed replica's claim on a message lasts before another replica takes it: short,
/// so the test need not wait long, yet far above a batch's sending time even on a loaded
/// machine (a lease that runs out under a live worker sends its batch twice, kill or not).
const MAIL_LEASE_MS: &str = "10000";
/// Hang protection only: nothing here is timed.
const PATIENCE: Duration = Duration::from_secs(120);

const PHASES: [&str; 4] = ["before", "kill", "rolling", "after"];
const KILL: usize = 1;
const ROLLING: usize = 2;
const AFTER: usize = 3;

#[test]
fn three_replicas_behind_nginx_survive_a_kill_and_a_rolling_restart_under_load() {
    if std::env::var("PLENARY_TEST_DATABASE_URL").unwrap_or_default().is_empty() {
        println!(
            "cluster: skipped on SQLite. Replicas share one PostgreSQL database; SQLite lets one \
             process write at a time, so a SQLite installation is one `plenary serve` (README, \
             Deploying). This test runs in the PostgreSQL run of scripts/test."
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let database = TestDatabase::create_blocking();
    let db = runtime.block_on(plenary::db::connect(database.url())).expect("the test database");
    let sink = SmtpSink::start_slow(free_port(), None, 10);
    let smtp_url = sink.url();
    let configure = |command: &mut Command| {
        command
            .env("PLENARY_SMTP_URL", &smtp_url)
            .env("PLENARY_MAIL_LEASE_MS", MAIL_LEASE_MS)
            .env("PLENARY_MAIL_RETRY_MS", "200")
            .env("PLENARY_MAIL_POLL_MS", "50");
    };
    let ports: Vec<u16> = (0..REPLICAS).map(|_| port_outside_the_ephemeral_range()).collect();
    // Started together on the fresh database, as a first rollout does.
    let mut replicas: Vec<Server> = std::thread::scope(|scope| {
        let database = &database;
        let starting: Vec<_> =
            ports.iter().map(|&port| scope.spawn(move || Server::start_on(database.url(), port, configure))).collect();
        starting.into_iter().map(|replica| replica.join().expect("a replica failed to start")).collect()
    });
    for replica in &replicas {
        wait_until_ready(replica);
    }
    let mut nginx = Nginx::start(&ports);
    let base = nginx.url();

    println!("cluster: three replicas ready, nginx on {base}");
    let setup = runtime.block_on(set_up(&database, &replicas[0].base_url()));
    println!("cluster: set up; the load starts");
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(60)).build().unwrap();
    let load = Arc::new(Load::default());
    let feed_readers: Vec<_> = (0..4)
        .map(|_| runtime.spawn(read_feed(Arc::clone(&load), client.clone(), format!("{base}{}", setup.feed_path))))
        .collect();
    let registrations = runtime.spawn(register_rounds(
        Arc::clone(&load),
        client.clone(),
        base.clone(),
        setup.organiser.clone(),
        setup.delegations.clone(),
    ));
    // Where each phase starts in nginx's access log.
    let mut log_offsets = vec![0];
    let mut next_phase = |phase: usize, nginx: &Nginx| {
        println!("cluster: phase {:?} begins after {} rounds", PHASES[phase], load.rounds_done());
        log_offsets.push(nginx.access_log().len());
        load.phase.store(phase, Ordering::SeqCst);
    };
    wait_for_rounds(&load, 2);

    // Phase "kill": the invitation batch goes out, and a replica dies holding some of it.
    next_phase(KILL, &nginx);
    let invited = runtime.block_on(async {
        let response = client
            .post(format!("{base}/api/v1/meetings/{}/invitations", setup.invitation_meeting))
            .bearer_auth(&setup.organiser)
            .json(&json!({}))
            .send()
            .await
            .expect("the invitations are sent");
        assert!(response.status().is_success(), "sending the invitations: {}", response.status());
        response.json::<Value>().await.unwrap()
    });
    let victim = 0;
    let victim_pid = replicas[victim].pid();
    runtime.block_on(wait_for_claims(&db, victim_pid, setup.invitation_meeting));
    println!("cluster: SIGKILL to the replica on port {}", ports[victim]);
    let killed = replicas.remove(victim);
    killed.kill();
    let in_flight_at_kill = runtime.block_on(count(
        &db,
        &format!("SELECT count(*) FROM outbox WHERE status = 'sending' AND leased_by LIKE '{victim_pid}-%'"),
    ));
    replicas.insert(victim, Server::start_on(database.url(), ports[victim], configure));
    wait_until_ready(&replicas[victim]);
    wait_for_rounds(&load, load.rounds_done() + 1);

    // Phase "rolling": the README's procedure, one replica at a time.
    next_phase(ROLLING, &nginx);
    for index in 0..REPLICAS {
        let port = ports[index];
        nginx.set_down(port, true);
        println!("cluster: the replica on port {port} is out of nginx; SIGTERM");
        let stopped = replicas.remove(index);
        let status = stopped.terminate();
        assert!(status.success(), "replica on port {port} stopped with {status} after SIGTERM");
        replicas.insert(index, Server::start_on(database.url(), port, configure));
        wait_until_ready(&replicas[index]);
        nginx.set_down(port, false);
        wait_for_rounds(&load, load.rounds_done() + 1);
    }

    next_phase(AFTER, &nginx);
    wait_for_rounds(&load, load.rounds_done() + 1);
    load.stop.store(true, Ordering::SeqCst);
    runtime.block_on(async {
        for reader in feed_readers {
            reader.await.unwrap();
        }
        registrations.await.unwrap();
    });
    log_offsets.push(nginx.access_log().len());

    // What happened, phase by phase.
    let access_log = nginx.access_log();
    let offsets = log_offsets;
    let tallies = load.tallies.lock().unwrap();
    for (phase, tally) in tallies.iter().enumerate() {
        let lines = &access_log[offsets[phase]..offsets[phase + 1]];
        let retried = lines.lines().filter(|line| upstream(line).contains(',')).count();
        println!(
            "cluster: phase {:?}: {} requests ({}), {} failed{}; nginx passed {retried} on to another replica",
            PHASES[phase],
            tally.requests,
            tally.by_kind.iter().map(|(kind, n)| format!("{kind} {n}")).collect::<Vec<_>>().join(", "),
            tally.failed.len(),
            if tally.failed.is_empty() { String::new() } else { format!(": {:?}", first(&tally.failed, 8)) },
        );
    }
    for phase in [0, ROLLING, AFTER] {
        assert!(
            tallies[phase].failed.is_empty(),
            "requests failed in phase {:?}: {:?}\nnginx errors:\n{}",
            PHASES[phase],
            first(&tallies[phase].failed, 20),
            nginx.error_log()
        );
    }
    assert!(tallies[ROLLING].requests > 0 && tallies[KILL].requests > 0, "the load ran through every phase");

    // Attendance: every rule holds on every meeting, and what clients were told is what is stored.
    let rounds = load.rounds.lock().unwrap().clone();
    let meetings = rounds.iter().map(|round| round.meeting.to_string()).collect::<Vec<_>>().join(",");
    let violations = runtime.block_on(count(&db, &violations_sql(&meetings)));
    let stored: HashMap<i64, i64> = runtime
        .block_on(db.query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT meeting_id::bigint, count(*) FROM registrations WHERE meeting_id IN ({meetings}) \
                 AND status <> 'withdrawn' GROUP BY 1"
            ),
        )))
        .unwrap()
        .iter()
        .map(|row| (row.try_get_by_index::<i64>(0).unwrap(), row.try_get_by_index::<i64>(1).unwrap()))
        .collect();
    let answered_fully: Vec<&Round> = rounds.iter().filter(|round| round.failed == 0).collect();
    let mismatched: Vec<String> = answered_fully
        .iter()
        .filter(|round| stored.get(&round.meeting).copied().unwrap_or(0) != round.accepted)
        .map(|round| {
            format!("meeting {}: {} accepted, {:?} stored", round.meeting, round.accepted, stored.get(&round.meeting))
        })
        .collect();
    println!(
        "cluster: {} registration rounds ({} answered in full), {} registrations stored, rule violations: {violations}",
        rounds.len(),
        answered_fully.len(),
        stored.values().sum::<i64>()
    );
    assert_eq!(violations, 0, "attendance rules were broken on meetings {meetings}");
    assert!(mismatched.is_empty(), "stored registrations differ from the answers: {mismatched:?}");

    // Mail: everything queued was delivered, and only the killed replica's claims twice.
    runtime.block_on(wait_for_outbox(&db));
    let outbox: Vec<(String, String)> = runtime
        .block_on(db.query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT message_id, status FROM outbox".to_owned(),
        )))
        .unwrap()
        .iter()
        .map(|row| (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap()))
        .collect();
    let arrivals = sink.arrivals();
    let missing: Vec<&String> = outbox
        .iter()
        .map(|(id, _)| id)
        .filter(|id| !arrivals.contains_key(id.trim_start_matches('<').trim_end_matches('>')))
        .collect();
    let not_sent: Vec<&(String, String)> = outbox.iter().filter(|(_, status)| status != "sent").collect();
    let duplicates: usize = arrivals.values().map(|n| n - 1).sum();
    let twice = runtime.block_on(db.query_all_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT message_id, kind, attempts FROM outbox WHERE attempts > 1".to_owned(),
    )));
    let twice: Vec<String> = twice
        .unwrap()
        .iter()
        .map(|row| {
            let id: String = row.try_get_by_index(0).unwrap();
            let kind: String = row.try_get_by_index(1).unwrap();
            let attempts: i32 = row.try_get_by_index(2).unwrap();
            let arrived = arrivals.get(id.trim_start_matches('<').trim_end_matches('>')).copied().unwrap_or(0);
            format!("{kind} claimed {attempts} times, arrived {arrived} times")
        })
        .collect();
    let invitations = invited["queued"].as_u64().unwrap_or(0);
    println!(
        "cluster: {} messages queued ({invitations} invitations), {} arrived; {duplicates} arrived twice, \
         {in_flight_at_kill} were in flight at the kill",
        outbox.len(),
        arrivals.values().sum::<usize>()
    );
    assert!(invitations >= 100, "an invitation batch of some size: {invited}");
    assert!(not_sent.is_empty(), "messages not sent: {:?}", first(&not_sent, 10));
    assert!(missing.is_empty(), "{} messages never arrived: {:?}", missing.len(), first(&missing, 10));
    assert!(
        duplicates <= usize::try_from(in_flight_at_kill).unwrap(),
        "{duplicates} messages arrived twice, more than the {in_flight_at_kill} the killed replica held; \
         claimed more than once: {twice:?}"
    );
    drop(tallies);
    drop(nginx);
}

/// What the load needs, made before it starts (directly on one replica).
struct SetUp {
    organiser: String,
    /// `(iso2, bearer token)` of the delegations that register.
    delegations: Vec<(String, String)>,
    feed_path: String,
    invitation_meeting: i64,
}

async fn set_up(database: &TestDatabase, replica: &str) -> SetUp {
    let organiser = token(database, &["token", "create", "--role", "organiser"]);
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    let states: Value = client.get(format!("{replica}/api/v1/states")).send().await.unwrap().json().await.unwrap();
    let states: Vec<(String, String)> = states
        .as_array()
        .unwrap()
        .iter()
        .map(|state| (state["iso2"].as_str().unwrap().to_owned(), state["kind"].as_str().unwrap().to_owned()))
        .collect();
    let registering: Vec<String> = states
        .iter()
        .filter(|(_, kind)| kind == "participating")
        .take(DELEGATIONS)
        .map(|(iso2, _)| iso2.clone())
        .collect();
    let tokens = std::thread::scope(|scope| {
        let making: Vec<_> = registering
            .iter()
            .map(|iso2| {
                scope.spawn(move || token(database, &["token", "create", "--role", "delegation", "--state", iso2]))
            })
            .collect();
        making.into_iter().map(|made| made.join().unwrap()).collect::<Vec<_>>()
    });
    let delegations = registering.into_iter().zip(tokens).collect();

    let mut contacts = tokio::task::JoinSet::new();
    for (iso2, _) in &states {
        for n in 0..CONTACTS_PER_DELEGATION {
            let (client, organiser, url) =
                (client.clone(), organiser.clone(), format!("{replica}/api/v1/delegations/{iso2}/contacts"));
            let body = json!({
                "name": format!("Contact {n} of {iso2}"), "role": "contact_point", "language": "en",
                "email": format!("contact{n}@{}.example.org", iso2.to_lowercase()),
            });
            contacts.spawn(async move {
                client.post(url).bearer_auth(organiser).json(&body).send().await.unwrap().status()
            });
        }
    }
    while let Some(status) = contacts.join_next().await {
        assert_eq!(status.unwrap(), 201, "adding a contact");
    }
    let feed: Value = client
        .post(format!("{replica}/api/v1/feeds"))
        .bearer_auth(&organiser)
        .json(&json!({"scope": "all"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let feed_url = url::Url::parse(feed["url"].as_str().expect("a feed URL")).unwrap();
    let day = (Utc::now() + TimeDelta::days(20)).date_naive();
    let meeting: Value = client
        .post(format!("{replica}/api/v1/meetings"))
        .bearer_auth(&organiser)
        .json(&meeting_body("Invitations under faults", day))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    SetUp {
        organiser,
        delegations,
        feed_path: feed_url.path().to_owned(),
        invitation_meeting: meeting["id"].as_i64().expect("a meeting id"),
    }
}

fn token(database: &TestDatabase, args: &[&str]) -> String {
    binary::stdout(&binary::run(database, args)).trim().to_owned()
}

fn meeting_body(title: &str, day: chrono::NaiveDate) -> Value {
    json!({
        "body": "PC", "title": title, "start": format!("{day}T07:00:00"), "end": format!("{day}T08:00:00"),
        "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL", "force": true,
    })
}

/// What the clients saw, by the phase each request started in.
#[derive(Default)]
struct Load {
    phase: AtomicUsize,
    stop: AtomicBool,
    tallies: Mutex<[Tally; 4]>,
    rounds: Mutex<Vec<Round>>,
}

impl Load {
    fn rounds_done(&self) -> usize {
        self.rounds.lock().unwrap().len()
    }

    /// Sends `request`, counts it under the phase it started in, and returns its JSON body when
    /// its status is one of `expected`; anything else (a transport error, another status, a
    /// body cut short) is a failure.
    async fn send(
        &self,
        kind: &'static str,
        request: reqwest::RequestBuilder,
        expected: &[u16],
    ) -> Option<(u16, Value)> {
        let phase = self.phase.load(Ordering::SeqCst);
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                match response.bytes().await {
                    Ok(body) if expected.contains(&status) => Ok((status, body)),
                    Ok(body) => {
                        let body = String::from_utf8_lossy(&body);
                        Err(format!(
                            "{kind}: {status} {}",
                            body.lines().find(|line| line.contains("<title>")).unwrap_or(&body)
                        ))
                    }
                    Err(error) => Err(format!("{kind}: {status}, body cut short: {error}")),
                }
            }
            Err(error) => Err(format!("{kind}: {error:?}")),
        };
        let mut tallies = self.tallies.lock().unwrap();
        let tally = &mut tallies[phase];
        tally.requests += 1;
        *tally.by_kind.entry(kind).or_default() += 1;
        match outcome {
            Ok((status, body)) => {
                if kind == "feed" && !body.ends_with(b"END:VCALENDAR\r\n") {
                    tally.failed.push("feed: a calendar cut short".into());
                    return None;
                }
                Some((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
            }
            Err(failure) => {
                tally.failed.push(failure);
                None
            }
        }
    }
}

#[derive(Default)]
struct Tally {
    requests: usize,
    by_kind: BTreeMap<&'static str, usize>,
    failed: Vec<String>,
}

/// One meeting's round of registrations: how many the clients were told were accepted (201,
/// confirmed or waiting), and how many got no answer.
#[derive(Clone)]
struct Round {
    meeting: i64,
    accepted: i64,
    failed: usize,
}

async fn read_feed(load: Arc<Load>, client: reqwest::Client, url: String) {
    while !load.stop.load(Ordering::SeqCst) {
        load.send("feed", client.get(&url), &[200]).await;
    }
}

/// Round after round: a new meeting with a capacity and a quota, and every delegation's
/// registrations for it sent at once.
async fn register_rounds(
    load: Arc<Load>,
    client: reqwest::Client,
    base: String,
    organiser: String,
    delegations: Vec<(String, String)>,
) {
    let mut round = 0_i64;
    while !load.stop.load(Ordering::SeqCst) {
        round += 1;
        let day = (Utc::now() + TimeDelta::days(30 + round)).date_naive();
        let request = client
            .post(format!("{base}/api/v1/meetings"))
            .bearer_auth(&organiser)
            .json(&meeting_body(&format!("Cluster round {round}"), day));
        let Some((_, meeting)) = load.send("meeting", request, &[201]).await else { continue };
        let meeting = meeting["id"].as_i64().expect("a meeting id");
        let request = client
            .put(format!("{base}/api/v1/meetings/{meeting}/attendance-settings"))
            .bearer_auth(&organiser)
            .json(&json!({"capacity": CAPACITY, "seats_behind_quota": QUOTA_BEHIND}));
        if load.send("settings", request, &[200]).await.is_none() {
            continue;
        }
        let mut sending = tokio::task::JoinSet::new();
        for (iso2, token) in &delegations {
            for k in 0..PER_DELEGATION {
                let request = client
                    .post(format!("{base}/api/v1/meetings/{meeting}/registrations"))
                    .bearer_auth(token)
                    .json(&json!({
                        "state": iso2, "name": format!("Person {k} of {iso2}"), "function": "Delegate",
                        "email": format!("p{k}.m{meeting}@{}.example.org", iso2.to_lowercase()),
                        "seat": if k < 2 { "main" } else { "behind" },
                    }));
                let load = Arc::clone(&load);
                sending.spawn(async move {
                    load.send("registration", request, &[201, 409]).await.map(|(status, _)| status)
                });
            }
        }
        let (mut accepted, mut failed) = (0, 0);
        while let Some(answer) = sending.join_next().await {
            match answer.unwrap() {
                Some(201) => accepted += 1,
                Some(_) => {}
                None => failed += 1,
            }
        }
        load.rounds.lock().unwrap().push(Round { meeting, accepted, failed });
    }
}

/// Waits until at least `rounds` rounds of registrations are done.
fn wait_for_rounds(load: &Load, rounds: usize) {
    let deadline = Instant::now() + PATIENCE;
    while load.rounds_done() < rounds {
        assert!(Instant::now() < deadline, "the registration rounds stalled at {}", load.rounds_done());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the replica answers 200 at `/readyz` (database, migrations, mail worker).
fn wait_until_ready(replica: &Server) {
    let deadline = Instant::now() + PATIENCE;
    while replica.status("/readyz") != Some(200) {
        assert!(Instant::now() < deadline, "replica on port {} never became ready", replica.port());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the replica with process id `pid` holds a claim on one of the invitations.
async fn wait_for_claims(db: &DatabaseConnection, pid: u32, meeting: i64) {
    let deadline = Instant::now() + PATIENCE;
    let sql = format!(
        "SELECT count(*) FROM outbox WHERE status = 'sending' AND leased_by LIKE '{pid}-%' AND meeting_id = {meeting}"
    );
    while count(db, &sql).await == 0 {
        assert!(Instant::now() < deadline, "the replica to kill never claimed an invitation");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until no message waits or is being sent.
async fn wait_for_outbox(db: &DatabaseConnection) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let waiting = count(db, "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')").await;
        if waiting == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{waiting} messages are still not delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql.to_owned())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Meetings (of `meetings`, comma-separated ids) breaking a rule: over capacity, two main
/// seats or more than the quota behind for one delegation, one person twice, or someone
/// confirmed who arrived after someone waiting.
fn violations_sql(meetings: &str) -> String {
    format!(
        "WITH active AS (SELECT * FROM registrations WHERE meeting_id IN ({meetings}) AND status <> 'withdrawn') \
         SELECT \
           (SELECT count(*) FROM (SELECT meeting_id FROM active WHERE status = 'confirmed' GROUP BY 1 \
              HAVING count(*) > {CAPACITY}) x) \
         + (SELECT count(*) FROM (SELECT meeting_id, iso2 FROM active WHERE seat = 'main' GROUP BY 1, 2 \
              HAVING count(*) > 1) x) \
         + (SELECT count(*) FROM (SELECT meeting_id, iso2 FROM active WHERE seat = 'behind' GROUP BY 1, 2 \
              HAVING count(*) > {QUOTA_BEHIND}) x) \
         + (SELECT count(*) FROM (SELECT meeting_id, email FROM active GROUP BY 1, 2 HAVING count(*) > 1) x) \
         + (SELECT count(*) FROM (SELECT meeting_id FROM active GROUP BY 1 \
              HAVING max(arrival) FILTER (WHERE status = 'confirmed') > min(arrival) FILTER (WHERE status = 'waiting')) x)"
    )
}

/// The `upstream=` field of an access log line: the replicas tried, separated by ", ".
fn upstream(line: &str) -> &str {
    line.split_once(" upstream=")
        .and_then(|(_, rest)| rest.split_once(" upstream_status="))
        .map_or("", |(tried, _)| tried)
}

/// A free loopback port below the kernel's range for outgoing connections. A replica's port is
/// free while it restarts; one in that range may meanwhile become the local end of one of the
/// many connections the load opens, and the replica could not listen on it again.
fn port_outside_the_ephemeral_range() -> u16 {
    let ephemeral_from: u16 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse().ok())
        .unwrap_or(32768);
    let from = 10_000.min(ephemeral_from / 2);
    loop {
        let random = u16::try_from(uuid::Uuid::new_v4().as_u128() % u128::from(ephemeral_from - from)).unwrap();
        let port = from + random;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn first<T: std::fmt::Debug>(items: &[T], n: usize) -> &[T] {
    &items[..items.len().min(n)]
}
