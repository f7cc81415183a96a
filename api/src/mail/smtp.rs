//! The SMTP connections the mail worker sends through: a small pool of lettre connections of
//! our own instead of lettre's `AsyncSmtpTransport`, for two causes measured in BENCHMARKS.md
//! (invitation mail at 0.18x Postfix's `smtp-source`):
//! - lettre opens its sockets with Nagle's algorithm on and writes a message's body and its
//!   closing `.` in two writes, so the second waits for the server's delayed ACK (40 ms on
//!   Linux) on every message. Our sockets set `TCP_NODELAY`; STARTTLS upgrades that socket.
//! - lettre's pool sends `NOOP` on every checkout, one more round trip per message. Ours checks
//!   only a connection that has been idle for a while, when the server may have closed it.
//!
//! The URL means what lettre's `from_url` makes of it (the README documents it): `smtp://` plain
//! (port 25), `smtp://…?tls=required` or `?tls=opportunistic` STARTTLS (port 587), `smtps://`
//! TLS from the first byte (port 465), `user:password@` (percent-encoded) to log in, a path
//! `/name` for the EHLO name. With `smtps://` lettre opens the socket itself (it does not take
//! an encrypted stream from outside), so Nagle's algorithm stays on there.

use std::{
    fmt,
    sync::Mutex,
    time::{Duration, Instant},
};

use anyhow::{Context as _, bail};
use lettre::{
    address::Envelope,
    transport::smtp::{
        SMTP_PORT, SUBMISSION_PORT, SUBMISSIONS_PORT,
        authentication::{Credentials, DEFAULT_MECHANISMS},
        client::{AsyncSmtpConnection, TlsParameters},
        extension::ClientId,
    },
};
use percent_encoding::percent_decode_str;
use tokio::net::TcpStream;
use url::Url;

/// A connection idle longer than this is asked `NOOP` before it carries a message: the server
/// may have closed it (RFC 5321 lets a server give up after 5 minutes; some do sooner).
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

/// A connection idle longer than this is closed instead of reused.
const MAX_IDLE: Duration = Duration::from_secs(60);

/// How the connection to the server is encrypted.
enum Security {
    Plain,
    /// `STARTTLS` after the greeting; `required: false` goes on unencrypted when the server
    /// does not offer it.
    StartTls {
        parameters: TlsParameters,
        required: bool,
    },
    /// TLS from the first byte (`smtps://`).
    Implicit(TlsParameters),
}

/// Where and how to reach the SMTP server, from the SMTP URL.
struct Server {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// Bounds the TCP connect, TLS and greeting of a new connection.
    connect_timeout: Duration,
}

/// Why a message was not handed over.
#[derive(Debug)]
pub enum SendError {
    /// The TCP connection could not be made (a temporary failure).
    Connect(std::io::Error),
    /// The server or the SMTP session failed; lettre tells whether it is permanent (5xx).
    Smtp(lettre::transport::smtp::Error),
}

impl SendError {
    /// A 5xx answer: sending the message again will not help.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Smtp(error) if error.is_permanent())
    }
}

impl fmt::Display for SendError {
    /// The error with each of its causes, as the outbox records it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error: &dyn std::error::Error = match self {
            Self::Connect(error) => {
                f.write_str("cannot connect to the SMTP server: ")?;
                error
            }
            Self::Smtp(error) => error,
        };
        write!(f, "{error}")?;
        let mut source = error.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

/// An idle connection and since when it is idle.
struct Idle {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// Sends messages over at most `max_idle` kept connections (more are opened while more sends
/// run at once, and closed after).
pub struct Smtp {
    server: Server,
    idle: Mutex<Vec<Idle>>,
    max_idle: usize,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No credentials in logs.
        f.debug_struct("Smtp").field("host", &self.server.host).field("port", &self.server.port).finish_non_exhaustive()
    }
}

impl Smtp {
    /// The pool for the server `url` names.
    ///
    /// # Errors
    /// When the URL is not an SMTP URL lettre would accept.
    pub fn from_url(url: &str, connect_timeout: Duration, max_idle: usize) -> anyhow::Result<Self> {
        let url = Url::parse(url).context("not a URL")?;
        let host = url.host_str().filter(|host| !host.is_empty()).context("the URL names no host")?;
        // `Url` keeps brackets around an IPv6 address; the socket address and TLS name need it bare.
        let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
        let tls = url.query_pairs().find(|(key, _)| key == "tls").map(|(_, value)| value.into_owned());
        let parameters = || TlsParameters::new(host.clone()).context("cannot set up TLS");
        let (security, default_port) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (Security::Plain, SMTP_PORT),
            ("smtp", Some("required")) => {
                (Security::StartTls { parameters: parameters()?, required: true }, SUBMISSION_PORT)
            }
            ("smtp", Some("opportunistic")) => {
                (Security::StartTls { parameters: parameters()?, required: false }, SUBMISSION_PORT)
            }
            ("smtps", _) => (Security::Implicit(parameters()?), SUBMISSIONS_PORT),
            (scheme, tls) => bail!(
                "unknown scheme {scheme:?} or tls={tls:?} (use smtp://, smtp://…?tls=required, \
                 smtp://…?tls=opportunistic or smtps://)"
            ),
        };
        let decode = |text: &str| percent_decode_str(text).decode_utf8().map(|text| text.into_owned());
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(
                decode(url.username()).context("the user name is not UTF-8")?,
                decode(password).context("the password is not UTF-8")?,
            )),
            None => None,
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let server =
            Server { host, port: url.port().unwrap_or(default_port), security, credentials, hello, connect_timeout };
        Ok(Self { server, idle: Mutex::new(Vec::new()), max_idle })
    }

    /// Hands `message` (its envelope and bytes) to the server over a kept connection or a new
    /// one. A connection that failed is closed; one that worked is kept for the next message.
    ///
    /// # Errors
    /// When the server cannot be reached or does not accept the message.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SendError> {
        let mut connection = match self.take_idle().await {
            Some(connection) => connection,
            None => self.connect().await?,
        };
        // lettre closes the connection itself when a command fails (`has_broken`).
        connection.send(envelope, message).await.map_err(SendError::Smtp)?;
        self.give_back(connection);
        Ok(())
    }

    /// A kept connection that still works, if there is one; stale ones are closed.
    async fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let Idle { mut connection, since } = self.idle.lock().unwrap_or_else(|poison| poison.into_inner()).pop()?;
            let idle = since.elapsed();
            if idle > MAX_IDLE {
                continue;
            }
            if idle <= CHECK_AFTER_IDLE || connection.test_connected().await {
                return Some(connection);
            }
        }
    }

    fn give_back(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|poison| poison.into_inner());
        if idle.len() < self.max_idle {
            idle.push(Idle { connection, since: Instant::now() });
        }
    }

    /// Opens a connection: TCP (without Nagle's delay), greeting and EHLO, TLS as the URL says,
    /// and the login when it has credentials.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let server = &self.server;
        let timed_out =
            || SendError::Connect(std::io::Error::new(std::io::ErrorKind::TimedOut, "connecting timed out"));
        let opening = async {
            let mut connection = match &server.security {
                Security::Implicit(parameters) => AsyncSmtpConnection::connect_tokio1(
                    (server.host.as_str(), server.port),
                    Some(server.connect_timeout),
                    &server.hello,
                    Some(parameters.clone()),
                    None,
                )
                .await
                .map_err(SendError::Smtp)?,
                Security::Plain | Security::StartTls { .. } => {
                    let stream =
                        TcpStream::connect((server.host.as_str(), server.port)).await.map_err(SendError::Connect)?;
                    stream.set_nodelay(true).map_err(SendError::Connect)?;
                    AsyncSmtpConnection::connect_with_transport(Box::new(stream), &server.hello)
                        .await
                        .map_err(SendError::Smtp)?
                }
            };
            if let Security::StartTls { parameters, required } = &server.security
                && (*required || connection.can_starttls())
            {
                connection.starttls(parameters.clone(), &server.hello).await.map_err(SendError::Smtp)?;
            }
            Ok(connection)
        };
        let mut connection = tokio::time::timeout(server.connect_timeout, opening).await.map_err(|_| timed_out())??;
        if let Some(credentials) = &server.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await.map_err(SendError::Smtp)?;
        }
        Ok(connection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(url: &str) -> Server {
        Smtp::from_url(url, Duration::from_secs(1), 1).expect("a valid SMTP URL").server
    }

    #[test]
    fn the_url_says_port_security_login_and_ehlo_name_as_lettre_reads_it() {
        let plain = server("smtp://mail.example.org");
        assert_eq!((plain.host.as_str(), plain.port), ("mail.example.org", 25));
        assert!(matches!(plain.security, Security::Plain) && plain.credentials.is_none());

        let starttls = server("smtp://relay.example.org?tls=required");
        assert_eq!(starttls.port, 587);
        assert!(matches!(starttls.security, Security::StartTls { required: true, .. }));
        let opportunistic = server("smtp://relay.example.org:2525?tls=opportunistic");
        assert_eq!(opportunistic.port, 2525);
        assert!(matches!(opportunistic.security, Security::StartTls { required: false, .. }));

        let implicit = server("smtps://plenary%40osce.example:p%40ss%2Fword@smtp.example.org/plenary.osce.example");
        assert_eq!(implicit.port, 465);
        assert!(matches!(implicit.security, Security::Implicit(_)));
        let expected = Credentials::new("plenary@osce.example".to_owned(), "p@ss/word".to_owned());
        assert_eq!(implicit.credentials, Some(expected));
        assert_eq!(implicit.hello, ClientId::Domain("plenary.osce.example".to_owned()));

        assert_eq!(server("smtp://[::1]:2525").host, "::1");
    }

    #[test]
    fn a_url_lettre_would_refuse_is_refused_with_the_reason() {
        for (url, reason) in [
            ("http://mail.example.org", "unknown scheme \"http\""),
            ("smtp://mail.example.org?tls=sometimes", "tls=Some(\"sometimes\")"),
            ("smtp:relative", "names no host"),
            ("not a url", "not a URL"),
        ] {
            let error = format!("{:#}", Smtp::from_url(url, Duration::from_secs(1), 1).expect_err(url));
            assert!(error.contains(reason), "{url}: {error}");
        }
    }
}
