//! Noticing a projector's consumer that moved without the projector: if the consumer says
//! every event was delivered and acknowledged, the projector must have applied the last
//! event the relay published. When it has not, someone else fetched and acked its events
//! (or an unreadable event was dropped), and its read model silently misses them.

use event_store::outbox::{self, Checkpoint};
use projections::projector;
use sqlx::PgPool;

/// Whether a projector's consumer reports nothing pending while the projector has not
/// applied the last event published to `stream`. Unknown (no relay checkpoint yet, no
/// consumer, NATS not answering) counts as consistent. `published` is the relay's
/// checkpoint read *before* `pending`: whatever was published by then was delivered before
/// the consumer reported nothing pending, and applied before it was acked.
pub async fn acked_but_not_applied(
    pool: &PgPool,
    published: Option<Checkpoint>,
    pending: Option<u64>,
    name: &str,
) -> bool {
    let Some(published) = published.filter(|p| p.position > 0) else {
        return false;
    };
    if pending != Some(0) {
        return false;
    }
    projector::has_applied(pool, name, published.position)
        .await
        .is_ok_and(|applied| !applied)
}

/// The relay's checkpoint on `stream`, if it can be read.
pub async fn published(pool: &PgPool, stream: &str) -> Option<Checkpoint> {
    outbox::read_checkpoint(pool, stream).await.ok()
}
