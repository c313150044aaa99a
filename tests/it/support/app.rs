//! Runs the real `alfabot` binary (the one `cargo test` built) with a given
//! environment, on a random HTTP port, logging to a file the test can read.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};

pub struct AppProcess {
    child: Child,
    pub http: String,
    pub log: PathBuf,
}

/// The console of an app started with [`AppProcess::start_console`]: what
/// it printed so far, and its input.
pub struct ConsoleIo {
    stdin: ChildStdin,
    lines: Arc<Mutex<Vec<String>>>,
}

impl ConsoleIo {
    /// Types a line.
    pub async fn type_line(&mut self, line: &str) {
        self.stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("console input");
        self.stdin.flush().await.expect("console input");
    }

    /// Every line printed so far.
    pub fn printed(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a printed line after the first `from` satisfies `check`;
    /// returns its index.
    pub async fn wait_for(
        &self,
        what: &str,
        from: usize,
        timeout: Duration,
        check: impl Fn(&str) -> bool,
    ) -> usize {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self
                .printed()
                .iter()
                .enumerate()
                .skip(from)
                .find_map(|(i, l)| check(l).then_some(i))
            {
                return i;
            }
            assert!(
                Instant::now() < deadline,
                "the console printed no {what} within {timeout:?}:\n{}",
                self.printed().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl AppProcess {
    /// Starts the binary in `dir` with only the given variables (plus PATH)
    /// and waits until its HTTP endpoint answers.
    pub async fn start(dir: &Path, vars: &[(&str, String)]) -> Self {
        Self::spawn(dir, vars, false).await.0
    }

    /// Starts the binary as [`AppProcess::start`] does, with its console
    /// on a pipe.
    pub async fn start_console(dir: &Path, vars: &[(&str, String)]) -> (Self, ConsoleIo) {
        let (app, io) = Self::spawn(dir, vars, true).await;
        (app, io.expect("console pipes"))
    }

    async fn spawn(
        dir: &Path,
        vars: &[(&str, String)],
        console: bool,
    ) -> (Self, Option<ConsoleIo>) {
        let port = free_port();
        let log = dir.join(format!("alfabot-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_alfabot"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("ALFABOT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .current_dir(dir)
            .stdin(if console {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(if console {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(log_file)
            .kill_on_drop(true);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start alfabot");
        let io = console.then(|| {
            let stdin = child.stdin.take().expect("stdin");
            let stdout = child.stdout.take().expect("stdout");
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&lines);
            tokio::spawn(async move {
                let mut reader = BufReader::new(stdout).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    sink.lock().unwrap().push(line);
                }
            });
            ConsoleIo { stdin, lines }
        });
        let mut app = Self {
            child,
            http: format!("http://127.0.0.1:{port}"),
            log,
        };
        app.wait_http().await;
        (app, io)
    }

    async fn wait_http(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = reqwest::Client::new();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("alfabot exited with {status}; log:\n{}", self.log_text());
            }
            if client
                .get(format!("{}/healthz", self.http))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "alfabot did not serve HTTP within 30 s; log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
