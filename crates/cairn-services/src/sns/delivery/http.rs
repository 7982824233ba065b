//! Delivering to HTTP(S) endpoints: one POST with AWS's headers (`x-amz-sns-message-type`,
//! `-message-id`, `-topic-arn`, `-subscription-arn` but on confirmations, `-rawdelivery` for
//! raw messages), `text/plain; charset=UTF-8`, and SNS's user agent. Any 2xx acknowledges it.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// An endpoint URL taken apart.
struct Target {
    https: bool,
    host: String,
    port: u16,
    /// Path and query, `/` at least.
    path: String,
}

fn parse(url: &str) -> Result<Target, String> {
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("not an http(s) URL: {url}"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('?') => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_owned()),
        None => (rest, "/".to_owned()),
    };
    // Credentials in the URL (user:pass@host) become Basic authorization: not supported yet.
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
            Ok(p) => (h.to_owned(), p),
            Err(_) => (authority.to_owned(), if https { 443 } else { 80 }),
        },
        _ => (authority.to_owned(), if https { 443 } else { 80 }),
    };
    Ok(Target {
        https,
        host,
        port,
        path,
    })
}

/// POSTs `body` with `headers`; `Ok(status)` when the endpoint answered.
pub(crate) fn post(url: &str, headers: &[(&str, String)], body: &str) -> Result<u16, String> {
    let t = parse(url)?;
    let host = t.host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host, t.port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let s =
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    s.set_read_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(IO_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        t.path,
        if (t.port == 80 && !t.https) || (t.port == 443 && t.https) {
            t.host.clone()
        } else {
            format!("{}:{}", t.host, t.port)
        },
        body.len()
    );
    for (k, v) in headers {
        if v.contains(['\r', '\n']) {
            return Err(format!("header {k} holds a line break"));
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut request = head.into_bytes();
    request.extend_from_slice(body.as_bytes());
    let mut response = Vec::new();
    if t.https {
        let tls = cairn_wire::tls::Tls::new(None)?;
        let mut conn = tls.connect(host, s)?;
        conn.write_all(&request).map_err(|e| e.to_string())?;
        read_head(&mut conn, &mut response)?;
    } else {
        let mut s = s;
        s.write_all(&request).map_err(|e| e.to_string())?;
        read_head(&mut s, &mut response)?;
    }
    let line = String::from_utf8_lossy(&response);
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .ok_or_else(|| format!("{url}: not an HTTP response"))
}

/// Reads until the status line is in.
fn read_head(r: &mut impl Read, out: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 1024];
    while !out.windows(2).any(|w| w == b"\r\n") && out.len() < 8192 {
        let n = r.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        out.extend_from_slice(&chunk[..n]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_come_apart() {
        let t = parse("http://127.0.0.1:8080/hook?x=1").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str(), t.https),
            ("127.0.0.1", 8080, "/hook?x=1", false)
        );
        let t = parse("https://example.com").unwrap();
        assert_eq!(
            (t.host.as_str(), t.port, t.path.as_str()),
            ("example.com", 443, "/")
        );
        let t = parse("http://h?q").unwrap();
        assert_eq!(t.path, "/?q");
        assert!(parse("ftp://x").is_err());
    }
}
