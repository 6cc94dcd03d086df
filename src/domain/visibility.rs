//! SPEC P3: who sees which product. The one place this rule is written;
//! listings, detail pages, subscribe and the API all ask it.

use super::AccountState;
use super::group::{DEVELOPERS, GUESTS};

/// Who is looking.
#[derive(Debug, Clone)]
pub enum Viewer {
    /// A visitor who is not signed in: stands for the Guests group.
    Anonymous,
    /// An administrator sees every product, whatever its grants.
    Administrator,
    /// A signed-in developer with the custom/external groups they belong to.
    Developer { active: bool, groups: Vec<String> },
}

impl Viewer {
    /// An account as a viewer: an active administrator sees everything;
    /// anyone else is a developer with the groups they belong to.
    pub fn account(is_admin: bool, state: AccountState, groups: Vec<String>) -> Self {
        if super::account::is_active_administrator(is_admin, state) {
            return Self::Administrator;
        }
        Self::Developer {
            active: state.is_active(),
            groups,
        }
    }

    /// The groups whose grants count for this viewer, or `None` for "every
    /// product" (administrators). A developer who is not active sees nothing.
    pub fn effective_groups(&self) -> Option<Vec<String>> {
        match self {
            Self::Administrator => None,
            Self::Anonymous => Some(vec![GUESTS.to_owned()]),
            Self::Developer { active: false, .. } => Some(Vec::new()),
            Self::Developer {
                active: true,
                groups,
            } => {
                let mut all = Vec::with_capacity(groups.len() + 1);
                all.push(DEVELOPERS.to_owned());
                all.extend(groups.iter().cloned());
                Some(all)
            }
        }
    }

    /// Visitors may look but never subscribe (P3, P4).
    pub fn may_subscribe(&self) -> bool {
        matches!(
            self,
            Self::Developer { active: true, .. } | Self::Administrator
        )
    }
}

impl Viewer {
    /// Whether a grant to `group` counts for this viewer: the same answer
    /// as `effective_groups().contains(group)`, without building the list
    /// (asked once per grant on every product list).
    fn counts_grant_to(&self, group: &str) -> bool {
        match self {
            Self::Administrator => true,
            Self::Anonymous => group == GUESTS,
            Self::Developer { active: false, .. } => false,
            Self::Developer {
                active: true,
                groups,
            } => group == DEVELOPERS || groups.iter().any(|g| g == group),
        }
    }
}

/// P3 for one product: its state and the groups it is granted to.
pub fn can_see(viewer: &Viewer, published: bool, access_groups: &[&str]) -> bool {
    match viewer {
        Viewer::Administrator => true,
        _ => published && access_groups.iter().any(|g| viewer.counts_grant_to(g)),
    }
}

/// The groups that grant this viewer sight of the product ("why can she see
/// this?"); empty when none does.
pub fn granting_groups<'a>(
    viewer: &Viewer,
    published: bool,
    access_groups: &[&'a str],
) -> Vec<&'a str> {
    match viewer {
        Viewer::Administrator => Vec::new(),
        _ if published => access_groups
            .iter()
            .copied()
            .filter(|g| viewer.counts_grant_to(g))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(groups: &[&str]) -> Viewer {
        Viewer::Developer {
            active: true,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn every_case_of_the_rule() {
        let blocked = Viewer::Developer {
            active: false,
            groups: vec!["partners".into()],
        };
        // (viewer, published, access groups, sees?)
        let cases: Vec<(&str, Viewer, bool, Vec<&str>, bool)> = vec![
            (
                "anonymous, guests, published",
                Viewer::Anonymous,
                true,
                vec!["guests"],
                true,
            ),
            (
                "anonymous, guests, unpublished",
                Viewer::Anonymous,
                false,
                vec!["guests"],
                false,
            ),
            (
                "anonymous, developers only",
                Viewer::Anonymous,
                true,
                vec!["developers"],
                false,
            ),
            (
                "anonymous, custom group",
                Viewer::Anonymous,
                true,
                vec!["partners"],
                false,
            ),
            (
                "anonymous, no grants",
                Viewer::Anonymous,
                true,
                vec![],
                false,
            ),
            (
                "developer, developers",
                dev(&[]),
                true,
                vec!["developers"],
                true,
            ),
            (
                "developer, developers, unpublished",
                dev(&[]),
                false,
                vec!["developers"],
                false,
            ),
            (
                "developer, guests only",
                dev(&[]),
                true,
                vec!["guests"],
                false,
            ),
            (
                "developer in group",
                dev(&["partners"]),
                true,
                vec!["partners"],
                true,
            ),
            (
                "developer in group, unpublished",
                dev(&["partners"]),
                false,
                vec!["partners"],
                false,
            ),
            (
                "developer not in group",
                dev(&["other"]),
                true,
                vec!["partners"],
                false,
            ),
            (
                "developer, no grants",
                dev(&["partners"]),
                true,
                vec![],
                false,
            ),
            (
                "blocked developer in group",
                blocked.clone(),
                true,
                vec!["partners"],
                false,
            ),
            (
                "blocked developer, developers",
                blocked,
                true,
                vec!["developers"],
                false,
            ),
            (
                "administrator, no grants, unpublished",
                Viewer::Administrator,
                false,
                vec![],
                true,
            ),
            (
                "administrator, published",
                Viewer::Administrator,
                true,
                vec!["partners"],
                true,
            ),
        ];
        for (name, viewer, published, groups, expected) in cases {
            assert_eq!(can_see(&viewer, published, &groups), expected, "{name}");
            assert_eq!(
                !granting_groups(&viewer, published, &groups).is_empty(),
                expected && !matches!(viewer, Viewer::Administrator),
                "{name}: granting groups agree"
            );
        }
    }

    #[test]
    fn only_signed_in_active_people_subscribe() {
        assert!(!Viewer::Anonymous.may_subscribe());
        assert!(dev(&[]).may_subscribe());
        assert!(
            !Viewer::Developer {
                active: false,
                groups: vec![]
            }
            .may_subscribe()
        );
    }

    #[test]
    fn granting_groups_name_every_reason() {
        let v = dev(&["a", "b"]);
        assert_eq!(
            granting_groups(&v, true, &["developers", "b", "c"]),
            ["developers", "b"]
        );
    }
}
