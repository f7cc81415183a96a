//! A real SMTP server for the mail suites: `tests/python/smtp_sink.py` (aiosmtpd) on a loopback
//! port, storing into a Maildir the test reads. Python is `PLENARY_TEST_PYTHON` (set by
//! `scripts/test`) or `python3`. A test that cannot start it fails; it never skips.

use std::{
    collections::HashMap,
    io::{BufRead as _, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running SMTP sink.
pub struct SmtpSink {
    pub port: u16,
    pub maildir: PathBuf,
    _dir: Option<tempfile::TempDir>,
    child: Option<Child>,
}

/// A loopback port nobody listens on (right now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl SmtpSink {
    /// Starts a sink on a free port with a new Maildir.
    pub fn start() -> Self {
        Self::start_with(free_port(), None)
    }

    /// Starts a sink on `port`; recipients matching `reject` get a 550.
    pub fn start_with(port: u16, reject: Option<&str>) -> Self {
        Self::start_slow(port, reject, 0)
    }

    /// Like [`SmtpSink::start_with`], taking `delay_ms` to accept each message.
    pub fn start_slow(port: u16, reject: Option<&str>, delay_ms: u64) -> Self {
        let dir = tempfile::tempdir().expect("temporary Maildir");
        let maildir = dir.path().join("Maildir");
        let mut sink = Self { port, maildir, _dir: Some(dir), child: None };
        sink.spawn(reject, delay_ms);
        sink
    }

    fn spawn(&mut self, reject: Option<&str>, delay_ms: u64) {
        let python = std::env::var("PLENARY_TEST_PYTHON").ok().filter(|p| !p.is_empty()).unwrap_or("python3".into());
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/smtp_sink.py");
        let mut command = Command::new(&python);
        command.arg(&script).arg(self.port.to_string()).arg(&self.maildir);
        if let Some(pattern) = reject {
            command.arg("--reject").arg(pattern);
        }
        if delay_ms > 0 {
            command.arg("--delay").arg(delay_ms.to_string());
        }
        let mut child =
            command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().unwrap_or_else(|error| {
                panic!("cannot start the SMTP sink with {python} {}: {error}", script.display())
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read the sink's output");
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP sink did not start (is aiosmtpd installed? see tests/python/requirements.txt)"
        );
        self.child = Some(child);
    }

    /// `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        smtp_url(self.port)
    }

    /// Every message received so far, in order of arrival.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut messages: Vec<(u64, Vec<u8>)> = std::fs::read_dir(self.maildir.join("new"))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|entry| std::fs::read(entry.path()).ok())
                    .map(|bytes| (sequence(&bytes), bytes))
                    .collect()
            })
            .unwrap_or_default();
        messages.sort_by_key(|(seq, _)| *seq);
        messages.into_iter().map(|(_, bytes)| bytes).collect()
    }

    /// Waits until at least `count` messages arrived, and returns them all.
    pub async fn wait_for(&self, count: usize, deadline: Duration) -> Vec<Vec<u8>> {
        let until = Instant::now() + deadline;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            assert!(Instant::now() < until, "only {} of {count} messages arrived", messages.len());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// How many times each Message-ID (without its angle brackets) arrived so far.
    ///
    /// # Panics
    /// When a message has no Message-ID.
    pub fn arrivals(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for message in self.messages() {
            let text = String::from_utf8_lossy(&message);
            let id = text
                .lines()
                .find_map(|line| line.strip_prefix("Message-ID: ").or_else(|| line.strip_prefix("Message-Id: ")))
                .expect("a Message-ID")
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            *counts.entry(id).or_insert(0) += 1;
        }
        counts
    }

    /// Stops the server (the Maildir stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn smtp_url(port: u16) -> String {
    format!("smtp://127.0.0.1:{port}")
}

fn sequence(message: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(&message[..message.len().min(64)]);
    text.strip_prefix("X-Sink-Seq: ")
        .and_then(|rest| rest.split("\r\n").next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(u64::MAX)
}
