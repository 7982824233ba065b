//! Request bodies that flow through their call instead of being read whole first: for calls
//! whose service passes the body on without reading it (a forwarded REST call's blob
//! payload, see `Service::streams_body`).
//!
//! The signature of such a call covers its body, so it can only be checked once the last
//! byte has arrived. The call is authorized as the principal its key claims and starts at
//! once; the edge reads the body into a small channel while hashing it ([`pump`]), and the
//! service reads from the other end ([`StreamedBody::reader`]). The last piece is withheld
//! until the signature is checked: a body that does not match its signature, or that stops
//! before its `Content-Length`, ends in an error instead, so whoever the service passes it
//! to never receives a whole request. Before a call is recorded, its service waits for the
//! body's end ([`StreamedBody::finish`]): a call whose signature did not hold is answered
//! with that refusal and never recorded as the claimed principal's.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes};
use cairn_wire::AwsError;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::body::BodyError;

/// How many pieces of a body wait between the client and the service.
const QUEUED_PIECES: usize = 4;

/// What the edge hands the service: a piece of the body, or its end.
#[derive(Debug)]
pub enum Piece {
    Data(Bytes),
    /// The body ended: whole and signed by the claimed key, or why not.
    End(Result<(), AwsError>),
}

/// A body on its way from the client to the service that runs the call.
#[derive(Debug)]
pub struct StreamedBody {
    length: u64,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    rx: mpsc::Receiver<Piece>,
    /// What is left of the piece being read.
    current: Bytes,
    /// The body's end, once seen.
    outcome: Option<Result<(), AwsError>>,
}

impl StreamedBody {
    /// A body of `length` bytes (its `Content-Length`), and the sending end for [`pump`].
    pub fn new(length: u64) -> (Arc<StreamedBody>, mpsc::Sender<Piece>) {
        let (tx, rx) = mpsc::channel(QUEUED_PIECES);
        let body = StreamedBody {
            length,
            state: Mutex::new(State {
                rx,
                current: Bytes::new(),
                outcome: None,
            }),
        };
        (Arc::new(body), tx)
    }

    /// The body's declared length.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// A blocking reader of the body: it ends (`Ok(0)`) only once the body is whole and its
    /// signature checked, and fails otherwise.
    pub fn reader(self: &Arc<Self>) -> BodyReader {
        BodyReader(Arc::clone(self))
    }

    /// Waits for the body's end, dropping whatever no reader took, and tells whether it was
    /// whole and signed by the claimed key (blocking: never on the reactor).
    pub fn finish(&self) -> Result<(), AwsError> {
        let Ok(mut state) = self.state.lock() else {
            return Err(AwsError::internal("a streamed body's state was poisoned"));
        };
        state.current = Bytes::new();
        loop {
            if let Some(outcome) = &state.outcome {
                return outcome.clone();
            }
            state.next();
            state.current = Bytes::new();
        }
    }
}

impl State {
    /// Takes the next piece (blocking).
    fn next(&mut self) {
        match self.rx.blocking_recv() {
            Some(Piece::Data(d)) => self.current = d,
            Some(Piece::End(r)) => self.outcome = Some(r),
            // The edge stopped reading the body (its client went away).
            None => self.outcome = Some(Err(BodyError::Malformed.to_aws_error())),
        }
    }
}

/// See [`StreamedBody::reader`].
#[derive(Debug)]
pub struct BodyReader(Arc<StreamedBody>);

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Ok(mut state) = self.0.state.lock() else {
            return Err(std::io::Error::other(
                "a streamed body's state was poisoned",
            ));
        };
        loop {
            if !state.current.is_empty() {
                let n = buf.len().min(state.current.len());
                buf[..n].copy_from_slice(&state.current[..n]);
                state.current.advance(n);
                return Ok(n);
            }
            match &state.outcome {
                Some(Ok(())) => return Ok(0),
                Some(Err(e)) => {
                    return Err(std::io::Error::other(format!("{}: {}", e.code, e.message)));
                }
                None => state.next(),
            }
        }
    }
}

/// Reads a request's body into `tx` while hashing it, under the same limits as a body read
/// whole (`limit` bytes, `silence` between frames). Each piece is passed on only once the
/// next has arrived; at the end `check` judges the body's SHA-256 (hex) before the last
/// piece goes. Returns whether the body was read to its end (else the connection must not
/// be reused).
pub async fn pump<F>(
    mut body: Incoming,
    tx: mpsc::Sender<Piece>,
    length: u64,
    limit: u64,
    silence: Duration,
    check: F,
) -> bool
where
    F: FnOnce(&str) -> Result<(), AwsError>,
{
    let fail = |e: BodyError| Piece::End(Err(e.to_aws_error()));
    if length > limit {
        let _ = tx.send(fail(BodyError::TooLarge)).await;
        return false;
    }
    let mut hash = Sha256::new();
    let mut held: Option<Bytes> = None;
    let mut total: u64 = 0;
    loop {
        let frame = match tokio::time::timeout(silence, body.frame()).await {
            Err(_) => {
                let _ = tx.send(fail(BodyError::Silent)).await;
                return false;
            }
            Ok(None) => break,
            Ok(Some(Err(_))) => {
                let _ = tx.send(fail(BodyError::Malformed)).await;
                return false;
            }
            Ok(Some(Ok(f))) => f,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total += data.len() as u64;
        if total > length {
            let _ = tx.send(fail(BodyError::Malformed)).await;
            return false;
        }
        hash.update(&data);
        if let Some(before) = held.replace(data)
            && tx.send(Piece::Data(before)).await.is_err()
        {
            // The call ended without its body: nothing waits for the rest.
            return false;
        }
    }
    if total != length {
        let _ = tx.send(fail(BodyError::Malformed)).await;
        return true;
    }
    match check(&hex::encode(hash.finalize())) {
        Ok(()) => {
            if let Some(last) = held
                && tx.send(Piece::Data(last)).await.is_err()
            {
                return true;
            }
            let _ = tx.send(Piece::End(Ok(()))).await;
        }
        Err(e) => {
            let _ = tx.send(Piece::End(Err(e))).await;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn fed(pieces: Vec<Piece>) -> Arc<StreamedBody> {
        let (body, tx) = StreamedBody::new(0);
        for p in pieces {
            tx.try_send(p).unwrap();
        }
        body
    }

    #[test]
    fn a_reader_ends_only_when_the_body_is_whole_and_signed() {
        let body = fed(vec![
            Piece::Data(Bytes::from_static(b"hello ")),
            Piece::Data(Bytes::from_static(b"world")),
            Piece::End(Ok(())),
        ]);
        let mut out = String::new();
        body.reader().read_to_string(&mut out).unwrap();
        assert_eq!(out, "hello world");
        assert!(body.finish().is_ok());
    }

    #[test]
    fn a_bad_signature_fails_the_reader_and_the_call() {
        let bad = AwsError::client("SignatureDoesNotMatch", "no");
        let body = fed(vec![
            Piece::Data(Bytes::from_static(b"part")),
            Piece::End(Err(bad)),
        ]);
        let mut out = Vec::new();
        let e = body.reader().read_to_end(&mut out).unwrap_err();
        assert!(e.to_string().contains("SignatureDoesNotMatch"));
        assert_eq!(out, b"part");
        assert_eq!(body.finish().unwrap_err().code, "SignatureDoesNotMatch");
    }

    #[test]
    fn finishing_drops_what_no_reader_took() {
        let body = fed(vec![
            Piece::Data(Bytes::from_static(b"unread")),
            Piece::End(Ok(())),
        ]);
        assert!(body.finish().is_ok());
        let mut out = Vec::new();
        assert_eq!(body.reader().read_to_end(&mut out).unwrap(), 0);
    }

    #[test]
    fn a_body_whose_sender_went_away_is_incomplete() {
        let (body, tx) = StreamedBody::new(10);
        tx.try_send(Piece::Data(Bytes::from_static(b"abc")))
            .unwrap();
        drop(tx);
        let mut out = Vec::new();
        assert!(body.reader().read_to_end(&mut out).is_err());
        assert_eq!(body.finish().unwrap_err().code, "IncompleteBody");
    }
}
