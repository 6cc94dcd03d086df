//! Email templates (SPEC E1): which messages the portal sends, which named
//! placeholders each may use, and the parsing of an administrator's edited
//! subject or body into text and placeholders.
//!
//! Syntax: `{first_name}` is replaced by a value; `{{` and `}}` stand for a
//! literal brace. Any other brace, or a placeholder the template does not
//! offer, is refused with a message that names it.

use std::fmt;

/// The messages the portal sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmailTemplate {
    Invitation,
    PasswordReset,
    SignupConfirmation,
    AccountCreated,
    SubscriptionApproved,
    SubscriptionRejected,
    /// To administrators (R5): a request waits for their approval.
    AdminSubscriptionRequested,
    /// To administrators (R5): someone signed up.
    AdminSignedUp,
    /// To administrators (R5): a message was given up.
    AdminEmailFailed,
    /// To administrators (R5): a developer closed their own account.
    AdminAccountClosed,
}

/// The placeholders every template offers. `portal_name` and `email` (the
/// recipient's address) are filled in by `services::mail::queue` itself;
/// callers pass `first_name`, `last_name` and `link`.
pub const COMMON_PLACEHOLDERS: [&str; 5] =
    ["first_name", "last_name", "email", "portal_name", "link"];

/// The product's name: offered by the templates about a subscription.
pub const PRODUCT: &str = "product";

/// How long a link stays valid, in words ("48 hours"): offered by the
/// templates whose link expires, when the caller passes it.
pub const EXPIRES: &str = "expires";

/// The developer's address: offered by the messages to administrators,
/// which are about someone else.
pub const ACCOUNT: &str = "account";

impl EmailTemplate {
    pub const ALL: [Self; 10] = [
        Self::Invitation,
        Self::PasswordReset,
        Self::SignupConfirmation,
        Self::AccountCreated,
        Self::SubscriptionApproved,
        Self::SubscriptionRejected,
        Self::AdminSubscriptionRequested,
        Self::AdminSignedUp,
        Self::AdminEmailFailed,
        Self::AdminAccountClosed,
    ];

    /// The name in URLs and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::PasswordReset => "password_reset",
            Self::SignupConfirmation => "signup_confirmation",
            Self::AccountCreated => "account_created",
            Self::SubscriptionApproved => "subscription_approved",
            Self::SubscriptionRejected => "subscription_rejected",
            Self::AdminSubscriptionRequested => "admin_subscription_requested",
            Self::AdminSignedUp => "admin_signed_up",
            Self::AdminEmailFailed => "admin_email_failed",
            Self::AdminAccountClosed => "admin_account_closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The name people read.
    pub fn label(self) -> &'static str {
        match self {
            Self::Invitation => "Invitation",
            Self::PasswordReset => "Password reset",
            Self::SignupConfirmation => "Sign-up confirmation",
            Self::AccountCreated => "Account created",
            Self::SubscriptionApproved => "Subscription approved",
            Self::SubscriptionRejected => "Subscription rejected",
            Self::AdminSubscriptionRequested => "To administrators: subscription request",
            Self::AdminSignedUp => "To administrators: new sign-up",
            Self::AdminEmailFailed => "To administrators: a message failed",
            Self::AdminAccountClosed => "To administrators: an account was closed",
        }
    }

    /// When the portal sends it.
    pub fn description(self) -> &'static str {
        match self {
            Self::Invitation => {
                "Sent when an administrator invites someone; the link accepts the invitation."
            }
            Self::PasswordReset => {
                "Sent when a password reset is requested; the link chooses a new password."
            }
            Self::SignupConfirmation => {
                "Sent after someone signs up on the developer portal; the link confirms the address."
            }
            Self::AccountCreated => {
                "Sent, if asked for, when an administrator adds a user; the link leads to sign-in."
            }
            Self::SubscriptionApproved => {
                "Sent when an administrator approves a subscription; the link leads to My subscriptions."
            }
            Self::SubscriptionRejected => {
                "Sent when an administrator rejects a subscription request; the link leads to the portal."
            }
            Self::AdminSubscriptionRequested => {
                "Sent to the administrators chosen on the Notifications page when a developer asks to subscribe to a product that needs approval; the link leads to the request."
            }
            Self::AdminSignedUp => {
                "Sent to the administrators chosen on the Notifications page when someone signs up on the developer portal; the link leads to the account."
            }
            Self::AdminEmailFailed => {
                "Sent to the administrators chosen on the Notifications page when a message to {account} is given up; the link leads to the Email log, where it can be retried."
            }
            Self::AdminAccountClosed => {
                "Sent to the administrators chosen on the Notifications page when a developer closes their own account on the developer portal; the link leads to the audit log's entries about it."
            }
        }
    }

    /// Whether its link expires (and so whether `{expires}` is offered).
    pub fn link_expires(self) -> bool {
        matches!(
            self,
            Self::Invitation | Self::PasswordReset | Self::SignupConfirmation
        )
    }

    /// Whether the message is about a subscription (and so offers `{product}`).
    pub fn about_subscription(self) -> bool {
        matches!(
            self,
            Self::SubscriptionApproved
                | Self::SubscriptionRejected
                | Self::AdminSubscriptionRequested
        )
    }

    /// Whether it goes to an administrator about a developer (and so offers
    /// `{account}`).
    pub fn to_administrators(self) -> bool {
        matches!(
            self,
            Self::AdminSubscriptionRequested
                | Self::AdminSignedUp
                | Self::AdminEmailFailed
                | Self::AdminAccountClosed
        )
    }

    /// Every placeholder this template may use.
    pub fn placeholders(self) -> Vec<&'static str> {
        let mut all = COMMON_PLACEHOLDERS.to_vec();
        if self.link_expires() {
            all.push(EXPIRES);
        }
        if self.about_subscription() {
            all.push(PRODUCT);
        }
        if self.to_administrators() {
            all.push(ACCOUNT);
        }
        all
    }

    pub fn allows(self, name: &str) -> bool {
        COMMON_PLACEHOLDERS.contains(&name)
            || (self.link_expires() && name == EXPIRES)
            || (self.about_subscription() && name == PRODUCT)
            || (self.to_administrators() && name == ACCOUNT)
    }
}

impl fmt::Display for EmailTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Placeholder(String),
}

/// Splits `input` into text and placeholders. Unknown placeholders are
/// refused when `template` is given; braces that form no placeholder are
/// always refused.
pub fn parse_segments(
    input: &str,
    template: Option<EmailTemplate>,
) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut chars = input.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|&(_, n)| n) == Some('{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek().map(|&(_, n)| n) == Some('}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let rest = &input[i + 1..];
                let end = rest.find('}').filter(|&e| {
                    e > 0
                        && rest[..e]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_')
                });
                let Some(end) = end else {
                    return Err(
                        "A { must start a placeholder such as {first_name}; write {{ for a brace itself."
                            .into(),
                    );
                };
                let name = &rest[..end];
                if let Some(t) = template
                    && !t.allows(name)
                {
                    let shown = format!("{{{name}}}");
                    if !unknown.contains(&shown) {
                        unknown.push(shown);
                    }
                }
                if !text.is_empty() {
                    out.push(Segment::Text(std::mem::take(&mut text)));
                }
                out.push(Segment::Placeholder(name.to_owned()));
                // Skip the name and its closing brace.
                for _ in 0..=rest[..end].chars().count() {
                    chars.next();
                }
            }
            '}' => {
                return Err(
                    "A } must end a placeholder such as {first_name}; write }} for a brace itself."
                        .into(),
                );
            }
            c => text.push(c),
        }
    }
    if !unknown.is_empty() {
        let t = template.expect("unknown placeholders only with a template");
        let known = t
            .placeholders()
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(format!(
            "Unknown placeholder{} {}. This template can use {known}.",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        ));
    }
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    Ok(out)
}

/// An edited subject and body, checked (E1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateText {
    pub subject: String,
    pub body: String,
}

impl TemplateText {
    pub const SUBJECT_MAX: usize = 200;
    pub const BODY_MAX: usize = 20_000;

    /// Checks both fields at once; errors are keyed `subject` and `body`.
    pub fn parse(
        template: EmailTemplate,
        subject: &str,
        body: &str,
    ) -> Result<Self, Vec<super::FieldError>> {
        let mut errors = super::FieldErrors::default();
        let subject = subject.trim();
        let subject_check = if subject.is_empty() {
            Err("Enter a subject.".to_owned())
        } else if subject.chars().count() > Self::SUBJECT_MAX {
            Err(format!(
                "A subject has at most {} characters.",
                Self::SUBJECT_MAX
            ))
        } else if subject.chars().any(char::is_control) {
            Err(
                "A subject is one line: it cannot contain line breaks or control characters."
                    .into(),
            )
        } else {
            parse_segments(subject, Some(template)).map(|_| ())
        };
        errors.take("subject", subject_check);
        // Line endings as a browser sends them (CRLF) become LF.
        let body = body.replace("\r\n", "\n").replace('\r', "\n");
        let body = body.trim_end();
        let body_check = if body.trim().is_empty() {
            Err("Enter the message.".to_owned())
        } else if body.chars().count() > Self::BODY_MAX {
            Err(format!(
                "A message has at most {} characters.",
                Self::BODY_MAX
            ))
        } else if body
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            Err("The message cannot contain control characters.".into())
        } else {
            parse_segments(body, Some(template)).map(|_| ())
        };
        errors.take("body", body_check);
        if errors.is_empty() {
            Ok(Self {
                subject: subject.to_owned(),
                body: body.to_owned(),
            })
        } else {
            Err(errors.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(name: &str) -> Segment {
        Segment::Placeholder(name.into())
    }

    fn t(s: &str) -> Segment {
        Segment::Text(s.into())
    }

    #[test]
    fn names_round_trip() {
        for t in EmailTemplate::ALL {
            assert_eq!(EmailTemplate::parse(t.as_str()), Some(t));
        }
        assert_eq!(EmailTemplate::parse("nope"), None);
    }

    #[test]
    fn splits_text_and_placeholders() {
        assert_eq!(
            parse_segments(
                "Hi {first_name}, see {link}.",
                Some(EmailTemplate::Invitation)
            )
            .unwrap(),
            vec![t("Hi "), p("first_name"), t(", see "), p("link"), t(".")]
        );
        assert_eq!(
            parse_segments("{{literal}} {portal_name}", Some(EmailTemplate::Invitation)).unwrap(),
            vec![t("{literal} "), p("portal_name")]
        );
    }

    #[test]
    fn refuses_unknown_placeholders_by_name() {
        let e = parse_segments(
            "Hi {nickname} {shoe_size} {nickname}",
            Some(EmailTemplate::AccountCreated),
        )
        .unwrap_err();
        assert!(e.contains("{nickname}, {shoe_size}"), "{e}");
        assert_eq!(e.matches("{nickname}").count(), 1, "{e}");
        assert!(e.contains("{first_name}"), "lists the known ones: {e}");
        // `expires` only where the link expires.
        assert!(parse_segments("{expires}", Some(EmailTemplate::AccountCreated)).is_err());
        assert!(parse_segments("{expires}", Some(EmailTemplate::Invitation)).is_ok());
    }

    #[test]
    fn refuses_stray_braces() {
        for bad in ["{", "a } b", "{first name}", "{}", "{first_name"] {
            assert!(
                parse_segments(bad, Some(EmailTemplate::Invitation)).is_err(),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn checks_subject_and_body() {
        let ok = TemplateText::parse(
            EmailTemplate::Invitation,
            " Hi {first_name} ",
            "Body\r\nline\r\n\r\n",
        )
        .unwrap();
        assert_eq!(ok.subject, "Hi {first_name}");
        assert_eq!(ok.body, "Body\nline");
        let errs = TemplateText::parse(EmailTemplate::Invitation, "a\nb", "").unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["subject", "body"]);
    }

    proptest! {
        #[test]
        fn text_without_braces_is_one_text_segment(s in "[^{}]{1,60}") {
            prop_assert_eq!(parse_segments(&s, None).unwrap(), vec![Segment::Text(s.clone())]);
        }

        #[test]
        fn never_panics(s in "\\PC{0,60}") {
            let _ = parse_segments(&s, Some(EmailTemplate::Invitation));
        }
    }
}
