//! The notifier: makes the early warning's e-mails (the outbox rows of the standing events
//! and the teachers' daily digests, [`api::app::warnings::outbox`]) and sends them through
//! SMTP with lettre (STARTTLS, or plain for a local relay), through a circuit breaker.
//! A message is claimed with a lease (`FOR UPDATE SKIP LOCKED`), so two notifiers never hold
//! the same one; it is marked sent after the server accepted it, or retried later with a
//! growing delay. An SMTP outage or a restart loses nothing: the rows wait in the table.

use crate::config::{NotifySettings, TlsMode};
use api::AppState;
use api::app::breaker::CircuitBreaker;
use api::app::warnings::outbox::{self, Message};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// The SMTP breaker of a notifier, made before it so that health can report it.
pub fn breaker_for(settings: &NotifySettings) -> Arc<CircuitBreaker> {
    Arc::new(CircuitBreaker::new("smtp", settings.breaker()))
}

/// An application state for work outside `serve` (the notifier alone, tests): the use cases
/// over a pool, with no NATS and a key nobody signs with.
pub fn offline_state(pool: sqlx::PgPool, time_zone: domain::Zone) -> anyhow::Result<AppState> {
    let secret: [u8; 32] = rand::random();
    let jwt = api::auth::jwt::JwtKeys::new(&secret, Duration::from_secs(60))
        .map_err(anyhow::Error::msg)?;
    let config = api::ApiConfig {
        time_zone,
        ..api::ApiConfig::default()
    };
    Ok(AppState::new(
        pool,
        jwt,
        None,
        config,
        api::Monitor::default(),
        crate::config::report_registry(None)?,
    ))
}

/// The notifier of one process.
pub struct Notifier {
    state: AppState,
    settings: NotifySettings,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
    breaker: Arc<CircuitBreaker>,
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Messages made.
    pub made: u64,
    /// Messages sent.
    pub sent: u64,
    /// Messages that failed (to be retried).
    pub failed: u64,
}

impl Notifier {
    /// A notifier with the settings' SMTP server, through `breaker` (see [`breaker_for`]).
    pub fn new(
        state: AppState,
        settings: NotifySettings,
        breaker: Arc<CircuitBreaker>,
    ) -> anyhow::Result<Notifier> {
        let host = settings
            .smtp_host
            .clone()
            .ok_or_else(|| anyhow::anyhow!("SMTP_HOST is not set"))?;
        let builder = match settings.smtp_tls {
            TlsMode::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                .map_err(|e| anyhow::anyhow!("SMTP_HOST {host:?}: {e}"))?,
            TlsMode::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
        };
        let mut builder = builder
            .port(settings.smtp_port)
            .timeout(Some(Duration::from_secs(10)));
        if let (Some(user), Some(password)) = (&settings.smtp_user, &settings.smtp_password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        let from = settings
            .smtp_from
            .parse()
            .map_err(|e| anyhow::anyhow!("SMTP_FROM {:?}: {e}", settings.smtp_from))?;
        Ok(Notifier {
            state,
            transport: builder.build(),
            from,
            breaker,
            settings,
        })
    }

    /// The breaker guarding the SMTP server.
    pub fn breaker(&self) -> Arc<CircuitBreaker> {
        self.breaker.clone()
    }

    /// Runs rounds until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(host = ?self.settings.smtp_host, port = self.settings.smtp_port, "notifier started");
        while !*shutdown.borrow() {
            match self.round(chrono::Utc::now()).await {
                Ok(round) if round.made + round.sent + round.failed > 0 => {
                    tracing::info!(
                        made = round.made,
                        sent = round.sent,
                        failed = round.failed,
                        "notifier round"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "notifier round failed; trying again"),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.every()) => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("notifier stopped");
    }

    /// Makes the new messages, then sends those due.
    pub async fn round(&self, now: chrono::DateTime<chrono::Utc>) -> anyhow::Result<Round> {
        let mut round = Round::default();
        loop {
            let made = outbox::collect(&self.state).await?;
            round.made += made;
            if made == 0 {
                break;
            }
        }
        if self.settings.digests {
            round.made += outbox::digests(&self.state, now).await?;
        }
        outbox::skip_opted_out(self.state.pool()).await?;
        let lease = Duration::from_secs(60);
        loop {
            let claimed = outbox::claim(self.state.pool(), 20, lease).await?;
            if claimed.is_empty() {
                break;
            }
            for message in claimed {
                match self.send(&message).await {
                    Sent::Yes => {
                        outbox::mark_sent(self.state.pool(), message.id).await?;
                        round.sent += 1;
                    }
                    Sent::Failed(error) => {
                        let retry = self.settings.retry_after(message.attempts + 1);
                        tracing::warn!(id = message.id, attempts = message.attempts + 1, retry_in = ?retry, %error, "e-mail not sent; retrying later");
                        outbox::mark_failed(self.state.pool(), message.id, &error, retry).await?;
                        round.failed += 1;
                    }
                    Sent::Refused(retry) => {
                        outbox::release(self.state.pool(), message.id, retry).await?;
                    }
                }
            }
        }
        Ok(round)
    }

    async fn send(&self, message: &Message) -> Sent {
        let permit = match self.breaker.try_acquire() {
            Ok(permit) => permit,
            Err(rejected) => return Sent::Refused(rejected.retry_after),
        };
        let email = match self.email(message) {
            Ok(email) => email,
            Err(error) => {
                // The message itself is wrong (an address that does not parse): the server
                // was not tried.
                permit.unused();
                return Sent::Failed(error);
            }
        };
        match self.transport.send(email).await {
            Ok(_) => {
                permit.succeeded();
                Sent::Yes
            }
            Err(error) => {
                permit.failed();
                Sent::Failed(error.to_string())
            }
        }
    }

    fn email(&self, message: &Message) -> Result<lettre::Message, String> {
        let to = message
            .recipient
            .parse()
            .map_err(|e| format!("recipient: {e}"))?;
        let id: String = message
            .key
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '.' })
            .collect();
        lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone())
            .message_id(Some(format!("<{id}@attendance>")))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| e.to_string())
    }
}

enum Sent {
    Yes,
    Failed(String),
    Refused(Duration),
}
