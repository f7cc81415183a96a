//! Debian's nginx in front of `plenary serve` replicas, running the deployment's own
//! configuration (`deploy/nginx.conf`), so the configuration the README documents is the one the
//! cluster suite proves.
//!
//! nginx runs as a child process (`nginx -p DIR -c DIR/nginx.conf -g 'daemon off;'`) with its
//! pid file, logs and temporary files in a directory of its own, on a free loopback port; the
//! system's nginx service is never touched. `scripts/test` installs nginx (`ensure_nginx`).
//! From `deploy/nginx.conf` it drops the lines marked `# tls` (the test speaks plain HTTP on
//! loopback), writes the logs and the feed cache under its directory, and writes its own
//! `plenary-replicas.conf`.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command},
    time::{Duration, Instant},
};

use nix::{sys::signal, unistd::Pid};

use crate::smtp::free_port;

/// How long a reload may take: the old workers finish their requests first (hang protection).
const RELOAD_PATIENCE: Duration = Duration::from_secs(120);

/// A running nginx balancing over replicas on loopback ports. Stopped when dropped.
pub struct Nginx {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
    /// Each replica's port, and whether it is marked `down`.
    replicas: Vec<(u16, bool)>,
}

impl Nginx {
    /// Starts nginx in front of the replicas on `ports` and waits until it answers.
    ///
    /// # Panics
    /// When nginx is missing or refuses the configuration.
    pub fn start(ports: &[u16]) -> Self {
        let dir = tempfile::tempdir().expect("a directory for nginx");
        // The worker processes drop root's rights: let them reach their temporary directories.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("open nginx's directory");
        let port = free_port();
        let site = site_config(
            &std::fs::read_to_string(deploy_dir().join("nginx.conf")).expect("deploy/nginx.conf"),
            dir.path(),
            port,
        );
        std::fs::write(dir.path().join("plenary.conf"), site).unwrap();
        std::fs::write(dir.path().join("nginx.conf"), main_config(dir.path())).unwrap();
        let replicas: Vec<(u16, bool)> = ports.iter().map(|&port| (port, false)).collect();
        // Before nginx starts: its configuration includes the file.
        write_replicas(dir.path(), &replicas);
        let mut nginx = Self { port, child: spawn(dir.path()), dir, replicas };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = nginx.child.try_wait().unwrap() {
                panic!("nginx exited ({status}): {}", nginx.error_log());
            }
            assert!(Instant::now() < deadline, "nginx does not listen: {}", nginx.error_log());
            std::thread::sleep(Duration::from_millis(20));
        }
        nginx
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Marks the replica on `port` `down` (or back up) and reloads, as an operator does with
    /// `nginx -s reload`; returns once every worker of the old configuration has finished its
    /// requests and exited, so nothing sends the replica a request any more.
    ///
    /// # Panics
    /// When the reload does not complete.
    pub fn set_down(&mut self, port: u16, down: bool) {
        for replica in &mut self.replicas {
            if replica.0 == port {
                replica.1 = down;
            }
        }
        write_replicas(self.dir.path(), &self.replicas);
        let old_workers = children(self.child.id());
        signal::kill(self.pid(), signal::Signal::SIGHUP).expect("reload nginx");
        let deadline = Instant::now() + RELOAD_PATIENCE;
        loop {
            let workers = children(self.child.id());
            if !workers.is_empty() && workers.iter().all(|worker| !old_workers.contains(worker)) {
                return;
            }
            assert!(Instant::now() < deadline, "nginx did not reload: {}", self.error_log());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The access log so far (the deployment's `plenary` format).
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("logs/plenary.access.log")).unwrap_or_default()
    }

    /// The error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("logs/error.log")).unwrap_or_default()
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGQUIT: a graceful stop, so no worker is left behind.
        let _ = signal::kill(self.pid(), signal::Signal::SIGQUIT);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nginx's `plenary-replicas.conf` in `dir`: one `server` line per replica, `down` where marked.
fn write_replicas(dir: &Path, replicas: &[(u16, bool)]) {
    let lines: String = replicas
        .iter()
        .map(|(port, down)| format!("server 127.0.0.1:{port}{};\n", if *down { " down" } else { "" }))
        .collect();
    std::fs::write(dir.join("plenary-replicas.conf"), lines).unwrap();
}

/// `deploy/` at the root of the repository.
pub fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy")
}

/// `deploy/nginx.conf` as the test runs it: without TLS, listening on loopback `port`, logging
/// under `dir`.
fn site_config(deployed: &str, dir: &Path, port: u16) -> String {
    let mut site = String::new();
    let mut listening = false;
    for line in deployed.lines() {
        if line.trim_end().ends_with("# tls") {
            continue;
        }
        let line = line.replace("/var/log/nginx/", &format!("{}/logs/", dir.display()));
        site.push_str(&line.replace("/var/lib/nginx/", &format!("{}/", dir.display())));
        site.push('\n');
        if line.trim() == "server {" && !listening {
            site.push_str(&format!("    listen 127.0.0.1:{port};\n"));
            listening = true;
        }
    }
    assert!(listening, "deploy/nginx.conf has no `server {{` block");
    site
}

/// The main configuration around the site, as Debian's /etc/nginx/nginx.conf includes it, with
/// every path inside `dir`.
fn main_config(dir: &Path) -> String {
    let dir = dir.display();
    format!(
        "worker_processes 2;\n\
         pid {dir}/nginx.pid;\n\
         error_log {dir}/logs/error.log warn;\n\
         events {{ worker_connections 4096; }}\n\
         http {{\n\
         \x20 include /etc/nginx/mime.types;\n\
         \x20 access_log off;\n\
         \x20 client_body_temp_path {dir}/client_body;\n\
         \x20 proxy_temp_path {dir}/proxy;\n\
         \x20 fastcgi_temp_path {dir}/fastcgi;\n\
         \x20 uwsgi_temp_path {dir}/uwsgi;\n\
         \x20 scgi_temp_path {dir}/scgi;\n\
         \x20 include {dir}/plenary.conf;\n\
         }}\n"
    )
}

fn spawn(dir: &Path) -> Child {
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let nginx = ["/usr/sbin/nginx", "nginx"]
        .into_iter()
        .find(|candidate| Command::new(candidate).arg("-v").output().is_ok())
        .expect("nginx is not installed (scripts/test installs it: ensure_nginx in scripts/lib/services.sh)");
    Command::new(nginx)
        .arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("logs/error.log"))
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .args(["-g", "daemon off;"])
        .spawn()
        .expect("nginx starts")
}

/// The processes whose parent is `pid` (nginx's workers), from /proc.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat")).ok().is_some_and(|stat| {
                // `pid (comm) state ppid …`: the command may hold spaces, so read after the `)`.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|ppid| ppid.parse::<u32>().ok())
                    == Some(pid)
            })
        })
        .collect()
}
