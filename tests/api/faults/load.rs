//! Clients sending distinct marks, and what each got.

use super::*;

/// A course with students enrolled and sessions scheduled: every (session, student) pair
/// is one mark a test can send exactly once.
#[derive(Clone)]
pub(super) struct Class {
    pub(super) students: Vec<String>,
    pub(super) sessions: Vec<String>,
}

/// One mark to send.
pub(super) struct Mark {
    pub(super) session: String,
    pub(super) student: String,
    pub(super) status: &'static str,
}

impl Class {
    pub(super) async fn create(app: &TestApp, students: usize, sessions: usize) -> Class {
        app.create_course(COURSE).await;
        let students: Vec<String> = (1..=students).map(|i| format!("F{i:03}")).collect();
        for id in &students {
            app.create_student(id, &format!("Student {id}")).await;
            app.enroll(COURSE, id, "2026-09-01").await;
        }
        let first = chrono::DateTime::parse_from_rfc3339("2026-09-07T09:00:00Z").unwrap();
        let mut ids = Vec::with_capacity(sessions);
        for day in 0..sessions {
            let starts = (first + chrono::TimeDelta::days(day as i64)).to_rfc3339();
            ids.push(app.schedule(COURSE, &format!("Day {day}"), &starts).await);
        }
        Class {
            students,
            sessions: ids,
        }
    }

    /// The i-th mark; consecutive marks go to different registers, so concurrent clients
    /// write side by side instead of queueing on one register.
    pub(super) fn mark(&self, i: usize) -> Option<Mark> {
        let round = i / self.sessions.len();
        Some(Mark {
            session: self.sessions[i % self.sessions.len()].clone(),
            student: self.students.get(round)?.clone(),
            status: STATUSES[(i + round) % STATUSES.len()],
        })
    }
}

/// What one mark command got.
#[derive(Debug)]
pub(super) struct Outcome {
    pub(super) session: String,
    pub(super) student: String,
    pub(super) status: &'static str,
    /// The HTTP status; `None` when no complete answer came (the server died).
    pub(super) http: Option<StatusCode>,
    pub(super) body: Value,
    pub(super) headers: reqwest::header::HeaderMap,
    pub(super) elapsed: Duration,
}

impl Outcome {
    pub(super) fn accepted(&self) -> bool {
        // A new mark is 201 (the same mark again is 200 "Already recorded", `changed: false`).
        self.http == Some(StatusCode::CREATED) && self.body["changed"] == true
    }

    pub(super) fn unavailable(&self) -> bool {
        self.http == Some(StatusCode::SERVICE_UNAVAILABLE)
    }

    pub(super) fn in_doubt(&self) -> bool {
        self.http.is_none()
    }

    pub(super) fn pair(&self) -> (String, String) {
        (self.session.clone(), self.student.clone())
    }

    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The state concurrent marking clients share.
pub(super) struct Clients {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    pub(super) token: String,
    pub(super) class: Class,
    pub(super) next: AtomicUsize,
    pub(super) stop: AtomicBool,
    pub(super) outcomes: Mutex<Vec<Outcome>>,
}

/// Clients sending marks (each pair once) until stopped, out of marks, or the server is gone.
pub(super) struct Load {
    pub(super) shared: Arc<Clients>,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub(super) fn start(base: &str, token: &str, class: &Class, clients: usize) -> Load {
        let shared = Arc::new(Clients {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: base.to_string(),
            token: token.to_string(),
            class: class.clone(),
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            outcomes: Mutex::new(Vec::new()),
        });
        let tasks = (0..clients)
            .map(|_| tokio::spawn(mark_until_stopped(shared.clone())))
            .collect();
        Load { shared, tasks }
    }

    pub(super) fn count(&self, which: fn(&Outcome) -> bool) -> usize {
        let outcomes = self.shared.outcomes.lock().unwrap();
        outcomes.iter().filter(|o| which(o)).count()
    }

    /// Waits until `at_least` outcomes are `which`, failing at once if the clients stopped.
    pub(super) async fn wait_for(&self, at_least: usize, which: fn(&Outcome) -> bool) {
        let started = Instant::now();
        while self.count(which) < at_least {
            let running = self.tasks.iter().any(|t| !t.is_finished());
            assert!(running, "the clients stopped before {at_least} outcomes");
            assert!(started.elapsed() < DEADLINE, "no {at_least} outcomes");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub(super) async fn finish(self) -> Vec<Outcome> {
        self.shared.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("a client finished");
        }
        std::mem::take(&mut *self.shared.outcomes.lock().unwrap())
    }
}

pub(super) async fn mark_until_stopped(clients: Arc<Clients>) {
    while !clients.stop.load(Ordering::SeqCst) {
        let Some(mark) = clients
            .class
            .mark(clients.next.fetch_add(1, Ordering::SeqCst))
        else {
            return;
        };
        let outcome = send(&clients, mark).await;
        let gone = outcome.in_doubt();
        clients.outcomes.lock().unwrap().push(outcome);
        if gone {
            return;
        }
    }
}

pub(super) async fn send(clients: &Clients, mark: Mark) -> Outcome {
    let started = Instant::now();
    let body =
        json!({"session_id": mark.session, "student_id": mark.student, "status": mark.status});
    let sent = clients
        .http
        .post(format!("{}/api/attendance", clients.base))
        .bearer_auth(&clients.token)
        .json(&body)
        .send()
        .await;
    let (mut http, mut headers, mut body) = (None, Default::default(), Value::Null);
    if let Ok(response) = sent {
        let status = response.status();
        headers = response.headers().clone();
        if let Ok(text) = response.text().await {
            http = Some(status);
            body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        }
    }
    Outcome {
        session: mark.session,
        student: mark.student,
        status: mark.status,
        http,
        body,
        headers,
        elapsed: started.elapsed(),
    }
}
