//! Groups (SPEC G1, G2).

pub const ADMINISTRATORS: &str = "administrators";
pub const DEVELOPERS: &str = "developers";
pub const GUESTS: &str = "guests";

pub fn is_system(id: &str) -> bool {
    matches!(id, ADMINISTRATORS | DEVELOPERS | GUESTS)
}

/// G1: `system`, `custom` or `external`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    System,
    Custom,
    External,
}

impl GroupKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "system" => Some(Self::System),
            "custom" => Some(Self::Custom),
            "external" => Some(Self::External),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::System => "system",
            Self::Custom => "custom",
            Self::External => "external",
        }
    }

    /// G2: fixed, never edited, renamed, deleted or given members by hand.
    pub fn is_system(self) -> bool {
        self == Self::System
    }

    /// G3, G4: the only kind whose name, description and members an
    /// administrator edits (system groups are fixed, external ones follow
    /// their identity provider, G7).
    pub fn is_edited_by_hand(self) -> bool {
        self == Self::Custom
    }

    /// G3, G7: whose display name and description an administrator
    /// writes: custom groups, and external ones (their members still
    /// follow the provider).
    pub fn is_described_by_hand(self) -> bool {
        self != Self::System
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::System => "System",
            Self::Custom => "Custom",
            Self::External => "External",
        }
    }
}

stored_as_words!(GroupKind);

/// G2: whom a group holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Developers: every account, without a membership row.
    Everyone,
    /// Guests: it stands for visitors who are not signed in.
    Nobody,
    /// Every other group: the accounts with a membership row.
    Members,
}

pub fn holds(id: &str) -> Holds {
    match id {
        DEVELOPERS => Holds::Everyone,
        GUESTS => Holds::Nobody,
        _ => Holds::Members,
    }
}

/// G2: how many groups an account is in, counting Developers, which every
/// account is in without a membership row.
pub fn count_with_developers(explicit: i64) -> i64 {
    explicit + 1
}

/// A group's display name: required, at most 100 characters, one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName(String);

impl GroupName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(input: &str) -> Result<Self, String> {
        super::names::display_name(input, Self::MAX_LEN).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Names are unique compared case-insensitively (G1).
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The Add group and Settings forms, parsed.
pub struct GroupSettings {
    pub name: GroupName,
    pub description: Option<String>,
}

impl GroupSettings {
    pub fn parse(name: &str, description: &str) -> Result<Self, Vec<super::FieldError>> {
        let mut errors = super::FieldErrors::default();
        let name = errors.take("name", GroupName::parse(name));
        let description = errors.take(
            "description",
            super::names::optional_text(description, 1000, "description"),
        );
        match (name, description) {
            (Some(name), Some(description)) => Ok(Self { name, description }),
            _ => Err(errors.0),
        }
    }
}

/// A readable id for URLs made from a display name: `Partner Team 2` →
/// `partner-team-2`. Falls back to a random id for names with no letters.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 40 {
            break;
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.is_empty() {
        super::ids::new_id()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert_eq!(slug("Partner Team 2"), "partner-team-2");
        assert_eq!(slug("  Ünïcode & co  "), "n-code-co");
        assert_eq!(slug("!!!").len(), 16);
    }

    #[test]
    fn names() {
        assert!(GroupName::parse(" ").is_err());
        assert!(GroupName::parse("a\nb").is_err());
        assert_eq!(GroupName::parse(" Partners ").unwrap().key(), "partners");
    }
}
