//! Runs the real `alfabot` binary (the one `cargo test` built) with a given
//! environment, on a random HTTP port, logging to a file the test can read.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

pub struct AppProcess {
    child: Child,
    pub http: String,
    pub log: PathBuf,
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
        let port = free_port();
        let log = dir.join(format!("alfabot-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_alfabot"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info")
            .env("ALFABOT_HTTP_ADDR", format!("127.0.0.1:{port}"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file)
            .kill_on_drop(true);
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start alfabot");
        let mut app = Self {
            child,
            http: format!("http://127.0.0.1:{port}"),
            log,
        };
        app.wait_http().await;
        app
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
