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
