//! A real nginx in front of Portal, for the gateway tests: it runs the
//! server block of README.md's "Putting Portal in front of an API with
//! nginx" section (so the tests prove what the README tells operators to
//! write), with `auth_request` asking Portal's `/gateway/check` and passing
//! the identity headers on to [`Upstream`], a tiny API that says which
//! identity it was given.
//!
//! Each [`Nginx`] runs in its own temporary directory (config, logs, pid and
//! temp files) on its own free port, as root or not, so tests run in
//! parallel. The binary is `$NGINX_BIN`, else `/usr/sbin/nginx`, else `nginx`
//! on the `PATH` (Debian: `apt-get install nginx`; `tests/run.sh` does).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The README section whose `nginx` code block the harness runs.
const README_SECTION: &str = "## Putting Portal in front of an API with nginx";
/// What the README's block says, and what the harness puts in its place.
const README_LISTEN: &str = "listen 80;";
const README_PORTAL: &str = "127.0.0.1:8080";
const README_API: &str = "127.0.0.1:9000";

/// One request as a test server received it.
#[derive(Debug, Clone)]
pub struct SeenRequest {
    pub method: String,
    /// The request target as sent: path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl SeenRequest {
    /// The first value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The API behind nginx: answers every request 200 with the body
/// `upstream saw account=A product=P subscription=S`, the values of the
/// `X-Portal-Account-Id`, `X-Portal-Product-Id` and `X-Portal-Subscription-Id`
/// request headers (`-` when absent), and records every request.
pub struct Upstream {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    server: TinyServer,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let server = TinyServer::start(|req| {
            let h = |name| req.header(name).unwrap_or("-").to_owned();
            Reply::new(
                200,
                format!(
                    "upstream saw account={} product={} subscription={}",
                    h("x-portal-account-id"),
                    h("x-portal-product-id"),
                    h("x-portal-subscription-id"),
                ),
            )
        })
        .await;
        Upstream {
            address: server.address.clone(),
            server,
        }
    }

    /// Every request that reached the API so far, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.server.requests()
    }
}

/// nginx on `127.0.0.1`, in front of an API, asking Portal about every call.
/// Stopped when dropped.
pub struct Nginx {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    child: Child,
    dir: TempDir,
}

impl Nginx {
    /// Starts nginx with README's server block, Portal at `portal_address`
    /// and the API at `upstream_address` (each `http://HOST:PORT` or
    /// `HOST:PORT`), and waits until it accepts connections. Panics with
    /// nginx's own error output if it does not start within 10 s.
    pub async fn start(portal_address: &str, upstream_address: &str) -> Nginx {
        let block =
            readme_server_block(README_SECTION, &[README_LISTEN, README_PORTAL, README_API])
                .replace(README_PORTAL, &host_port(portal_address))
                .replace(README_API, &host_port(upstream_address));
        Self::start_block(&block).await
    }

    /// Starts nginx with the server `block`, whose `listen 80;` it replaces
    /// with a free port of 127.0.0.1.
    pub async fn start_block(block: &str) -> Nginx {
        let bin = nginx_bin();
        // nginx must bind its port itself: a port found free by binding
        // port 0 and letting it go may be taken before nginx binds it, and
        // then nginx starts again on another.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let dir = tempfile::Builder::new().prefix("nginx-").tempdir().unwrap();
            let port = free_port();
            let conf = config(dir.path(), block, port);
            std::fs::write(dir.path().join("nginx.conf"), &conf).unwrap();
            let child = Command::new(&bin)
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .arg("-c")
                .arg(dir.path().join("nginx.conf"))
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(dir.path().join("stdout.log")).unwrap())
                .stderr(std::fs::File::create(dir.path().join("stderr.log")).unwrap())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut nginx = Nginx {
                address: format!("http://127.0.0.1:{port}"),
                child,
                dir,
            };
            match nginx.wait_ready(port).await {
                Ok(()) => return nginx,
                Err(log) if attempts < 5 && log.contains("Address already in use") => continue,
                Err(log) => panic!(
                    "nginx ({}) did not start on 127.0.0.1:{port}:\n{log}\n--- nginx.conf ---\n{conf}",
                    bin.display()
                ),
            }
        }
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// What nginx wrote to its error log and stderr so far.
    pub fn error_log(&self) -> String {
        ["stderr.log", "error.log"]
            .iter()
            .map(|f| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("")
    }

    /// Ready once nginx has written its pid file (it does so only after
    /// binding its port) and accepts a connection; Err(its log) if it exits
    /// or takes longer than 10 s.
    async fn wait_ready(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let pid_file = self.dir.path().join("nginx.pid");
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("nginx exited ({status}):\n{}", self.error_log()));
            }
            if pid_file.exists() && TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no connection within 10 s:\n{}", self.error_log()));
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // One process (master_process off), so killing it leaves nothing
        // behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("NGINX_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    let debian = Path::new("/usr/sbin/nginx");
    if debian.exists() {
        return debian.to_owned();
    }
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| {
        panic!("nginx not found: install it (apt-get install nginx) or set NGINX_BIN")
    })
}

/// The `nginx` code block of README's section `section`, which must hold
/// each of `needles` exactly once (the harness replaces them).
pub fn readme_server_block(section: &str, needles: &[&str]) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let rest = readme
        .split_once(section)
        .unwrap_or_else(|| panic!("README.md has no section {section:?}"))
        .1;
    let block = rest
        .split_once("```nginx\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .unwrap_or_else(|| panic!("README.md's {section:?} has no ```nginx block"))
        .0;
    for needle in needles {
        assert_eq!(
            block.matches(needle).count(),
            1,
            "README.md's nginx block in {section:?} must contain {needle:?} exactly once (the harness replaces it)"
        );
    }
    block.to_owned()
}

/// A whole nginx.conf: everything in `dir`, README's block as the only
/// server, and one process (`master_process off`: no workers to drop
/// privileges to or to leave behind when the test kills it).
fn config(dir: &Path, block: &str, port: u16) -> String {
    let block = block.replace(README_LISTEN, &format!("listen 127.0.0.1:{port};"));
    // Started as root, nginx would otherwise look up (and chown its temp
    // folders to) the user `nobody`; as anyone else `user` is ignored.
    let started_as_root = dir.metadata().unwrap().uid() == 0;
    let user = if started_as_root { "user root;" } else { "" };
    let d = dir.display();
    format!(
        "{user}
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;

events {{
    worker_connections 256;
}}

http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body_temp;
    proxy_temp_path {d}/proxy_temp;
    fastcgi_temp_path {d}/fastcgi_temp;
    uwsgi_temp_path {d}/uwsgi_temp;
    scgi_temp_path {d}/scgi_temp;

{block}
}}
"
    )
}

pub fn host_port(address: &str) -> String {
    let rest = address.strip_prefix("http://").unwrap_or(address);
    assert!(
        !rest.contains("://"),
        "{address}: only plain http:// addresses are supported"
    );
    rest.trim_end_matches('/').to_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A response of a [`TinyServer`].
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&SeenRequest) -> Reply + Send + Sync>;

/// Minimal HTTP/1.1 server on 127.0.0.1: reads the request head (and skips a
/// Content-Length body), answers with `handler`'s reply and closes the
/// connection. Stops when dropped.
struct TinyServer {
    address: String,
    seen: Arc<Mutex<Vec<SeenRequest>>>,
    accept: JoinHandle<()>,
}

impl TinyServer {
    async fn start(handler: impl Fn(&SeenRequest) -> Reply + Send + Sync + 'static) -> TinyServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let s = seen.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (s, handler) = (s.clone(), handler.clone());
                tokio::spawn(async move {
                    let _ =
                        tokio::time::timeout(Duration::from_secs(10), answer(stream, &s, &handler))
                            .await;
                });
            }
        });
        TinyServer {
            address,
            seen,
            accept,
        }
    }

    fn requests(&self) -> Vec<SeenRequest> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TinyServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn answer(
    mut stream: TcpStream,
    seen: &Mutex<Vec<SeenRequest>>,
    handler: &Handler,
) -> std::io::Result<()> {
    const MAX_HEAD: usize = 64 * 1024;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let request = SeenRequest {
        method: request_line.next().unwrap_or_default().to_owned(),
        target: request_line.next().unwrap_or_default().to_owned(),
        headers: lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect(),
    };
    // Read (and drop) a body, so closing does not reset the connection
    // under a client still sending.
    let body_len: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut left = body_len.saturating_sub(buf.len() - head_end - 4);
    while left > 0 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        left = left.saturating_sub(n);
    }
    let reply = handler(&request);
    seen.lock().unwrap().push(request);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (n, v) in &reply.headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&reply.body);
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Status",
    }
}

/// The harness on its own, without Portal's endpoint: a fake Portal that
/// accepts the key `good` (header, or query parameter of X-Original-URI)
/// shows what nginx sends Portal and the API, and what callers get back.
#[tokio::test]
async fn nginx_harness_self_test() {
    let portal = TinyServer::start(|req| {
        let from_query = || {
            let uri = req.header("x-original-uri")?;
            let query = uri.split_once('?')?.1;
            query
                .split('&')
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| *k == "subscription-key")
                .map(|(_, v)| v)
        };
        match req.header("ocp-apim-subscription-key").or_else(from_query) {
            None => Reply::new(401, "no key"),
            Some("good") => Reply::new(200, "")
                .header("X-Portal-Account-Id", "acc-1")
                .header("X-Portal-Product-Id", "prod-2")
                .header("X-Portal-Subscription-Id", "sub-3"),
            Some(_) => Reply::new(403, "key not accepted"),
        }
    })
    .await;
    let api = Upstream::start().await;
    let nginx = Nginx::start(&portal.address, &api.address).await;
    let c = reqwest::Client::new();
    let log = || nginx.error_log();

    // An accepted key in the header: the API sees who the caller is, not the
    // key, and not the identity the caller claims for itself.
    let r = c
        .get(nginx.url("/orders/7?x=1"))
        .header("Ocp-Apim-Subscription-Key", "good")
        .header("X-Portal-Account-Id", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", log());
    assert_eq!(
        r.text().await.unwrap(),
        "upstream saw account=acc-1 product=prod-2 subscription=sub-3"
    );
    let check = portal.requests().pop().unwrap();
    assert_eq!(check.method, "GET");
    assert_eq!(check.target, "/gateway/check");
    assert_eq!(check.header("ocp-apim-subscription-key"), Some("good"));
    assert_eq!(check.header("x-original-uri"), Some("/orders/7?x=1"));
    let seen = api.requests().pop().unwrap();
    assert_eq!(seen.target, "/orders/7?x=1");
    assert_eq!(seen.header("ocp-apim-subscription-key"), None);
    assert_eq!(seen.header("x-portal-account-id"), Some("acc-1"));

    // An accepted key in the query: the check's own URI has no query; the
    // key reaches Portal only through X-Original-URI.
    let r = c
        .get(nginx.url("/orders?subscription-key=good&page=2"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", log());
    assert!(r.text().await.unwrap().contains("account=acc-1"));
    let check = portal.requests().pop().unwrap();
    assert_eq!(check.target, "/gateway/check");
    assert_eq!(
        check.header("x-original-uri"),
        Some("/orders?subscription-key=good&page=2")
    );

    // A POST is checked with a GET and no body; the API gets the body.
    let r = c
        .post(nginx.url("/orders"))
        .header("Ocp-Apim-Subscription-Key", "good")
        .body("{\"qty\": 3}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", log());
    let check = portal.requests().pop().unwrap();
    assert_eq!(check.method, "GET");
    assert_eq!(check.header("content-length"), None);
    let seen = api.requests().pop().unwrap();
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-length"), Some("10"));

    // No key, a refused key: Portal's answer, and the API never hears of it.
    let reached = api.requests().len();
    let r = c.get(nginx.url("/orders")).send().await.unwrap();
    assert_eq!(r.status(), 401, "{}", log());
    let r = c
        .get(nginx.url("/orders"))
        .header("Ocp-Apim-Subscription-Key", "bad")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "{}", log());
    let r = c
        .get(nginx.url("/orders?subscription-key=bad"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "{}", log());
    assert_eq!(api.requests().len(), reached);

    // The check location is not reachable from outside.
    let r = c
        .get(nginx.url("/_portal_check"))
        .header("Ocp-Apim-Subscription-Key", "good")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "{}", log());
}
