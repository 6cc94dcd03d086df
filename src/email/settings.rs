//! The sender and the portal's name (SPEC E2): editable settings in the
//! `settings` table, defaulting to `MAIL_FROM` and "Portal".

use crate::config::Settings;
use crate::store::email_templates::{
    self as stored, MAIL_FROM_ADDRESS, MAIL_FROM_NAME, PORTAL_NAME,
};

pub const DEFAULT_PORTAL_NAME: &str = "Portal";

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MailSettings {
    pub from_name: String,
    pub from_address: String,
    pub portal_name: String,
}

impl MailSettings {
    /// What applies while nothing is stored: `MAIL_FROM` (`Name <address>`
    /// or a bare address) and "Portal".
    pub fn defaults(settings: &Settings) -> Self {
        let (name, address) = split_mailbox(&settings.mail_from);
        Self {
            from_name: name.unwrap_or_else(|| DEFAULT_PORTAL_NAME.to_owned()),
            from_address: address,
            portal_name: DEFAULT_PORTAL_NAME.to_owned(),
        }
    }

    /// The stored values over the defaults.
    pub async fn load<'c>(
        e: impl crate::store::Exec<'c>,
        settings: &Settings,
    ) -> Result<Self, sqlx::Error> {
        let mut s = Self::defaults(settings);
        for (key, value) in stored::settings(e).await? {
            match key.as_str() {
                MAIL_FROM_NAME => s.from_name = value,
                MAIL_FROM_ADDRESS => s.from_address = value,
                PORTAL_NAME => s.portal_name = value,
                _ => {}
            }
        }
        Ok(s)
    }
}

/// `Portal <portal@example.org>` → (Some("Portal"), "portal@example.org");
/// `portal@example.org` → (None, "portal@example.org").
pub fn split_mailbox(s: &str) -> (Option<String>, String) {
    let s = s.trim();
    if let Some(open) = s.rfind('<')
        && s.ends_with('>')
    {
        let name = s[..open].trim().trim_matches('"').trim();
        let address = s[open + 1..s.len() - 1].trim().to_owned();
        return ((!name.is_empty()).then(|| name.to_owned()), address);
    }
    (None, s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_mail_from() {
        assert_eq!(
            split_mailbox("Portal <portal@localhost>"),
            (Some("Portal".into()), "portal@localhost".into())
        );
        assert_eq!(
            split_mailbox("\"Acme APIs\" <apis@acme.test>"),
            (Some("Acme APIs".into()), "apis@acme.test".into())
        );
        assert_eq!(split_mailbox(" x@y.z "), (None, "x@y.z".into()));
    }
}
