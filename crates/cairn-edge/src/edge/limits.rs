//! The edge's defences against callers who would hold its resources: how many connections it
//! keeps, how long it waits for silent clients, and how many bytes it reads before a signature
//! has been checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Limits and timeouts of the endpoint. The defaults are AWS's where AWS has one (S3 answers
/// `RequestTimeout` after about 20 seconds of silence).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// How long a client may take to send a request's headers, and how long an idle
    /// keep-alive connection is kept.
    pub header_timeout: Duration,
    /// How long a request body may stay silent before the request is answered
    /// `RequestTimeout` and the connection closed.
    pub body_silence_timeout: Duration,
    /// How long a response may wait on a client that does not read it.
    pub write_timeout: Duration,
    /// Largest S3 request body (object uploads and parts).
    pub max_s3_body_bytes: usize,
    /// Largest request body of every other service. Their calls are small, and their
    /// signatures cover the body, so it is read before the signature can be checked.
    pub max_api_body_bytes: usize,
    /// Largest CloudWatch Logs request body: a PutLogEvents batch may hold 1 MiB of messages
    /// (counted as AWS counts them), which JSON framing and escaping make larger; the service
    /// itself answers AWS's "Upload too large" for a batch over its limit.
    pub max_logs_body_bytes: usize,
    /// Largest Lambda request body: a CreateFunction or UpdateFunctionCode carrying its zip
    /// (AWS takes 50 MB zipped, base64 in JSON), or an Invoke payload (6 MB).
    pub max_lambda_body_bytes: usize,
    /// Largest request body that flows through its call instead of being held
    /// (`Service::streams_body`: a forwarded call's payload); only a few pieces of it are in
    /// memory at a time.
    pub max_streamed_body_bytes: u64,
    /// Bytes held, across all connections, of bodies whose signature is not yet checked.
    pub unverified_body_budget: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(20),
            body_silence_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(60),
            max_s3_body_bytes: 64 * 1024 * 1024,
            max_api_body_bytes: 1024 * 1024,
            max_logs_body_bytes: 8 * 1024 * 1024,
            // Within the unverified budget below, so one upload always fits it.
            max_lambda_body_bytes: 64 * 1024 * 1024,
            max_streamed_body_bytes: 5 * 1024 * 1024 * 1024,
            unverified_body_budget: 64 * 1024 * 1024,
        }
    }
}

/// A shared count of bytes against a ceiling.
#[derive(Debug)]
pub struct ByteBudget {
    used: AtomicUsize,
    ceiling: usize,
}

/// Bytes taken from a [`ByteBudget`], given back when dropped.
#[derive(Debug)]
pub struct BudgetHold {
    budget: Arc<ByteBudget>,
    held: usize,
}

impl ByteBudget {
    pub fn new(ceiling: usize) -> Arc<ByteBudget> {
        Arc::new(ByteBudget {
            used: AtomicUsize::new(0),
            ceiling,
        })
    }

    pub fn hold(self: &Arc<Self>) -> BudgetHold {
        BudgetHold {
            budget: Arc::clone(self),
            held: 0,
        }
    }

    pub fn in_use(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

impl BudgetHold {
    /// Takes `n` more bytes; `false` (and nothing taken) when the ceiling would be passed.
    pub fn take(&mut self, n: usize) -> bool {
        let b = &self.budget;
        let mut cur = b.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|&v| v <= b.ceiling) else {
                return false;
            };
            match b
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.held += n;
                    return true;
                }
                Err(seen) => cur = seen,
            }
        }
    }

    /// Gives everything back now (once the signature has been checked).
    pub fn release(&mut self) {
        self.budget.used.fetch_sub(self.held, Ordering::AcqRel);
        self.held = 0;
    }
}

impl Drop for BudgetHold {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_bounded_and_given_back() {
        let b = ByteBudget::new(10);
        let mut a = b.hold();
        assert!(a.take(6));
        let mut c = b.hold();
        assert!(!c.take(5));
        assert!(c.take(4));
        assert_eq!(b.in_use(), 10);
        drop(a);
        assert_eq!(b.in_use(), 4);
        c.release();
        assert_eq!(b.in_use(), 0);
        drop(c);
        assert_eq!(b.in_use(), 0);
    }
}
