//! System groups (SPEC G2).

pub const ADMINISTRATORS: &str = "administrators";
pub const DEVELOPERS: &str = "developers";
pub const GUESTS: &str = "guests";

pub fn is_system(id: &str) -> bool {
    matches!(id, ADMINISTRATORS | DEVELOPERS | GUESTS)
}
