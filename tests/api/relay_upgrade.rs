//! A relay checkpoint left by a relay from before position order (migration 0020) counts in
//! `(tx_id, global_position)` order: the relay first publishes the older events it had not
//! reached, in that order, then switches to position order; each event once.

use crate::helpers::TestApp;
use crate::nats_support::{connect, read_stream};
use crate::outbox_order::{course_event, insert_as};
use crate::relay::{drain, manual_relay};
use event_store::outbox;

/// Stores a course event as if transaction `tx` had written it; returns its position.
async fn old_event(app: &TestApp, tx: u64, course: &str, sequence: i64) -> i64 {
    let (id, sequence, payload, metadata) = course_event(course, sequence);
    let row = (
        "course",
        id.as_str(),
        sequence,
        "TeacherAssigned",
        payload,
        metadata,
    );
    insert_as(app, tx, row).await;
    sqlx::query_scalar("SELECT max(global_position) FROM events")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_checkpoint_from_before_position_order_finishes_the_old_events_then_switches() {
    let app = TestApp::spawn_with(|c| {
        c.no_relay = true;
        c.no_projectors = true;
    })
    .await;
    // Written before the upgrade by transactions that committed out of position order:
    // commit order is B:1 (tx 500), A:1 (tx 600), A:2 (tx 700).
    old_event(&app, 600, "A", 1).await;
    let b1 = old_event(&app, 500, "B", 1).await;
    let until = old_event(&app, 700, "A", 2).await;
    // The old relay had published B:1 and stopped there.
    let stream = app.config.relay.stream.clone();
    outbox::ensure_checkpoint(&app.pool, &stream).await.unwrap();
    sqlx::query(
        "UPDATE relay_checkpoints SET tx_id = '500', position = $2, published = 1,
                commit_order_until = $3 WHERE name = $1",
    )
    .bind(&stream)
    .bind(b1)
    .bind(until)
    .execute(&app.pool)
    .await
    .unwrap();
    // After the upgrade: a command, in position order.
    app.create_course("NEW1").await;

    let relay = manual_relay(&app).await;
    assert_eq!(drain(&relay, 3).await, 3);
    let client = connect(&app.config.connections.nats_url).await;
    let ids: Vec<_> = read_stream(&client, &stream)
        .await
        .into_iter()
        .map(|p| p.msg_id)
        .collect();
    assert_eq!(ids, ["course:A:1", "course:A:2", "course:NEW1:1"]);
    let (mark, _) = outbox::read_relay(&app.pool, &stream).await.unwrap();
    assert_eq!(mark.commit_order_until, None, "switched to position order");
    let lag = outbox::lag(&app.pool, &stream).await.unwrap();
    assert_eq!((lag.pending, lag.published), (0, 4));
}
