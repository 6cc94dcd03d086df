//! The console's Applications tab (SPEC O2, O4): the applications that sign
//! in with Portal, their settings and secrets, and the signing keys.

mod form;
mod list;
mod show;

pub use list::{list, rotate_keys};
pub use show::{add, add_form, delete, delete_confirm, regenerate_secret, show, update};
