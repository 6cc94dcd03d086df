//! Portal: a self-hosted access portal for API programmes.
//!
//! Layers, top to bottom: `web` (HTTP) → `services` (use cases, one
//! transaction each) → `store` (SQL) ; `domain` holds the types and pure
//! rules every layer shares.

pub mod clock;
pub mod config;
pub mod domain;
pub mod email;
pub mod metrics;
pub mod seed;
pub mod services;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
