//! Object Lock's rules, apart from any request: a bucket's lock configuration (its default
//! retention), a version's lock as stored among its metadata (`:retention-mode`,
//! `:retain-until`, `:legal-hold`), and what a lock forbids — removing a version, or weakening
//! its retention — with S3's own errors. The operations that use them are in `lock.rs`.

use std::collections::BTreeMap;

use cairn_wire::AwsError;

use super::iso;
use crate::s3::wire::xml::{Doc, Node, parse};

/// Where a version keeps its lock among its metadata (system values, never answered as is).
pub const MODE: &str = ":retention-mode";
pub const RETAIN_UNTIL: &str = ":retain-until";
pub const LEGAL_HOLD: &str = ":legal-hold";

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A retention mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Removable or shortened by whoever may bypass governance and says so.
    Governance,
    /// Never removed nor shortened until it ends, by anyone.
    Compliance,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "GOVERNANCE" => Some(Mode::Governance),
            "COMPLIANCE" => Some(Mode::Compliance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Governance => "GOVERNANCE",
            Mode::Compliance => "COMPLIANCE",
        }
    }
}

/// A retention: its mode and the instant it ends (ms since the epoch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub mode: Mode,
    pub until_ms: i64,
}

/// A bucket's default retention period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    Days(i64),
    Years(i64),
}

/// A bucket's Object Lock configuration: enabled, with perhaps a default retention.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LockConfig {
    pub default: Option<(Mode, Period)>,
}

pub fn malformed_xml() -> AwsError {
    super::malformed_xml()
}

/// S3's refusal to remove or weaken a locked version.
pub fn protected() -> AwsError {
    AwsError::new(
        403,
        "AccessDenied",
        "Access Denied because object protected by object lock.",
    )
}

/// S3's answer to lock parameters on a bucket without Object Lock.
pub fn bucket_not_locked() -> AwsError {
    AwsError::client(
        "InvalidRequest",
        "Bucket is missing Object Lock Configuration",
    )
}

fn past_date() -> AwsError {
    AwsError::client(
        "InvalidArgument",
        "The retain until date must be in the future!",
    )
}

impl LockConfig {
    /// Reads an `ObjectLockConfiguration` document, as S3 validates it.
    pub fn parse(xml: &[u8]) -> Result<LockConfig, AwsError> {
        let n = parse(xml)
            .filter(|n| n.name == "ObjectLockConfiguration")
            .ok_or_else(malformed_xml)?;
        if n.text_of("ObjectLockEnabled") != Some("Enabled") {
            return Err(malformed_xml());
        }
        let Some(rule) = n.child("Rule") else {
            return Ok(LockConfig::default());
        };
        let d = rule.child("DefaultRetention").ok_or_else(malformed_xml)?;
        let mode = d
            .text_of("Mode")
            .and_then(Mode::parse)
            .ok_or_else(malformed_xml)?;
        let number = |name: &str| -> Result<Option<i64>, AwsError> {
            match d.text_of(name) {
                None => Ok(None),
                Some(t) => match t.trim().parse::<i64>() {
                    Ok(v) if v > 0 => Ok(Some(v)),
                    Ok(_) => Err(AwsError::client(
                        "InvalidArgument",
                        "Default retention period must be a positive integer value.",
                    )),
                    Err(_) => Err(malformed_xml()),
                },
            }
        };
        let period = match (number("Days")?, number("Years")?) {
            (Some(d), None) => Period::Days(d),
            (None, Some(y)) => Period::Years(y),
            _ => return Err(malformed_xml()),
        };
        Ok(LockConfig {
            default: Some((mode, period)),
        })
    }

    /// The document GetObjectLockConfiguration answers (and the form the bucket stores).
    pub fn to_xml(self) -> Vec<u8> {
        let mut d = Doc::new("ObjectLockConfiguration");
        d.elem("ObjectLockEnabled", "Enabled");
        if let Some((mode, period)) = self.default {
            d.open("Rule")
                .open("DefaultRetention")
                .elem("Mode", mode.as_str());
            match period {
                Period::Days(n) => d.elem("Days", &n.to_string()),
                Period::Years(n) => d.elem("Years", &n.to_string()),
            };
            d.close("DefaultRetention").close("Rule");
        }
        d.finish("ObjectLockConfiguration")
    }

    /// The retention a new version takes when its write names none.
    pub fn default_retention(&self, now_ms: i64) -> Option<Retention> {
        let (mode, period) = self.default?;
        let days = match period {
            Period::Days(n) => n,
            // S3 counts a year as 365 days.
            Period::Years(n) => n.saturating_mul(365),
        };
        Some(Retention {
            mode,
            until_ms: now_ms.saturating_add(days.saturating_mul(DAY_MS)),
        })
    }
}

/// Reads an ISO 8601 instant (`2030-01-01T00:00:00Z`, with or without fraction or offset).
pub fn parse_date(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A version's lock, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VersionLock {
    pub retention: Option<Retention>,
    /// `None` when no legal hold was ever set (GetObjectLegalHold has nothing to answer).
    pub legal_hold: Option<bool>,
}

impl VersionLock {
    pub fn of(metadata: &BTreeMap<String, String>) -> VersionLock {
        let retention = match (
            metadata.get(MODE).and_then(|m| Mode::parse(m)),
            metadata
                .get(RETAIN_UNTIL)
                .and_then(|u| u.parse::<i64>().ok()),
        ) {
            (Some(mode), Some(until_ms)) => Some(Retention { mode, until_ms }),
            _ => None,
        };
        VersionLock {
            retention,
            legal_hold: metadata.get(LEGAL_HOLD).map(|h| h == "ON"),
        }
    }

    /// Writes the lock into a version's metadata.
    pub fn store(&self, metadata: &mut BTreeMap<String, String>) {
        metadata.remove(MODE);
        metadata.remove(RETAIN_UNTIL);
        if let Some(r) = self.retention {
            metadata.insert(MODE.to_owned(), r.mode.as_str().to_owned());
            metadata.insert(RETAIN_UNTIL.to_owned(), r.until_ms.to_string());
        }
        match self.legal_hold {
            Some(on) => metadata.insert(
                LEGAL_HOLD.to_owned(),
                if on { "ON" } else { "OFF" }.to_owned(),
            ),
            None => metadata.remove(LEGAL_HOLD),
        };
    }

    /// The retention still in force at `now_ms`.
    fn active(&self, now_ms: i64) -> Option<Retention> {
        self.retention.filter(|r| r.until_ms > now_ms)
    }

    /// Whether the version may be removed now: never under a legal hold or a compliance
    /// retention; under a governance retention only by a caller that bypasses it.
    pub fn may_remove(&self, now_ms: i64, bypass: bool) -> Result<(), AwsError> {
        if self.legal_hold == Some(true) {
            return Err(protected());
        }
        match self.active(now_ms) {
            Some(Retention {
                mode: Mode::Compliance,
                ..
            }) => Err(protected()),
            Some(Retention {
                mode: Mode::Governance,
                ..
            }) if !bypass => Err(protected()),
            _ => Ok(()),
        }
    }

    /// Whether the retention may become `new` (`None`: removed) now. Keeping or lengthening a
    /// retention is always allowed; shortening or removing a governance one takes a bypass;
    /// a compliance one is never shortened, removed or turned into governance.
    pub fn may_retain(
        &self,
        new: Option<Retention>,
        now_ms: i64,
        bypass: bool,
    ) -> Result<(), AwsError> {
        if let Some(n) = new
            && n.until_ms <= now_ms
        {
            return Err(past_date());
        }
        let Some(old) = self.active(now_ms) else {
            return Ok(());
        };
        let stronger = new.is_some_and(|n| {
            n.until_ms >= old.until_ms && (old.mode == Mode::Governance || n.mode == old.mode)
        });
        match old.mode {
            _ if stronger => Ok(()),
            Mode::Governance if bypass => Ok(()),
            _ => Err(protected()),
        }
    }

    /// The headers GetObject and HeadObject answer with, as far as the caller may read them.
    pub fn headers(&self, retention: bool, legal_hold: bool) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        if retention && let Some(r) = self.retention {
            h.push(("x-amz-object-lock-mode", r.mode.as_str().to_owned()));
            h.push(("x-amz-object-lock-retain-until-date", iso(r.until_ms)));
        }
        if legal_hold && let Some(on) = self.legal_hold {
            h.push((
                "x-amz-object-lock-legal-hold",
                if on { "ON" } else { "OFF" }.to_owned(),
            ));
        }
        h
    }
}

/// Reads a `Retention` document: a retention, or `None` for an empty one (removing it).
pub fn parse_retention(xml: &[u8]) -> Result<Option<Retention>, AwsError> {
    let n: Node = parse(xml)
        .filter(|n| n.name == "Retention")
        .ok_or_else(malformed_xml)?;
    match (n.text_of("Mode"), n.text_of("RetainUntilDate")) {
        (None, None) => Ok(None),
        (Some(m), Some(d)) => {
            let mode = Mode::parse(m).ok_or_else(malformed_xml)?;
            let until_ms = parse_date(d).ok_or_else(malformed_xml)?;
            Ok(Some(Retention { mode, until_ms }))
        }
        _ => Err(malformed_xml()),
    }
}

/// Reads a `LegalHold` document: whether it is on.
pub fn parse_legal_hold(xml: &[u8]) -> Result<bool, AwsError> {
    let n = parse(xml)
        .filter(|n| n.name == "LegalHold")
        .ok_or_else(malformed_xml)?;
    match n.text_of("Status") {
        Some("ON") => Ok(true),
        Some("OFF") => Ok(false),
        _ => Err(malformed_xml()),
    }
}

/// The lock a write asks for with its headers (`x-amz-object-lock-mode`,
/// `-retain-until-date`, `-legal-hold`): `None` when it names none.
pub fn requested(
    header: impl Fn(&str) -> Option<String>,
    now_ms: i64,
) -> Result<Option<VersionLock>, AwsError> {
    let mode = header("x-amz-object-lock-mode");
    let until = header("x-amz-object-lock-retain-until-date");
    let hold = header("x-amz-object-lock-legal-hold");
    if mode.is_none() && until.is_none() && hold.is_none() {
        return Ok(None);
    }
    let retention = match (mode, until) {
        (None, None) => None,
        (Some(m), Some(u)) => {
            let mode = Mode::parse(&m).ok_or_else(|| {
                AwsError::client("InvalidArgument", "Unknown wormMode directive.")
            })?;
            let until_ms = parse_date(&u).ok_or_else(|| {
                AwsError::client(
                    "InvalidArgument",
                    "The retain until date must be provided in ISO 8601 format",
                )
            })?;
            if until_ms <= now_ms {
                return Err(past_date());
            }
            Some(Retention { mode, until_ms })
        }
        _ => {
            return Err(AwsError::client(
                "InvalidArgument",
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied",
            ));
        }
    };
    let legal_hold = match hold.as_deref() {
        None => None,
        Some("ON") => Some(true),
        Some("OFF") => Some(false),
        Some(_) => {
            return Err(AwsError::client(
                "InvalidArgument",
                "Legal Hold must be either of 'ON' or 'OFF'",
            ));
        }
    };
    Ok(Some(VersionLock {
        retention,
        legal_hold,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn lock(mode: Mode, until_ms: i64) -> VersionLock {
        VersionLock {
            retention: Some(Retention { mode, until_ms }),
            legal_hold: None,
        }
    }

    #[test]
    fn configurations_as_s3_validates_them() {
        let c = LockConfig::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>2</Days></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap();
        assert_eq!(c.default, Some((Mode::Compliance, Period::Days(2))));
        assert_eq!(
            c.default_retention(NOW),
            Some(Retention {
                mode: Mode::Compliance,
                until_ms: NOW + 2 * DAY_MS
            })
        );
        // What is stored reads back the same.
        assert_eq!(LockConfig::parse(&c.to_xml()).unwrap(), c);
        let y = LockConfig::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap();
        assert_eq!(
            y.default_retention(NOW).map(|r| r.until_ms),
            Some(NOW + 365 * DAY_MS)
        );
        let bare = LockConfig::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>").unwrap();
        assert_eq!(bare.default_retention(NOW), None);
        for bad in [
            &b"<ObjectLockConfiguration><ObjectLockEnabled>Disabled</ObjectLockEnabled></ObjectLockConfiguration>"[..],
            b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days><Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>",
            b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>FOREVER</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>",
            b"<Other/>",
        ] {
            assert_eq!(LockConfig::parse(bad).unwrap_err().code, "MalformedXML");
        }
        let zero = LockConfig::parse(b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>0</Days></DefaultRetention></Rule></ObjectLockConfiguration>").unwrap_err();
        assert_eq!(zero.code, "InvalidArgument");
    }

    #[test]
    fn a_lock_round_trips_through_metadata() {
        let mut m = BTreeMap::new();
        m.insert("user".to_owned(), "kept".to_owned());
        let l = VersionLock {
            retention: Some(Retention {
                mode: Mode::Governance,
                until_ms: NOW,
            }),
            legal_hold: Some(false),
        };
        l.store(&mut m);
        assert_eq!(VersionLock::of(&m), l);
        assert_eq!(m.get("user").map(String::as_str), Some("kept"));
        VersionLock::default().store(&mut m);
        assert_eq!(VersionLock::of(&m), VersionLock::default());
    }

    #[test]
    fn removal_is_refused_while_locked_and_allowed_after() {
        let denied = |r: Result<(), AwsError>| r.unwrap_err().status == 403;
        let c = lock(Mode::Compliance, NOW + 1);
        assert!(denied(c.may_remove(NOW, true)));
        assert!(c.may_remove(NOW + 1, false).is_ok());
        let g = lock(Mode::Governance, NOW + 1);
        assert!(denied(g.may_remove(NOW, false)));
        assert!(g.may_remove(NOW, true).is_ok());
        let held = VersionLock {
            retention: None,
            legal_hold: Some(true),
        };
        assert!(denied(held.may_remove(NOW, true)));
        assert!(VersionLock::default().may_remove(NOW, false).is_ok());
        let e = c.may_remove(NOW, true).unwrap_err();
        assert_eq!(e.code, "AccessDenied");
        assert_eq!(
            e.message,
            "Access Denied because object protected by object lock."
        );
    }

    #[test]
    fn retention_is_only_strengthened_without_a_bypass() {
        let r = |mode, until_ms| Some(Retention { mode, until_ms });
        let c = lock(Mode::Compliance, NOW + 100);
        assert!(
            c.may_retain(r(Mode::Compliance, NOW + 200), NOW, false)
                .is_ok()
        );
        assert!(
            c.may_retain(r(Mode::Compliance, NOW + 100), NOW, false)
                .is_ok()
        );
        // Compliance: never shortened, removed or weakened into governance, bypass or not.
        assert!(
            c.may_retain(r(Mode::Compliance, NOW + 50), NOW, true)
                .is_err()
        );
        assert!(c.may_retain(None, NOW, true).is_err());
        assert!(
            c.may_retain(r(Mode::Governance, NOW + 300), NOW, true)
                .is_err()
        );
        let g = lock(Mode::Governance, NOW + 100);
        assert!(
            g.may_retain(r(Mode::Governance, NOW + 200), NOW, false)
                .is_ok()
        );
        assert!(
            g.may_retain(r(Mode::Compliance, NOW + 200), NOW, false)
                .is_ok()
        );
        assert!(
            g.may_retain(r(Mode::Governance, NOW + 50), NOW, false)
                .is_err()
        );
        assert!(g.may_retain(None, NOW, false).is_err());
        assert!(
            g.may_retain(r(Mode::Governance, NOW + 50), NOW, true)
                .is_ok()
        );
        assert!(g.may_retain(None, NOW, true).is_ok());
        // Expired: anything goes, but a new date must be in the future.
        assert!(c.may_retain(None, NOW + 100, false).is_ok());
        let past = VersionLock::default()
            .may_retain(r(Mode::Governance, NOW), NOW, false)
            .unwrap_err();
        assert_eq!(past.code, "InvalidArgument");
    }

    #[test]
    fn write_headers_as_s3_reads_them() {
        let h = |pairs: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        assert_eq!(requested(h(&[]), NOW).unwrap(), None);
        let l = requested(
            h(&[
                ("x-amz-object-lock-mode", "GOVERNANCE"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2099-01-01T00:00:00Z",
                ),
                ("x-amz-object-lock-legal-hold", "ON"),
            ]),
            NOW,
        )
        .unwrap()
        .unwrap();
        assert_eq!(l.legal_hold, Some(true));
        assert_eq!(
            l.retention.map(|r| r.until_ms),
            parse_date("2099-01-01T00:00:00.000Z")
        );
        let only_mode = requested(h(&[("x-amz-object-lock-mode", "GOVERNANCE")]), NOW);
        assert_eq!(only_mode.unwrap_err().code, "InvalidArgument");
        let bad_mode = requested(
            h(&[
                ("x-amz-object-lock-mode", "forever"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2099-01-01T00:00:00Z",
                ),
            ]),
            NOW,
        );
        assert_eq!(bad_mode.unwrap_err().message, "Unknown wormMode directive.");
        let past = requested(
            h(&[
                ("x-amz-object-lock-mode", "COMPLIANCE"),
                (
                    "x-amz-object-lock-retain-until-date",
                    "2001-01-01T00:00:00Z",
                ),
            ]),
            NOW,
        );
        assert_eq!(
            past.unwrap_err().message,
            "The retain until date must be in the future!"
        );
    }

    #[test]
    fn retention_and_legal_hold_documents() {
        let r = parse_retention(b"<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE</Mode><RetainUntilDate>2099-01-01T00:00:00.000Z</RetainUntilDate></Retention>").unwrap().unwrap();
        assert_eq!(r.mode, Mode::Compliance);
        assert_eq!(parse_retention(b"<Retention/>").unwrap(), None);
        assert!(parse_retention(b"<Retention><Mode>COMPLIANCE</Mode></Retention>").is_err());
        assert!(parse_legal_hold(b"<LegalHold><Status>ON</Status></LegalHold>").unwrap());
        assert!(!parse_legal_hold(b"<LegalHold><Status>OFF</Status></LegalHold>").unwrap());
        assert!(parse_legal_hold(b"<LegalHold><Status>on</Status></LegalHold>").is_err());
        let headers = lock(Mode::Governance, 0).headers(true, true);
        assert_eq!(
            headers,
            [
                ("x-amz-object-lock-mode", "GOVERNANCE".to_owned()),
                (
                    "x-amz-object-lock-retain-until-date",
                    "1970-01-01T00:00:00.000Z".to_owned()
                )
            ]
        );
    }
}
