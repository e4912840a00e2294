//! The read side of the attendance system.
//!
//! Read models: [`course_stats`] and [`register_views`], each a pure fold with its storage
//! and queries, run by [`projector`] (checkpointed batches, rebuild) from a JetStream durable
//! consumer ([`consumer`]) over the events decoded by [`event`]. [`audit`] pages the history
//! and folds a read model as of any moment; [`reports`] renders the read models (CSV, XLSX,
//! PDF through the `typeset` crate); [`students`] looks up the names that answers and
//! reports print. The schema and the event-log readers are the `event_store` crate's.

pub mod audit;
pub mod consumer;
pub mod course_stats;
pub mod event;
pub mod projector;
pub mod register_views;
pub mod reports;
pub mod students;

/// Text as searches compare it: decomposed, without accents and in lower case, so that
/// `zoe nunez` finds `Zoë Ñúñez`.
pub fn search_key(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
