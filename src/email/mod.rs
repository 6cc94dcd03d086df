//! Outgoing email (SPEC E1–E3, R1; SECURITY S-17, S-19).
//!
//! - `defaults`: the default subject and body of each template;
//! - `render`: template + values → subject, plain text and HTML;
//! - `settings`: the sender and the portal's name (E2);
//! - `transport`: SMTP (`SMTP_URL`) or `.eml` files for developers;
//! - `worker`: the `Mailer` and the outbox worker that delivers, retries
//!   with back-off and records each message's state.
//!
//! Use cases queue messages through `services::mail::queue`, inside their
//! own transaction; its commit wakes the worker (`store::Tx`).

pub mod defaults;
pub mod render;
pub mod settings;
pub mod transport;
pub mod worker;

pub use settings::MailSettings;
pub use worker::Mailer;
