//! `plenary invite --meeting ID`: queues a meeting's invitations and delivers them, with a
//! progress bar and a final count of sent / failed / already sent.

use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};

use super::{invitations, worker::Worker};
use crate::{
    app,
    config::Config,
    db::enums::OutboxStatus,
    store::{self, outbox},
};

/// Runs `plenary invite`.
///
/// # Errors
/// When the meeting does not exist, is cancelled or over, or the database or SMTP settings fail.
pub async fn invite(config: Config, meeting_id: i32) -> anyhow::Result<()> {
    let prepared = app::prepare(config).await?;
    let (db, config) = (&prepared.state.db, &prepared.state.config);
    let Some(meeting) = store::meetings::find(db, meeting_id).await? else {
        bail!("there is no meeting {meeting_id}");
    };
    invitations::check_sendable(&meeting, Utc::now())?;
    let report = invitations::send(db, config, &meeting, false).await?;
    let already = report.already_invited.len();
    let Some(worker) = Worker::new(db.clone(), config)? else {
        println!(
            "Queued {} invitations ({already} already sent). No SMTP URL is configured: the mail stays queued \
             until `plenary serve --smtp-url ...` delivers it.",
            report.queued.len()
        );
        return Ok(());
    };
    let count = |status: OutboxStatus| async move {
        let rows = outbox::for_meeting(db, meeting_id).await?;
        anyhow::Ok(rows.iter().filter(|row| row.status == status).count())
    };
    let waiting = outbox::pending(db, Some(meeting_id)).await?;
    let bar = ProgressBar::new(waiting);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} messages {msg}")
            .context("progress bar template")?
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    // The worker delivers whatever is due, other meetings' mail too: the bar counts this
    // meeting's part of it at the end, and what it has recorded meanwhile.
    worker.deliver_due(|done| bar.set_position((done.sent + done.failed + done.retried) as u64)).await?;
    let left = outbox::pending(db, Some(meeting_id)).await?;
    bar.set_position(waiting.saturating_sub(left));
    if left > 0 {
        // What is left waits for a retry (or another worker holds it): say so.
        bar.set_message(format!("({left} waiting for a retry)"));
    }
    bar.finish();
    let (sent, failed, queued) =
        (count(OutboxStatus::Sent).await?, count(OutboxStatus::Failed).await?, count(OutboxStatus::Queued).await?);
    println!("Sent: {sent}, failed: {failed}, already sent: {already}, waiting for a retry: {queued}.");
    Ok(())
}
