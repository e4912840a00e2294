//! The `users` table: accounts, roles and the first administrator.

use super::password;
use domain::{Role, StudentId, UserId};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};
use utoipa::ToSchema;

/// A user account as the API shows it (never the hash).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    /// User id.
    #[schema(value_type = String)]
    pub id: UserId,
    /// Login name.
    pub username: String,
    /// Role.
    #[schema(value_type = String, example = "teacher")]
    pub role: Role,
    /// The linked student number, for student accounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub student_id: Option<StudentId>,
    /// The account's e-mail address, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Whether the account is disabled.
    pub disabled: bool,
    /// Whether the account signs in with a one-time password and must set its own before
    /// anything else (after an administrator's reset, or an import).
    pub must_change_password: bool,
    /// The generation of the account's tokens: moved on by every password change, reset
    /// and disable; a token of an earlier one is refused. Never shown.
    #[serde(skip)]
    pub token_generation: i32,
    /// Tokens issued before this (seconds since the epoch) are refused: the password was
    /// changed then. Never shown.
    #[serde(skip)]
    pub tokens_valid_after: Option<i64>,
}

/// A stored account with its hash, for login.
pub struct StoredUser {
    /// The public part.
    pub view: UserView,
    /// The argon2id PHC string.
    pub password_hash: String,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    bool,
    String,
    Option<i64>,
    bool,
    i32,
    Option<String>,
);

fn from_row(
    (
        id,
        username,
        role,
        student_id,
        disabled,
        hash,
        tokens_valid_after,
        must_change,
        generation,
        email,
    ): Row,
) -> Option<StoredUser> {
    Some(StoredUser {
        view: UserView {
            id: UserId::parse(id).ok()?,
            username,
            role: Role::parse(&role)?,
            student_id: student_id.and_then(|s| StudentId::parse(s).ok()),
            email,
            disabled,
            must_change_password: must_change,
            token_generation: generation,
            tokens_valid_after,
        },
        password_hash: hash,
    })
}

const COLUMNS: &str = "id, username, role, student_id, disabled, password_hash, \
     floor(extract(epoch FROM tokens_valid_after))::bigint, must_change_password, token_generation, email";

/// Finds an account by username.
pub async fn by_username(pool: &PgPool, username: &str) -> Result<Option<StoredUser>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(from_row))
}

/// The usernames of the given user ids (unknown ids are left out), to name the people
/// events refer to by id.
pub async fn usernames(
    pool: &PgPool,
    ids: &[String],
) -> Result<HashMap<String, String>, sqlx::Error> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, username FROM users WHERE id = ANY($1)")
            .bind(ids)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().collect())
}

/// Finds an account by id.
pub async fn by_id(pool: &PgPool, id: &str) -> Result<Option<UserView>, sqlx::Error> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(from_row).map(|user| user.view))
}

/// Every account, by username.
pub async fn list(pool: &PgPool) -> Result<Vec<UserView>, sqlx::Error> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY username"))
        .fetch_all(pool)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(from_row)
        .map(|user| user.view)
        .collect())
}

/// Which accounts a list shows: by role, and by state (`active`, `disabled`, or
/// `must_change_password`: signed in with a one-time password not yet replaced).
pub async fn page(
    pool: &PgPool,
    role: Option<Role>,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<UserView>, i64), sqlx::Error> {
    let conditions = "($1::text IS NULL OR role = $1)
        AND ($2::text IS NULL
             OR ($2 = 'active' AND NOT disabled)
             OR ($2 = 'disabled' AND disabled)
             OR ($2 = 'must_change_password' AND must_change_password AND NOT disabled))";
    let role = role.map(|r| r.as_str());
    let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM users WHERE {conditions}"))
        .bind(role)
        .bind(state)
        .fetch_one(pool)
        .await?;
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM users WHERE {conditions} ORDER BY username LIMIT $3 OFFSET $4"
    ))
    .bind(role)
    .bind(state)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let users = rows
        .into_iter()
        .filter_map(from_row)
        .map(|user| user.view)
        .collect();
    Ok((users, total))
}

/// Why an account could not be created, or its password set.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username is taken.
    #[error("username is already taken")]
    UsernameTaken,
    /// The username could pass for another (see [`super::username`]).
    #[error("username {0}")]
    InvalidUsername(super::username::Refusal),
    /// The password breaks the policy ([`password::check_policy`]).
    #[error("password {0}")]
    WeakPassword(String),
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// An account to create.
pub struct NewAccount<'a> {
    /// Login name.
    pub username: &'a str,
    /// Its first password (checked against the policy).
    pub password: String,
    /// Role.
    pub role: Role,
    /// The linked student, for student accounts.
    pub student_id: Option<&'a StudentId>,
    /// Whether the password is a one-time password to replace at first sign-in.
    pub must_change_password: bool,
    /// E-mail address.
    pub email: Option<String>,
}

/// Creates an account with a fresh id and an argon2id hash of the password, and records who
/// created it.
pub async fn create(
    pool: &PgPool,
    account: NewAccount<'_>,
    by: &super::trail::ChangedBy,
) -> Result<UserView, CreateUserError> {
    let hash = checked_hash(account.username, account.password.clone()).await?;
    let mut tx = pool.begin().await?;
    let id = new_id();
    let created = insert(&mut tx, &id, &account, &hash, by).await?;
    tx.commit().await?;
    created.ok_or(CreateUserError::UsernameTaken)
}

/// The policy checked and the password hashed, for a new account or a new password.
pub async fn checked_hash(username: &str, secret: String) -> Result<String, CreateUserError> {
    password::check_policy(&secret, username).map_err(CreateUserError::WeakPassword)?;
    password::hash(secret).await.map_err(CreateUserError::Hash)
}

/// A fresh account id.
pub fn new_id() -> UserId {
    UserId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("uuid is a valid id")
}

/// Inserts an account with id `id` (from [`new_id`]) whose password is already hashed (by
/// [`checked_hash`]) and records its creation, in the caller's transaction; `None` when the
/// username is taken.
pub async fn insert(
    tx: &mut sqlx::PgConnection,
    id: &UserId,
    account: &NewAccount<'_>,
    hash: &str,
    by: &super::trail::ChangedBy,
) -> Result<Option<UserView>, CreateUserError> {
    let key = super::username::key(account.username).map_err(CreateUserError::InvalidUsername)?;
    let inserted = sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, student_id, username_key, must_change_password, email)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
    )
    .bind(id.as_str())
    .bind(account.username)
    .bind(hash)
    .bind(account.role.as_str())
    .bind(account.student_id.map(StudentId::as_str))
    .bind(&key)
    .bind(account.must_change_password)
    .bind(account.email.as_deref())
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Ok(None);
    }
    super::trail::record(tx, id, super::trail::Change::Created, by).await?;
    Ok(Some(UserView {
        id: id.clone(),
        username: account.username.to_string(),
        role: account.role,
        student_id: account.student_id.cloned(),
        email: account.email.clone(),
        disabled: false,
        must_change_password: account.must_change_password,
        token_generation: 0,
        tokens_valid_after: None,
    }))
}

/// When no administrator exists yet, creates the administrator `admin`.
///
/// Its password is `given` (e.g. from `ATTENDANCE_ADMIN_PASSWORD`) or, when none is given,
/// a random one that is returned so the caller can show it once.
pub async fn ensure_first_admin(
    pool: &PgPool,
    given: Option<String>,
) -> Result<Option<String>, CreateUserError> {
    let any: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')")
        .fetch_one(pool)
        .await?;
    if any {
        return Ok(None);
    }
    let generated = given.is_none();
    let password = given.unwrap_or_else(|| {
        rand::rng()
            .sample_iter(&Alphanumeric)
            .take(20)
            .map(char::from)
            .collect()
    });
    let account = NewAccount {
        username: "admin",
        password: password.clone(),
        role: Role::Admin,
        student_id: None,
        must_change_password: false,
        email: None,
    };
    match create(pool, account, &super::trail::ChangedBy::system()).await {
        Ok(_) => Ok(generated.then_some(password)),
        // Another process created it first.
        Err(CreateUserError::UsernameTaken) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The channel on which migration 0009's trigger announces the id of every updated or
/// deleted account (an empty payload after a `TRUNCATE`: forget them all).
pub const CHANGED_CHANNEL: &str = "attendance_user_changed";

/// How long a cached account is trusted: a bound on staleness should a notification ever
/// go astray without the connection reporting it.
const ACCOUNT_TTL: Duration = Duration::from_secs(30);
/// Most accounts cached; expired ones are dropped first, then all of them.
const ACCOUNT_LIMIT: usize = 10_000;
/// How long connecting and subscribing the listener, or a ping through it, may take.
const LISTENER_TIMEOUT: Duration = Duration::from_secs(3);
/// After this long without a notification the listener pings its connection: a connection
/// that died without a FIN or RST would otherwise look like a quiet one forever.
const LISTENER_IDLE: Duration = Duration::from_secs(10);
/// Waits between attempts to listen again, doubling from the first to the second.
const LISTENER_RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// The active accounts of recent callers, by user id, so that an authenticated request
/// does not cost a round trip to Postgres for its account.
///
/// A disabled or deleted account must still be refused at once, so the cache is only used
/// while it is sure to hear of every change: changes made by this process drop their entries
/// synchronously ([`AccountCache::forget`]), and changes made anywhere are announced by a
/// trigger on `users` and heard by a `LISTEN` connection ([`AccountCache::spawn_listener`]).
/// Until that connection listens, and from the moment it is lost (notifications may then
/// be missed), the cache is empty and unused: every request reads the database. Missing
/// and disabled accounts are never cached, so creating an account needs no invalidation.
#[derive(Default)]
pub struct AccountCache {
    state: Mutex<CacheState>,
}

#[derive(Default)]
struct CacheState {
    /// Active accounts with the instant they stop being trusted.
    entries: HashMap<String, (UserView, Instant)>,
    /// Whether changes made by other processes are being heard.
    listening: bool,
    /// Bumped by every invalidation. A lookup remembers the generation it started in and
    /// stores what it read only if none happened since: otherwise a read that raced a
    /// change (read before the commit, stored after the notification) would bring the old
    /// account back.
    generation: u64,
}

/// What the cache knows of an account.
enum Lookup {
    /// Cached and trusted.
    Hit(UserView),
    /// Not cached: what the database answers may be stored if nothing is invalidated
    /// before (this generation).
    Miss(u64),
    /// The cache is not in use.
    Unused,
}

impl AccountCache {
    /// An empty cache, unused until its listener listens.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, CacheState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account with this id if it exists and is not disabled: from the cache when it
    /// can be trusted, otherwise from the database (and then cached).
    pub async fn active(&self, pool: &PgPool, id: &str) -> Result<Option<UserView>, sqlx::Error> {
        let generation = match self.lookup(id) {
            Lookup::Hit(user) => return Ok(Some(user)),
            Lookup::Miss(generation) => Some(generation),
            Lookup::Unused => None,
        };
        let user = by_id(pool, id).await?.filter(|user| !user.disabled);
        if let (Some(user), Some(generation)) = (&user, generation) {
            self.store(id, user, generation);
        }
        Ok(user)
    }

    fn lookup(&self, id: &str) -> Lookup {
        let mut state = self.lock();
        if !state.listening {
            return Lookup::Unused;
        }
        match state.entries.get(id) {
            Some((user, until)) if *until > Instant::now() => return Lookup::Hit(user.clone()),
            Some(_) => {
                state.entries.remove(id);
            }
            None => {}
        }
        Lookup::Miss(state.generation)
    }

    fn store(&self, id: &str, user: &UserView, generation: u64) {
        let mut state = self.lock();
        if !state.listening || state.generation != generation {
            return;
        }
        let now = Instant::now();
        if state.entries.len() >= ACCOUNT_LIMIT && !state.entries.contains_key(id) {
            state.entries.retain(|_, (_, until)| *until > now);
            if state.entries.len() >= ACCOUNT_LIMIT {
                state.entries.clear();
            }
        }
        state
            .entries
            .insert(id.to_string(), (user.clone(), now + ACCOUNT_TTL));
    }

    /// Drops an account that was (or may have been) changed.
    pub fn forget(&self, id: &str) {
        let mut state = self.lock();
        state.entries.remove(id);
        state.generation += 1;
    }

    /// Drops the accounts of a student that were (or may have been) changed.
    pub fn forget_student(&self, student: &StudentId) {
        let mut state = self.lock();
        state
            .entries
            .retain(|_, (user, _)| user.student_id.as_ref() != Some(student));
        state.generation += 1;
    }

    /// Drops every account.
    fn forget_all(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.generation += 1;
    }

    /// What a notification says changed.
    fn changed(&self, payload: &str) {
        if payload.is_empty() {
            self.forget_all();
        } else {
            self.forget(payload);
        }
    }

    /// Stops using the cache (changes may go unheard); whether it was in use.
    fn suspend(&self) -> bool {
        let mut state = self.lock();
        state.entries.clear();
        state.generation += 1;
        std::mem::replace(&mut state.listening, false)
    }

    /// Starts using the cache, empty: every change committed from now on will be heard,
    /// and what was committed before is what the database answers.
    fn resume(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.generation += 1;
        state.listening = true;
    }

    /// Starts the task that listens for account changes on a connection of its own (made
    /// with the pool's options), and reconnects when that connection is lost. The task ends
    /// once the cache is dropped. Without a Tokio runtime nothing is started and the cache
    /// stays unused.
    pub fn spawn_listener(self: &Arc<Self>, pool: &PgPool) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                "no async runtime: account changes are not listened for, every request reads its account"
            );
            return;
        };
        runtime.spawn(listen(
            Arc::downgrade(self),
            (*pool.connect_options()).clone(),
        ));
    }
}

/// Listens for account changes until the cache is dropped, reconnecting after a loss.
async fn listen(cache: Weak<AccountCache>, options: PgConnectOptions) {
    let mut retry = LISTENER_RETRY.0;
    loop {
        let error = match follow(&cache, &options, &mut retry).await {
            Ok(()) => return,
            Err(error) => error,
        };
        let Some(accounts) = cache.upgrade() else {
            return;
        };
        if accounts.suspend() {
            tracing::warn!(%error, "account changes can no longer be heard: every request reads its account until they can");
        } else {
            tracing::debug!(%error, "listening for account changes failed");
        }
        drop(accounts);
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LISTENER_RETRY.1);
    }
}

/// One connection's worth of listening: `Ok` once the cache is dropped, the error once the
/// connection fails or is lost.
///
/// The listener never reconnects by itself (`eager_reconnect(false)`, and a lost one is
/// dropped): the caller must learn of every loss, and a fresh listener can be abandoned at
/// any await without leaving one half set up.
async fn follow(
    cache: &Weak<AccountCache>,
    options: &PgConnectOptions,
    retry: &mut Duration,
) -> Result<(), sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(LISTENER_TIMEOUT)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_lazy_with(options.clone());
    let subscribe = async {
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.ignore_pool_close_event(true);
        listener.eager_reconnect(false);
        listener.listen(CHANGED_CHANNEL).await?;
        Ok::<_, sqlx::Error>(listener)
    };
    let mut listener = tokio::time::timeout(LISTENER_TIMEOUT, subscribe)
        .await
        .map_err(|_| lost("connecting the listener timed out"))??;
    match cache.upgrade() {
        Some(accounts) => accounts.resume(),
        None => return Ok(()),
    }
    tracing::debug!("listening for account changes");
    *retry = LISTENER_RETRY.0;
    loop {
        // `try_recv` on a connected listener only waits for a whole message (cancel-safe).
        match tokio::time::timeout(LISTENER_IDLE, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => match cache.upgrade() {
                Some(accounts) => accounts.changed(notification.payload()),
                None => return Ok(()),
            },
            Ok(Ok(None)) => return Err(lost("the listener's connection was lost")),
            Ok(Err(error)) => return Err(error),
            Err(_idle) => {
                if cache.strong_count() == 0 {
                    return Ok(());
                }
                tokio::time::timeout(
                    LISTENER_TIMEOUT,
                    sqlx::query("SELECT 1").execute(&mut listener),
                )
                .await
                .map_err(|_| lost("the listener's connection did not answer a ping"))??;
            }
        }
    }
}

fn lost(what: &'static str) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        what,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tina(student: Option<&str>) -> UserView {
        UserView {
            id: UserId::parse("tina").unwrap(),
            username: "tina".to_string(),
            role: if student.is_some() {
                Role::Student
            } else {
                Role::Teacher
            },
            student_id: student.map(|s| StudentId::parse(s).unwrap()),
            email: None,
            disabled: false,
            must_change_password: false,
            token_generation: 0,
            tokens_valid_after: None,
        }
    }

    fn miss(cache: &AccountCache, id: &str) -> u64 {
        match cache.lookup(id) {
            Lookup::Miss(generation) => generation,
            Lookup::Hit(_) => panic!("{id} was cached"),
            Lookup::Unused => panic!("the cache is unused"),
        }
    }

    #[test]
    fn nothing_is_cached_until_changes_are_heard() {
        let cache = AccountCache::new();
        assert!(matches!(cache.lookup("tina"), Lookup::Unused));
        cache.store("tina", &tina(None), 0);
        cache.resume();
        miss(&cache, "tina");
    }

    #[test]
    fn a_read_is_cached_unless_something_was_invalidated_meanwhile() {
        let cache = AccountCache::new();
        cache.resume();
        let generation = miss(&cache, "tina");
        cache.store("tina", &tina(None), generation);
        assert!(matches!(cache.lookup("tina"), Lookup::Hit(user) if user.username == "tina"));

        cache.forget("tina");
        let generation = miss(&cache, "tina");
        // Disabled while the database was being read: the old answer is not kept.
        cache.changed("tina");
        cache.store("tina", &tina(None), generation);
        miss(&cache, "tina");
    }

    #[test]
    fn an_erasure_forgets_the_students_accounts() {
        let cache = AccountCache::new();
        cache.resume();
        let generation = miss(&cache, "tina");
        cache.store("tina", &tina(Some("S1")), generation);
        cache.forget_student(&StudentId::parse("S2").unwrap());
        assert!(matches!(cache.lookup("tina"), Lookup::Hit(_)));
        cache.forget_student(&StudentId::parse("S1").unwrap());
        miss(&cache, "tina");
    }

    #[test]
    fn a_lost_listener_empties_the_cache_and_stops_its_use() {
        let cache = AccountCache::new();
        cache.resume();
        let generation = miss(&cache, "tina");
        cache.store("tina", &tina(None), generation);
        assert!(cache.suspend());
        assert!(matches!(cache.lookup("tina"), Lookup::Unused));
        // A read begun before the loss is not kept once listening again.
        cache.resume();
        cache.store("tina", &tina(None), generation);
        miss(&cache, "tina");
        // A truncate forgets everyone.
        let generation = miss(&cache, "tina");
        cache.store("tina", &tina(None), generation);
        cache.changed("");
        miss(&cache, "tina");
    }
}
