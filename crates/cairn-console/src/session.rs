//! Console sessions: who is signed in, with which temporary credentials, until when.
//!
//! A sign-in mints temporary credentials for the person (as AWS's console does), and every
//! page they open makes its API calls with them. The browser holds only a random session id in
//! an `HttpOnly`, `SameSite=Strict` cookie; the table lives in memory, so restarting cairn
//! signs everyone out. Signing out forgets the session and deletes its credentials at once.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The cookie that carries the session id.
pub const COOKIE: &str = "cairn-console";

/// How long a sign-in lasts: AWS's console sessions for IAM users last 12 hours.
pub const LIFETIME_MS: i64 = 12 * 3600 * 1000;

/// One signed-in person.
#[derive(Clone, Debug)]
pub struct Session {
    /// The temporary credentials minted at sign-in; the principal is looked up from them on
    /// every request, so a deleted user or key ends the session.
    pub access_key_id: String,
    pub account: String,
    /// What the page header shows: the user name, or the account for root.
    pub display_name: String,
    /// Every form of this session carries it; a POST without it is refused.
    pub csrf: String,
    pub expires_ms: i64,
    /// The login profile requires a new password: until it is changed, the only page open
    /// is the one that changes it.
    pub must_change_password: bool,
}

/// The sessions of this process.
#[derive(Default)]
pub struct Sessions {
    by_id: Mutex<HashMap<String, Session>>,
}

/// A random token, URL-safe: session ids and CSRF tokens.
pub fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Sessions {
    /// Starts a session; its id, for the cookie.
    pub fn start(&self, session: Session) -> String {
        let id = random_token();
        if let Ok(mut m) = self.by_id.lock() {
            m.insert(id.clone(), session);
        }
        id
    }

    /// The live session with this id at `now_ms` (an expired one is forgotten).
    pub fn get(&self, id: &str, now_ms: i64) -> Option<Session> {
        let mut m = self.by_id.lock().ok()?;
        match m.get(id) {
            Some(s) if s.expires_ms > now_ms => Some(s.clone()),
            Some(_) => {
                m.remove(id);
                None
            }
            None => None,
        }
    }

    /// Lifts the restriction to the password change page, once the password has changed.
    pub fn password_changed(&self, id: &str) {
        if let Ok(mut m) = self.by_id.lock()
            && let Some(s) = m.get_mut(id)
        {
            s.must_change_password = false;
        }
    }

    /// Ends a session; what it was, to delete its credentials.
    pub fn end(&self, id: &str) -> Option<Session> {
        self.by_id.lock().ok()?.remove(id)
    }

    /// Forgets sessions that expired before `now_ms`; their credentials expired with them.
    pub fn sweep(&self, now_ms: i64) {
        if let Ok(mut m) = self.by_id.lock() {
            m.retain(|_, s| s.expires_ms > now_ms);
        }
    }
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

    fn session(expires_ms: i64) -> Session {
        Session {
            access_key_id: "ASIAEXAMPLE".into(),
            account: "111122223333".into(),
            display_name: "alice".into(),
            csrf: random_token(),
            expires_ms,
            must_change_password: true,
        }
    }

    #[test]
    fn sessions_expire_and_end() {
        let s = Sessions::default();
        let id = s.start(session(1_000));
        assert!(s.get(&id, 999).is_some());
        assert!(s.get(&id, 1_000).is_none());
        let id = s.start(session(5_000));
        assert!(s.end(&id).is_some());
        assert!(s.get(&id, 0).is_none());
        assert!(s.get("made-up", 0).is_none());
        let id = s.start(session(5_000));
        assert!(s.get(&id, 0).unwrap().must_change_password);
        s.password_changed(&id);
        assert!(!s.get(&id, 0).unwrap().must_change_password);
    }

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
