//! Running the version control command lines (git, and hg through the same runner): never
//! interactive, bounded in time and, together, in number, and killed (with everything they
//! started) when they overrun or their caller goes away.
//!
//! The user's configuration applies as it does for the go command: for git
//! `url.<base>.insteadOf`, credential helpers, `.netrc` (through libcurl); for hg its `[auth]`
//! sections; OpenSSH's configuration for both. All come from the process environment (`HOME`,
//! `GIT_CONFIG_GLOBAL`, `HGRCPATH`, `SSH_AUTH_SOCK`, ...).

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::sync::Semaphore;

use crate::telemetry::metrics::METRICS;

/// Most bytes of stderr kept for an error message.
const MAX_STDERR: usize = 4096;
/// Most bytes of stdout [`Git::run`] keeps: ref listings of the largest repositories fit.
pub const MAX_OUTPUT: usize = 64 << 20;

/// `args` is the command line as shown: the tool's name, then its arguments.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GitError {
    #[error("{args} timed out after {secs}s")]
    Timeout { args: String, secs: u64 },
    #[error("{args} failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: String,
        stderr: String,
    },
    #[error("running {args}: {reason}")]
    Spawn { args: String, reason: String },
    /// Its output passed the limit the caller set; it was stopped there.
    #[error("{args} wrote more than {limit} bytes")]
    TooLarge { args: String, limit: u64 },
}

/// Which command line a runner runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Git,
    Hg,
    Svn,
    Fossil,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Git => "git",
            Tool::Hg => "hg",
            Tool::Svn => "svn",
            Tool::Fossil => "fossil",
        }
    }
}

/// Where a git command's standard output goes, and how much of it is accepted: past the limit
/// git is stopped and the run fails with [`GitError::TooLarge`].
#[derive(Debug, Clone, Copy)]
pub enum Sink<'a> {
    Memory(usize),
    File(&'a Path, u64),
}

/// How git is run.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// The git program (`git` by default, found on `PATH`).
    pub program: PathBuf,
    /// Longest run of one git command.
    pub timeout: Duration,
    /// Git processes running at once.
    pub max_processes: usize,
    /// `GIT_CONFIG_GLOBAL` for git, instead of the one inherited from the environment.
    pub global_config: Option<PathBuf>,
}

#[derive(Clone)]
pub struct Git {
    options: Arc<GitOptions>,
    /// Shared by every tool: `direct.max_git_processes` bounds them together.
    permits: Arc<Semaphore>,
    tool: Tool,
    program: PathBuf,
}

/// What a finished git command produced.
pub struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Git {
    pub fn new(options: GitOptions) -> Self {
        let permits = Arc::new(Semaphore::new(options.max_processes.max(1)));
        let program = options.program.clone();
        Self {
            options: Arc::new(options),
            permits,
            tool: Tool::Git,
            program,
        }
    }

    /// A runner for another tool (`program`), with the same timeout and sharing the same
    /// process limit.
    pub fn other(&self, tool: Tool, program: PathBuf) -> Self {
        Self {
            options: self.options.clone(),
            permits: self.permits.clone(),
            tool,
            program,
        }
    }

    pub fn tool(&self) -> Tool {
        self.tool
    }

    pub fn timeout(&self) -> Duration {
        self.options.timeout
    }

    fn command(&self, dir: &Path, args: &[&str]) -> Command {
        match self.tool {
            Tool::Git => self.git_command(dir, args),
            Tool::Hg => self.hg_command(dir, args),
            Tool::Svn => self.svn_command(dir, args),
            Tool::Fossil => self.fossil_command(dir, args),
        }
    }

    fn fossil_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(dir)
            .args(args)
            // Its settings database beside the clone, not in a home directory the server may
            // not have; and the user name a clone needs.
            .env("FOSSIL_HOME", dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if std::env::var_os("FOSSIL_USER").is_none() {
            cmd.env("FOSSIL_USER", "agora");
        }
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }

    fn svn_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(dir)
            // Never ask anyone for anything; credentials come from svn's own configuration.
            .arg("--non-interactive")
            .args(args)
            .env("LC_ALL", "C")
            .env_remove("SSH_ASKPASS")
            .env("SSH_ASKPASS_REQUIRE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if std::env::var_os("SVN_SSH").is_none() {
            cmd.env("SVN_SSH", "ssh -o ControlMaster=no -o BatchMode=yes");
        }
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }

    fn hg_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(dir)
            // Never ask anyone for anything; plain, stable output whatever the user's aliases
            // and defaults say (HGPLAIN keeps [auth] and the other settings that matter here).
            .args(["--noninteractive", "--config", "ui.interactive=false"])
            .env("HGPLAIN", "1")
            .env("HGENCODING", "utf-8")
            .env("LC_ALL", "C")
            .env_remove("SSH_ASKPASS")
            .env("SSH_ASKPASS_REQUIRE", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if std::env::var_os("HG_SSH").is_none() {
            cmd.args([
                "--config",
                "ui.ssh=ssh -o ControlMaster=no -o BatchMode=yes",
            ]);
        }
        cmd.args(args);
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }

    fn git_command(&self, dir: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.current_dir(dir)
            // Never ask anyone for anything: fail instead.
            .args(["-c", "credential.interactive=false", "-c", "core.askPass="])
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GCM_INTERACTIVE", "never")
            .env("SSH_ASKPASS_REQUIRE", "never")
            .env_remove("GIT_ASKPASS")
            .env_remove("SSH_ASKPASS")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if std::env::var_os("GIT_SSH").is_none() && std::env::var_os("GIT_SSH_COMMAND").is_none() {
            // As the go command does: no password prompts, no shared master connections.
            cmd.env(
                "GIT_SSH_COMMAND",
                "ssh -o ControlMaster=no -o BatchMode=yes",
            );
        }
        if let Some(config) = &self.options.global_config {
            cmd.env("GIT_CONFIG_GLOBAL", config);
        }
        // Its own process group, so a timeout kills helpers (remote-https, ssh) too.
        #[cfg(unix)]
        cmd.process_group(0);
        cmd
    }

    /// Runs git in `dir` keeping at most [`MAX_OUTPUT`] bytes of output; a non-zero exit is an
    /// error carrying stderr.
    pub async fn run(&self, dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let out = self
            .output(dir, args, None, Sink::Memory(MAX_OUTPUT))
            .await?;
        if !out.status.success() {
            return Err(failed(self.tool, args, &out));
        }
        Ok(out.stdout)
    }

    /// Runs git, whatever its exit status.
    pub async fn output(
        &self,
        dir: &Path,
        args: &[&str],
        stdin: Option<Vec<u8>>,
        sink: Sink<'_>,
    ) -> Result<Output, GitError> {
        let shown = format!("{} {}", self.tool.name(), args.join(" "));
        let _permit = self.permits.acquire().await.map_err(|_| GitError::Spawn {
            args: shown.clone(),
            reason: "shutting down".into(),
        })?;
        let mut cmd = self.command(dir, args);
        if stdin.is_some() {
            cmd.stdin(Stdio::piped());
        }
        let file = match sink {
            Sink::File(path, _) => {
                Some(
                    tokio::fs::File::create(path)
                        .await
                        .map_err(|e| GitError::Spawn {
                            args: shown.clone(),
                            reason: format!("{}: {e}", path.display()),
                        })?,
                )
            }
            Sink::Memory(_) => None,
        };
        let mut child = cmd.spawn().map_err(|e| GitError::Spawn {
            args: shown.clone(),
            reason: e.to_string(),
        })?;
        let mut guard = KillGuard(child.id());
        let _running = Running::start();
        let input = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async {
            let feed = async {
                if let (Some(mut w), Some(data)) = (input, stdin) {
                    // A git that exits early closes its stdin; that is not our error.
                    let _ = w.write_all(&data).await;
                    let _ = w.shutdown().await;
                }
            };
            let read = async {
                match (sink, file) {
                    (Sink::File(_, limit), Some(file)) => copy_limited(stdout, file, limit).await,
                    (Sink::Memory(limit), _) => read_limited(stdout, limit).await,
                    (Sink::File(..), None) => Read::Failed("no output file".into()),
                }
            };
            let (_, out, err, status) =
                tokio::join!(feed, read, read_all(stderr, MAX_STDERR), child.wait());
            (out, err, status)
        };
        let result = tokio::time::timeout(self.options.timeout, work).await;
        match result {
            Ok((out, err, status)) => {
                guard.0 = None;
                let status = status.map_err(|e| GitError::Spawn {
                    args: shown.clone(),
                    reason: e.to_string(),
                })?;
                let stdout = match out {
                    Read::Complete(data) => data,
                    Read::Over => {
                        let limit = match sink {
                            Sink::Memory(n) => n as u64,
                            Sink::File(_, n) => n,
                        };
                        return Err(GitError::TooLarge { args: shown, limit });
                    }
                    Read::Failed(reason) => {
                        return Err(GitError::Spawn {
                            args: shown,
                            reason,
                        });
                    }
                };
                Ok(Output {
                    status,
                    stdout,
                    stderr: String::from_utf8_lossy(&err).trim().to_string(),
                })
            }
            Err(_) => {
                kill_and_reap(&mut child, &mut guard).await;
                Err(GitError::Timeout {
                    args: shown,
                    secs: self.options.timeout.as_secs(),
                })
            }
        }
    }
}

/// Counts a git process in `agora_git_processes` for as long as it lives.
struct Running;

impl Running {
    fn start() -> Self {
        METRICS.git_processes.inc();
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        METRICS.git_processes.dec();
    }
}

pub fn failed(tool: Tool, args: &[&str], out: &Output) -> GitError {
    GitError::Failed {
        args: crate::redact::redact(&format!("{} {}", tool.name(), args.join(" "))).into_owned(),
        status: out.status.to_string(),
        stderr: summary(out),
    }
}

/// Most bytes of git's own words passed on in an error.
const MAX_SUMMARY: usize = 200;

/// What may be said about a failed command: its own first `fatal:` or `error:` line (hg's
/// `abort:`), credentials masked and cut short; never the lines a remote wrote (`remote: …`),
/// which go to the log only.
pub fn summary(out: &Output) -> String {
    if !out.stderr.is_empty() {
        tracing::info!(stderr = %crate::redact::redact(&out.stderr), "git said");
    }
    let line =
        out.stderr.lines().map(str::trim).find(|l| {
            l.starts_with("fatal:") || l.starts_with("error:") || l.starts_with("abort:")
        });
    let Some(line) = line else {
        return format!("exited with {}", out.status);
    };
    let mut text: String = crate::redact::redact(line)
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if text.len() > MAX_SUMMARY {
        let mut cut = MAX_SUMMARY;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// What became of a command's standard output.
enum Read {
    /// All of it (empty when it went to a file).
    Complete(Vec<u8>),
    /// More than the limit: reading stopped, so git dies of a broken pipe.
    Over,
    /// Writing it to its file failed.
    Failed(String),
}

/// Reads everything up to `limit` bytes; one byte more ends the reading.
async fn read_limited<R: AsyncRead + Unpin>(r: Option<R>, limit: usize) -> Read {
    let mut buf = Vec::new();
    let Some(mut r) = r else {
        return Read::Complete(buf);
    };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => return Read::Complete(buf),
            Ok(n) if buf.len() + n > limit => return Read::Over,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Copies everything into `file`, up to `limit` bytes.
async fn copy_limited<R: AsyncRead + Unpin>(
    r: Option<R>,
    mut file: tokio::fs::File,
    limit: u64,
) -> Read {
    let Some(mut r) = r else {
        return Read::Complete(Vec::new());
    };
    let mut chunk = vec![0u8; 256 * 1024];
    let mut written = 0u64;
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                written += n as u64;
                if written > limit {
                    return Read::Over;
                }
                if let Err(e) = file.write_all(&chunk[..n]).await {
                    return Read::Failed(e.to_string());
                }
            }
        }
    }
    match file.flush().await {
        Ok(()) => Read::Complete(Vec::new()),
        Err(e) => Read::Failed(e.to_string()),
    }
}

/// Drains a stream, keeping its first `limit` bytes.
async fn read_all<R: AsyncRead + Unpin>(r: Option<R>, limit: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    let Some(mut r) = r else { return buf };
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match r.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if buf.len() < limit {
                    let room = limit - buf.len();
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
        }
    }
    buf
}

/// Kills the process group of a git that is still running when its caller gives up (a timeout
/// or a dropped future); `kill_on_drop` covers git itself, this covers its helpers.
struct KillGuard(Option<u32>);

impl KillGuard {
    fn kill_group(&mut self) {
        if let Some(pid) = self.0.take() {
            kill_group(pid);
        }
    }
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        self.kill_group();
    }
}

#[cfg(unix)]
fn kill_group(pid: u32) {
    if let Ok(pid) = i32::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals a process group; it touches no memory.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_group(_pid: u32) {}

async fn kill_and_reap(child: &mut Child, guard: &mut KillGuard) {
    guard.kill_group();
    let _ = child.start_kill();
    let _ = child.wait().await;
}
