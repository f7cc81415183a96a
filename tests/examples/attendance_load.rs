//! Load generator for the attendance benchmark (`bench/attendance.sh` runs it).
//!
//! Against a running `plenary serve`, for each of `ROUNDS` rounds: creates a meeting (PC, in the
//! Ratsaal, 30 days ahead) with a capacity of 150, then sends every delegation's 10
//! registrations all at once (2 heads, 8 advisers: 3 accepted, 7 refused per delegation) and
//! times each request. Prints one line per round and a summary line in `key=value` form.
//!
//! Usage: `attendance_load BASE_URL ORGANISER_TOKEN TOKENS_FILE [ROUNDS]`, where TOKENS_FILE
//! has one `ISO2 TOKEN` line per delegation.

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, organiser, tokens_file, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: attendance_load BASE_URL ORGANISER_TOKEN TOKENS_FILE [ROUNDS]");
    };
    let rounds: usize = rest.first().map_or(Ok(5), |r| r.parse())?;
    let delegations: Vec<(String, String)> = std::fs::read_to_string(tokens_file)?
        .lines()
        .filter_map(|line| line.split_once(' ').map(|(iso2, token)| (iso2.to_owned(), token.trim().to_owned())))
        .collect();
    let client = reqwest::Client::builder().pool_max_idle_per_host(2000).build()?;
    let mut latencies: Vec<Duration> = Vec::new();
    let mut busy = Duration::ZERO;
    let (mut accepted, mut refused, mut failed) = (0usize, 0usize, 0usize);
    let mut meetings = Vec::new();
    for round in 0..rounds {
        let start_day = (Utc::now() + TimeDelta::days(30 + i64::try_from(round)?)).date_naive();
        let meeting: Value = client
            .post(format!("{base}/api/v1/meetings"))
            .bearer_auth(organiser)
            .json(&json!({
                "body": "PC", "title": format!("Attendance benchmark {round}"),
                "start": format!("{start_day}T07:00:00"), "end": format!("{start_day}T08:00:00"),
                "time_zone": "Europe/Vienna", "room": "HOFBURG-RATSAAL", "force": true,
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = meeting["id"].as_i64().ok_or_else(|| anyhow::anyhow!("no meeting id in {meeting}"))?;
        meetings.push(id);
        client
            .put(format!("{base}/api/v1/meetings/{id}/attendance-settings"))
            .bearer_auth(organiser)
            .json(&json!({"capacity": 150}))
            .send()
            .await?
            .error_for_status()?;
        let url = format!("{base}/api/v1/meetings/{id}/registrations");
        let began = Instant::now();
        let mut tasks = Vec::new();
        for (iso2, token) in &delegations {
            for k in 0..10 {
                let (client, url, token) = (client.clone(), url.clone(), token.clone());
                let body = json!({
                    "state": iso2, "name": format!("Person {k} of {iso2}"), "function": "Delegate",
                    "email": format!("p{k}@{}.example.org", iso2.to_lowercase()),
                    "seat": if k < 2 { "main" } else { "behind" },
                });
                tasks.push(tokio::spawn(async move {
                    let sent = Instant::now();
                    let status =
                        client.post(url).bearer_auth(token).json(&body).send().await.map(|r| r.status().as_u16());
                    (status, sent.elapsed())
                }));
            }
        }
        let (mut round_ok, mut round_refused, mut round_failed) = (0, 0, 0);
        for task in tasks {
            let (status, took) = task.await?;
            latencies.push(took);
            match status {
                Ok(201) => round_ok += 1,
                Ok(409) => round_refused += 1,
                _ => round_failed += 1,
            }
        }
        let elapsed = began.elapsed();
        busy += elapsed;
        println!(
            "round {round}: meeting {id}: {} requests in {:.3} s: {round_ok} accepted, {round_refused} refused, {round_failed} failed",
            delegations.len() * 10,
            elapsed.as_secs_f64()
        );
        accepted += round_ok;
        refused += round_refused;
        failed += round_failed;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    latencies.sort_unstable();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64) * p).ceil() as usize;
        latencies[index.saturating_sub(1).min(latencies.len() - 1)].as_secs_f64() * 1000.0
    };
    let total = accepted + refused + failed;
    println!(
        "summary requests={total} accepted={accepted} refused={refused} failed={failed} seconds={:.3} requests_per_s={:.0} accepted_per_s={:.0} p50_ms={:.1} p99_ms={:.1} meetings={}",
        busy.as_secs_f64(),
        total as f64 / busy.as_secs_f64(),
        accepted as f64 / busy.as_secs_f64(),
        percentile(0.50),
        percentile(0.99),
        meetings.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
    );
    Ok(())
}
