//! A real browser for the web suites: Debian's headless Chromium driven over WebDriver
//! (`chromedriver`, started here on a free port), through `fantoccini`.
//!
//! `scripts/test` installs `chromium` and `chromium-driver` when they are missing; without them
//! these tests fail with a message saying so — they never skip. Browser tests take a lock, so
//! only one browser runs at a time on a small machine.

use std::{
    net::TcpListener,
    os::unix::process::CommandExt as _,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator, elements::Element};
use serde_json::{Value, json};
use tokio::sync::{Mutex, MutexGuard};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const AXE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/axe/node_modules/axe-core/axe.min.js");
/// How long to wait for something to show up on a page.
const PATIENCE: Duration = Duration::from_secs(20);

static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// A headless Chromium with its own chromedriver and a fresh profile.
pub struct Browser {
    pub client: Client,
    base_url: String,
    driver: Child,
    profile: PathBuf,
    _turn: MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium with a desktop-sized window.
    ///
    /// # Panics
    /// When Chromium or chromedriver are missing or do not start.
    pub async fn start(base_url: &str) -> Self {
        let turn = ONE_AT_A_TIME.lock().await;
        // Several rustls crypto providers are compiled in; pick one (a second call is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        for program in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (scripts/test does it)"
            );
        }
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("free port").port();
        // Its own process group, so stopping it also stops the Chromium it started.
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on port {port} within {PATIENCE:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!("plenary-chromium-{}", uuid::Uuid::new_v4().simple()));
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--window-size=1280,1000", "--lang=en-GB",
                    format!("--user-data-dir={}", profile.display()),
                ],
            }),
        );
        let client = ClientBuilder::rustls()
            .expect("TLS roots for the WebDriver client")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("open a Chromium session through chromedriver");
        Self { client, base_url: base_url.to_owned(), driver, profile, _turn: turn }
    }

    /// Opens `path` of the service under test.
    ///
    /// # Panics
    /// When the browser cannot load it.
    pub async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base_url)).await.unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (and query) the browser is on.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    ///
    /// # Panics
    /// When it does not appear in time; the message shows the page's text.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            if Instant::now() > deadline {
                panic!("no element {css} on {}; the page reads:\n{}", self.path().await, self.page_text().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Every element matching `css` now.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        self.client.find_all(Locator::Css(css)).await.unwrap_or_default()
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits until the text of `css` contains `needle`, and returns it.
    ///
    /// # Panics
    /// When it does not in time.
    pub async fn wait_for_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
                && text.contains(needle)
            {
                return text;
            }
            if Instant::now() > deadline {
                panic!(
                    "{css} never read {needle:?} on {}; the page reads:\n{}",
                    self.path().await,
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the browser is on a path starting with `prefix`.
    ///
    /// # Panics
    /// When it does not get there in time.
    pub async fn wait_for_path(&self, prefix: &str) {
        let deadline = Instant::now() + PATIENCE;
        while !self.path().await.starts_with(prefix) {
            if Instant::now() > deadline {
                panic!("never reached {prefix}; on {} reading:\n{}", self.path().await, self.page_text().await);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` into the field `css`, replacing what was there.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field.send_keys(text).await.unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Sets a field's value the way a date picker does (for `datetime-local` inputs, whose
    /// typing order depends on the locale).
    pub async fn set_value(&self, css: &str, value: &str) {
        self.find(css).await;
        self.client
            .execute(
                "const f = document.querySelector(arguments[0]); f.value = arguments[1]; f.dispatchEvent(new Event('change', {bubbles: true}));",
                vec![Value::from(css), Value::from(value)],
            )
            .await
            .unwrap_or_else(|e| panic!("set {css}: {e}"));
    }

    /// Chooses the option with `value` in the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("choose {value} in {css}: {e}"));
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Logs in through the login form and waits to leave it.
    pub async fn log_in(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("main form button[type=submit]").await;
        let deadline = Instant::now() + PATIENCE;
        while self.path().await.starts_with("/login") {
            assert!(Instant::now() < deadline, "still on the login page:\n{}", self.page_text().await);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends the login form and stays on the login page (for refusals).
    pub async fn log_in_expecting_failure(&self, username: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.click("main form button[type=submit]").await;
        self.find("#login-error").await;
    }

    /// Saves a PNG of the window as `<name>.png` when `PLENARY_SCREENSHOTS` names a folder
    /// (`1` stands for `docs/screenshots/`), so ordinary runs leave the files alone.
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = screenshot_dir() else { return };
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write the screenshot");
    }

    /// Makes the window the size of a phone (390 × 844 CSS pixels).
    pub async fn phone(&self) {
        self.client.set_window_size(390, 844).await.expect("a phone-sized window");
    }

    /// Makes the window desktop-sized again.
    pub async fn desktop(&self) {
        self.client.set_window_size(1280, 1000).await.expect("a desktop-sized window");
    }

    /// Whether the first element matching `css` is shown.
    pub async fn shown(&self, css: &str) -> bool {
        self.find(css).await.is_displayed().await.unwrap_or(false)
    }

    /// Runs axe-core (`tests/axe`, installed by `scripts/lib/services.sh`) on the page and
    /// returns its serious and critical violations, each as one readable line per element.
    ///
    /// # Panics
    /// When axe-core is not installed or does not run.
    pub async fn serious_accessibility_violations(&self) -> Vec<String> {
        let axe = std::fs::read_to_string(AXE).unwrap_or_else(|e| {
            panic!("{AXE}: {e}; install axe-core with `source scripts/lib/services.sh; ensure_axe`")
        });
        // Run through WebDriver, which the page's Content-Security-Policy does not govern.
        self.client.execute(&axe, vec![]).await.expect("load axe-core");
        let found = self
            .client
            .execute_async(
                r"const done = arguments[arguments.length - 1];
                  axe.run(document, { resultTypes: ['violations'] })
                    .then(result => done(result.violations
                      .filter(v => v.impact === 'serious' || v.impact === 'critical')
                      .flatMap(v => v.nodes.map(n => `${v.impact}: ${v.id} (${v.help}) at ${n.target.join(' ')}: ${n.failureSummary}`))))
                    .catch(error => done([`axe failed: ${error}`]));",
                vec![],
            )
            .await
            .expect("run axe-core");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// Closes the browser and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        let _ = Command::new("kill").arg("--").arg(format!("-{}", self.driver.id())).status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Where screenshots go, if anywhere: the folder `PLENARY_SCREENSHOTS` names.
fn screenshot_dir() -> Option<PathBuf> {
    match std::env::var("PLENARY_SCREENSHOTS").ok().filter(|value| !value.is_empty())?.as_str() {
        "1" => Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots")),
        dir => Some(PathBuf::from(dir)),
    }
}

impl Drop for Browser {
    /// A failed test never reached `close`: chromedriver (and with it Chromium) still goes.
    fn drop(&mut self) {
        self.stop_driver();
    }
}
