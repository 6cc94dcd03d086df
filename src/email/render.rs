//! Turns a template's subject and body plus the values of its placeholders
//! into a message's subject, plain-text part and HTML part (SPEC E1).
//!
//! - Subject: values as they are, then every line break or other control
//!   character becomes a space (no header injection, S-15).
//! - Text part: values as they are.
//! - HTML part: the body's text and every value HTML-escaped; the `link`
//!   value becomes an `<a href>`; blank lines separate paragraphs. Wrapped in
//!   `templates/email/layout.html`.

use askama::Template;

use crate::domain::email_template::{EmailTemplate, Segment, parse_segments};

/// A message ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The HTML of the body alone, without the layout (for the console's preview).
    pub html_content: String,
}

#[derive(Template)]
#[template(path = "email/layout.html")]
struct Layout<'a> {
    subject: &'a str,
    portal_name: &'a str,
    content: &'a str,
}

/// Renders `subject` and `body` of `template` with `vars` (placeholder name →
/// raw value). A placeholder without a value renders empty; a stored text
/// that no longer parses is shown as it is (it was checked when saved).
pub fn render(
    template: EmailTemplate,
    subject: &str,
    body: &str,
    vars: &[(&str, &str)],
) -> Rendered {
    let value = |name: &str| -> &str {
        match vars.iter().find(|(k, _)| *k == name) {
            Some((_, v)) => v,
            None => {
                tracing::warn!(
                    template = template.as_str(),
                    placeholder = name,
                    "email placeholder has no value; left empty"
                );
                ""
            }
        }
    };
    let segments =
        |s: &str| parse_segments(s, None).unwrap_or_else(|_| vec![Segment::Text(s.to_owned())]);

    let mut subject_out = String::new();
    for seg in segments(subject) {
        match seg {
            Segment::Text(t) => subject_out.push_str(&t),
            Segment::Placeholder(p) => subject_out.push_str(value(&p)),
        }
    }
    let subject_out = one_line(&subject_out);

    let mut text = String::new();
    let mut html = String::new();
    for seg in segments(body) {
        match seg {
            Segment::Text(t) => {
                text.push_str(&t);
                html.push_str(&escape_html(&t));
            }
            Segment::Placeholder(p) => {
                let v = value(&p);
                text.push_str(v);
                if p == "link" && (v.starts_with("https://") || v.starts_with("http://")) {
                    let v = escape_html(v);
                    html.push_str(&format!("<a href=\"{v}\">{v}</a>"));
                } else {
                    html.push_str(&escape_html(v));
                }
            }
        }
    }
    let html_content = paragraphs(&html);
    let portal_name = vars
        .iter()
        .find(|(k, _)| *k == "portal_name")
        .map_or("Portal", |(_, v)| v);
    let html = Layout {
        subject: &subject_out,
        portal_name,
        content: &html_content,
    }
    .render()
    .unwrap_or_else(|_| html_content.clone());
    Rendered {
        subject: subject_out,
        text,
        html,
        html_content,
    }
}

/// A header value: control characters (CR and LF above all) become spaces.
pub fn one_line(s: &str) -> String {
    let mapped: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    mapped.trim().to_owned()
}

pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped text with line breaks → paragraphs (blank lines) and `<br>`.
fn paragraphs(escaped: &str) -> String {
    escaped
        .split("\n\n")
        .map(|p| p.trim_matches('\n'))
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", p.replace('\n', "<br>\n")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const VARS: &[(&str, &str)] = &[
        ("first_name", "<script>alert(1)</script>"),
        ("last_name", "O'Neil & Sons"),
        ("portal_name", "Acme"),
        ("link", "https://portal.example/accept/abc?x=1&y=\"2\""),
    ];

    #[test]
    fn text_is_raw_and_html_is_escaped() {
        let r = render(
            EmailTemplate::Invitation,
            "Hi {first_name}",
            "Dear {first_name} {last_name},\n\nOpen {link}\nnow.\n\n\n{{braces}} <b>",
            VARS,
        );
        assert!(
            r.text
                .contains("Dear <script>alert(1)</script> O'Neil & Sons,")
        );
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(
            r.html
                .contains("&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil &amp; Sons")
        );
        assert!(
            r.html
                .contains("<a href=\"https://portal.example/accept/abc?x=1&amp;y=&quot;2&quot;\">")
        );
        assert!(
            r.html_content.contains("<br>\nnow.</p>"),
            "{}",
            r.html_content
        );
        assert!(
            r.html_content.contains("<p>{braces} &lt;b&gt;</p>"),
            "{}",
            r.html_content
        );
        assert!(
            r.html.contains("<title>Hi &#60;script&#62;"),
            "the layout escapes the subject: {}",
            r.html
        );
    }

    #[test]
    fn subject_never_carries_line_breaks() {
        let r = render(
            EmailTemplate::Invitation,
            "Hi {first_name}",
            "x",
            &[("first_name", "Ann\r\nBcc: evil@example.org")],
        );
        assert_eq!(r.subject, "Hi Ann  Bcc: evil@example.org");
    }

    #[test]
    fn a_missing_value_renders_empty() {
        let r = render(EmailTemplate::Invitation, "{expires}", "a{expires}b", &[]);
        assert_eq!(r.subject, "");
        assert_eq!(r.text, "ab");
    }

    #[test]
    fn only_web_links_become_anchors() {
        let r = render(
            EmailTemplate::Invitation,
            "s",
            "{link}",
            &[("link", "javascript:alert(1)")],
        );
        assert!(!r.html.contains("<a "), "{}", r.html);
    }
}
