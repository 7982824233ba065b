//! A function process's output as timestamped lines. stdout and stderr share one pipe (as
//! they share one log stream on AWS, interleaved in the order written). A background task
//! reads it as output arrives, so a chatty process never blocks on a full pipe and each
//! line's time is when it was written; [`LogPipe::drain`] reads whatever is already in the
//! pipe right now, so lines written before the process answered an invocation are never
//! attributed to the next one.

use std::collections::VecDeque;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::net::unix::pipe::Receiver;
use tokio::task::JoinHandle;

use crate::report::now_ms;

/// CloudWatch Logs' largest event is 256 KiB including 26 bytes of overhead; longer lines are
/// split there, as Lambda splits them.
const MAX_LINE: usize = 262_144 - 26;
/// Bytes of complete lines held between takes (an invocation's output, or what was written
/// before it); beyond this the oldest lines are dropped, and one line says how many, so a
/// process printing in a loop cannot exhaust cairn's memory.
const MAX_BUFFERED_BYTES: usize = 4 * 1024 * 1024;

struct Lines {
    partial: Vec<u8>,
    partial_at: i64,
    done: VecDeque<(i64, String)>,
    /// Bytes of the messages in `done`.
    done_bytes: usize,
    /// Lines complete when the process took its current invocation.
    before_mark: Vec<(i64, String)>,
    /// Lines dropped from `done` since it was last taken.
    dropped: u64,
    budget: usize,
}

impl Default for Lines {
    fn default() -> Lines {
        Lines::with_budget(MAX_BUFFERED_BYTES)
    }
}

impl Lines {
    fn with_budget(budget: usize) -> Lines {
        Lines {
            partial: Vec::new(),
            partial_at: 0,
            done: VecDeque::new(),
            done_bytes: 0,
            before_mark: Vec::new(),
            dropped: 0,
            budget,
        }
    }

    /// Takes the complete lines; when some were dropped, a line saying how many comes first.
    fn take_done(&mut self) -> Vec<(i64, String)> {
        let mut out = Vec::with_capacity(self.done.len() + 1);
        if self.dropped > 0 {
            tracing::warn!(
                dropped = self.dropped,
                "a function's output exceeded the buffer"
            );
            let at = self.done.front().map_or_else(now_ms, |(at, _)| *at);
            out.push((
                at,
                format!(
                    "[cairn] {} earlier lines of output dropped: more than {} bytes\n",
                    self.dropped, self.budget
                ),
            ));
            self.dropped = 0;
        }
        out.extend(std::mem::take(&mut self.done));
        self.done_bytes = 0;
        out
    }

    fn push_bytes(&mut self, mut bytes: &[u8], at: i64) {
        while !bytes.is_empty() {
            if self.partial.is_empty() {
                self.partial_at = at;
            }
            match bytes.iter().position(|b| *b == b'\n') {
                Some(nl) => {
                    self.partial.extend_from_slice(&bytes[..nl]);
                    bytes = &bytes[nl + 1..];
                    self.finish_line();
                }
                None => {
                    self.partial.extend_from_slice(bytes);
                    bytes = &[];
                }
            }
            while self.partial.len() > MAX_LINE {
                let rest = self.partial.split_off(MAX_LINE);
                self.finish_line();
                self.partial = rest;
                self.partial_at = at;
            }
        }
    }

    fn finish_line(&mut self) {
        let raw = std::mem::take(&mut self.partial);
        // An empty message cannot be stored in CloudWatch Logs; a bare newline carries nothing.
        if raw.is_empty() {
            return;
        }
        let mut text = String::from_utf8_lossy(&raw).into_owned();
        text.push('\n');
        self.done_bytes += text.len();
        self.done.push_back((self.partial_at, text));
        while self.done_bytes > self.budget {
            let Some((_, old)) = self.done.pop_front() else {
                break;
            };
            self.done_bytes -= old.len();
            self.dropped += 1;
        }
    }
}

struct Inner {
    pipe: Receiver,
    lines: Mutex<Lines>,
}

impl Inner {
    fn lines(&self) -> MutexGuard<'_, Lines> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads until the pipe is empty: `Ok(true)` at end of file, `Ok(false)` when it would
    /// block.
    fn read_available(&self) -> io::Result<bool> {
        let mut buf = [0u8; 16 * 1024];
        let mut lines = self.lines();
        loop {
            match self.pipe.try_read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => lines.push_bytes(&buf[..n], now_ms()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

pub(crate) struct LogPipe {
    inner: Arc<Inner>,
    reader: JoinHandle<()>,
}

impl LogPipe {
    /// A pipe whose write end becomes the process's stdout and stderr. Needs a Tokio runtime.
    pub(crate) fn new() -> io::Result<(LogPipe, std::io::PipeWriter)> {
        let (read, write) = std::io::pipe()?;
        let inner = Arc::new(Inner {
            pipe: Receiver::from_owned_fd(OwnedFd::from(read))?,
            lines: Mutex::new(Lines::default()),
        });
        let reader = tokio::spawn(read_until_closed(inner.clone()));
        Ok((LogPipe { inner, reader }, write))
    }

    /// Reads what the process has written so far, without waiting for more.
    pub(crate) fn drain(&self) {
        if let Err(e) = self.inner.read_available() {
            tracing::debug!(error = %e, "reading a function's output");
        }
    }

    /// Called the moment the process takes an invocation: what it wrote until then (a cold
    /// start's init, output between invocations) goes before that invocation's START.
    pub(crate) fn marker(&self) -> impl Fn() + Send + Sync + 'static {
        let inner = self.inner.clone();
        move || {
            if let Err(e) = inner.read_available() {
                tracing::debug!(error = %e, "reading a function's output");
            }
            let mut lines = inner.lines();
            if !lines.partial.is_empty() {
                lines.finish_line();
            }
            let done = lines.take_done();
            lines.before_mark.extend(done);
            // Only what one take may hold: a mark without a take since would add up otherwise.
            let mut bytes = 0;
            let keep = lines
                .before_mark
                .iter()
                .rev()
                .take_while(|(_, m)| {
                    bytes += m.len();
                    bytes <= MAX_BUFFERED_BYTES * 2
                })
                .count();
            let excess = lines.before_mark.len() - keep;
            lines.before_mark.drain(..excess);
        }
    }

    /// Takes the lines set aside by the last mark.
    pub(crate) fn take_before_mark(&self) -> Vec<(i64, String)> {
        std::mem::take(&mut self.inner.lines().before_mark)
    }

    /// Takes the complete lines read so far; with `partial`, also the unfinished last one
    /// (at the end of an invocation the process is not going to finish it for this one).
    pub(crate) fn take(&self, partial: bool) -> Vec<(i64, String)> {
        let mut lines = self.inner.lines();
        if partial && !lines.partial.is_empty() {
            lines.finish_line();
        }
        lines.take_done()
    }
}

impl Drop for LogPipe {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn read_until_closed(inner: Arc<Inner>) {
    loop {
        if let Err(e) = inner.pipe.readable().await {
            tracing::debug!(error = %e, "waiting for a function's output");
            return;
        }
        match inner.read_available() {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => {
                tracing::debug!(error = %e, "reading a function's output");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_across_chunks_and_keeps_first_chunk_time() {
        let mut l = Lines::default();
        l.push_bytes(b"hel", 1);
        l.push_bytes(b"lo\nwor", 2);
        l.push_bytes(b"ld\n\n", 3);
        assert_eq!(
            l.done,
            vec![(1, "hello\n".to_string()), (2, "world\n".to_string())]
        );
    }

    #[test]
    fn long_lines_are_split_at_the_event_limit() {
        let mut l = Lines::default();
        l.push_bytes(&vec![b'a'; MAX_LINE + 10], 1);
        l.push_bytes(b"\n", 1);
        assert_eq!(l.done.len(), 2);
        assert_eq!(l.done[0].1.len(), MAX_LINE + 1);
        assert_eq!(l.done[1].1, "aaaaaaaaaa\n");
    }

    #[test]
    fn output_beyond_the_budget_drops_the_oldest_lines_and_says_so() {
        let mut l = Lines::with_budget(100);
        for i in 0..50 {
            l.push_bytes(format!("line {i:02}\n").as_bytes(), i);
        }
        // Each message is 8 bytes: 12 fit in 100.
        assert_eq!(l.done.len(), 12);
        assert!(l.done_bytes <= 100);
        let taken = l.take_done();
        assert_eq!(taken.len(), 13);
        assert_eq!(
            taken[0].1,
            "[cairn] 38 earlier lines of output dropped: more than 100 bytes\n"
        );
        assert_eq!(taken[0].0, 38);
        assert_eq!(taken[1], (38, "line 38\n".to_string()));
        assert_eq!(taken[12].1, "line 49\n");
        // The next take starts afresh.
        l.push_bytes(b"again\n", 60);
        assert_eq!(l.take_done(), vec![(60, "again\n".to_string())]);
        assert_eq!(l.done_bytes, 0);
    }
}
