//! One integration binary: every test starts the real server on a random
//! port with a fresh database and talks HTTP to it.

mod access;
mod durability;
mod helpers;
mod security;
mod sign_in;
mod users;
mod validation;
