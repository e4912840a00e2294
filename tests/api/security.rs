//! Holding under attack (issue 23): NATS permissions, login flooding, the lockout race,
//! leaks through the audit feed, reports and headers, and unbounded heavy work.

mod support;

mod disclosure;
mod flooding;
mod heavy;
mod leaks;
mod lockout;
mod nats;
mod passwords;
mod secrets;
mod usernames;
