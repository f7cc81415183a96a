//! The real `plenary` executable, for the suites that test the binary itself: the command line
//! and `plenary serve` as an operator starts it.
//!
//! `CARGO_BIN_EXE_plenary` exists only for the tests of the crate that owns the binary, so this
//! crate finds it beside its own test executable (`target/<profile>/deps/…` →
//! `target/<profile>/plenary`) and first asks cargo to build it, once per test process: the
//! binary is then never missing (an empty target dir) nor stale (`api/src` changed since it was
//! last built), whatever cargo command started the tests.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};

use crate::{TestDatabase, smtp::free_port};

/// How long `plenary serve` may take to start (migrations and planning on a loaded machine).
const START_PATIENCE: Duration = Duration::from_secs(60);

/// The path of the `plenary` executable, built by cargo the first time it is asked for.
///
/// # Panics
/// When cargo cannot build it.
pub fn path() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build)
}

fn build() -> PathBuf {
    let test_executable = std::env::current_exe().expect("the test executable's path");
    // target/<profile>/deps/<test> → target/<profile>
    let profile_dir = test_executable
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in target/<profile>/deps", test_executable.display()));
    let target_dir = profile_dir.parent().expect("a target directory above the profile's");
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "--quiet", "-p", "plenary", "--bin", "plenary", "--target-dir"])
        .arg(target_dir);
    match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") => {}
        Some("release") => {
            cargo.arg("--release");
        }
        Some(profile) => {
            cargo.args(["--profile", profile]);
        }
        None => panic!("no profile directory in {}", test_executable.display()),
    }
    let built = cargo.output().expect("cargo runs");
    assert!(built.status.success(), "cargo could not build plenary:\n{}", String::from_utf8_lossy(&built.stderr));
    let binary = profile_dir.join(format!("plenary{}", std::env::consts::EXE_SUFFIX));
    assert!(binary.is_file(), "cargo built plenary, but not at {}", binary.display());
    binary
}

/// `plenary` on `database`, logging only warnings, with none of the environment's other
/// `PLENARY_*` settings that would change what a test sees.
pub fn command(database: &TestDatabase) -> Command {
    command_on(database.url())
}

/// [`command`] on the database at `url` (one the test manages itself).
pub fn command_on(url: &str) -> Command {
    let mut command = Command::new(path());
    command
        .env_remove("PLENARY_ADMIN_PASSWORD")
        .env_remove("PLENARY_SMTP_URL")
        .env_remove("PLENARY_ADDR")
        .env("PLENARY_DATABASE_URL", url)
        .env("PLENARY_LOG", "warn");
    command
}

/// Runs `plenary ARGS` on `database` to the end.
///
/// # Panics
/// When the binary cannot be started.
pub fn run(database: &TestDatabase, args: &[&str]) -> Output {
    command(database).args(args).output().expect("plenary runs")
}

/// Its standard output, once it succeeded.
///
/// # Panics
/// When it failed (showing its standard error) or wrote something other than UTF-8.
pub fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "plenary failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).expect("UTF-8 on stdout")
}

/// A running `plenary serve` on a free loopback port, and what it printed on stdout and stderr
/// (its log; also passed on to the test's own stderr). Killed when dropped.
pub struct Server {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    port: u16,
}

impl Server {
    /// Starts `plenary serve` on `database` and waits until it is ready.
    ///
    /// # Panics
    /// When it does not become ready.
    pub fn start(database: &TestDatabase) -> Self {
        Self::start_with(database, |_| {})
    }

    /// Like [`Server::start`], with a chance to add to the command (environment variables).
    ///
    /// # Panics
    /// When it does not become ready.
    pub fn start_with(database: &TestDatabase, configure: impl FnOnce(&mut Command)) -> Self {
        Self::start_on(database.url(), free_port(), configure)
    }

    /// Like [`Server::start_with`], on the database at `url` (one the test manages itself) and a
    /// given loopback port (a replica restarted where the load balancer expects it).
    ///
    /// # Panics
    /// When it does not become ready.
    pub fn start_on(url: &str, port: u16, configure: impl FnOnce(&mut Command)) -> Self {
        let mut command = command_on(url);
        command.args(["serve", "--addr", &format!("127.0.0.1:{port}")]).stdout(Stdio::piped()).stderr(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().expect("plenary starts");
        let stdout = collect(child.stdout.take().expect("plenary's stdout"), false);
        let stderr = collect(child.stderr.take().expect("plenary's stderr"), true);
        let mut server = Self { child, stdout, stderr, port };
        let deadline = Instant::now() + START_PATIENCE;
        while !(server.status("/healthz") == Some(200) && server.printed().contains("Plenary is ready")) {
            assert!(server.has_exited().is_none(), "plenary exited at start; it printed: {}", server.printed());
            assert!(Instant::now() < deadline, "plenary did not become ready; it printed: {}", server.printed());
            std::thread::sleep(Duration::from_millis(10));
        }
        server
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its process id (the mail worker's claims carry it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything it printed on stdout so far.
    pub fn printed(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Everything it wrote on stderr (its log) so far.
    pub fn logged(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Sends `signal` (SIGTERM, SIGINT) without waiting.
    pub fn send(&self, signal: signal::Signal) {
        self.signal(signal);
    }

    /// Waits for it to exit, at most `patience` (a guard against hanging, not a measurement).
    ///
    /// # Panics
    /// When it is still running after `patience`.
    pub fn wait_for_exit(&mut self, patience: Duration) -> ExitStatus {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.has_exited() {
                return status;
            }
            assert!(Instant::now() < deadline, "plenary did not exit; it logged: {}", self.logged());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The status of `GET path`, or `None` when nothing answers. A bare HTTP/1.0 request, so it
    /// works from sync and async tests alike.
    pub fn status(&self, path: &str) -> Option<u16> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut head = [0; 12];
        stream.read_exact(&mut head).ok()?;
        std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
    }

    /// `GET path` and its JSON body (from a sync test: reqwest's blocking client).
    ///
    /// # Panics
    /// When it does not answer JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        reqwest::blocking::get(format!("{}{path}", self.base_url())).unwrap().json().unwrap()
    }

    /// Its exit status, if it has exited.
    pub fn has_exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("plenary's status")
    }

    /// Kills it with SIGKILL, as a crash would, and waits for it.
    pub fn kill(mut self) {
        self.signal(signal::Signal::SIGKILL);
        self.child.wait().expect("plenary's status");
    }

    /// Sends SIGTERM and waits for it to stop.
    ///
    /// # Panics
    /// When it has not stopped within 30 seconds.
    pub fn terminate(mut self) -> ExitStatus {
        self.signal(signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.has_exited() {
                return status;
            }
            assert!(Instant::now() < deadline, "plenary ignored SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, signal: signal::Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        signal::kill(pid, signal).expect("signal plenary");
    }
}

/// Collects what `stream` says, line by line, from a thread of its own; with `echo`, also
/// passes each line on to the test's stderr (shown when the test fails).
fn collect(stream: impl std::io::Read + Send + 'static, echo: bool) -> Arc<Mutex<String>> {
    let collected = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&collected);
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if echo {
                eprintln!("{line}");
            }
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    collected
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
