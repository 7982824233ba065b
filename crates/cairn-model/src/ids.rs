//! Identifier generators: event ids, request ids, access keys.

use rand::Rng;

/// A GUID for `eventID` and `requestID`.
pub fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// A long-term access key id: `AKIA` and 16 characters, as AWS issues them.
pub fn new_access_key_id() -> String {
    format!("AKIA{}", random_from(KEY_ALPHABET, 16))
}

/// A temporary access key id (`ASIA…`), for STS credentials.
pub fn new_temporary_access_key_id() -> String {
    format!("ASIA{}", random_from(KEY_ALPHABET, 16))
}

/// A 40-character secret access key.
pub fn new_secret_access_key() -> String {
    random_from(SECRET_ALPHABET, 40)
}

/// An STS session token: opaque, long, base64 characters, like AWS's.
pub fn new_session_token() -> String {
    format!("IQoJb3JpZ2luX2Vj{}", random_from(SECRET_ALPHABET, 340))
}

/// An IAM unique id with the given prefix (`AIDA` users, `AROA` roles, `AGPA` groups).
pub fn new_unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(KEY_ALPHABET, 17))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let k = new_access_key_id();
        assert_eq!(k.len(), 20);
        assert!(k.starts_with("AKIA"));
        assert_eq!(new_secret_access_key().len(), 40);
        assert_eq!(new_uuid().len(), 36);
        assert_ne!(new_uuid(), new_uuid());
    }
}
