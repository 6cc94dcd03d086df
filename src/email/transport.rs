//! Where messages go (SPEC R1, R2, SECURITY S-19): an SMTP server when
//! `SMTP_URL` is set, else `.eml` files under `<data_dir>/outbox/` for
//! developers, with a log line naming the file and the message's links
//! with their secret part redacted (S-17).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::settings::MailSettings;
use crate::config::Settings;
use crate::store::outbox;

/// How one delivery attempt ended badly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again later: a 4xx answer, a timeout, a refused or
    /// dropped connection.
    Transient(String),
    /// Will not work by retrying: a 5xx answer, or a message that cannot be
    /// built (a bad address).
    Permanent(String),
}

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl Transport {
    /// SMTP from the URL (`smtp://host:port` plain, `smtp://host?tls=required`
    /// STARTTLS, `smtps://host` TLS; `user:pass@` for authentication), or
    /// files when there is none.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        match &settings.smtp_url {
            Some(url) => Ok(Self::Smtp(smtp_transport(
                url,
                settings.timeouts.mail_send.min(Duration::from_secs(10)),
            )?)),
            None => Ok(Self::Files(settings.data_dir.join("outbox"))),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(_) => "SMTP server (SMTP_URL)".into(),
            Self::Files(dir) => format!("files in {}", dir.display()),
        }
    }

    /// One attempt, without a timeout of its own (the worker adds it).
    pub async fn send(&self, m: &outbox::Message, sender: &MailSettings) -> Result<(), SendError> {
        let message = build_message(m, sender).map_err(SendError::Permanent)?;
        match self {
            Self::Smtp(smtp) => smtp.send(message).await.map(|_| ()).map_err(classify),
            Self::Files(dir) => {
                let path = dir.join(format!("{}.eml", m.id));
                let bytes = message.formatted();
                let target = path.clone();
                let written =
                    tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
                        .await
                        .map_err(|e| {
                            SendError::Transient(format!("writing the file failed: {e}"))
                        })?;
                written.map_err(|e| {
                    SendError::Transient(format!("cannot write {}: {e}", path.display()))
                })?;
                tracing::info!(
                    outbox_id = m.id,
                    template = %m.template,
                    to_domain = %domain_of(&m.to_address),
                    subject = %m.subject,
                    file = %path.display(),
                    links = %links_in(&m.text_body).iter().map(|l| redact_link(l)).collect::<Vec<_>>().join(" "),
                    "email written to a file (no SMTP_URL is set); open the file for the full link"
                );
                Ok(())
            }
        }
    }
}

/// lettre's async SMTP transport from a URL, without a connection pool.
pub fn smtp_transport(
    url: &str,
    connect_timeout: Duration,
) -> anyhow::Result<AsyncSmtpTransport<Tokio1Executor>> {
    Ok(AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .context(
            "SMTP_URL must look like smtp://host:25, smtp://user:pass@host:587?tls=required or smtps://host:465",
        )?
        // Covers the connection only; every send is also wrapped in the
        // worker's own timeout (S-19).
        .timeout(Some(connect_timeout))
        .build())
}

fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("eml.tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// SMTP 5xx is permanent; everything else (4xx, timeouts, refused or dropped
/// connections, TLS trouble) may pass.
fn classify(e: lettre::transport::smtp::Error) -> SendError {
    let text = short(&error_chain(&e));
    if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

/// The error with its causes, as one line.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// At most 500 characters on one line: what the log page shows.
pub fn short(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(500)
        .collect();
    one.trim().to_owned()
}

/// The lettre message: From the settings, To the recipient, a stable
/// Message-ID per outbox row (a resend after a crash is recognisable as the
/// same message), plain text and HTML as multipart/alternative.
pub fn build_message(m: &outbox::Message, sender: &MailSettings) -> Result<Message, String> {
    let from_address = sender.from_address.parse().map_err(|e| {
        format!(
            "the sender address {:?} is not valid: {e}",
            sender.from_address
        )
    })?;
    let to_address = m
        .to_address
        .parse()
        .map_err(|e| format!("the recipient address is not valid: {e}"))?;
    let name = |s: &str| {
        let s = super::render::one_line(s);
        (!s.is_empty()).then_some(s)
    };
    let from = Mailbox::new(name(&sender.from_name), from_address);
    let to = Mailbox::new(name(&m.to_name), to_address);
    let message_id = format!(
        "<outbox-{}-{}@{}>",
        m.id,
        m.created_at,
        domain_of(&sender.from_address)
    );
    Message::builder()
        .from(from)
        .to(to)
        .subject(super::render::one_line(&m.subject))
        .message_id(Some(message_id))
        .multipart(MultiPart::alternative_plain_html(
            m.text_body.clone(),
            m.html_body.clone(),
        ))
        .map_err(|e| format!("the message cannot be built: {e}"))
}

/// The part of an address after the `@`: what logs may name of a recipient.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

/// The web links in a text.
pub fn links_in(text: &str) -> Vec<&str> {
    text.split_whitespace()
        .filter(|w| w.starts_with("https://") || w.starts_with("http://"))
        .map(|w| w.trim_end_matches(['.', ',', ';', ')', '>', '"', '\'']))
        .collect()
}

/// A link fit for a log (S-17): the query and every token-like path segment
/// (16 or more letters, digits, `-` or `_`) become `[redacted]`.
/// `https://portal.example/invitations/Zm9v…` → `https://portal.example/invitations/[redacted]`.
pub fn redact_link(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let (before_query, query) = match rest.split_once(['?', '#']) {
        Some((b, _)) => (b, true),
        None => (rest, false),
    };
    let mut parts = before_query.split('/');
    let host = parts.next().unwrap_or("");
    let mut out = format!("{scheme}://{host}");
    for seg in parts {
        out.push('/');
        let token_like = seg.len() >= 16
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        out.push_str(if token_like { "[redacted]" } else { seg });
    }
    if query {
        out.push_str("?[redacted]");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_tokens_and_queries() {
        assert_eq!(
            redact_link(
                "https://p.example/invitations/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcde"
            ),
            "https://p.example/invitations/[redacted]"
        );
        assert_eq!(
            redact_link("http://127.0.0.1:8080/reset?token=abc"),
            "http://127.0.0.1:8080/reset?[redacted]"
        );
        assert_eq!(
            redact_link("https://p.example/sign-in"),
            "https://p.example/sign-in"
        );
    }

    #[test]
    fn smtp_urls_of_every_kind_build() {
        let t = Duration::from_secs(5);
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:p%40ss@mail.example.org:587?tls=required",
            "smtps://mail.example.org",
        ] {
            smtp_transport(url, t).unwrap_or_else(|e| panic!("{url}: {e:#}"));
        }
        for bad in ["http://mail.example.org", "smtp://", "not a url"] {
            assert!(smtp_transport(bad, t).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn finds_links() {
        assert_eq!(
            links_in("Open https://a.example/x.\nor (http://b.example/y)"),
            ["https://a.example/x"]
        );
        assert_eq!(domain_of("ann@Example.org"), "Example.org");
    }

    #[test]
    fn builds_a_multipart_message_with_a_stable_id() {
        let m = outbox::Message {
            id: 7,
            template: "invitation".into(),
            to_address: "ann@example.org".into(),
            to_name: "Ann Lee".into(),
            subject: "Hello".into(),
            text_body: "Hi".into(),
            html_body: "<p>Hi</p>".into(),
            attempts: 1,
            created_at: 1000,
            queued_at: 1000,
        };
        let sender = MailSettings {
            from_name: "Acme".into(),
            from_address: "apis@acme.test".into(),
            portal_name: "Acme".into(),
        };
        let raw = String::from_utf8(build_message(&m, &sender).unwrap().formatted()).unwrap();
        assert!(raw.contains("From: Acme <apis@acme.test>"), "{raw}");
        assert!(
            raw.contains("To: \"Ann Lee\" <ann@example.org>")
                || raw.contains("To: Ann Lee <ann@example.org>"),
            "{raw}"
        );
        assert!(
            raw.contains("Message-ID: <outbox-7-1000@acme.test>"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        let bad = MailSettings {
            from_address: "nope".into(),
            ..sender
        };
        assert!(build_message(&m, &bad).is_err());
    }
}
