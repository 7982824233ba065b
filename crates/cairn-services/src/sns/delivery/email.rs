//! Delivering to email and email-json subscriptions: each message becomes an `.eml` file
//! (RFC 5322, UTF-8 plain text) in `<data-dir>/mailbox/<address>/`, written atomically
//! (temporary file, fsync, rename). email gets the message text (or the confirmation link)
//! with AWS's footer; email-json gets the signed JSON envelope. Sending through an SMTP relay
//! is not supported yet.

use std::io::Write;
use std::path::Path;

/// One mail to write.
pub(crate) struct Mail<'a> {
    pub to: &'a str,
    pub from_name: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub message_id: &'a str,
    pub date_ms: i64,
}

/// RFC 5322 date (`Sat, 05 Dec 2026 13:57:34 +0000`).
fn date(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] +0000"
    );
    t.format(&fmt).unwrap_or_default()
}

/// A header value on one line.
fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

/// The folder of an address: its characters that are safe in a file name.
fn folder_of(address: &str) -> String {
    address
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._+-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes the mail; the file's path.
pub(crate) fn write(mailbox: &Path, m: &Mail<'_>) -> std::io::Result<std::path::PathBuf> {
    let dir = mailbox.join(folder_of(m.to));
    std::fs::create_dir_all(&dir)?;
    let text = format!(
        "From: {} <no-reply@sns.amazonaws.com>\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}@sns.amazonaws.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        one_line(m.from_name),
        one_line(m.to),
        one_line(m.subject),
        date(m.date_ms),
        one_line(m.message_id),
        m.body.replace("\r\n", "\n").replace('\n', "\r\n"),
    );
    let name = format!("{:013}-{}.eml", m.date_ms, folder_of(m.message_id));
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_land_in_the_address_folder() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            &Mail {
                to: "ops@example.com",
                from_name: "Alerts",
                subject: "S\r\nBcc: x",
                body: "line1\nline2",
                message_id: "m-1",
                date_ms: 0,
            },
        )
        .unwrap();
        assert!(p.starts_with(dir.path().join("ops@example.com")));
        let text = std::fs::read_to_string(p).unwrap();
        assert!(text.contains("Subject: S  Bcc: x\r\n"));
        assert!(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"));
        assert!(text.ends_with("\r\n\r\nline1\r\nline2\r\n"));
    }
}
