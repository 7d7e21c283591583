//! Checks shared by the config sections for values that reach the browser: durations that become JS timers,
//! header values (API keys) and provider base URLs. Messages name the field and never repeat a secret.
use crate::error::Error;

/// The longest delay a browser timer honours: setTimeout treats 2^31 ms or more as 0 and fires at once.
pub const MAX_TIMER_MS: u32 = i32::MAX as u32;

/// A duration in ms that ends up in a JS timer (a sleep, a deadline, a fetch timeout).
pub fn timer_ms(field: &str, ms: u32) -> Result<(), Error> {
    if ms > MAX_TIMER_MS {
        return Err(Error::invalid_config(
            field,
            format!(
                "got {ms}; use at most {MAX_TIMER_MS} ms (about 24.8 days), the longest delay a browser timer keeps"
            ),
        ));
    }
    Ok(())
}

/// A value sent in an HTTP header, such as an API key. `fetch` throws on a character outside Latin-1 or on NUL,
/// CR or LF, and silently strips whitespace at either end (sending another key than configured). The value
/// itself is never put in the message: a key must not reach an error report.
pub fn header_value(field: &str, value: &str) -> Result<(), Error> {
    let problem = if value.is_empty() {
        Some("is empty; leave it out when the endpoint needs no key")
    } else if value.chars().any(|c| c as u32 > 0xff) {
        Some("holds a character an HTTP header cannot carry (outside Latin-1); check what was pasted")
    } else if value.chars().any(|c| c.is_control() && c != '\t') {
        Some("holds a line break or another control character; check what was pasted")
    } else if value.starts_with([' ', '\t']) || value.ends_with([' ', '\t']) {
        Some("starts or ends with whitespace; remove it")
    } else {
        None
    };
    match problem {
        Some(p) => Err(Error::invalid_config(field, format!("the value {p} (it is not repeated here)"))),
        None => Ok(()),
    }
}

/// A provider's base URL: https, or plain http to this machine only (a local gateway or mock); an API key or a
/// player's lines must not cross a network in clear text.
pub fn base_url(field: &str, url: &str) -> Result<(), Error> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") && lower.len() > "https://".len() {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if is_loopback(authority) {
            return Ok(());
        }
        return Err(Error::invalid_config(
            field,
            format!("got {url:?}; plain http is allowed only for 127.0.0.1, [::1] and localhost: use https"),
        ));
    }
    Err(Error::invalid_config(
        field,
        format!("got {url:?}; use an absolute https URL such as \"https://game.example/ai/v1\""),
    ))
}

/// `host[:port]` names this machine. User info (`user@host`) is refused: it hides the real host.
fn is_loopback(authority: &str) -> bool {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((ip, port)) if ip == "::1" => (ip, port),
            _ => return false,
        },
        None => authority.split_at(authority.find(':').unwrap_or(authority.len())),
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok && matches!(host, "127.0.0.1" | "localhost" | "::1")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::config::Config;
    use crate::error::Error;

    fn rejected(v: serde_json::Value) -> (String, String) {
        match Config::parse(v) {
            Err(Error::InvalidConfig { field, message }) => (field, message),
            other => (format!("accepted: {other:?}"), String::new()),
        }
    }

    fn provider(extra: serde_json::Value) -> serde_json::Value {
        let mut p = json!({"kind": "openai", "baseUrl": "https://game.example/ai/v1"});
        if let (Some(o), Some(e)) = (p.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        json!({"cloud": {"providers": {"gw": p}}})
    }

    #[test]
    fn durations_past_the_browsers_timer_range_are_refused_by_field() {
        let too_long = 1u64 << 31;
        let cases = [
            (json!({"cloud": {"cloudTimeoutMs": too_long}}), "cloud.cloudTimeoutMs"),
            (json!({"cloud": {"localTimeoutMs": too_long, "deadlineMs": too_long}}), "cloud.localTimeoutMs"),
            (json!({"cloud": {"deadlineMs": too_long}}), "cloud.deadlineMs"),
            (json!({"cloud": {"backoffMaxMs": too_long}}), "cloud.backoffMaxMs"),
            (json!({"cloud": {"batch": {"maxWaitMs": too_long}}}), "cloud.batch.maxWaitMs"),
            (json!({"cloud": {"breaker": {"resetTimeoutMs": u32::MAX}}}), "cloud.breaker.resetTimeoutMs"),
            (json!({"cache": {"sweepIntervalMs": too_long}}), "cache.sweepIntervalMs"),
        ];
        for (config, want) in cases {
            let (field, message) = rejected(config);
            assert_eq!(field, want, "{message}");
            assert!(message.contains("2147483647"), "{message}");
        }
        let longest = json!({"cloud": {"cloudTimeoutMs": too_long - 1, "deadlineMs": too_long - 1}});
        assert!(Config::parse(longest).is_ok(), "2^31 - 1 ms is the longest timer");
    }

    #[test]
    fn an_api_key_a_header_cannot_carry_is_refused_without_echoing_it() {
        for key in ["sk-\nsecret", "sk-\rsecret", "sk-\0secret", "sk-ключ-secret", " sk-secret", "sk-secret\t", ""]
        {
            let (field, message) = rejected(provider(json!({ "apiKey": key })));
            assert_eq!(field, "cloud.providers.gw.apiKey", "{key:?}: {message}");
            assert!(!message.contains("secret") && !message.contains("ключ"), "the key is not echoed: {message}");
        }
        assert!(Config::parse(provider(json!({"apiKey": "sk-proj_AZaz09-._~+/="}))).is_ok());
    }

    #[test]
    fn plain_http_is_refused_except_on_this_machine() {
        for url in [
            "http://api.example.com/v1",
            "HTTP://api.example.com",
            "http://127.0.0.1.example.com/v1",
            "http://localhost@api.example.com/v1",
            "http://localhost.example.com",
            "http://10.0.0.1:8787",
        ] {
            let (field, message) = rejected(provider(json!({ "baseUrl": url })));
            assert_eq!(field, "cloud.providers.gw.baseUrl", "{url}: {message}");
            assert!(message.contains("https"), "{message}");
        }
        for url in [
            "http://127.0.0.1:8787",
            "http://127.0.0.1:8787/v1",
            "http://localhost:8787/v1",
            "http://LOCALHOST/v1",
            "http://[::1]:8787/v1",
            "https://api.example.com/v1",
        ] {
            let outcome = Config::parse(provider(json!({ "baseUrl": url })));
            assert!(outcome.is_ok(), "{url}: {outcome:?}");
        }
    }
}
