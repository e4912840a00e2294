//! The `users` table: accounts, roles and the first administrator.

use super::password;
use domain::{Role, StudentId, UserId};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use sqlx::PgPool;
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
    /// Whether the account is disabled.
    pub disabled: bool,
}

/// A stored account with its hash, for login.
pub struct StoredUser {
    /// The public part.
    pub view: UserView,
    /// The argon2id PHC string.
    pub password_hash: String,
}

type Row = (String, String, String, Option<String>, bool, String);

fn from_row((id, username, role, student_id, disabled, hash): Row) -> Option<StoredUser> {
    Some(StoredUser {
        view: UserView {
            id: UserId::parse(id).ok()?,
            username,
            role: Role::parse(&role)?,
            student_id: student_id.and_then(|s| StudentId::parse(s).ok()),
            disabled,
        },
        password_hash: hash,
    })
}

const COLUMNS: &str = "id, username, role, student_id, disabled, password_hash";

/// Finds an account by username.
pub async fn by_username(pool: &PgPool, username: &str) -> Result<Option<StoredUser>, sqlx::Error> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(pool)
            .await?;
    Ok(row.and_then(from_row))
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

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    /// The username is taken.
    #[error("username is already taken")]
    UsernameTaken,
    /// Hashing failed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// The database failed.
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// Creates an account with a fresh id and an argon2id hash of the password.
pub async fn create(
    pool: &PgPool,
    username: &str,
    password: String,
    role: Role,
    student_id: Option<&StudentId>,
) -> Result<UserView, CreateUserError> {
    let hash = password::hash(password)
        .await
        .map_err(CreateUserError::Hash)?;
    let id = UserId::parse(uuid::Uuid::now_v7().simple().to_string()).expect("uuid is a valid id");
    let inserted = sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, student_id)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(username)
    .bind(&hash)
    .bind(role.as_str())
    .bind(student_id.map(StudentId::as_str))
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(CreateUserError::UsernameTaken);
    }
    Ok(UserView {
        id,
        username: username.to_string(),
        role,
        student_id: student_id.cloned(),
        disabled: false,
    })
}

/// Disables an account: its tokens stop working at once.
pub async fn disable(pool: &PgPool, id: &UserId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET disabled = true WHERE id = $1")
        .bind(id.as_str())
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
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
    match create(pool, "admin", password.clone(), Role::Admin, None).await {
        Ok(_) => Ok(generated.then_some(password)),
        // Another process created it first.
        Err(CreateUserError::UsernameTaken) => Ok(None),
        Err(e) => Err(e),
    }
}
