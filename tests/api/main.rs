//! One integration binary: every test starts the real server on a random
//! port with a fresh database and talks HTTP to it.

mod access;
mod audit_log;
mod bulk_toggle;
mod copy_to_postgres;
mod durability;
mod email;
mod first_start;
mod gateway;
mod groups;
mod helpers;
mod limits;
mod links;
mod management_api;
mod multi_instance;
mod nginx;
mod oidc;
mod oidc_client;
mod oidc_keys;
mod oidc_refusals;
mod oidc_sessions;
mod portal;
mod postgres_store;
mod process;
mod products;
mod proxy;
mod request_log;
mod sdk;
mod security;
mod sign_in;
mod smtp_server;
mod subscriptions;
mod sweep;
mod users;
mod validation;
