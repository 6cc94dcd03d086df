//! S-24: request limits. A form body over 64 KiB is refused with 413
//! before it is read whole, with or without a `Content-Length`; long URLs
//! and large headers are refused too, each with a page.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;
use crate::process::PortalProcess;

/// The server's resident set, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Sends a chunked POST of up to `total` bytes to `path` and returns the
/// status line of the answer, which may come before the body is done.
async fn chunked_upload(address: &str, path: &str, total: usize) -> String {
    let host = address.trim_start_matches("http://");
    let stream = TcpStream::connect(host).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            let frame = format!("{:x}\r\n", chunk.len());
            if wr.write_all(frame.as_bytes()).await.is_err()
                || wr.write_all(&chunk).await.is_err()
                || wr.write_all(b"\r\n").await.is_err()
            {
                return sent;
            }
            sent += chunk.len();
        }
        let _ = wr.write_all(b"0\r\n\r\n").await;
        sent
    });
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        let n = rd.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed without an answer");
        answer.extend_from_slice(&buf[..n]);
    }
    // actix reads and drops whatever else the client sends for at most its
    // client-disconnect timeout (1 s) so the answer is not lost to a
    // reset, then closes: nothing of it is kept.
    writer.await.unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn oversized_forms_get_413_quickly_and_cost_no_memory() {
    let dir = tempfile::tempdir().unwrap();
    let db = fresh_database_url(dir.path()).await;
    let portal = PortalProcess::start(&[
        ("DATA_DIR", dir.path().to_str().unwrap()),
        ("DATABASE_URL", &db),
    ])
    .await
    .unwrap();
    let pid = portal.child.id().unwrap();
    let c = browser();
    // Warm up: the first requests allocate what every request reuses.
    for _ in 0..3 {
        c.get(format!("{}/sign-in", portal.address))
            .send()
            .await
            .unwrap();
    }
    let before = rss_kib(pid);

    let started = Instant::now();
    let big = "a".repeat(100 * 1024);
    let r = c
        .post(format!("{}/sign-in", portal.address))
        .form(&[("email", big.as_str()), ("password", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        r.text().await.unwrap().contains("64 KiB"),
        "a plain page says why"
    );

    for path in ["/sign-in", "/admin/sign-in", "/sign-up"] {
        let status = chunked_upload(&portal.address, path, 50 * 1024 * 1024).await;
        assert!(status.contains("413"), "{path}: {status}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 8 * 1024, "the server grew by {grown} KiB");
}

#[tokio::test]
async fn long_urls_and_large_headers_get_a_page() {
    let app = spawn_app().await;
    let c = browser();
    let r = app
        .get(&c, &format!("/products?q={}", "a".repeat(9 * 1024)))
        .await;
    assert_eq!(r.status(), StatusCode::URI_TOO_LONG);
    let r = c
        .get(app.url("/"))
        .header("x-padding", "a".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    // A form just under the limit is read (and refused for its token).
    let r = c
        .post(app.url("/sign-in"))
        .form(&[("email", "a".repeat(60 * 1024))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}
