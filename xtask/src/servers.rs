//! Throwaway PostgreSQL and Redis servers for the tests of the store crates
//! (`oauth-store-postgres`, `oauth-store-redis`), which read
//! `OAUTH_TEST_POSTGRES_URL` and `OAUTH_TEST_REDIS_URL` and fail when they
//! are unset, and a `chromedriver` for the browser tests
//! (`OAUTH_TEST_WEBDRIVER_URL`, see `browser.rs`).
//!
//! [`start`] finds the programs (PostgreSQL: the highest version under
//! `/usr/lib/postgresql/*/bin`, else `pg_ctl` on the PATH; Redis:
//! `redis-server` on the PATH; `chromedriver` and `chromium`), installs the
//! Debian packages `postgresql`, `redis-server`, `chromium` and
//! `chromium-driver` when they are missing and we are root with `apt-get`
//! (CI), and otherwise fails with what to install. It never uses the
//! cluster or the service a Debian package may set up: it starts its own
//! instances on 127.0.0.1, on free ports, in temporary directories:
//!
//! - PostgreSQL: `initdb` (trust authentication, superuser `postgres`;
//!   only the role `oauth_pw_test` must give a password, scram-sha-256),
//!   then `postgres` as our child process with `listen_addresses=127.0.0.1`,
//!   the socket in the temporary directory and `fsync=off`, ready when its
//!   `postmaster.pid` says so and the port accepts connections; stopped with
//!   `pg_ctl stop -m fast`. As the `postgres` user (through `runuser`) when
//!   we are root, since postgres refuses to run as root;
//! - Redis: `redis-server --port P --bind 127.0.0.1 --dir <tmp>
//!   --appendonly yes --appendfsync always --save ''` (the store's tests
//!   check that it detects durable configurations), ready when it answers
//!   `PING`.
//!
//! A port can be taken between our probe (binding port 0) and the server's
//! bind: a failed start is retried on another port.
//!
//! The returned [`Servers`] stops both servers and removes the directories
//! when dropped (so also when a step in between fails or panics). A watchdog
//! (a small `sh` child that ignores SIGINT/SIGTERM/SIGHUP and reads its
//! standard input from us) does the same if xtask dies without dropping it
//! (Ctrl-C, `kill`): our end of its pipe closes, it stops whatever we told
//! it we started and removes the directories.

/// The PostgreSQL role that must log in with a password (all others are
/// trusted): `oauth-store-postgres`'s tests check how a wrong one is reported.
pub const PASSWORD_ROLE: &str = "oauth_pw_test";

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::browser::{CHROMIUM_VAR, Chromedriver, WEBDRIVER_URL_VAR};
use crate::cmd::has_program;

/// The environment variables the store crates' tests read.
pub const POSTGRES_URL_VAR: &str = "OAUTH_TEST_POSTGRES_URL";
pub const REDIS_URL_VAR: &str = "OAUTH_TEST_REDIS_URL";

/// How many ports we try before giving up (a race with another process).
const START_ATTEMPTS: usize = 5;
/// How long a server may take to accept connections.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// The running servers; dropping stops them and removes their directories.
pub struct Servers {
    /// `postgres://postgres@127.0.0.1:PORT/postgres`
    pub postgres_url: String,
    /// `redis://127.0.0.1:PORT`
    pub redis_url: String,
    root: PathBuf,
    postgres: Option<Postgres>,
    redis: Option<Redis>,
    browser: Option<Chromedriver>,
    watchdog: Option<Watchdog>,
}

impl Servers {
    /// The variables, to set on a child process.
    pub fn env(&self) -> Vec<(&'static str, &str)> {
        let mut vars = vec![
            (POSTGRES_URL_VAR, self.postgres_url.as_str()),
            (REDIS_URL_VAR, self.redis_url.as_str()),
        ];
        if let Some(browser) = &self.browser {
            vars.push((WEBDRIVER_URL_VAR, browser.url.as_str()));
            vars.push((CHROMIUM_VAR, browser.chromium.as_str()));
        }
        vars
    }

    /// Stops both servers and removes the directories; what failed, if anything.
    pub fn stop(mut self) -> Result<(), String> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), String> {
        let mut problems = Vec::new();
        if let Some(browser) = self.browser.take()
            && let Err(e) = browser.stop()
        {
            problems.push(e);
        }
        if let Some(redis) = self.redis.take()
            && let Err(e) = redis.stop()
        {
            problems.push(e);
        }
        if let Some(postgres) = self.postgres.take()
            && let Err(e) = postgres.stop()
        {
            problems.push(e);
        }
        if self.root.exists()
            && let Err(e) = std::fs::remove_dir_all(&self.root)
        {
            problems.push(format!("cannot remove {}: {e}", self.root.display()));
        }
        if let Some(watchdog) = self.watchdog.take() {
            watchdog.dismiss();
        }
        if problems.is_empty() {
            println!("xtask: servers: stopped");
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        let running = self.postgres.is_some() || self.redis.is_some() || self.browser.is_some();
        if (running || self.watchdog.is_some())
            && let Err(e) = self.shutdown()
        {
            println!("xtask: servers: {e}");
        }
    }
}

/// Starts both servers (installing the programs first if needed and allowed).
pub fn start() -> Result<Servers, String> {
    let programs = find_or_install()?;
    let root = make_root()?;
    let mut servers = Servers {
        postgres_url: String::new(),
        redis_url: String::new(),
        root: root.clone(),
        postgres: None,
        redis: None,
        browser: None,
        watchdog: None,
    };
    // From here on, an early return drops `servers`, which cleans up.
    servers.watchdog = Some(Watchdog::spawn(&root)?);
    let run_as = if is_root() {
        Some(postgres_user()?)
    } else {
        None
    };
    let postgres = Postgres::start(
        &programs.postgres_bin,
        &root.join("pg"),
        run_as,
        servers.watchdog.as_mut(),
    )?;
    servers.postgres_url = format!("postgres://postgres@127.0.0.1:{}/postgres", postgres.port);
    servers.postgres = Some(postgres);
    let redis = Redis::start(
        &programs.redis_server,
        &root.join("redis"),
        servers.watchdog.as_mut(),
    )?;
    servers.redis_url = format!("redis://127.0.0.1:{}", redis.port);
    servers.redis = Some(redis);
    let watchdog = &mut servers.watchdog;
    let browser = Chromedriver::start(
        &programs.chromedriver,
        &programs.chromium,
        &root.join("browser"),
        |kind, arg| {
            if let Some(watchdog) = watchdog.as_mut() {
                watchdog.tell(kind, arg);
            }
        },
    )?;
    println!("xtask: servers: {WEBDRIVER_URL_VAR}={}", browser.url);
    servers.browser = Some(browser);
    println!(
        "xtask: servers: {POSTGRES_URL_VAR}={}",
        servers.postgres_url
    );
    println!("xtask: servers: {REDIS_URL_VAR}={}", servers.redis_url);
    Ok(servers)
}

/// `cargo xtask with-servers -- <command...>`: runs the command with the
/// two variables set, between starting and stopping the servers; its exit
/// code is ours.
pub fn with_servers(args: &[String]) -> Result<std::process::ExitCode, String> {
    let command = match args.split_first() {
        Some((dash, rest)) if dash == "--" => rest,
        _ => args,
    };
    let Some((program, program_args)) = command.split_first() else {
        return Err("usage: cargo xtask with-servers -- <command> [args...]".to_owned());
    };
    let servers = start()?;
    let mut child = Command::new(program);
    child.args(program_args).envs(servers.env());
    let status = child.status();
    servers.stop()?;
    let status = status.map_err(|e| format!("cannot start {program}: {e}"))?;
    let code = status.code().unwrap_or_else(|| {
        // Killed by a signal: the shell's convention, 128 + signal.
        std::os::unix::process::ExitStatusExt::signal(&status).map_or(1, |s| 128 + s)
    });
    println!("xtask: with-servers: {program} exited with {status}");
    Ok(std::process::ExitCode::from(
        u8::try_from(code & 0xff).unwrap_or(1),
    ))
}

// ---- finding and installing the programs ------------------------------------

struct Programs {
    /// The directory holding `initdb`, `pg_ctl` and `postgres`.
    postgres_bin: PathBuf,
    redis_server: PathBuf,
    chromedriver: PathBuf,
    chromium: PathBuf,
}

fn find_postgres() -> Option<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|p| dir.join(p).is_file())
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version: Vec<u32> = name
                .split('.')
                .map(str::parse)
                .collect::<Result<_, _>>()
                .ok()?;
            let bin = entry.path().join("bin");
            has_all(&bin).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    find_on_path("pg_ctl")
        .and_then(|pg_ctl| pg_ctl.parent().map(Path::to_path_buf))
        .filter(|dir| has_all(dir))
}

pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn find_or_install() -> Result<Programs, String> {
    let mut missing = Vec::new();
    if find_postgres().is_none() {
        missing.push("postgresql");
    }
    if find_on_path("redis-server").is_none() {
        missing.push("redis-server");
    }
    if crate::browser::find().is_none() {
        missing.extend(crate::browser::PACKAGES);
    }
    if !missing.is_empty() {
        let listed = missing.join(" ");
        if !is_root() || !has_program("apt-get") {
            return Err(format!(
                "the store tests need PostgreSQL (initdb, pg_ctl, postgres) and redis-server, \
                 the browser tests chromium and chromedriver; missing: {listed}. Install them \
                 (Debian: `sudo apt-get install postgresql redis-server chromium \
                 chromium-driver`; macOS: `brew install postgresql redis chromedriver` and \
                 Chromium) and run again"
            ));
        }
        println!("xtask: servers: installing {listed} with apt-get");
        let started = Instant::now();
        let apt = |args: &[&str]| {
            let mut c = Command::new("apt-get");
            c.args(["-o", "DPkg::Lock::Timeout=300"])
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive");
            crate::cmd::exec(c)
        };
        apt(&["update", "-q"])?;
        let mut install = vec!["install", "-y", "-q", "--no-install-recommends"];
        install.extend(&missing);
        apt(&install)?;
        println!(
            "xtask: servers: installed {listed} in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let postgres_bin = find_postgres()
        .ok_or("PostgreSQL's initdb/pg_ctl/postgres still not found after installing")?;
    let redis_server =
        find_on_path("redis-server").ok_or("redis-server still not found after installing")?;
    let (chromedriver, chromium) = crate::browser::find()
        .ok_or("chromedriver or chromium still not found after installing")?;
    Ok(Programs {
        postgres_bin,
        redis_server,
        chromedriver,
        chromium,
    })
}

/// Whether we run as root (effective uid 0).
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or_else(|| {
            Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        })
}

/// The unprivileged user postgres runs as when we are root.
fn postgres_user() -> Result<&'static str, String> {
    let exists = |user: &str| {
        Command::new("id")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ["postgres", "nobody"]
        .into_iter()
        .find(|u| exists(u))
        .ok_or_else(|| "running as root, and there is neither a `postgres` nor a `nobody` user to run PostgreSQL as".to_owned())
}

// ---- directories and ports ----------------------------------------------------

fn make_root() -> Result<PathBuf, String> {
    use std::os::unix::fs::DirBuilderExt as _;
    let base = std::env::temp_dir();
    for n in 0..100u32 {
        let dir = base.join(format!("xtask-servers-{}-{n}", std::process::id()));
        match std::fs::DirBuilder::new().mode(0o755).create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
    Err(format!("cannot create a directory in {}", base.display()))
}

/// A port that was free a moment ago.
pub(crate) fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

// ---- PostgreSQL ---------------------------------------------------------------

struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<&'static str>,
    port: u16,
    /// `postgres`, or `runuser` running it.
    child: Child,
}

/// `program args...`, as `user` when given (we are root then).
fn as_user(run_as: Option<&str>, program: &Path) -> Command {
    match run_as {
        Some(user) if has_program("runuser") || Path::new("/usr/sbin/runuser").is_file() => {
            let runuser = find_on_path("runuser").unwrap_or_else(|| "/usr/sbin/runuser".into());
            let mut c = Command::new(runuser);
            c.args(["-u", user, "--"]).arg(program);
            c
        }
        Some(user) => {
            // `su` takes one shell command: the arguments follow as $0, $1...
            let mut c = Command::new("su");
            c.args(["-s", "/bin/sh", user, "-c", "exec \"$0\" \"$@\""])
                .arg(program);
            c
        }
        None => Command::new(program),
    }
}

impl Postgres {
    fn start(
        bin: &Path,
        dir: &Path,
        run_as: Option<&'static str>,
        watchdog: Option<&mut Watchdog>,
    ) -> Result<Postgres, String> {
        std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if let Some(user) = run_as {
            let mut chown = Command::new("chown");
            chown.args([user, &dir.to_string_lossy()]);
            crate::cmd::output(chown)?;
        }
        let data = dir.join("data");
        let log = dir.join("postgres.log");
        let mut initdb = as_user(run_as, &bin.join("initdb"));
        initdb
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8"])
            .args(["--no-sync", "-D"])
            .arg(&data);
        crate::cmd::output(initdb).map_err(|e| format!("initdb failed: {e}"))?;
        // Everyone is trusted, except the role the store's tests use to see
        // how a refused password is reported: it must give one.
        let hba = data.join("pg_hba.conf");
        let trusted = std::fs::read_to_string(&hba)
            .map_err(|e| format!("cannot read {}: {e}", hba.display()))?;
        std::fs::write(
            &hba,
            format!("host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256\n{trusted}"),
        )
        .map_err(|e| format!("cannot write {}: {e}", hba.display()))?;
        if let Some(watchdog) = watchdog {
            watchdog.tell("postgres", &data);
        }
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            // `postgres` itself, as our child (not daemonized by `pg_ctl
            // start`): we reap it, and Ctrl-C reaches it too.
            let log_file = std::fs::File::create(&log)
                .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
            let mut command = as_user(run_as, &bin.join("postgres"));
            command
                .arg("-D")
                .arg(&data)
                .args(["-c", "listen_addresses=127.0.0.1", "-p", &port.to_string()])
                .arg("-k")
                .arg(dir)
                .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
                .args(["-c", "full_page_writes=off"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file);
            let child = command
                .spawn()
                .map_err(|e| format!("cannot start postgres: {e}"))?;
            let mut server = Postgres {
                bin: bin.to_path_buf(),
                data: data.clone(),
                run_as,
                port,
                child,
            };
            let mut exited = false;
            // Ready: postmaster.pid's status line says so (what `pg_ctl -w`
            // checks) and the port accepts connections.
            let ready = wait_until(READY_TIMEOUT, || {
                if let Ok(Some(_)) = server.child.try_wait() {
                    exited = true;
                    return true;
                }
                let status = std::fs::read_to_string(data.join("postmaster.pid"))
                    .ok()
                    .and_then(|pid| pid.lines().nth(7).map(|l| l.trim() == "ready"))
                    .unwrap_or(false);
                status && TcpStream::connect(loopback(port)).is_ok()
            });
            if ready.is_ok() && !exited {
                return Ok(server);
            }
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            last_error = if exited {
                format!("postgres exited: {}", last_lines(&tail, 5))
            } else {
                format!("postgres did not become ready on port {port}")
            };
            // Port taken (the race) or too slow: stop it, try another port.
            let _ = server.stop();
        }
        Err(format!(
            "PostgreSQL did not start after {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    fn stop(mut self) -> Result<(), String> {
        if let Ok(Some(_)) = self.child.try_wait() {
            return Ok(());
        }
        let mut pg_ctl = as_user(self.run_as, &self.bin.join("pg_ctl"));
        pg_ctl
            .args(["stop", "-m", "fast", "-w", "-t", "30", "-s", "-D"])
            .arg(&self.data);
        let stopped = crate::cmd::output(pg_ctl)
            .map(|_| ())
            .map_err(|e| format!("stopping PostgreSQL: {e}"));
        let exited = wait_until(Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if exited.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Err("PostgreSQL did not stop; killed".to_owned());
        }
        stopped
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .skip(lines.len().saturating_sub(n))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// Polls `ready` every 50 ms until it holds or `timeout` passes.
fn wait_until(timeout: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let started = Instant::now();
    loop {
        if ready() {
            return Ok(());
        }
        if started.elapsed() > timeout {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---- Redis --------------------------------------------------------------------

struct Redis {
    child: Child,
    port: u16,
}

/// Sends one inline command and returns the first reply line.
fn redis_command(port: u16, command: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&loopback(port), Duration::from_millis(500)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(format!("{command}\r\n").as_bytes()).ok()?;
    let mut reply = [0u8; 64];
    let n = stream.read(&mut reply).ok()?;
    Some(String::from_utf8_lossy(reply.get(..n)?).trim().to_owned())
}

impl Redis {
    fn start(
        program: &Path,
        dir: &Path,
        mut watchdog: Option<&mut Watchdog>,
    ) -> Result<Redis, String> {
        std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let log = dir.join("redis.log");
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port()?;
            let mut command = Command::new(program);
            command
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .arg("--dir")
                .arg(dir)
                .args(["--appendonly", "yes", "--appendfsync", "always"])
                .args(["--save", "", "--daemonize", "no"])
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            let child = command
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
            if let Some(watchdog) = watchdog.as_deref_mut() {
                watchdog.tell("redis", Path::new(&child.id().to_string()));
            }
            let mut redis = Redis { child, port };
            let mut exited = false;
            let ready = wait_until(READY_TIMEOUT, || {
                if let Ok(Some(_)) = redis.child.try_wait() {
                    exited = true;
                    return true;
                }
                redis_command(port, "PING").as_deref() == Some("+PONG")
            });
            if ready.is_ok() && !exited {
                return Ok(redis);
            }
            let tail = std::fs::read_to_string(&log).unwrap_or_default();
            last_error = if exited {
                format!("redis-server exited: {}", last_lines(&tail, 5))
            } else {
                format!("redis-server did not answer PING on port {port}")
            };
            let _ = redis.stop();
        }
        Err(format!(
            "Redis did not start after {START_ATTEMPTS} attempts: {last_error}"
        ))
    }

    fn stop(mut self) -> Result<(), String> {
        if let Ok(Some(_)) = self.child.try_wait() {
            return Ok(());
        }
        // SHUTDOWN NOSAVE closes the connection without a reply.
        let _ = redis_command(self.port, "SHUTDOWN NOSAVE");
        let stopped = wait_until(Duration::from_secs(10), || {
            matches!(self.child.try_wait(), Ok(Some(_)))
        });
        if stopped.is_err() {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return Err("redis-server ignored SHUTDOWN; killed".to_owned());
        }
        Ok(())
    }
}

// ---- the watchdog -------------------------------------------------------------

/// Stops the servers and removes the directory if xtask dies without
/// cleaning up. It reads `postgres <datadir>`, `redis <pid>` and `group
/// <pgid>` (chromedriver's process group) lines; on
/// end of input (our process is gone, or we dismissed it after cleaning up
/// ourselves: `done`) it acts on them.
const WATCHDOG: &str = r#"
trap '' INT TERM HUP PIPE
root=$1
pg_data= ; redis_pids= ; groups= ; done=
while IFS=' ' read -r kind arg; do
    case $kind in
        postgres) pg_data=$arg ;;
        redis) redis_pids="$redis_pids $arg" ;;
        group) groups="$groups $arg" ;;
        done) done=1 ;;
    esac
done
[ -n "$done" ] && exit 0
for pid in $groups; do kill -TERM "-$pid" 2>/dev/null; done
for pid in $redis_pids; do kill -TERM "$pid" 2>/dev/null; done
if [ -n "$pg_data" ] && [ -f "$pg_data/postmaster.pid" ]; then
    pid=$(head -n 1 "$pg_data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$pid" 2>/dev/null
fi
for pid in $redis_pids; do
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "$pid" 2>/dev/null
done
for pid in $groups; do
    i=0
    while kill -0 "-$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
    kill -KILL "-$pid" 2>/dev/null
done
rm -rf "$root"
echo "xtask: servers: the watchdog stopped the servers and removed $root" >&2
"#;

struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    fn spawn(root: &Path) -> Result<Watchdog, String> {
        let mut child = Command::new("sh")
            .args(["-c", WATCHDOG, "xtask-servers-watchdog"])
            .arg(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the watchdog shell: {e}"))?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    fn tell(&mut self, kind: &str, arg: &Path) {
        if let Some(stdin) = self.stdin.as_mut() {
            let _ = writeln!(stdin, "{kind} {}", arg.display());
        }
    }

    /// We cleaned up ourselves: the watchdog exits without acting.
    fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = writeln!(stdin, "done");
        }
        let _ = self.child.wait();
    }
}
