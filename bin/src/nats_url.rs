//! `NATS_URL` holds no credentials: they belong in `NATS_USER` and `NATS_PASSWORD`, which
//! are never logged. A password inside the URL used to be ignored, and the NATS client
//! logged the URL (password included) at debug level on every reconnection attempt.

/// Refuses a URL (or comma-separated list of URLs) with `user[:password]@` in it; the
/// error never repeats the URL.
pub fn check(urls: &str) -> anyhow::Result<()> {
    for url in urls.split(',') {
        let rest = url.trim().split_once("://").map_or(url, |(_, rest)| rest);
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if authority.contains('@') {
            anyhow::bail!(
                "NATS_URL must not hold credentials (user:password@host); \
                 give them as NATS_USER and NATS_PASSWORD"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn credentials_in_the_url_are_refused_without_repeating_them() {
        let error = check("nats://svc:hunter2@127.0.0.1:4222").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        assert!(check("nats://a:4222,nats://tok@b:4222").is_err());
        assert!(check("nats://127.0.0.1:4222").is_ok());
        assert!(check("tls://nats.example.org:4222,nats://10.0.0.2").is_ok());
    }
}
