//! The service's configuration: defaults, then `PLENARY_*` environment, then flags.
//!
//! Loaded once by the CLI; handlers never read the environment, and tests build a [`Config`]
//! directly.

use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

use clap::{Args, ValueEnum};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything the service needs to know about its surroundings.
#[derive(Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "PLENARY_ADDR", default_value = "127.0.0.1:8080", global = true)]
    pub addr: SocketAddr,

    /// Database URL: `sqlite://plenary.db` (the default, created if missing) or `postgres://...`.
    #[arg(long, env = "PLENARY_DATABASE_URL", default_value = "sqlite://plenary.db", global = true)]
    pub database_url: String,

    /// The address people reach this service at, used in feed and mail links
    /// (default: `http://` and the listen address).
    #[arg(long, env = "PLENARY_PUBLIC_URL", global = true)]
    pub public_url: Option<url::Url>,

    /// SMTP server for mail: `smtp://host:port` or `smtps://user:pass@host`. Without it, mail
    /// stays queued.
    #[arg(long, env = "PLENARY_SMTP_URL", global = true)]
    pub smtp_url: Option<String>,

    /// The sender of Plenary's mail.
    #[arg(long, env = "PLENARY_MAIL_FROM", default_value = "Plenary <plenary@localhost>", global = true)]
    pub mail_from: String,

    /// Password for the organiser account created on the first start (default: a random one,
    /// printed once).
    #[arg(long, env = "PLENARY_ADMIN_PASSWORD", global = true, hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Log format.
    #[arg(long, env = "PLENARY_LOG_FORMAT", value_enum, default_value = "text", global = true)]
    pub log_format: LogFormat,

    /// Addresses or networks that may read `GET /metrics` without a token, comma-separated
    /// (`127.0.0.1,10.0.0.0/8`). The peer address of the connection is checked, never
    /// `X-Forwarded-For`: behind a proxy the peer is the proxy.
    #[arg(long, env = "PLENARY_METRICS_ALLOW", default_value = "", value_parser = MetricsAllow::parse, global = true)]
    pub metrics_allow: MetricsAllow,

    /// The longest wait for the database, in milliseconds: for a pooled connection (and
    /// opening one) and for the health checks. A request that cannot get a connection in time
    /// answers 503 instead of hanging while the database is down.
    #[arg(long, env = "PLENARY_DATABASE_TIMEOUT_MS", default_value_t = 5_000, global = true)]
    pub database_timeout_ms: u64,

    /// Seconds a stopping `plenary serve` (SIGTERM, Ctrl-C) gives open requests and the mail
    /// in hand to finish before it exits anyway.
    #[arg(long, env = "PLENARY_SHUTDOWN_GRACE_SECS", default_value_t = 30, global = true)]
    pub shutdown_grace_secs: u64,

    #[command(flatten)]
    pub mail: crate::mail::MailConfig,
}

impl Config {
    /// A configuration for `database_url` with every other setting at its default.
    #[must_use]
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: database_url.into(),
            public_url: None,
            smtp_url: None,
            mail_from: "Plenary <plenary@localhost>".into(),
            admin_password: None,
            log_format: LogFormat::Text,
            metrics_allow: MetricsAllow::default(),
            database_timeout_ms: 5_000,
            shutdown_grace_secs: 30,
            mail: crate::mail::MailConfig::default(),
        }
    }

    /// [`Config::database_timeout_ms`] as a duration.
    #[must_use]
    pub fn database_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.database_timeout_ms.max(1))
    }

    /// The base of every link Plenary writes, without a trailing slash.
    #[must_use]
    pub fn public_base(&self) -> String {
        match &self.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }
}

/// Secrets stay out of logs: the database and SMTP passwords and the admin password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database_url", &crate::db::redact(&self.database_url))
            .field("public_url", &self.public_url.as_ref().map(url::Url::as_str))
            .field("smtp_url", &self.smtp_url.as_deref().map(crate::db::redact))
            .field("mail_from", &self.mail_from)
            .field("admin_password", &self.admin_password.as_ref().map(|_| "***"))
            .field("log_format", &self.log_format)
            .field("metrics_allow", &self.metrics_allow)
            .field("database_timeout_ms", &self.database_timeout_ms)
            .field("shutdown_grace_secs", &self.shutdown_grace_secs)
            .field("mail", &self.mail)
            .finish()
    }
}

/// The networks whose connections may read `GET /metrics` without a token (`--metrics-allow`);
/// empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsAllow(Vec<ipnet::IpNet>);

impl MetricsAllow {
    /// Reads a comma-separated list of addresses (`127.0.0.1`, `::1`) and networks
    /// (`10.0.0.0/8`, `fd00::/8`); an empty list allows nobody.
    ///
    /// # Errors
    /// The first entry that is neither, quoted, with what would be accepted.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry.parse::<ipnet::IpNet>().or_else(|_| entry.parse::<IpAddr>().map(ipnet::IpNet::from)).map_err(|_| {
                    format!("{entry:?} is neither an IP address nor a network; write e.g. 127.0.0.1, 10.0.0.0/8 or fd00::/8")
                })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Whether a connection from `peer` may read the metrics without a token. An IPv4 peer is
    /// the same whether it reaches an IPv4 socket (`10.0.0.5`) or an IPv6 one
    /// (`::ffff:10.0.0.5`), and an entry may name it either way (`::ffff:10.0.0.0/104`).
    #[must_use]
    pub fn allows(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        let mapped = match peer {
            IpAddr::V4(v4) => IpAddr::V6(v4.to_ipv6_mapped()),
            IpAddr::V6(_) => peer,
        };
        self.0.iter().any(|network| network.contains(&peer) || network.contains(&mapped))
    }
}

#[cfg(test)]
mod tests {
    use super::MetricsAllow;

    #[test]
    fn the_metrics_allow_list_takes_addresses_and_networks_and_names_what_it_cannot_read() {
        let allow = MetricsAllow::parse(" 127.0.0.1, 10.0.0.0/8 ,fd00::/8,::ffff:192.168.0.0/112").unwrap();
        for allowed in ["127.0.0.1", "10.20.30.40", "::ffff:10.1.1.1", "fd00::5", "192.168.3.4", "::ffff:192.168.3.4"] {
            assert!(allow.allows(allowed.parse().unwrap()), "{allowed}");
        }
        for refused in ["127.0.0.2", "11.0.0.1", "::1", "fe80::1", "192.169.0.1"] {
            assert!(!allow.allows(refused.parse().unwrap()), "{refused}");
        }
        assert!(!MetricsAllow::parse("").unwrap().allows("127.0.0.1".parse().unwrap()));
        let error = MetricsAllow::parse("10.0.0.0/8, 300.1.1.1").unwrap_err();
        assert!(error.starts_with("\"300.1.1.1\" is neither an IP address nor a network"), "{error}");
    }
}
