//! Address blocks of `IpAddress` and `NotIpAddress`: IPv4 and IPv6, in CIDR notation or as a
//! single address.

use std::net::IpAddr;

/// A block from a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    net: IpAddr,
    prefix: u32,
}

impl Block {
    /// `203.0.113.0/24`, `2001:db8::/32`, or one address (`127.0.0.1`). Host bits may be set
    /// (`203.0.113.7/24` is the same block), as IAM allows.
    pub fn parse(s: &str) -> Option<Block> {
        let s = s.trim();
        let (net, prefix) = match s.split_once('/') {
            Some((n, p)) => (n.parse::<IpAddr>().ok()?, Some(p)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u32>().ok().filter(|p| *p <= max)?
            }
            Some(_) => return None,
        };
        Some(Block { net, prefix })
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.net, addr) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            // A client on an IPv6 socket shows IPv4 peers as ::ffff:a.b.c.d.
            (IpAddr::V4(_), IpAddr::V6(a)) => a
                .to_ipv4_mapped()
                .is_some_and(|v4| self.contains(IpAddr::V4(v4))),
            (IpAddr::V6(_), IpAddr::V4(_)) => false,
        }
    }
}

/// Whether `addr` (from the request) is in `block` (from the policy); false when either is
/// not an address.
pub fn in_block(addr: &str, block: &str) -> bool {
    match (addr.trim().parse::<IpAddr>(), Block::parse(block)) {
        (Ok(a), Some(b)) => b.contains(a),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        assert!(in_block("203.0.113.7", "203.0.113.0/24"));
        assert!(in_block("203.0.113.7", "203.0.113.99/24"));
        assert!(!in_block("203.0.114.7", "203.0.113.0/24"));
        assert!(in_block("10.1.2.3", "0.0.0.0/0"));
        assert!(in_block("10.1.2.3", "10.1.2.3"));
        assert!(in_block("10.1.2.3", "10.1.2.3/32"));
        assert!(!in_block("10.1.2.4", "10.1.2.3/32"));
        assert!(in_block("2001:db8::1", "2001:db8::/32"));
        assert!(!in_block("2001:db9::1", "2001:db8::/32"));
        assert!(in_block("::1", "::/0"));
        assert!(in_block("::ffff:127.0.0.1", "127.0.0.0/8"));
        assert!(!in_block("127.0.0.1", "::/0"));
        assert!(!in_block("10.1.2.3", "10.0.0.0/33"));
        assert!(!in_block("10.1.2.3", "10.0.0.0/"));
        assert!(!in_block("10.1.2.3", "10.0.0.0/x"));
        assert!(!in_block("10.1.2.3", "10.0.0.0/+8"));
        assert!(!in_block("not an address", "10.0.0.0/8"));
    }
}
