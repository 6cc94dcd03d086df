//! A real SMTP server on 127.0.0.1 for the email tests: speaks enough of RFC
//! 5321 for lettre (greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT),
//! records what it receives, and can misbehave on purpose: refuse
//! permanently (550), defer (451), or accept connections and never answer.
//! It can be stopped (connections refused) and started again on the same port.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Accepts every message.
    Normal,
    /// Answers RCPT TO with 550 (permanent failure).
    Reject,
    /// Answers RCPT TO with 451 (transient failure).
    Defer,
    /// Accepts the connection and never says anything.
    Hang,
}

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA, dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Default)]
struct Shared {
    mode: Mutex<Option<Mode>>,
    received: Mutex<Vec<Received>>,
    connections: AtomicUsize,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl SmtpServer {
    pub async fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        *shared.mode.lock().unwrap() = Some(mode);
        let mut server = Self {
            addr,
            shared,
            accept: None,
        };
        server.serve(listener);
        server
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, as `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// Closes the port and every open connection: connections are refused.
    pub fn stop(&mut self) {
        if let Some(t) = self.accept.take() {
            t.abort();
        }
        for t in self.shared.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Listens again on the same port.
    pub async fn restart(&mut self) {
        self.stop();
        // Give aborted tasks a moment to drop their sockets.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(64).unwrap();
        self.serve(listener);
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = self.shared.clone();
        self.accept = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                shared.connections.fetch_add(1, Ordering::SeqCst);
                let s = shared.clone();
                let task = tokio::spawn(async move {
                    let _ = session(stream, s).await;
                });
                shared.tasks.lock().unwrap().push(task);
            }
        }));
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` messages arrived; panics after `within`.
    pub async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} message(s) within {within:?}, got {}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn session(stream: TcpStream, shared: Arc<Shared>) -> std::io::Result<()> {
    let mode = || shared.mode.lock().unwrap().unwrap_or(Mode::Normal);
    if mode() == Mode::Hang {
        // Hold the connection open and say nothing, ever.
        let _keep = stream;
        std::future::pending::<()>().await;
        return Ok(());
    }
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write
        .write_all(b"220 localhost test SMTP ready\r\n")
        .await?;
    let mut from = String::new();
    let mut rcpt: Vec<String> = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        let upper = text.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            b"250 localhost\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address_in(&text);
            rcpt.clear();
            b"250 2.1.0 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            match mode() {
                Mode::Reject => b"550 5.1.1 No such mailbox here\r\n",
                Mode::Defer => b"451 4.3.0 Try again later\r\n",
                _ => {
                    rcpt.push(address_in(&text));
                    b"250 2.1.5 OK\r\n"
                }
            }
        } else if upper == "DATA" {
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            let mut data = String::new();
            loop {
                line.clear();
                if reader.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                let l = String::from_utf8_lossy(&line).into_owned();
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            shared.received.lock().unwrap().push(Received {
                mail_from: std::mem::take(&mut from),
                rcpt_to: std::mem::take(&mut rcpt),
                data,
            });
            b"250 2.0.0 OK queued\r\n"
        } else if upper == "RSET" {
            from.clear();
            rcpt.clear();
            b"250 2.0.0 OK\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 5.5.2 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// `MAIL FROM:<a@b.c> BODY=8BITMIME` → `a@b.c`.
fn address_in(line: &str) -> String {
    match (line.find('<'), line.find('>')) {
        (Some(a), Some(b)) if a < b => line[a + 1..b].to_owned(),
        _ => String::new(),
    }
}

// ---- reading what arrived ------------------------------------------------------------

/// A received message, taken apart: headers (unfolded) and the decoded
/// plain-text and HTML parts.
#[derive(Debug, Clone)]
pub struct Mail {
    pub headers: Vec<(String, String)>,
    pub text: String,
    pub html: String,
    pub content_type: String,
}

impl Mail {
    pub fn parse(data: &str) -> Self {
        let (headers, body) = split_head(data);
        let content_type = header_in(&headers, "content-type").unwrap_or_default();
        let mut mail = Self {
            headers: headers.clone(),
            text: String::new(),
            html: String::new(),
            content_type: content_type.clone(),
        };
        if let Some(boundary) = boundary_of(&content_type) {
            let delimiter = format!("--{boundary}");
            for part in body.split(&delimiter).skip(1) {
                if part.starts_with("--") {
                    break;
                }
                let part = part.trim_start_matches(['\r', '\n']);
                let (ph, pb) = split_head(part);
                let ct = header_in(&ph, "content-type").unwrap_or_default();
                let cte = header_in(&ph, "content-transfer-encoding").unwrap_or_default();
                let decoded = decode(pb.trim_end_matches(['\r', '\n']), &cte);
                if ct.starts_with("text/plain") {
                    mail.text = decoded;
                } else if ct.starts_with("text/html") {
                    mail.html = decoded;
                }
            }
        } else {
            let cte = header_in(&headers, "content-transfer-encoding").unwrap_or_default();
            mail.text = decode(body, &cte);
        }
        mail
    }

    pub fn header(&self, name: &str) -> String {
        header_in(&self.headers, name).unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        self.header("subject")
    }
}

fn split_head(s: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = s
        .split_once("\r\n\r\n")
        .or_else(|| s.split_once("\n\n"))
        .unwrap_or((s, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    (headers, body)
}

fn header_in(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

fn boundary_of(content_type: &str) -> Option<String> {
    let at = content_type.find("boundary=")?;
    let rest = &content_type[at + "boundary=".len()..];
    let value = rest.split(';').next().unwrap_or(rest).trim();
    Some(value.trim_matches('"').to_owned())
}

fn decode(body: &str, encoding: &str) -> String {
    match encoding.to_ascii_lowercase().as_str() {
        "base64" => {
            let compact: String = body.split_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
                .expect("valid base64");
            String::from_utf8(bytes).expect("UTF-8 text")
        }
        "quoted-printable" => decode_qp(body),
        _ => body.replace("\r\n", "\n"),
    }
}

fn decode_qp(body: &str) -> String {
    let joined = body.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .expect("UTF-8 text")
        .replace("\r\n", "\n")
}
