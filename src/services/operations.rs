//! What the operator's tools read (SPEC R5): the metrics' gauges, taken
//! from the database when scraped rather than kept up to date by every
//! change.

use crate::services::{Ctx, ServiceError};
use crate::store;

/// The exposition, with the outbox's gauges read now.
pub async fn metrics(ctx: &Ctx) -> Result<String, ServiceError> {
    let (waiting, oldest, failed) = store::outbox::backlog(&ctx.db).await?;
    let age = oldest.map_or(0, |queued_at| (ctx.now() - queued_at).max(0));
    crate::metrics::outbox(waiting, age, failed);
    Ok(crate::metrics::render())
}
