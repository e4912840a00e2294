//! The end-of-test accounting: the store folded in SQL, the stream, the read models.

use super::*;

/// (session, student) -> current status.
pub(super) type Marks = BTreeMap<(String, String), String>;

/// Every mark's current status, folded from the events table in SQL (independent of the
/// product's own folds).
pub(super) async fn stored_marks(pool: &PgPool) -> Marks {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT DISTINCT ON (aggregate_id, student) aggregate_id, student, status FROM (
           SELECT aggregate_id, sequence,
             COALESCE(payload->'AttendanceRecorded'->>'student_id', payload->'AttendanceCorrected'->>'student_id') AS student,
             COALESCE(payload->'AttendanceRecorded'->>'status', payload->'AttendanceCorrected'->>'new_status') AS status
           FROM events WHERE event_type IN ('AttendanceRecorded', 'AttendanceCorrected')) marks
         ORDER BY aggregate_id, student, sequence DESC",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(a, s, st)| ((a, s), st)).collect()
}

/// Every marked roster line of the register views read model.
pub(super) async fn projected_marks(pool: &PgPool) -> Marks {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT session_id, student_id, status FROM rm_attendance_records WHERE status IS NOT NULL",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(a, s, st)| ((a, s), st)).collect()
}

/// How many events of a type are stored (`*`: all).
pub(super) async fn count_events(pool: &PgPool, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1 OR $1 = '*'")
        .bind(event_type)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// Events a projector counts as applied (0 before its first batch).
pub(super) async fn applied(pool: &PgPool, projector: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT COALESCE((SELECT applied FROM projector_state WHERE projector = $1), 0)",
    )
    .bind(projector)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until the stream holds as many messages as the store holds events, then checks it
/// holds each event exactly once (message ids and CloudEvent ids unique, equal to the
/// store's) in gap-free per-aggregate order. Returns the messages.
pub(super) async fn assert_stream_holds_the_store(app: &TestApp) -> Vec<Published> {
    let client = connect(&app.config.connections.nats_url).await;
    let stream = app.config.relay.stream.clone();
    settled(&app.pool, &client, &stream, DEADLINE).await;
    let events = count_events(&app.pool, "*").await as u64;
    wait_until(DEADLINE, || {
        let (client, stream) = (client.clone(), stream.clone());
        async move { stream_len(&client, &stream).await >= events }
    })
    .await;
    let published = read_stream(&client, &stream).await;
    let ids: BTreeSet<&str> = published.iter().map(|p| p.msg_id.as_str()).collect();
    let cloud_ids: BTreeSet<&str> = published.iter().map(|p| p.event.id.as_str()).collect();
    let stored: BTreeSet<String> = sqlx::query_scalar(
        "SELECT aggregate_type || ':' || aggregate_id || ':' || sequence FROM events",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(
        ids.len(),
        published.len(),
        "a Nats-Msg-Id twice in the stream"
    );
    assert_eq!(cloud_ids.len(), published.len(), "a CloudEvent id twice");
    assert_eq!(
        ids,
        stored.iter().map(String::as_str).collect(),
        "stream = store"
    );
    let mut next: HashMap<(&str, &str), i64> = HashMap::new();
    for p in &published {
        let data = &p.event.data;
        let expected = next
            .entry((&data.aggregate_type, &data.aggregate_id))
            .or_insert(1);
        let in_stream = || -> Vec<i64> {
            let same = |q: &&Published| q.event.data.aggregate_id == data.aggregate_id;
            published
                .iter()
                .filter(same)
                .map(|q| q.event.data.sequence)
                .collect()
        };
        assert_eq!(
            data.sequence,
            *expected,
            "per-aggregate order at {}; the aggregate's sequences in stream order: {:?}",
            p.msg_id,
            in_stream()
        );
        *expected += 1;
    }
    published
}

/// Whether a projector has applied the last event of every aggregate (an event redelivered
/// late holds back only its own aggregate, so the newest event alone says too little).
pub(super) async fn caught_up(pool: &PgPool, projector: &str) -> bool {
    sqlx::query_scalar(
        "SELECT NOT EXISTS (
           SELECT 1 FROM (SELECT aggregate_type, aggregate_id, max(sequence) AS last
                            FROM events GROUP BY aggregate_type, aggregate_id) e
           LEFT JOIN projector_checkpoints c ON c.projector = $1
             AND (c.aggregate_type, c.aggregate_id) = (e.aggregate_type, e.aggregate_id)
           WHERE c.last_sequence IS DISTINCT FROM e.last)",
    )
    .bind(projector)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Waits until both projectors have applied every stored event, then checks the register
/// views hold exactly the stored marks and the statistics count them exactly (totals
/// through the API, per student in the table). Returns the stored marks.
pub(super) async fn assert_read_models_hold_the_store(app: &TestApp, course: &str) -> Marks {
    for name in [CourseStatsProjection::NAME, RegisterViewsProjection::NAME] {
        wait_until(DEADLINE, || caught_up(&app.pool, name)).await;
    }
    let position = app.latest_position().await;
    let stored = stored_marks(&app.pool).await;
    assert_eq!(
        projected_marks(&app.pool).await,
        stored,
        "register views = store"
    );
    let mut per_student: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for ((_, student), status) in &stored {
        let slot = STATUSES.iter().position(|s| s == status).unwrap();
        per_student.entry(student.clone()).or_default()[slot] += 1;
    }
    let rows: Vec<(String, i32, i32, i32, i32)> = sqlx::query_as(
        "SELECT student_id, present, late, absent, excused FROM rm_course_students
         WHERE course_id = $1 AND present + late + absent + excused > 0",
    )
    .bind(course)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    let counted: BTreeMap<String, [i64; 4]> = rows
        .into_iter()
        .map(|(s, p, l, a, e)| (s, [p, l, a, e].map(i64::from)))
        .collect();
    assert_eq!(counted, per_student, "per-student statistics = store");
    let stats = read(
        app,
        &format!("/api/courses/{course}/statistics"),
        &app.admin,
        position,
    )
    .await;
    for (slot, status) in STATUSES.iter().enumerate() {
        let expected: i64 = per_student.values().map(|c| c[slot]).sum();
        assert_eq!(
            stats["totals"][status], expected,
            "{status} total: {}",
            stats["totals"]
        );
    }
    stored
}

/// The final accounting of a load of distinct marks: every accepted mark is stored with its
/// status and projected; none refused is stored; only marks in doubt (no answer) may be
/// stored unannounced. Returns how many in-doubt marks were stored.
pub(super) async fn assert_accounted(app: &TestApp, outcomes: &[Outcome]) -> usize {
    let published = assert_stream_holds_the_store(app).await;
    let stored = assert_read_models_hold_the_store(app, COURSE).await;
    let mut in_doubt_stored = 0;
    for o in outcomes {
        let kept = stored.get(&o.pair());
        if o.accepted() {
            assert_eq!(kept.map(String::as_str), Some(o.status), "accepted: {o:?}");
        } else if o.in_doubt() {
            in_doubt_stored += usize::from(kept.is_some());
        } else {
            assert_eq!(kept, None, "refused, yet stored: {o:?}");
        }
    }
    let accepted = outcomes.iter().filter(|o| o.accepted()).count();
    let recorded = count_events(&app.pool, "AttendanceRecorded").await as usize;
    let messages = published
        .iter()
        .filter(|p| p.event.data.event_type == "AttendanceRecorded")
        .count();
    assert_eq!(
        (recorded, messages, stored.len()),
        (accepted + in_doubt_stored, recorded, recorded),
        "accepted {accepted} (+{in_doubt_stored} in doubt) = stored = in the stream = projected"
    );
    in_doubt_stored
}
