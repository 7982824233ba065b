//! Who is on the other end of a Runtime API connection. Every environment's Runtime API
//! listens on 127.0.0.1, where any local process can connect; with functions running as users
//! of their own, only the environment's own user may talk to it, or one function could take
//! another's events (`next`) or answer for it. The kernel's socket table (`/proc/net/tcp`)
//! names the user owning each socket: the connecting socket is the one whose local address is
//! the peer's and whose remote address is the listener's. Both ends are matched, and sockets in
//! TIME_WAIT (which the table lists with uid 0) skipped, because the kernel reuses a local port
//! for a connection to another destination while an earlier connection from it lingers: a match
//! on the local address alone found such a leftover first and refused the function's own
//! connection.

use std::net::{IpAddr, SocketAddr};

/// The table's state code for TIME_WAIT.
const TIME_WAIT: &str = "06";

/// The uid owning the live TCP socket connected from `peer` to `listener` (IPv4 loopback), if
/// the kernel's table lists it.
pub(crate) fn uid_of(peer: SocketAddr, listener: SocketAddr) -> Option<u32> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    uid_in(&table, peer, listener)
}

/// How the table writes an IPv4 address: its 32 bits in host (little-endian) order, in hex,
/// and the port in hex: 127.0.0.1:8080 is 0100007F:1F90.
fn table_address(addr: SocketAddr) -> Option<String> {
    let IpAddr::V4(ip) = addr.ip() else {
        return None;
    };
    Some(format!(
        "{:08X}:{:04X}",
        u32::from_ne_bytes(ip.octets()),
        addr.port()
    ))
}

/// The uid of the live socket whose local address is `peer` and remote address `listener` in
/// a `/proc/net/tcp` table.
fn uid_in(table: &str, peer: SocketAddr, listener: SocketAddr) -> Option<u32> {
    let local_want = table_address(peer)?;
    let remote_want = table_address(listener)?;
    table.lines().skip(1).find_map(|line| {
        let mut fields = line.split_whitespace();
        let local = fields.nth(1)?;
        let remote = fields.next()?;
        let state = fields.next()?;
        if !local.eq_ignore_ascii_case(&local_want)
            || !remote.eq_ignore_ascii_case(&remote_want)
            || state == TIME_WAIT
        {
            return None;
        }
        // After the state: queues, timer, retransmits, then the uid.
        fields.nth(3)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:D431 0100007F:1F91 06 00000000:00000000 03:00000DA9 00000000     0        0 0 3 0000000000000000
   2: 0100007F:D431 0100007F:1F90 06 00000000:00000000 03:00000DA9 00000000     0        0 0 3 0000000000000000
   3: 0100007F:D431 0100007F:1F92 01 00000000:00000000 00:00000000 00000000  1000        0 3 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:D431 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 200001        0 2 1 0000000000000000 20 4 30 10 -1
";

    #[test]
    fn the_live_socket_from_the_peer_to_the_listener_names_its_user() {
        let listener: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        if cfg!(target_endian = "little") {
            // The same local port also lingers in TIME_WAIT towards this listener and another,
            // and connects to a third: only the live connection to this listener counts.
            let peer: SocketAddr = "127.0.0.1:54321".parse().unwrap();
            assert_eq!(uid_in(TABLE, peer, listener), Some(200_001));
            let elsewhere: SocketAddr = "127.0.0.1:8082".parse().unwrap();
            assert_eq!(uid_in(TABLE, peer, elsewhere), Some(1000));
            let lingering: SocketAddr = "127.0.0.1:8081".parse().unwrap();
            assert_eq!(uid_in(TABLE, peer, lingering), None);
        }
        assert_eq!(
            uid_in(TABLE, "127.0.0.1:1".parse().unwrap(), listener),
            None
        );
        assert_eq!(
            uid_in(TABLE, "[::1]:54321".parse().unwrap(), listener),
            None
        );
    }

    #[test]
    fn a_connection_of_this_process_is_found_with_its_uid() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server, peer) = listener.accept().unwrap();
        assert_eq!(peer, client.local_addr().unwrap());
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata("/proc/self").unwrap().uid();
        assert_eq!(uid_of(peer, listener.local_addr().unwrap()), Some(me));
    }
}
