//! Random identifiers and secrets from the operating system's RNG.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the OS random number generator failed");
    buf
}

/// A stable id for URLs: 16 lowercase hex digits (64 random bits).
pub fn new_id() -> String {
    let bytes = random_bytes::<8>();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A secret such as a CSRF token or a generated password: 256 random bits, base64url.
pub fn new_secret() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<32>())
}

/// An id a client of the management API chooses for a new entity (it
/// stands in the console's and the portal's URLs too): 1 to 80 letters,
/// digits, `-`, `_` and `.`, not starting with a dot.
pub fn parse_entity_id(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 80
        && !s.starts_with('.')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(
            "An id has 1 to 80 letters, digits, '-', '_' or '.', and does not start with a dot."
                .into(),
        )
    }
}

/// An entity's id as its own type, so that one kind of id cannot be passed
/// where another is expected (`add_member(group, account)` cannot be called
/// the wrong way round). It reads as a `&str` wherever one is wanted.
macro_rules! entity_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

entity_id!(
    /// An account's id (U1).
    AccountId
);
entity_id!(
    /// A group's id (G1): `administrators`, `developers`, `guests`, or a
    /// custom or external group's.
    GroupId
);
entity_id!(
    /// A product's id (P1).
    ProductId
);
entity_id!(
    /// A subscription's id (S1).
    SubscriptionId
);
