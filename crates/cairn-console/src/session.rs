//! Console sessions as the browser sees them: the cookie, its id, the CSRF token, and how
//! long a sign-in lasts.
//!
//! A sign-in mints temporary credentials for the person (as AWS's console does), and every
//! page they open makes its API calls with them. The browser holds only a random session id in
//! an `HttpOnly`, `SameSite=Strict` cookie; the sessions themselves are the application's
//! console store (`cairn_store::console`): in memory on a single node, so restarting cairn
//! signs everyone out, and in the database for a cluster, so every node knows every session.
//! Signing out ends the session and deletes its credentials at once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub use cairn_store::console::ConsoleSession as Session;

/// The cookie that carries the session id.
pub const COOKIE: &str = "cairn-console";

/// How long a sign-in lasts: AWS's console sessions for IAM users last 12 hours.
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// A random token, URL-safe: session ids and CSRF tokens.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value for the console's paths: never readable by scripts, never sent by
/// other sites' requests, `Secure` over HTTPS. `max_age` 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, https: bool) -> String {
    format!(
        "{name}={value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{}",
        if https { "; Secure" } else { "" }
    )
}

/// Whether two tokens are equal, in time independent of where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = http::HeaderMap::new();
        h.append(
            http::header::COOKIE,
            "a=1; cairn-console=xyz".parse().unwrap(),
        );
        h.append(http::header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "b"), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert_ne!(random_token(), random_token());
        let c = set_cookie(COOKIE, "v", 60, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.ends_with("Secure"));
    }
}
