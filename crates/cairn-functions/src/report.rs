//! The lines Lambda itself writes into a function's log (START, END, REPORT, `Task timed
//! out`, `Runtime exited`), the log stream name of an execution environment, and the error
//! documents the platform (not the function) answers with.

use std::time::{SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::macros::format_description;

/// Epoch milliseconds now.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `YYYY/MM/DD/[$LATEST]<32 hex>`: one stream per execution environment, dated by its start.
pub(crate) fn log_stream_name(version: &str) -> String {
    let today = OffsetDateTime::now_utc().date();
    let id = uuid::Uuid::new_v4().simple();
    format!(
        "{:04}/{:02}/{:02}/[{version}]{id}",
        today.year(),
        u8::from(today.month()),
        today.day()
    )
}

/// `Root=1-<8 hex seconds>-<24 hex>;Parent=<16 hex>;Sampled=0`, an X-Ray trace header.
pub(crate) fn trace_id() -> String {
    let secs = now_ms() / 1000;
    let root = uuid::Uuid::new_v4().simple().to_string();
    let parent = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{secs:08x}-{};Parent={};Sampled=0",
        &root[..24],
        &parent[..16]
    )
}

pub(crate) fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}\n")
}

pub(crate) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}\n")
}

pub(crate) struct Report<'a> {
    pub request_id: &'a str,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u32,
    pub max_memory_mb: u64,
    pub init_duration_ms: Option<f64>,
}

impl Report<'_> {
    pub(crate) fn line(&self) -> String {
        let mut line = format!(
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id, self.duration_ms, self.billed_ms, self.memory_mb, self.max_memory_mb
        );
        if let Some(init) = self.init_duration_ms {
            line.push_str(&format!("Init Duration: {init:.2} ms\t"));
        }
        line.push('\n');
        line
    }
}

/// Lambda bills whole milliseconds, rounding up, at least one.
pub(crate) fn billed_ms(duration_ms: f64) -> u64 {
    let ceil = duration_ms.ceil();
    if ceil < 1.0 { 1 } else { ceil as u64 }
}

/// `2024-05-01T12:00:03.123Z`.
fn rfc3339_ms(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(format).unwrap_or_default()
}

/// `<time> <request id> Task timed out after 3.00 seconds`: both the log line (with its
/// newline) and the `errorMessage` of the payload.
pub(crate) fn timed_out(request_id: &str, timeout_ms: u64) -> String {
    format!(
        "{} {request_id} Task timed out after {:.2} seconds",
        rfc3339_ms(OffsetDateTime::now_utc()),
        timeout_ms as f64 / 1000.0
    )
}

pub(crate) fn timeout_payload(message: &str) -> bytes::Bytes {
    bytes::Bytes::from(serde_json::json!({ "errorMessage": message }).to_string())
}

/// `RequestId: <id> Error: Runtime exited with error: exit status 1` and friends.
pub(crate) fn exited_message(request_id: &str, status: Option<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    let why = match status {
        Some(s) if s.code() == Some(0) => {
            return format!(
                "RequestId: {request_id} Error: Runtime exited without providing a reason"
            );
        }
        Some(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(sig)) => format!("signal: {}", signal_name(sig)),
            (None, None) => "exit status unknown".to_string(),
        },
        None => "exit status unknown".to_string(),
    };
    format!("RequestId: {request_id} Error: Runtime exited with error: {why}")
}

/// Go's spelling of the common signals (AWS's runtime is written in Go).
fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGKILL => "killed".into(),
        libc::SIGSEGV => "segmentation fault".into(),
        libc::SIGABRT => "aborted".into(),
        libc::SIGTERM => "terminated".into(),
        libc::SIGBUS => "bus error".into(),
        libc::SIGILL => "illegal instruction".into(),
        libc::SIGFPE => "floating point exception".into(),
        libc::SIGINT => "interrupt".into(),
        libc::SIGPIPE => "broken pipe".into(),
        other => format!("signal {other}"),
    }
}

/// A platform error document: `{"errorType":…,"errorMessage":…}`, in AWS's key order.
pub(crate) fn platform_error(error_type: &str, message: &str) -> bytes::Bytes {
    let mut doc = serde_json::Map::new();
    doc.insert("errorType".into(), error_type.into());
    doc.insert("errorMessage".into(), message.into());
    bytes::Bytes::from(serde_json::Value::Object(doc).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_line_matches_aws() {
        let r = Report {
            request_id: "r1",
            duration_ms: 79.666,
            billed_ms: billed_ms(79.666),
            memory_mb: 128,
            max_memory_mb: 73,
            init_duration_ms: Some(112.346),
        };
        assert_eq!(
            r.line(),
            "REPORT RequestId: r1\tDuration: 79.67 ms\tBilled Duration: 80 ms\tMemory Size: 128 MB\tMax Memory Used: 73 MB\tInit Duration: 112.35 ms\t\n"
        );
        assert_eq!(billed_ms(0.2), 1);
    }

    #[test]
    fn stream_and_trace_shapes() {
        let s = log_stream_name("$LATEST");
        assert_eq!(s.len(), "2024/05/01/[$LATEST]".len() + 32, "{s}");
        assert!(s[10..].starts_with("/[$LATEST]"), "{s}");
        let t = trace_id();
        assert!(t.starts_with("Root=1-") && t.ends_with(";Sampled=0"), "{t}");
        assert!(timed_out("abc", 3000).ends_with("Z abc Task timed out after 3.00 seconds"));
    }
}
