//! Bringing the service up: database, migrations, reference data, first account, plans.

use std::sync::Arc;

use anyhow::Context as _;
use scheduler::reference::ReferenceData;

use crate::{config::Config, db, http::AppState, store};

/// What preparing the database found out, for the start-up message.
pub struct Prepared {
    pub state: AppState,
    /// The generated password of the first organiser account, when it was just created.
    pub new_admin_password: Option<String>,
}

/// Connects, migrates, loads the reference data and makes sure an organiser can log in.
///
/// Safe to run on every start: each step only adds what is missing.
///
/// # Errors
/// When the database cannot be reached or refuses a change.
pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    let db = db::connect(&config.database_url).await?;
    db::migrate(&db).await?;
    store::reference::load(&db, &ReferenceData::bundled()).await.context("loading the reference data failed")?;
    let new_admin_password = store::users::ensure_first_organiser(&db, config.admin_password.as_deref())
        .await
        .context("creating the first organiser account failed")?;
    Ok(Prepared {
        state: AppState {
            db,
            config: Arc::new(config),
            feeds: crate::feeds::FeedCache::shared(),
            mail_worker: crate::mail::worker::Heartbeat::default(),
        },
        new_admin_password,
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing open requests");
}
