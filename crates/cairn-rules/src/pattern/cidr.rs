//! IP addresses and CIDR blocks as event-ruler reads them: a string that looks like an IPv4 or
//! IPv6 literal compares as an address (so `10.0.0.1` in a pattern is an address, not text), and
//! `cidr` blocks are inclusive address ranges.

use std::net::IpAddr;

/// event-ruler's `IPv4_REGEX`: four dot-separated digit runs.
fn looks_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// event-ruler's `IPv6_REGEX`: hex digits and colons with at least one colon.
fn looks_v6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
}

/// The address `s` names, when it is written as an IP literal.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    if !(looks_v4(s) || looks_v6(s)) {
        return None;
    }
    s.parse().ok()
}

fn to_bytes(s: &str) -> Result<IpAddr, String> {
    if !(looks_v4(s) || looks_v6(s)) {
        return Err(format!("Nonstandard IP address: {s}"));
    }
    s.parse().map_err(|_| format!("Invalid IP address: {s}"))
}

/// An inclusive address range of one family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    low: u128,
    high: u128,
}

fn as_u128(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

impl Cidr {
    /// Parses `a.b.c.d/n` or an IPv6 block with event-ruler's messages.
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        // Java's String.split drops trailing empty pieces: "10.0.0.0/" is one piece.
        let mut pieces: Vec<&str> = text.split('/').collect();
        while pieces.len() > 1 && pieces.last() == Some(&"") {
            pieces.pop();
        }
        let [ip, mask] = pieces[..] else {
            return Err("Malformed CIDR, one '/' required".to_owned());
        };
        let mask: i64 = mask
            .strip_prefix('+')
            .unwrap_or(mask)
            .parse()
            .ok()
            .filter(|_| !mask.starts_with("+-"))
            .ok_or_else(|| "Malformed CIDR, mask bits must be an integer".to_owned())?;
        if mask < 0 {
            return Err("Malformed CIDR, mask bits must not be negative".to_owned());
        }
        let (v6, base) = as_u128(to_bytes(ip)?);
        let width: i64 = if v6 { 128 } else { 32 };
        if !v6 && mask > 31 {
            return Err("IPv4 mask bits must be < 32".to_owned());
        }
        if v6 && mask > 127 {
            return Err("IPv6 mask bits must be < 128".to_owned());
        }
        let variable = (width - mask) as u32;
        let host: u128 = if variable == 0 {
            0
        } else {
            (1u128 << variable) - 1
        };
        Ok(Cidr {
            v6,
            low: base & !host,
            high: base | host,
        })
    }

    /// A range holding exactly one address (an IP literal used as an exact value).
    pub(crate) fn single(ip: IpAddr) -> Cidr {
        let (v6, a) = as_u128(ip);
        Cidr {
            v6,
            low: a,
            high: a,
        }
    }

    pub(crate) fn contains_text(&self, s: &str) -> bool {
        parse_ip(s).is_some_and(|ip| {
            let (v6, a) = as_u128(ip);
            v6 == self.v6 && self.low <= a && a <= self.high
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_block_bounds() {
        let c = Cidr::parse("10.0.0.0/24").unwrap();
        assert!(c.contains_text("10.0.0.255"));
        assert!(!c.contains_text("10.0.1.0"));
        assert!(!c.contains_text("not-an-ip"));
    }

    #[test]
    fn v6_block_bounds() {
        let c = Cidr::parse("2001:db8:1234:1a00::/64").unwrap();
        assert!(c.contains_text("2001:db8:1234:1a00::1"));
        assert!(!c.contains_text("2001:db8:1234:1a01::1"));
        assert!(!c.contains_text("10.0.0.1"));
    }

    #[test]
    fn malformed_blocks_give_event_ruler_messages() {
        let err = |s: &str| Cidr::parse(s).unwrap_err();
        assert_eq!(err("bad-filter"), "Malformed CIDR, one '/' required");
        assert_eq!(
            err("10.0.0.0/xx"),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(err("xx.11.xx/24"), "Nonstandard IP address: xx.11.xx");
        assert_eq!(err("10.0.0.0/32"), "IPv4 mask bits must be < 32");
        assert_eq!(err("999.0.0.1/8"), "Invalid IP address: 999.0.0.1");
    }

    #[test]
    fn literal_addresses_compare_by_value() {
        let one = Cidr::single(parse_ip("2001:db8::1").unwrap());
        assert!(one.contains_text("2001:0db8:0:0::1"));
    }
}
