//! A private PostgreSQL cluster for a test that must stop and start its database (never the
//! shared server the other suites use): `initdb` into a temporary directory, then `pg_ctl` on a
//! free loopback port, with trust authentication for the user `postgres`. The binaries come from
//! `/usr/lib/postgresql/<newest>/bin` (Debian's `postgresql` package, which
//! `scripts/lib/services.sh` installs). PostgreSQL refuses to run as root, so as root every
//! command runs as the `postgres` user (`runuser`). Stopped and removed when dropped.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use crate::smtp::free_port;

/// Whether this is the suite's PostgreSQL run (`PLENARY_TEST_DATABASE_URL` names a server). A
/// test that brings its own cluster needs no shared server, but running it once is enough: it
/// runs in the PostgreSQL run and says so in the SQLite run.
pub fn in_postgres_run() -> bool {
    std::env::var("PLENARY_TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty())
}

/// A running private cluster.
pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Holds the data directory, the socket and the log.
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// Creates and starts a cluster.
    ///
    /// # Panics
    /// When the PostgreSQL binaries are missing or the cluster does not start.
    pub fn start() -> Self {
        let bin = binaries();
        let dir = tempfile::tempdir().expect("a temporary directory for the cluster");
        if running_as_root() {
            run(Command::new("chown").arg("postgres:").arg(dir.path()));
        }
        let data = dir.path().join("data");
        let cluster = Self { bin, data, port: free_port(), dir };
        run(cluster
            .postgres_command("initdb")
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8", "--no-sync", "-D"])
            .arg(&cluster.data));
        cluster.start_again();
        cluster
    }

    /// The URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops it as an operator's restart does (`pg_ctl stop -m fast`: open connections are ended
    /// with "terminating connection due to administrator command").
    pub fn stop(&self) {
        self.pg_ctl(&["stop", "-m", "fast"]);
    }

    /// Starts it (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("postgres.log");
        self.pg_ctl(&["start", "-l", &log.display().to_string(), "-o", &options]);
    }

    fn pg_ctl(&self, args: &[&str]) {
        run(self.postgres_command("pg_ctl").arg("-D").arg(&self.data).args(["-w", "-t", "60"]).args(args));
    }

    /// `program` from the PostgreSQL binaries, as the `postgres` user when running as root.
    fn postgres_command(&self, program: &str) -> Command {
        let program = self.bin.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.postgres_command("pg_ctl").arg("-D").arg(&self.data).args(["stop", "-m", "immediate"]).output();
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb`.
fn binaries() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .unwrap_or_else(|error| {
            panic!("no PostgreSQL server binaries in {} ({error}); install `postgresql`", root.display())
        })
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .unwrap_or_else(|| panic!("no initdb under {}; install `postgresql`", root.display()))
}

/// `/proc/self` belongs to the process's effective user.
fn running_as_root() -> bool {
    std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("/proc/self")) == 0
}

/// Runs `command` to the end, panicking with its output when it fails.
fn run(command: &mut Command) {
    let output = command.output().unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
