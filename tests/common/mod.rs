//! Helpers for the real-server tests: temporary directories, certificates, ticket-key files,
//! guards that run nginx, HAProxy and `openssl s_server` on loopback ports (stopped on drop, also
//! when a test fails), and `openssl s_client` / curl probes that report resumption and the
//! tickets the server sent.
//!
//! Servers run in their own process group under `timeout`, so even a test binary killed
//! outright leaves nothing running for longer than [`SERVER_MAX_LIFE`].

// Each test crate uses a different part of the helpers; a failed unwrap is a failed test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// Returns from the test, loudly, when a `binary` the test drives is not installed.
#[allow(unused_macros)]
macro_rules! require {
    ($($binary:expr),+) => {
        $(
            if $crate::common::find_binary($binary).is_none() {
                eprintln!("SKIP: {} is not installed", $binary);
                return;
            }
        )+
    };
}

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Seconds after which `timeout` kills a server that its guard never stopped.
pub const SERVER_MAX_LIFE: &str = "600";
/// How long a server may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Seconds one client run may take.
const CLIENT_TIMEOUT: &str = "20";
/// The `TLSEXT_SHIM_RELOAD_INTERVAL` the tests use.
pub const RELOAD_INTERVAL: &str = "1s";
/// How long to wait after changing key files before the next handshake.
pub const RELOAD_WAIT: Duration = Duration::from_millis(1200);
/// The host name every certificate and client uses.
pub const HOST: &str = "localhost";
/// The request the clients send; the server answers and closes the connection.
const REQUEST: &[u8] = b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n";

// ---------------------------------------------------------------------------------------------
// Binaries, the shim, the environment

/// The path of `name` in `PATH` or the sbin directories, if installed.
pub fn find_binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The absolute path of the preload library, next to the test binary's `deps` directory
/// (`target/debug/libtlsext_shim.so`); `cargo test` builds it with the test.
pub fn shim_path() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf);
    let lib = profile_dir
        .map(|dir| dir.join("libtlsext_shim.so"))
        .filter(|lib| lib.is_file())
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/debug/libtlsext_shim.so"));
    assert!(lib.is_file(), "{} is missing: run `cargo build --lib`", lib.display());
    lib
}

/// The environment a server starts with: `PATH` plus exactly these variables (the test's own
/// environment is not passed on, so a stray `TLSEXT_SHIM_*` cannot leak into a server).
#[derive(Clone, Debug, Default)]
pub struct Env {
    vars: Vec<(String, OsString)>,
}

impl Env {
    /// No preload: a stock server.
    pub fn stock() -> Env {
        Env::default()
    }

    /// `LD_PRELOAD` of the shim and no `TLSEXT_SHIM_*` variable.
    pub fn preload() -> Env {
        Env::default().set("LD_PRELOAD", shim_path())
    }

    /// The shim with ticket keys from `source` (a path, `auto` or `seed:PATH`), debug logging
    /// and a one-second reload interval.
    pub fn shim(source: impl AsRef<OsStr>) -> Env {
        Env::preload()
            .set("TLSEXT_SHIM_TICKET_KEYS", source)
            .set("TLSEXT_SHIM_LOG", "debug")
            .set("TLSEXT_SHIM_RELOAD_INTERVAL", RELOAD_INTERVAL)
    }

    /// Sets `name` (replacing an earlier value).
    pub fn set(mut self, name: &str, value: impl AsRef<OsStr>) -> Env {
        self.vars.retain(|(n, _)| n != name);
        self.vars.push((name.to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Removes `name`.
    pub fn unset(mut self, name: &str) -> Env {
        self.vars.retain(|(n, _)| n != name);
        self
    }

    fn apply(&self, cmd: &mut Command) {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
        dirs.extend(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
        cmd.env_clear().env("PATH", std::env::join_paths(dirs).unwrap());
        for (name, value) in &self.vars {
            cmd.env(name, value);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ports, directories, bytes

/// A loopback port that was free a moment ago and that no other test in this process got.
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    loop {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut guard = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
        if guard.get_or_insert_with(HashSet::new).insert(port) {
            return port;
        }
    }
}

/// A directory under the system temp dir, unique by pid and counter, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `tlsext-shim-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tlsext-shim-{tag}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A path inside the directory.
    pub fn join(&self, name: impl AsRef<Path>) -> PathBuf {
        self.path.join(name)
    }

    /// Creates (and returns) a subdirectory.
    pub fn subdir(&self, name: &str) -> PathBuf {
        let dir = self.path.join(name);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The session file `<name>-<tls>.pem` in the directory (`name-TLSv1.3.pem`).
    pub fn sess(&self, name: &str, tls: Tls) -> PathBuf {
        self.path.join(format!("{name}-{tls}.pem"))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// `n` bytes from `/dev/urandom`.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0; n];
    File::open("/dev/urandom").unwrap().read_exact(&mut bytes).unwrap();
    bytes
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Writes `contents` to `path` through a hidden temporary file and a rename, so a server that
/// watches the directory never sees a half-written file.
pub fn write_atomic(path: &Path, contents: &[u8]) {
    let name = path.file_name().unwrap().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    fs::write(&tmp, contents).unwrap();
    fs::rename(&tmp, path).unwrap();
}

/// A 16-byte ticket key name.
pub type KeyName = [u8; 16];

/// The first 16 bytes of `key`: the key name in every key-file layout.
pub fn key_name(key: &[u8]) -> KeyName {
    key[..16].try_into().unwrap()
}

/// Writes one raw nginx `ssl_session_ticket_key` file of `len` (48 or 80) random bytes and
/// returns its key name.
pub fn write_nginx_key(path: &Path, len: usize) -> KeyName {
    assert!(len == 48 || len == 80, "nginx keys are 48 or 80 bytes, not {len}");
    let key = random_bytes(len);
    write_atomic(path, &key);
    key_name(&key)
}

/// Writes a HAProxy `tls-ticket-keys` file of `n_lines` base64 keys of `len` (48 or 80) bytes
/// and returns the key names in file order (HAProxy encrypts with the second-to-last).
pub fn write_haproxy_keys(path: &Path, n_lines: usize, len: usize) -> Vec<KeyName> {
    assert!(len == 48 || len == 80, "HAProxy keys are 48 or 80 bytes, not {len}");
    let keys: Vec<Vec<u8>> = (0..n_lines).map(|_| random_bytes(len)).collect();
    let text: String = keys.iter().map(|k| base64(k) + "\n").collect();
    write_atomic(path, text.as_bytes());
    keys.iter().map(|k| key_name(k)).collect()
}

/// Where most tests of the shim on one key file start: a temporary directory holding a
/// certificate for [`HOST`] and one 80-byte nginx key file.
#[derive(Debug)]
pub struct KeyFileSetup {
    /// The test's directory.
    pub dir: TempDir,
    /// A certificate for [`HOST`] in it.
    pub cert: Cert,
    /// The key file, `ticket.key` in `dir`.
    pub key: PathBuf,
    /// The name of its key.
    pub name: KeyName,
}

impl KeyFileSetup {
    /// Makes the directory `tag` (see [`TempDir::new`]), the certificate and the key.
    pub fn new(tag: &str) -> KeyFileSetup {
        let dir = TempDir::new(tag);
        let cert = Cert::localhost(dir.path());
        let key = dir.join("ticket.key");
        let name = write_nginx_key(&key, 80);
        KeyFileSetup { dir, cert, key, name }
    }
}

// ---------------------------------------------------------------------------------------------
// Certificates

/// A self-signed P-256 certificate and its key.
#[derive(Clone, Debug)]
pub struct Cert {
    /// PEM certificate.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

impl Cert {
    /// A certificate for [`HOST`] in `dir`.
    pub fn localhost(dir: &Path) -> Cert {
        Cert::generate(dir, HOST, &[HOST])
    }

    /// A certificate for `cn` with DNS `sans` in `dir` (see [`gen_cert`]).
    pub fn generate(dir: &Path, cn: &str, sans: &[&str]) -> Cert {
        let (cert, key) = gen_cert(dir, cn, sans);
        Cert { cert, key }
    }

    /// Certificate and key in one PEM file, as HAProxy wants them.
    pub fn combined(&self, path: &Path) -> PathBuf {
        let mut pem = fs::read(&self.cert).unwrap();
        pem.extend(fs::read(&self.key).unwrap());
        fs::write(path, pem).unwrap();
        path.to_path_buf()
    }
}

/// Makes a self-signed P-256 certificate for `cn` with DNS `sans`, valid two days; returns the
/// certificate and key paths (`<cn>.crt`, `<cn>.key` in `dir`).
pub fn gen_cert(dir: &Path, cn: &str, sans: &[&str]) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{cn}.crt"));
    let key = dir.join(format!("{cn}.key"));
    let mut cmd = Command::new("openssl");
    cmd.args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "2",
    ])
    .arg("-keyout")
    .arg(&key)
    .arg("-out")
    .arg(&cert)
    .arg("-subj")
    .arg(format!("/CN={cn}"));
    if !sans.is_empty() {
        let names: Vec<String> = sans.iter().map(|s| format!("DNS:{s}")).collect();
        cmd.arg("-addext").arg(format!("subjectAltName={}", names.join(",")));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

// ---------------------------------------------------------------------------------------------
// Server processes

/// A server started in its own process group under `timeout`, with stdout and stderr in a file.
#[derive(Debug)]
struct Proc {
    child: Child,
    name: &'static str,
    logs: Vec<PathBuf>,
}

impl Proc {
    fn spawn(name: &'static str, program: &Path, args: &[OsString], env: &Env, out: &Path) -> Proc {
        let file = File::create(out).unwrap();
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "5", SERVER_MAX_LIFE])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .process_group(0);
        env.apply(&mut cmd);
        let child = cmd.spawn().unwrap();
        Proc {
            child,
            name,
            logs: vec![out.to_path_buf()],
        }
    }

    fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    fn logs(&self) -> String {
        self.logs
            .iter()
            .map(|p| fs::read_to_string(p).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("")
    }

    /// Waits until `ready` holds; panics with the logs if the server exits first or is too slow.
    fn wait_until(&mut self, what: &str, mut ready: impl FnMut() -> bool) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if ready() {
                return Ok(());
            }
            if self.exited() {
                return Err(format!("{} exited before {what}; output:\n{}", self.name, self.logs()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} not {what} after {START_TIMEOUT:?}; output:\n{}",
                    self.name,
                    self.logs()
                ));
            }
            sleep(Duration::from_millis(25));
        }
    }

    fn stop(&mut self) {
        let pgid = self.child.id();
        if !self.exited() {
            signal_group(pgid, "TERM");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !self.exited() && Instant::now() < deadline {
                sleep(Duration::from_millis(20));
            }
        }
        // Workers that outlived their master, or a master that ignored TERM.
        signal_group(pgid, "KILL");
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            let logs = self.logs();
            let tail: Vec<&str> = logs.lines().rev().take(60).collect();
            eprintln!("---- last lines of {} output ----", self.name);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

fn signal_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args(["-s", signal, "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn accepts(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The parent pid of `pid`, from `/proc`.
pub fn parent_pid(pid: u32) -> Option<u32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid ...", comm may hold spaces and parentheses.
    stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()
}

/// The pids whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut pids: Vec<u32> = fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&pid| parent_pid(pid) == Some(parent))
        .collect();
    pids.sort_unstable();
    pids
}

/// Whether a start failed because another process took the port first.
fn port_taken(error: &str) -> bool {
    error.contains("Address already in use") || error.contains("address already in use")
}

/// Runs `start` on fresh ports until the port was not taken by someone else (at most 3 times).
fn with_retries<T>(fixed_port: Option<u16>, mut start: impl FnMut(u16) -> Result<T, String>) -> T {
    let mut last = String::new();
    for _ in 0..3 {
        match start(fixed_port.unwrap_or_else(free_port)) {
            Ok(server) => return server,
            Err(e) if fixed_port.is_none() && port_taken(&e) => last = e,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("no free port after 3 tries: {last}");
}

// ---------------------------------------------------------------------------------------------
// nginx

/// How to run nginx.
#[derive(Clone, Debug)]
pub struct NginxOpts {
    cert: Cert,
    workers: u32,
    reuseport: bool,
    ticket_keys: Vec<PathBuf>,
    env: Env,
    port: Option<u16>,
    server_name: String,
    extra_servers: Vec<(String, Cert)>,
}

impl NginxOpts {
    /// One server block with `cert`, two workers, no ticket keys, stock environment.
    pub fn new(cert: &Cert) -> NginxOpts {
        NginxOpts {
            cert: cert.clone(),
            workers: 2,
            reuseport: false,
            ticket_keys: vec![],
            env: Env::stock(),
            port: None,
            server_name: HOST.to_owned(),
            extra_servers: vec![],
        }
    }

    /// `server_name` of the first (default) server block instead of [`HOST`].
    pub fn server_name(mut self, name: &str) -> NginxOpts {
        self.server_name = name.to_owned();
        self
    }

    /// One more server block on the same port, for `name` with `cert` (same settings and
    /// response as the first block).
    pub fn extra_server(mut self, name: &str, cert: &Cert) -> NginxOpts {
        self.extra_servers.push((name.to_owned(), cert.clone()));
        self
    }

    /// `worker_processes n`.
    pub fn workers(mut self, n: u32) -> NginxOpts {
        self.workers = n;
        self
    }

    /// `listen ... reuseport` (one socket per worker; two instances can share a port).
    pub fn reuseport(mut self) -> NginxOpts {
        self.reuseport = true;
        self
    }

    /// Adds an `ssl_session_ticket_key` file (the first one encrypts).
    pub fn ticket_key(mut self, path: &Path) -> NginxOpts {
        self.ticket_keys.push(path.to_path_buf());
        self
    }

    /// The server's environment.
    pub fn env(mut self, env: Env) -> NginxOpts {
        self.env = env;
        self
    }

    /// Listens on `port` instead of a fresh one (needs [`NginxOpts::reuseport`] on both).
    pub fn port(mut self, port: u16) -> NginxOpts {
        self.port = Some(port);
        self
    }
}

/// The `*_temp_path` directives this nginx understands.
fn nginx_temp_paths() -> &'static [&'static str] {
    static PATHS: OnceLock<Vec<&'static str>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let out = Command::new(find_binary("nginx").unwrap()).arg("-V").output().unwrap();
        let conf = String::from_utf8_lossy(&out.stderr).into_owned();
        let mut paths = vec!["client_body"];
        for module in ["proxy", "fastcgi", "uwsgi", "scgi"] {
            if !conf.contains(&format!("--without-http_{module}_module")) {
                paths.push(module);
            }
        }
        paths
    })
}

/// A running nginx (master plus workers) on 127.0.0.1; stopped on drop.
///
/// Every response is `ok reused=<$ssl_session_reused> pid=<worker pid>`.
#[derive(Debug)]
pub struct Nginx {
    proc: Proc,
    port: u16,
    master_pid: u32,
    dir: TempDir,
}

impl Nginx {
    /// Writes the config, starts nginx and waits until it listens.
    pub fn start(opts: NginxOpts) -> Nginx {
        let bin = find_binary("nginx").expect("nginx is not installed");
        with_retries(opts.port, |port| {
            let dir = TempDir::new("nginx");
            let d = dir.path().display();
            let mut conf = format!(
                "user root;\ndaemon off;\nmaster_process on;\nworker_processes {};\n\
                 error_log {d}/error.log info;\npid {d}/nginx.pid;\nevents {{ worker_connections 256; }}\n\
                 http {{\n    access_log off;\n",
                opts.workers
            );
            for module in nginx_temp_paths() {
                let _ = writeln!(conf, "    {module}_temp_path {d}/{module}_temp;");
            }
            let reuseport = if opts.reuseport { " reuseport" } else { "" };
            let blocks = std::iter::once((&opts.server_name, &opts.cert))
                .chain(opts.extra_servers.iter().map(|(name, cert)| (name, cert)));
            for (i, (server_name, cert)) in blocks.enumerate() {
                // Only the first block carries the listen options (nginx refuses them twice).
                let listen_opts = if i == 0 { reuseport } else { "" };
                let _ = write!(
                    conf,
                    "    server {{\n        listen 127.0.0.1:{port} ssl{listen_opts};\n        server_name {server_name};\n\
                     \x20       ssl_certificate {};\n        ssl_certificate_key {};\n\
                     \x20       ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_cache off;\n",
                    cert.cert.display(),
                    cert.key.display()
                );
                for key in &opts.ticket_keys {
                    let _ = writeln!(conf, "        ssl_session_ticket_key {};", key.display());
                }
                conf.push_str(
                    "        location / { return 200 \"ok reused=$ssl_session_reused pid=$pid\\n\"; }\n    }\n",
                );
            }
            conf.push_str("}\n");
            let conf_path = dir.join("nginx.conf");
            fs::write(&conf_path, conf).unwrap();
            let args: Vec<OsString> = vec![
                "-p".into(),
                dir.path().into(),
                "-c".into(),
                conf_path.into(),
                "-e".into(),
                dir.join("error.log").into(),
            ];
            let mut proc = Proc::spawn("nginx", &bin, &args, &opts.env, &dir.join("nginx.out"));
            proc.logs.push(dir.join("error.log"));
            let pid_file = dir.join("nginx.pid");
            let read_pid = || {
                fs::read_to_string(&pid_file)
                    .ok()
                    .and_then(|s| s.trim().parse::<u32>().ok())
            };
            // The pid file is written after the sockets are bound (with reuseport, another
            // instance may already answer on the port, so accepting alone proves nothing).
            proc.wait_until("listening", || read_pid().is_some() && accepts(port))?;
            let master_pid = read_pid().unwrap();
            let nginx = Nginx {
                proc,
                port,
                master_pid,
                dir,
            };
            nginx.wait_for_workers(opts.workers as usize)?;
            Ok(nginx)
        })
    }

    fn wait_for_workers(&self, n: usize) -> Result<(), String> {
        let deadline = Instant::now() + START_TIMEOUT;
        while children_of(self.master_pid).len() < n {
            if Instant::now() > deadline {
                return Err(format!("nginx did not start {n} workers; log:\n{}", self.log()));
            }
            sleep(Duration::from_millis(25));
        }
        Ok(())
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The master's pid as read from the pid file at start.
    pub fn master_pid(&self) -> u32 {
        self.master_pid
    }

    /// The master's pid as the pid file says now (changes only if nginx was restarted).
    pub fn current_master_pid(&self) -> Option<u32> {
        fs::read_to_string(self.dir.join("nginx.pid")).ok()?.trim().parse().ok()
    }

    /// Whether the master is still running.
    pub fn is_running(&mut self) -> bool {
        !self.proc.exited() && Path::new(&format!("/proc/{}", self.master_pid)).exists()
    }

    /// The current worker pids.
    pub fn worker_pids(&self) -> Vec<u32> {
        children_of(self.master_pid)
    }

    /// Whether `pid` is this instance's master or one of its workers.
    pub fn owns_pid(&self, pid: u32) -> bool {
        pid == self.master_pid || parent_pid(pid) == Some(self.master_pid)
    }

    /// Everything nginx wrote: stdout/stderr before the error log took over, then error.log.
    pub fn log(&self) -> String {
        self.proc.logs()
    }

    /// Lines of the log that record a failed TLS handshake.
    pub fn handshake_failures(&self) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains("SSL_do_handshake() failed"))
            .map(str::to_owned)
            .collect()
    }

    /// Panics, with the failures and the log, if the log records a failed TLS handshake.
    #[track_caller]
    pub fn assert_no_handshake_failures(&self) {
        let failures = self.handshake_failures();
        assert!(failures.is_empty(), "handshakes failed: {failures:#?}\n{}", self.log());
    }

    /// The instance's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

// ---------------------------------------------------------------------------------------------
// HAProxy

/// How to run HAProxy.
#[derive(Clone, Debug)]
pub struct HaproxyOpts {
    cert: Cert,
    ticket_keys: Option<PathBuf>,
    env: Env,
}

impl HaproxyOpts {
    /// One frontend with `cert`, no `tls-ticket-keys`, stock environment.
    pub fn new(cert: &Cert) -> HaproxyOpts {
        HaproxyOpts {
            cert: cert.clone(),
            ticket_keys: None,
            env: Env::stock(),
        }
    }

    /// `bind ... tls-ticket-keys path`.
    pub fn ticket_keys(mut self, path: &Path) -> HaproxyOpts {
        self.ticket_keys = Some(path.to_path_buf());
        self
    }

    /// The server's environment.
    pub fn env(mut self, env: Env) -> HaproxyOpts {
        self.env = env;
        self
    }
}

/// A running `haproxy -db` on 127.0.0.1; stopped on drop.
///
/// Every response is `ok reused=<ssl_fc_is_resumed> pid=<pid>`.
#[derive(Debug)]
pub struct Haproxy {
    proc: Proc,
    port: u16,
    dir: TempDir,
}

impl Haproxy {
    /// Writes the config, starts HAProxy in the foreground and waits until it listens.
    pub fn start(opts: HaproxyOpts) -> Haproxy {
        let bin = find_binary("haproxy").expect("haproxy is not installed");
        with_retries(None, |port| {
            let dir = TempDir::new("haproxy");
            let pem = opts.cert.combined(&dir.join("combined.pem"));
            let keys = opts
                .ticket_keys
                .as_ref()
                .map(|k| format!(" tls-ticket-keys {}", k.display()))
                .unwrap_or_default();
            let conf = format!(
                "global\n    nbthread 2\n\
                 defaults\n    mode http\n    timeout connect 5s\n    timeout client 5s\n    timeout server 5s\n\
                 frontend fe\n    bind 127.0.0.1:{port} ssl crt {}{keys}\n\
                 \x20   http-request return status 200 content-type text/plain \
                 lf-string \"ok reused=%[ssl_fc_is_resumed] pid=%pid\\n\"\n",
                pem.display()
            );
            let conf_path = dir.join("haproxy.cfg");
            fs::write(&conf_path, conf).unwrap();
            let args: Vec<OsString> = vec!["-f".into(), conf_path.into(), "-db".into()];
            let mut proc = Proc::spawn("haproxy", &bin, &args, &opts.env, &dir.join("haproxy.out"));
            proc.wait_until("listening", || accepts(port))?;
            Ok(Haproxy { proc, port, dir })
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its stdout and stderr.
    pub fn log(&self) -> String {
        self.proc.logs()
    }
}

// ---------------------------------------------------------------------------------------------
// openssl s_server

/// How to run `openssl s_server`.
#[derive(Clone, Debug)]
pub struct SServerOpts {
    cert: Cert,
    env: Env,
    args: Vec<String>,
}

impl SServerOpts {
    /// `-www` with `cert`, stock environment.
    pub fn new(cert: &Cert) -> SServerOpts {
        SServerOpts {
            cert: cert.clone(),
            env: Env::stock(),
            args: vec![],
        }
    }

    /// The server's environment.
    pub fn env(mut self, env: Env) -> SServerOpts {
        self.env = env;
        self
    }

    /// Extra command-line arguments (`-num_tickets 1`, ...).
    pub fn arg(mut self, arg: &str) -> SServerOpts {
        self.args.push(arg.to_owned());
        self
    }
}

/// The arguments of `openssl` for an [`SServer`]: `s_server -www -no_cache` on `127.0.0.1:port`
/// with `cert`. For a server run some other way (under `setpriv`, say) that must answer like one.
pub fn s_server_args(port: u16, cert: &Cert) -> Vec<OsString> {
    vec![
        "s_server".into(),
        "-accept".into(),
        format!("127.0.0.1:{port}").into(),
        "-cert".into(),
        cert.cert.clone().into(),
        "-key".into(),
        cert.key.clone().into(),
        "-www".into(),
        "-no_cache".into(),
    ]
}

/// A running `openssl s_server -www -no_cache` on 127.0.0.1; stopped on drop.
///
/// `-no_cache` turns off the server's session-ID cache so that only tickets can resume a
/// TLS 1.2 session. The `-www` page repeats the server's "New"/"Reused" line.
#[derive(Debug)]
pub struct SServer {
    proc: Proc,
    port: u16,
    dir: TempDir,
}

impl SServer {
    /// Starts `openssl s_server` and waits until it prints `ACCEPT`.
    pub fn start(opts: SServerOpts) -> SServer {
        let bin = find_binary("openssl").expect("openssl is not installed");
        with_retries(None, |port| {
            let dir = TempDir::new("s_server");
            let mut args = s_server_args(port, &opts.cert);
            args.extend(opts.args.iter().map(OsString::from));
            let out = dir.join("s_server.out");
            let mut proc = Proc::spawn("s_server", &bin, &args, &opts.env, &out);
            proc.wait_until("accepting", || {
                fs::read_to_string(&out).unwrap_or_default().contains("ACCEPT")
            })?;
            Ok(SServer { proc, port, dir })
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its stdout and stderr.
    pub fn log(&self) -> String {
        self.proc.logs()
    }
}

// ---------------------------------------------------------------------------------------------
// Other servers

/// A server the harness has no type for (a test's own program, or `s_server` under a wrapper),
/// run like the others: in its own process group under `timeout`, stdout and stderr in a file,
/// stopped on drop.
#[derive(Debug)]
pub struct Daemon {
    proc: Proc,
}

impl Daemon {
    /// Starts `program args` in `env` with its output in `out` and waits until the output
    /// contains `ready`; panics with the output if it exits first or is too slow.
    pub fn start(name: &'static str, program: &Path, args: &[OsString], env: &Env, out: &Path, ready: &str) -> Daemon {
        let mut proc = Proc::spawn(name, program, args, env, out);
        let started = proc.wait_until("ready", || fs::read_to_string(out).unwrap_or_default().contains(ready));
        if let Err(e) = started {
            panic!("{e}");
        }
        Daemon { proc }
    }

    /// Its stdout and stderr so far.
    pub fn log(&self) -> String {
        self.proc.logs()
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        !self.proc.exited()
    }

    /// Sends SIGTERM to the group, waits for the exit (SIGKILL after 10 s) and returns the output.
    pub fn stop(&mut self) -> String {
        self.proc.stop();
        self.log()
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

/// A protocol version to force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tls {
    /// TLS 1.2 only.
    V12,
    /// TLS 1.3 only.
    V13,
}

impl Tls {
    /// Both versions.
    pub const BOTH: [Tls; 2] = [Tls::V12, Tls::V13];

    /// As OpenSSL prints it (`TLSv1.2`).
    pub fn name(self) -> &'static str {
        match self {
            Tls::V12 => "TLSv1.2",
            Tls::V13 => "TLSv1.3",
        }
    }

    fn s_client_flag(self) -> &'static str {
        match self {
            Tls::V12 => "-tls1_2",
            Tls::V13 => "-tls1_3",
        }
    }
}

impl std::fmt::Display for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A NewSessionTicket message the client received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTicket {
    /// `ticket_lifetime_hint` / `ticket_lifetime`, seconds.
    pub lifetime: u32,
    /// The opaque ticket; empty when a TLS 1.2 server declined to issue one.
    pub ticket: Vec<u8>,
}

impl NewTicket {
    /// The first 16 bytes of the ticket (the key name in OpenSSL's ticket format).
    pub fn key_name(&self) -> Option<KeyName> {
        self.ticket.get(..16).map(|n| n.try_into().unwrap())
    }

    /// Parses a NewSessionTicket handshake message (type, 24-bit length, body).
    fn parse(msg: &[u8], tls13: bool) -> Option<NewTicket> {
        let be = |b: &[u8]| b.iter().fold(0u32, |n, &x| (n << 8) | u32::from(x));
        if *msg.first()? != 4 {
            return None;
        }
        let body = msg.get(4..)?;
        let lifetime = be(body.get(..4)?);
        let mut at = 4;
        if tls13 {
            let nonce_len = usize::from(*body.get(8)?);
            at = 9 + nonce_len;
        }
        let len = be(body.get(at..at + 2)?) as usize;
        let ticket = body.get(at + 2..at + 2 + len)?.to_vec();
        Some(NewTicket { lifetime, ticket })
    }
}

/// What one `openssl s_client` connection showed.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The client exited with status 0.
    pub exit_ok: bool,
    /// The client printed `Reused, TLSv1.x, ...` (rather than `New, ...`).
    pub reused: bool,
    /// `TLSv1.2` / `TLSv1.3`, or `(NONE)` when the handshake failed.
    pub protocol: String,
    /// The negotiated cipher.
    pub cipher: String,
    /// A `200` response arrived.
    pub http_ok: bool,
    /// What the server says: nginx `$ssl_session_reused`, HAProxy `ssl_fc_is_resumed`, the
    /// `s_server -www` page.
    pub server_reused: Option<bool>,
    /// The pid of the process that answered (nginx worker, HAProxy).
    pub server_pid: Option<u32>,
    /// Every NewSessionTicket received, in order (from `-msg`).
    pub tickets: Vec<NewTicket>,
    /// The full output.
    pub output: String,
}

impl Probe {
    fn parse(output: String, exit_ok: bool) -> Probe {
        let mut summaries = output.lines().filter_map(|line| {
            let (reused, rest) = match line.strip_prefix("Reused, ") {
                Some(rest) => (true, rest),
                None => (false, line.strip_prefix("New, ")?),
            };
            let protocol = rest.split(',').next().unwrap_or_default().to_owned();
            let cipher = rest.split("Cipher is ").nth(1).unwrap_or_default().trim().to_owned();
            Some((reused, protocol, cipher))
        });
        // The client's own line comes first; s_server's -www page repeats the server's view.
        let (reused, protocol, cipher) = summaries.next().unwrap_or((false, String::new(), String::new()));
        let mut server_reused = summaries.next().map(|(r, _, _)| r);
        let mut server_pid = None;
        if let Some(body) = output.split("ok reused=").nth(1) {
            let flag = body.split_whitespace().next().unwrap_or_default();
            server_reused = Some(flag == "r" || flag == "1");
            server_pid = body.split("pid=").nth(1).and_then(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            });
        }
        let http_ok = output.contains("HTTP/1.1 200") || output.contains("HTTP/1.0 200");
        let tickets = parse_new_tickets(&output);
        Probe {
            exit_ok,
            reused,
            protocol,
            cipher,
            http_ok,
            server_reused,
            server_pid,
            tickets,
            output,
        }
    }

    /// The handshake completed with `tls` and the request was answered.
    pub fn served(&self, tls: Tls) -> bool {
        self.exit_ok && self.http_ok && self.protocol == tls.name()
    }

    /// Key names of the non-empty tickets received.
    pub fn ticket_names(&self) -> Vec<KeyName> {
        self.tickets.iter().filter_map(NewTicket::key_name).collect()
    }

    /// One line for assertion messages.
    pub fn summary(&self) -> String {
        let names: Vec<String> = self.ticket_names().iter().map(|n| hex(n)).collect();
        format!(
            "exit_ok={} protocol={} reused={} server_reused={:?} server_pid={:?} http_ok={} ticket names={:?}",
            self.exit_ok, self.protocol, self.reused, self.server_reused, self.server_pid, self.http_ok, names
        )
    }

    /// Panics unless `ok`, with `problem`, the [`Probe::summary`] and the full output.
    #[track_caller]
    pub fn assert_that(&self, ok: bool, problem: std::fmt::Arguments<'_>) {
        assert!(ok, "{problem}: {}\n{}", self.summary(), self.output);
    }

    /// Panics unless the connection was served over `tls`.
    #[track_caller]
    pub fn assert_served(&self, tls: Tls, what: &str) {
        self.assert_that(self.served(tls), format_args!("{what}: {tls} connection not served"));
    }

    /// Panics unless the connection was served over `tls` and resumed (client and, where the
    /// server says, server agree).
    #[track_caller]
    pub fn assert_resumed(&self, tls: Tls, what: &str) {
        self.assert_served(tls, what);
        self.assert_that(
            self.reused && self.server_reused != Some(false),
            format_args!("{what}: {tls} session not resumed"),
        );
    }

    /// Panics unless the connection was served over `tls` with a full handshake.
    #[track_caller]
    pub fn assert_full_handshake(&self, tls: Tls, what: &str) {
        self.assert_served(tls, what);
        self.assert_that(
            !self.reused && self.server_reused != Some(true),
            format_args!("{what}: {tls} session unexpectedly resumed"),
        );
    }

    /// Panics unless at least one ticket arrived and every ticket is named `name`.
    #[track_caller]
    pub fn assert_tickets_named(&self, name: &KeyName, what: &str) {
        let names = self.ticket_names();
        self.assert_that(
            !names.is_empty() && names.iter().all(|n| n == name),
            format_args!(
                "{what}: expected tickets under key {}, got {:?}",
                hex(name),
                names.iter().map(|n| hex(n)).collect::<Vec<_>>()
            ),
        );
    }
}

/// The NewSessionTicket messages in `openssl s_client -msg` output: a header line
/// `<<< TLS 1.3, Handshake [length 00f9], NewSessionTicket` followed by indented hex lines.
fn parse_new_tickets(output: &str) -> Vec<NewTicket> {
    let mut tickets = vec![];
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        if !(line.starts_with("<<< ") && line.trim_end().ends_with("NewSessionTicket")) {
            continue;
        }
        let tls13 = line.starts_with("<<< TLS 1.3");
        let mut msg = vec![];
        while let Some(bytes) = lines.peek().and_then(|l| hex_line(l)) {
            msg.extend(bytes);
            lines.next();
        }
        tickets.extend(NewTicket::parse(&msg, tls13));
    }
    tickets
}

/// The bytes of an indented line of space-separated hex pairs.
fn hex_line(line: &str) -> Option<Vec<u8>> {
    if !line.starts_with(' ') || line.trim().is_empty() {
        return None;
    }
    line.split_whitespace()
        .map(|t| {
            if t.len() == 2 {
                u8::from_str_radix(t, 16).ok()
            } else {
                None
            }
        })
        .collect()
}

/// One `openssl s_client` connection, configured by the builder methods, made by
/// [`SClient::run`].
#[derive(Clone, Debug)]
pub struct SClient {
    port: u16,
    tls: Tls,
    servername: String,
    sess_in: Option<PathBuf>,
    sess_out: Option<PathBuf>,
}

/// A connection to `127.0.0.1:port` with `tls` and SNI [`HOST`].
pub fn s_client(port: u16, tls: Tls) -> SClient {
    SClient {
        port,
        tls,
        servername: HOST.to_owned(),
        sess_in: None,
        sess_out: None,
    }
}

impl SClient {
    /// SNI name to send.
    pub fn servername(mut self, name: &str) -> SClient {
        self.servername = name.to_owned();
        self
    }

    /// Offers the session saved in `path`.
    pub fn sess_in(mut self, path: &Path) -> SClient {
        self.sess_in = Some(path.to_path_buf());
        self
    }

    /// Saves the session to `path`. s_client writes it whenever a new session arrives: after a
    /// full handshake and for every TLS 1.3 ticket, but not for a ticket renewed during a
    /// TLS 1.2 resumption (see [`Probe::tickets`] for those).
    pub fn sess_out(mut self, path: &Path) -> SClient {
        self.sess_out = Some(path.to_path_buf());
        self
    }

    /// Connects, sends one HTTP/1.0 request, reads until the server closes (so TLS 1.3
    /// tickets, sent after the handshake, are received) and reports what happened.
    pub fn run(self) -> Probe {
        if let Some(out) = &self.sess_out {
            let _ = fs::remove_file(out);
        }
        let mut cmd = Command::new("timeout");
        cmd.args([CLIENT_TIMEOUT, "openssl", "s_client", "-connect"])
            .arg(format!("127.0.0.1:{}", self.port));
        if self.servername.is_empty() {
            // See `no_servername`: no server_name extension at all.
            cmd.args(["-noservername"]);
        } else {
            cmd.args(["-servername", &self.servername]);
        }
        cmd.args([self.tls.s_client_flag(), "-msg", "-ign_eof"]);
        if let Some(path) = &self.sess_in {
            assert!(path.is_file(), "no session file {}", path.display());
            cmd.arg("-sess_in").arg(path);
        }
        if let Some(path) = &self.sess_out {
            cmd.arg("-sess_out").arg(path);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A client that failed early closes its end; that shows in the result, not here.
        let _ = child.stdin.take().unwrap().write_all(REQUEST);
        let out = child.wait_with_output().unwrap();
        let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.push_str(&String::from_utf8_lossy(&out.stderr));
        Probe::parse(text, out.status.success())
    }
}

/// A fresh full handshake that must be served and yield a session in `sess_out`.
#[track_caller]
pub fn issue(port: u16, tls: Tls, sess_out: &Path) -> Probe {
    let probe = s_client(port, tls).sess_out(sess_out).run();
    probe.assert_full_handshake(tls, "fresh connection");
    assert!(
        sess_out.is_file(),
        "no session saved to {}: {}",
        sess_out.display(),
        probe.output
    );
    probe
}

/// Offers the session in `sess_in`; the result is checked by the caller.
pub fn resume(port: u16, tls: Tls, sess_in: &Path) -> Probe {
    s_client(port, tls).sess_in(sess_in).run()
}

/// `openssl sess_id -text` of a saved session.
fn sess_text(sess_file: &Path) -> Option<String> {
    let out = Command::new("openssl")
        .args(["sess_id", "-noout", "-text", "-in"])
        .arg(sess_file)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The first 16 bytes (the key name) of the ticket in a saved session.
pub fn ticket_key_name(sess_file: &Path) -> Option<KeyName> {
    let text = sess_text(sess_file)?;
    let mut lines = text.lines().skip_while(|l| l.trim() != "TLS session ticket:");
    lines.next()?;
    // "    0000 - 9f d9 8e 07 86 45 d6 fe-72 7b 06 a2 f4 a9 7d 60   .....E..r{....}`"
    let dump = lines.next()?.trim_start().strip_prefix("0000 - ")?;
    let bytes: Option<Vec<u8>> = dump
        .get(..47)?
        .replace('-', " ")
        .split_whitespace()
        .map(|t| u8::from_str_radix(t, 16).ok())
        .collect();
    bytes?.try_into().ok()
}

/// The ticket lifetime hint of a saved session, seconds.
pub fn ticket_lifetime_hint(sess_file: &Path) -> Option<u32> {
    let text = sess_text(sess_file)?;
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("TLS session ticket lifetime hint:"))?;
    line.split_whitespace().next()?.parse().ok()
}

/// One response in a curl run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurlHit {
    /// The server resumed the session.
    pub reused: bool,
    /// The pid that answered.
    pub pid: u32,
}

/// Fetches `https://localhost:port/` `n` times in one curl process over TLS 1.3, one
/// connection each (`Connection: close`), so curl offers each connection the ticket of the one
/// before; the server says in its response whether it resumed.
///
/// TLS 1.3 only: curl 7.88 with OpenSSL offers no session ticket in TLS 1.2 (nginx sends it no
/// NewSessionTicket), and it caches sessions per host and port, so a pair of servers can only be
/// put behind one curl with `reuseport` on a shared port.
pub fn curl_tls13(port: u16, n: usize) -> Vec<CurlHit> {
    let url = format!("https://{HOST}:{port}/");
    let out = Command::new("timeout")
        .args([
            "60",
            "curl",
            "-sS",
            "-k",
            "--tlsv1.3",
            "-H",
            "Connection: close",
            "--resolve",
        ])
        .arg(format!("{HOST}:{port}:127.0.0.1"))
        .args(std::iter::repeat_n(&url, n))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "curl failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let hits: Vec<CurlHit> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("ok reused=")?;
            let (flag, pid) = rest.split_once(" pid=")?;
            Some(CurlHit {
                reused: flag == "r" || flag == "1",
                pid: pid.trim().parse().ok()?,
            })
        })
        .collect();
    assert_eq!(hits.len(), n, "curl output: {text}");
    hits
}

// ---------------------------------------------------------------------------------------------
// SNI

impl SClient {
    /// Sends no server_name extension (`-noservername`).
    pub fn no_servername(mut self) -> SClient {
        self.servername.clear();
        self
    }
}

impl Probe {
    /// The subject of the certificate the server presented, as s_client prints it
    /// (`subject=CN = www.example.com` gives `CN = www.example.com`).
    pub fn subject(&self) -> Option<&str> {
        self.output
            .lines()
            .find_map(|l| l.strip_prefix("subject="))
            .map(str::trim)
    }

    /// The common name of the presented certificate.
    pub fn subject_cn(&self) -> Option<&str> {
        self.subject()?
            .split(',')
            .find_map(|part| part.trim().strip_prefix("CN = "))
            .map(str::trim)
    }

    /// Panics unless the presented certificate's common name is `cn`.
    #[track_caller]
    pub fn assert_subject_cn(&self, tls: Tls, cn: &str, what: &str) {
        assert_eq!(
            self.subject_cn(),
            Some(cn),
            "{what}: {tls}: wrong certificate: subject {:?}\n{}",
            self.subject(),
            self.output
        );
    }

    /// The server ended the handshake with an `unrecognized_name` alert (112).
    pub fn unrecognized_name_alert(&self) -> bool {
        self.output.contains("unrecognized name")
            || self.output.contains("alert number 112")
            || self.output.contains("fatal unrecognized_name")
    }
}
