//! Who is on the other end of a Runtime API connection. Every environment's Runtime API
//! listens on 127.0.0.1, where any local process can connect; with functions running as users
//! of their own, only the environment's own user may talk to it, or one function could take
//! another's events (`next`) or answer for it. The kernel's socket table (`/proc/net/tcp`)
//! names the user owning each socket: the connecting socket is the one whose local address is
//! the peer's.

use std::net::{IpAddr, SocketAddr};

/// The uid owning the TCP socket bound to `addr` (an IPv4 loopback peer), if the kernel's table
/// lists it.
pub(crate) fn uid_of(addr: SocketAddr) -> Option<u32> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    uid_in(&table, addr)
}

/// The uid of the socket whose local address is `addr` in a `/proc/net/tcp` table.
fn uid_in(table: &str, addr: SocketAddr) -> Option<u32> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    // The table writes an IPv4 address as its 32 bits in host (little-endian) order, in hex,
    // and the port in hex: 127.0.0.1:8080 is 0100007F:1F90.
    let want = format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(ip.octets()),
        addr.port()
    );
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1)?;
        if !local.eq_ignore_ascii_case(&want) {
            return None;
        }
        // After local: remote, state, queues, timer, retransmits, then the uid.
        fields.nth(5)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 200001        0 2 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn the_socket_bound_to_the_peer_address_names_its_user() {
        if cfg!(target_endian = "little") {
            let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
            assert_eq!(uid_in(TABLE, peer), Some(200_001));
            let listener: SocketAddr = "127.0.0.1:8080".parse().unwrap();
            assert_eq!(uid_in(TABLE, listener), Some(0));
        }
        assert_eq!(uid_in(TABLE, "127.0.0.1:1".parse().unwrap()), None);
        assert_eq!(uid_in(TABLE, "[::1]:54321".parse().unwrap()), None);
    }

    #[test]
    fn a_connection_of_this_process_is_found_with_its_uid() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata("/proc/self").unwrap().uid();
        assert_eq!(uid_of(peer), Some(me));
    }
}
