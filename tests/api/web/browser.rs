//! A headless Chromium for one test: its own chromedriver on a free port, its own profile
//! directory, driven over WebDriver (fantoccini, plain HTTP on loopback). Chromium and
//! chromedriver come from Debian (`apt-get install -y chromium chromium-driver`); a test
//! fails loudly when they are missing. Elements are found as a person finds them: by their
//! label, their accessible name or their text, never by a CSS class.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A browser session and the chromedriver behind it.
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// The application's base URL.
    pub base: String,
    _guard: Guard,
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

fn require(program: &str) -> String {
    for dir in ["/usr/bin", "/usr/local/bin", "/bin"] {
        let path = format!("{dir}/{program}");
        if std::path::Path::new(&path).exists() {
            return path;
        }
    }
    panic!(
        "{program} is required for the browser tests: apt-get install -y chromium chromium-driver"
    );
}

impl Browser {
    /// Starts chromedriver and a headless Chromium for the application at `base`, asking
    /// for English pages.
    pub async fn start(base: &str) -> Browser {
        Browser::start_in(base, "en-US").await
    }

    /// Starts a browser whose preferred language is `lang` (its `Accept-Language`).
    pub async fn start_in(base: &str, lang: &str) -> Browser {
        let chromium = require("chromium");
        let chromedriver = require("chromedriver");
        let port = free_port();
        // Its own process group, so that the browsers it starts end with it.
        let driver = Command::new(chromedriver)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = std::env::temp_dir().join(format!("att-chromium-{}", uuid::Uuid::new_v4()));
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".to_string(),
            json!({
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         format!("--user-data-dir={}", profile.display()), "--window-size=1280,900",
                         format!("--lang={lang}")],
                "prefs": {"intl.accept_languages": lang},
            }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session through chromedriver");
        Browser {
            client,
            base: base.to_string(),
            _guard: Guard(driver, profile),
        }
    }

    /// Ends the browser session (Chromium quits) and chromedriver.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }

    /// Opens a path of the application.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .expect("page opens");
    }

    /// The current path and query.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// The form control a person finds by its label (a `<label for>` or `aria-label`).
    pub async fn field(&self, label: &str) -> Element {
        let xpath = format!(
            "//*[@aria-label={q}] | //*[@id=//label[normalize-space()={q}]/@for]",
            q = literal(label)
        );
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no control labelled {label:?}: {e}"))
    }

    /// Types into the field labelled `label`.
    pub async fn fill(&self, label: &str, text: &str) {
        let field = self.field(label).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Presses the button named `name` and waits for the page it leads to.
    pub async fn press(&self, name: &str) {
        let xpath = format!("//button[normalize-space()={}]", literal(name));
        let button = self.client.find(Locator::XPath(&xpath)).await;
        self.click_to_next_page(button.unwrap_or_else(|e| panic!("no button {name:?}: {e}")))
            .await;
    }

    /// Presses the first button whose name starts with `start` (a row's button, named with
    /// its row) and waits for the page it leads to.
    pub async fn press_starting(&self, start: &str) {
        let xpath = format!(
            "//button[starts-with(normalize-space(), {})]",
            literal(start)
        );
        let button = self.client.find(Locator::XPath(&xpath)).await;
        self.click_to_next_page(button.unwrap_or_else(|e| panic!("no button {start:?}…: {e}")))
            .await;
    }

    /// Follows the link whose text is `name` and waits for the page it leads to.
    pub async fn follow(&self, name: &str) {
        let xpath = format!("//a[normalize-space()={}]", literal(name));
        let link = self.client.find(Locator::XPath(&xpath)).await;
        self.click_to_next_page(link.unwrap_or_else(|e| panic!("no link {name:?}: {e}")))
            .await;
    }

    /// Clicks, then waits until the document has been replaced by the next one (a click may
    /// return before the navigation it starts has landed).
    async fn click_to_next_page(&self, element: Element) {
        let old = self.client.find(Locator::Css("html")).await.unwrap();
        element.click().await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while old.tag_name().await.is_ok() {
            assert!(Instant::now() < deadline, "the click led to no new page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        while self
            .client
            .execute("return document.readyState", Vec::new())
            .await
            .ok()
            != Some(json!("complete"))
        {
            assert!(Instant::now() < deadline, "the next page did not load");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Signs in through the sign-in page.
    pub async fn sign_in(&self, username: &str, password: &str) {
        self.open("/sign-in").await;
        self.fill("Username", username).await;
        self.fill("Password", password).await;
        self.press("Sign in").await;
        assert!(
            !self.path().await.starts_with("/sign-in"),
            "signed in as {username}: {}",
            self.text().await
        );
    }

    /// Sends keys to whatever has the focus.
    pub async fn keys(&self, keys: &str) {
        self.client
            .active_element()
            .await
            .unwrap()
            .send_keys(keys)
            .await
            .unwrap();
    }

    /// Runs axe-core on the page; the WCAG 2.1 A and AA violations, one line each.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        self.client
            .execute(AXE, Vec::new())
            .await
            .expect("axe-core loads");
        let script = "const done = arguments[arguments.length - 1];
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
              .then(r => done(r.violations.map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
              .catch(e => done(['axe failed: ' + e]));";
        let found = self
            .client
            .execute_async(script, Vec::new())
            .await
            .expect("axe-core runs");
        match found {
            Value::Array(items) => items
                .into_iter()
                .map(|v| v.as_str().unwrap_or("?").to_string())
                .collect(),
            other => panic!("axe answered {other}"),
        }
    }

    /// Saves a screenshot of the page as `<name>.png` under the test run's directory.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

/// axe-core 4.14.1 from the npm registry (MPL-2.0; its licence is beside it).
const AXE: &str = include_str!("vendor/axe.min.js");

/// An XPath string literal for any text (quotes of both kinds included).
fn literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

/// Stops chromedriver's process group (the driver and the browser it started) and removes
/// the profile, also when a test panics.
struct Guard(Child, std::path::PathBuf);

impl Drop for Guard {
    fn drop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}
