//! The `plenary` command line: `serve` (the default), `migrate`, `plan`, `seating`, `invite`,
//! `export`, `import`, `backup`, `token create`. `plenary --help` documents them all.

use std::{path::PathBuf, process::ExitCode};

use anyhow::{Context as _, bail};
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use tracing_subscriber::{EnvFilter, fmt};

use crate::{
    app,
    auth::{Principal, Role},
    config::{Config, LogFormat},
    db,
    service::{self, seating::SeatingFormat},
    shutdown, store, transfer,
};

/// Plenary: meetings of the OSCE and its Partners for Co-operation.
#[derive(Debug, Parser)]
#[command(name = "plenary", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (the default): migrates, loads reference data, serves.
    Serve,
    /// Apply pending database migrations and load the reference data, then exit.
    Migrate,
    /// Plan the regular meetings of a year (adds only what is missing; keeps organisers' changes).
    Plan {
        /// The year to plan, 1975–2100.
        #[arg(long)]
        year: i32,
    },
    /// Write a meeting's seating plan to stdout: a printable SVG picture, JSON or CSV.
    Seating {
        /// The meeting's id.
        #[arg(long)]
        meeting: i32,
        #[arg(long, value_enum, default_value = "svg")]
        format: PlanFormat,
    },
    /// Queue a meeting's invitations and deliver them (progress bar; final count).
    Invite {
        /// The meeting's id.
        #[arg(long)]
        meeting: i32,
    },
    /// Write the whole installation (every table, from one snapshot) into a new file, for
    /// `plenary import` into another database: SQLite or PostgreSQL.
    Export {
        /// The file to write (gzipped JSON Lines); an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Load a file from `plenary export` into a new database (`--database-url`), all or nothing,
    /// and verify every table's count and checksum.
    Import {
        /// The file `plenary export` wrote.
        #[arg(long)]
        from: PathBuf,
    },
    /// Copy a SQLite database while the service runs (consistent, checked); PostgreSQL is backed
    /// up with pg_dump (see the README).
    Backup {
        /// The file to write; an existing file is never overwritten.
        #[arg(long)]
        out: PathBuf,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it on stdout (one line, nothing else). It is shown only once.
    Create {
        /// What the token may do.
        #[arg(long, value_enum)]
        role: Role,
        /// The State a delegation token acts for (ISO code, e.g. AT); required for `delegation`.
        #[arg(long)]
        state: Option<String>,
        /// A note to recognise the token by later.
        #[arg(long, default_value = "created with the command line")]
        label: String,
    },
}

/// The forms `plenary seating` writes a plan in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A printable A3 picture.
    Svg,
    /// The plan as the API gives it.
    Json,
    /// One seat a row, for spreadsheets.
    Csv,
}

impl From<PlanFormat> for SeatingFormat {
    fn from(format: PlanFormat) -> Self {
        match format {
            PlanFormat::Svg => Self::Svg,
            PlanFormat::Json => Self::Json,
            PlanFormat::Csv => Self::Csv,
        }
    }
}

/// Parses the command line and runs it.
pub async fn run() -> ExitCode {
    let cli = parse();
    init_logging(cli.config.log_format);
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line and the `PLENARY_*` environment. A variable set to the empty string
/// counts as unset (what `PLENARY_SMTP_URL=` in a unit or compose file means), never as an
/// empty value to refuse.
fn parse() -> Cli {
    let command = Cli::command().mut_args(|arg| {
        let empty = arg.get_env().and_then(std::env::var_os).is_some_and(|value| value.is_empty());
        if empty { arg.env(None) } else { arg }
    });
    Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|error| error.exit())
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => {
            let prepared = app::prepare(cli.config).await?;
            announce_first_organiser(&prepared);
            eprintln!("The database is up to date.");
            Ok(())
        }
        Command::Plan { year } => {
            let prepared = app::prepare(cli.config).await?;
            announce_first_organiser(&prepared);
            let outcome = service::meetings::plan(&prepared.state.db, year, &Principal::command_line())
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            println!(
                "Planned {year}: {} meetings added, {} already planned, {} days skipped.",
                outcome.created,
                outcome.already_planned,
                outcome.skipped.len()
            );
            for skipped in &outcome.skipped {
                println!("  {} {}: {}", skipped.date, skipped.body, skipped.reason);
            }
            Ok(())
        }
        Command::Seating { meeting, format } => {
            let db = db::connect(&cli.config.database_url).await?;
            db::migrate(&db).await?;
            let text = service::seating::render(&db, meeting, format.into())
                .await
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let mut stdout = std::io::stdout().lock();
            match std::io::Write::write_all(&mut stdout, text.as_bytes()) {
                // A reader that stopped early (`| head`) is not an error.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing the plan to stdout failed"),
            }
        }
        Command::Invite { meeting } => crate::mail::cli::invite(cli.config, meeting).await,
        Command::Export { out } => {
            let db = transfer::open_source(&cli.config.database_url).await?;
            let report = transfer::export(&db, &out).await.context("the export failed")?;
            print!("{}", report.table("exported"));
            println!("Exported {} rows in {} tables to {}.", report.rows(), report.tables.len(), out.display());
            Ok(())
        }
        Command::Import { from } => {
            let db = db::connect(&cli.config.database_url).await?;
            let report = transfer::import(&db, &from).await.context("the import failed; the database is unchanged")?;
            print!("{}", report.table("verified"));
            println!(
                "Imported {} rows in {} tables into {}: every count and checksum verified.",
                report.rows(),
                report.tables.len(),
                db::redact(&cli.config.database_url)
            );
            Ok(())
        }
        Command::Backup { out } => {
            let db = transfer::open_source(&cli.config.database_url).await?;
            let backup = transfer::backup::sqlite(&db, &out).await?;
            for (table, rows) in &backup.tables {
                println!("{table:<24}  {rows:>8}");
            }
            println!(
                "Backed up {} rows in {} tables to {} ({} bytes); integrity check: ok.",
                backup.tables.iter().map(|(_, rows)| rows).sum::<i64>(),
                backup.tables.len(),
                out.display(),
                backup.bytes
            );
            Ok(())
        }
        Command::Token { command: TokenCommand::Create { role, state, label } } => {
            // The label is shown on pages and in the audit log: the same input policy as every
            // other text field, checked before any work.
            let label = scheduler::text::required("--label", scheduler::text::Kind::Label, &label)?;
            let db = db::connect(&cli.config.database_url).await?;
            db::migrate(&db).await?;
            store::reference::load(&db, &scheduler::reference::ReferenceData::bundled()).await?;
            let state = match (role, state) {
                (Role::Delegation, None) => {
                    bail!("a delegation token needs --state with the State's ISO code, e.g. --state AT")
                }
                (Role::Delegation, Some(iso2)) => {
                    let iso2 = iso2.to_uppercase();
                    if store::reference::state(&db, &iso2).await?.is_none() {
                        bail!("there is no State with the code {iso2:?}");
                    }
                    Some(iso2)
                }
                (_, Some(_)) => bail!("--state only applies to delegation tokens"),
                (_, None) => None,
            };
            let token =
                store::tokens::create(&db, role, state.as_deref(), &label).await.context("storing the token failed")?;
            println!("{token}");
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let prepared = app::prepare(config).await?;
    let this_year = chrono::Datelike::year(&chrono::Utc::now());
    for year in [this_year, this_year + 1] {
        // Race-safe without the set-up lock: the plan's rows are inserted "on conflict do
        // nothing" by their plan key, so replicas starting together plan each meeting once.
        service::meetings::plan(&prepared.state.db, year, &Principal::command_line())
            .await
            .map_err(|error| anyhow::anyhow!("planning {year} failed: {error}"))?;
    }
    let base = prepared.state.config.public_base();
    tracing::info!(config = ?prepared.state.config, "starting");
    // From here on SIGTERM and Ctrl-C drain the service instead of ending it on the spot.
    let mut signals = shutdown::Signals::listen().context("cannot listen for SIGTERM and Ctrl-C")?;
    println!("Plenary is ready at {base}/ (API reference at {base}/api/docs)");
    announce_first_organiser(&prepared);
    let worker = crate::mail::worker::Worker::new(prepared.state.db.clone(), &prepared.state.config)?;
    if worker.is_none() {
        tracing::warn!("no SMTP URL is configured: mail stays queued");
    }
    let heartbeat = prepared.state.mail_worker.clone();
    let worker = worker.map(|worker| worker.with_heartbeat(heartbeat.clone()).spawn());
    let purge = crate::mail::retention::spawn(prepared.state.db.clone(), prepared.state.config.mail.clone());
    // 0 days turns reminders off.
    let reminders = (prepared.state.config.mail.reminder_days > 0)
        .then(|| service::reminders::spawn(prepared.state.db.clone(), prepared.state.config.clone()));
    let drain = std::sync::Arc::clone(&prepared.state.drain);
    let grace = std::time::Duration::from_secs(prepared.state.config.shutdown_grace_secs);
    let (stop_serving, serving_stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(app::serve(listener, app::router(prepared.state), async {
        let _ = serving_stopped.await;
    }));
    let signal = tokio::select! {
        signal = signals.next() => signal,
        served = &mut server => {
            return match served {
                Ok(served) => served.context("the server stopped with an error"),
                Err(error) => Err(error).context("the server stopped with an error"),
            };
        }
    };
    // The drain (see `crate::shutdown`): the server, the mail worker and the jobs stop together.
    tracing::info!(
        ?signal,
        requests_in_flight = drain.in_flight(),
        mail_in_hand = heartbeat.in_hand(),
        grace_secs = grace.as_secs(),
        "shutting down: accepting no new connections; finishing open requests and the mail in hand"
    );
    drain.start();
    let _ = stop_serving.send(());
    let stopped = async {
        let (served, ..) = tokio::join!(
            server,
            async {
                if let Some(worker) = worker {
                    worker.stop().await;
                }
            },
            purge.stop(),
            async {
                if let Some(reminders) = reminders {
                    reminders.stop().await;
                }
            },
        );
        served
    };
    let cut_short = tokio::select! {
        stopped = tokio::time::timeout(grace, stopped) => match stopped {
            Ok(Ok(served)) => {
                served.context("the server stopped with an error")?;
                tracing::info!("drained: every open request answered and the mail in hand recorded; exiting");
                return Ok(());
            }
            Ok(Err(error)) => return Err(error).context("the server stopped with an error"),
            Err(_) => format!("the grace period of {} s ran out", grace.as_secs()),
        },
        second = signals.next() => format!("a second signal ({second:?}) forces the exit"),
    };
    tracing::error!(
        requests_abandoned = drain.in_flight(),
        mail_abandoned = heartbeat.in_hand(),
        "{cut_short}: exiting without finishing; the abandoned requests get no answer, and the \
         messages claimed but not recorded go back to the outbox when their lease runs out \
         (they may be sent a second time)"
    );
    // Exit now: returning would wait for the runtime's blocking tasks (a PDF being drawn, a
    // password being hashed), however long they take.
    std::process::exit(1);
}

/// Prints the first organiser's generated password, whichever command created the account:
/// it is stored only hashed, so this is the one chance to see it.
fn announce_first_organiser(prepared: &app::Prepared) {
    if let Some(password) = &prepared.new_admin_password {
        println!(
            "Log in as `{}` with the password {password} — it is shown only this once.",
            store::users::FIRST_ORGANISER
        );
    }
}

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_env("PLENARY_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    // Colours only on a terminal: not in journald, a log file or a test's pipe.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
