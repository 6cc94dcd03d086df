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
