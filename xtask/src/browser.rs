//! A throwaway `chromedriver` (with headless Chromium) for the browser tests
//! (`tests/tests/browser.rs`), which read `OAUTH_TEST_WEBDRIVER_URL` and fail
//! when it is unset.
//!
//! Started by [`crate::servers::start`] next to PostgreSQL and Redis (so by
//! `cargo xtask ci` and `cargo xtask with-servers`), which also installs the
//! Debian packages `chromium` and `chromium-driver` when they are missing.
//! `chromedriver` listens on 127.0.0.1 on a free port, in its own process
//! group, with a temporary directory as its working directory, `HOME` and
//! `TMPDIR`: the Chromium profiles it creates for each session land there
//! and go with it. Stopping kills the whole process group (chromedriver and
//! any browser left over) and removes the directory; the servers' watchdog
//! does the same if xtask dies first.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The variable the browser tests read: chromedriver's base URL.
pub const WEBDRIVER_URL_VAR: &str = "OAUTH_TEST_WEBDRIVER_URL";
/// The Chromium binary the tests ask chromedriver to run.
pub const CHROMIUM_VAR: &str = "OAUTH_TEST_CHROMIUM";

/// The Debian packages the browser tests need.
pub const PACKAGES: &[&str] = &["chromium", "chromium-driver"];

const START_ATTEMPTS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// `chromedriver`, then `chromium`, if both are installed.
pub fn find() -> Option<(PathBuf, PathBuf)> {
    let driver = crate::servers::find_on_path("chromedriver")
        .or_else(|| Some(PathBuf::from("/usr/bin/chromedriver")).filter(|p| p.is_file()))?;
    let chromium = ["chromium", "chromium-browser"]
        .iter()
        .find_map(|name| crate::servers::find_on_path(name))
        .or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|p| p.is_file()))?;
    Some((driver, chromium))
}

/// A running chromedriver.
pub struct Chromedriver {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    /// The Chromium binary.
    pub chromium: String,
    dir: PathBuf,
}

impl Chromedriver {
    /// Starts chromedriver in `dir` (created here), telling `watchdog` its
    /// process group.
    pub fn start(
        driver: &Path,
        chromium: &Path,
        dir: &Path,
        mut tell: impl FnMut(&str, &Path),
    ) -> Result<Chromedriver, String> {
        std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let log = dir.join("chromedriver.log");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = crate::servers::free_port()?;
            let log_file = std::fs::File::create(&log)
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let child = Command::new(driver)
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .arg("--allowed-origins=*")
                .current_dir(dir)
                .env("HOME", dir)
                .env("TMPDIR", dir)
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
                .stderr(log_file)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", driver.display()))?;
            tell("group", Path::new(&child.id().to_string()));
            let mut server = Chromedriver {
                child,
                url: format!("http://127.0.0.1:{port}"),
                chromium: chromium.display().to_string(),
                dir: dir.to_path_buf(),
            };
            let started = Instant::now();
            loop {
                if let Ok(Some(status)) = server.child.try_wait() {
                    let tail = std::fs::read_to_string(&log).unwrap_or_default();
                    last_error = format!("chromedriver exited with {status}: {}", tail.trim());
                    break;
                }
                if status_ready(port) {
                    return Ok(server);
                }
                if started.elapsed() > READY_TIMEOUT {
                    last_error = format!("chromedriver did not become ready on port {port}");
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            server.kill_group();
        }
        Err(format!(
            "chromedriver did not start after {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    /// Kills chromedriver's process group (it and any browser it started).
    fn kill_group(&mut self) {
        let group = format!("-{}", self.child.id());
        for signal in ["-TERM", "-KILL"] {
            let _ = Command::new("kill")
                .args([signal, "--", &group])
                .stderr(Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops chromedriver and whatever it started; the directory goes with
    /// the servers' root.
    pub fn stop(mut self) -> Result<(), String> {
        self.kill_group();
        let _ = &self.dir;
        Ok(())
    }
}

/// Whether `GET /status` answers `"ready": true`.
fn status_ready(port: u16) -> bool {
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /status HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200") && reply.replace(' ', "").contains("\"ready\":true")
}
