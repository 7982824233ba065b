//! The Lambda Runtime API (2018-06-01) for one execution environment, on its own loopback
//! port (`AWS_LAMBDA_RUNTIME_API` is a bare `host:port`, so a listener per process needs no
//! routing). `next` long-polls until the executor hands over an invocation; `response`,
//! `error` and `init/error` are passed back to the executor as [`ApiEvent`]s. Paths, methods
//! and request ids it does not know answer the errors AWS's runtime API answers.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::report::now_ms;

/// Largest response or error document a function may post: Lambda's 6 MB synchronous
/// payload limit as AWS counts it.
pub(crate) const MAX_RESPONSE_BYTES: usize = 6_291_556;

const PREFIX: &str = "/2018-06-01/runtime";

/// How the listener guards cairn's own descriptors and CPU against the function: each open
/// connection holds a descriptor in cairn's process, so a function opening connections in a
/// loop must not run it out of them.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Connections open at once; beyond this a new one waits in the kernel's queue until one
    /// closes. A runtime interface client keeps one or two.
    max_connections: usize,
    /// How long a request's headers may take to arrive (also how long a kept-alive
    /// connection may sit idle between requests: the clients reconnect).
    header_timeout: Duration,
    /// The pause after a failed accept (out of descriptors, say) before the next.
    accept_backoff: Duration,
}

const LIMITS: Limits = Limits {
    max_connections: 4,
    header_timeout: Duration::from_secs(30),
    accept_backoff: Duration::from_millis(50),
};

/// An invocation waiting for the process's `next`.
pub(crate) struct Job {
    pub request_id: String,
    pub payload: Bytes,
    pub function_arn: String,
    pub timeout_ms: u64,
    /// `X-Amz-Client-Context` as the caller sent it (base64 JSON).
    pub client_context: Option<String>,
}

/// What the process told the runtime API.
#[derive(Debug)]
pub(crate) enum ApiEvent {
    /// `next` handed the invocation over; the function's time starts now.
    Started {
        at: Instant,
        at_ms: i64,
    },
    Response {
        request_id: String,
        body: Bytes,
    },
    Error {
        request_id: String,
        body: Bytes,
    },
    /// A response or error document over [`MAX_RESPONSE_BYTES`].
    TooLarge {
        request_id: String,
    },
    InitError {
        body: Bytes,
    },
}

/// Called as an invocation is handed over, before the process sees it.
pub(crate) type OnHandover = Box<dyn Fn() + Send + Sync>;

struct Shared {
    on_handover: OnHandover,
    jobs: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    events: mpsc::UnboundedSender<ApiEvent>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The request id handed out and not yet answered.
    current: Option<String>,
    /// Whether any invocation was handed out (init errors are refused after that).
    started: bool,
}

impl Shared {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running Runtime API: dropping it closes the listener and ends pending `next` polls.
pub(crate) struct RuntimeApi {
    pub addr: SocketAddr,
    pub jobs: mpsc::Sender<Job>,
    pub events: mpsc::UnboundedReceiver<ApiEvent>,
    accept: JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl RuntimeApi {
    /// A Runtime API for one environment. With `owner`, only connections from sockets of that
    /// user are served (the environment's processes; [`crate::peer`]).
    pub(crate) async fn start(
        on_handover: OnHandover,
        owner: Option<u32>,
    ) -> std::io::Result<RuntimeApi> {
        RuntimeApi::start_with(on_handover, LIMITS, owner).await
    }

    async fn start_with(
        on_handover: OnHandover,
        limits: Limits,
        owner: Option<u32>,
    ) -> std::io::Result<RuntimeApi> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (jobs_tx, jobs_rx) = mpsc::channel(1);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            on_handover,
            jobs: tokio::sync::Mutex::new(jobs_rx),
            events: events_tx,
            state: Mutex::new(State::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, addr, shared, limits, owner));
        Ok(RuntimeApi {
            addr,
            jobs: jobs_tx,
            events: events_rx,
            accept,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    addr: SocketAddr,
    shared: Arc<Shared>,
    limits: Limits,
    owner: Option<u32>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    loop {
        // A connection is taken from the kernel's queue only once a slot is free: beyond the
        // limit the environment's client waits (its connection queued in the kernel, holding
        // none of cairn's descriptors) instead of being refused, since a runtime reconnecting
        // at once can briefly outrun the closing of its previous connection.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of descriptors, typically: retrying at once would only spin.
                tracing::debug!(error = %e, "runtime API accept");
                tokio::time::sleep(limits.accept_backoff).await;
                continue;
            }
        };
        if let Some(uid) = owner
            && crate::peer::uid_of(peer, addr) != Some(uid)
        {
            tracing::debug!(%peer, "runtime API connection refused: not the environment's user");
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(&shared, req).await) }
            });
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::trace!(error = %e, "runtime API connection");
            }
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: impl Into<Bytes>, json: bool) -> Reply {
    let mut resp = Response::new(Full::new(body.into()));
    *resp.status_mut() = status;
    let ctype = if json {
        "application/json"
    } else {
        "text/plain; charset=utf-8"
    };
    resp.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    resp
}

fn error_reply(status: StatusCode, error_type: &str, message: &str) -> Reply {
    let doc = serde_json::json!({ "errorMessage": message, "errorType": error_type });
    reply(status, doc.to_string(), true)
}

fn accepted() -> Reply {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#, true)
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return not_found();
    };
    let segments: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (req.method(), segments.as_slice()) {
        (&Method::GET, ["invocation", "next"]) => next(shared).await,
        (&Method::POST, ["invocation", id, "response"]) => {
            let id = id.to_string();
            answer(shared, req, id, false).await
        }
        (&Method::POST, ["invocation", id, "error"]) => {
            let id = id.to_string();
            answer(shared, req, id, true).await
        }
        (&Method::POST, ["init", "error"]) => init_error(shared, req).await,
        (_, ["invocation", "next"])
        | (_, ["invocation", _, "response" | "error"])
        | (_, ["init", "error"]) => reply(StatusCode::METHOD_NOT_ALLOWED, "", false),
        _ => not_found(),
    }
}

fn not_found() -> Reply {
    reply(StatusCode::NOT_FOUND, "404 page not found\n", false)
}

async fn next(shared: &Shared) -> Reply {
    let job = {
        let mut jobs = shared.jobs.lock().await;
        jobs.recv().await
    };
    let Some(job) = job else {
        // The environment is shutting down.
        return error_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The runtime is shutting down",
        );
    };
    {
        let mut state = shared.state();
        state.current = Some(job.request_id.clone());
        state.started = true;
    }
    (shared.on_handover)();
    let at_ms = now_ms();
    let deadline = at_ms.saturating_add(i64::try_from(job.timeout_ms).unwrap_or(i64::MAX));
    let _ = shared.events.send(ApiEvent::Started {
        at: Instant::now(),
        at_ms,
    });
    let mut resp = reply(StatusCode::OK, job.payload, true);
    let headers = resp.headers_mut();
    let mut put = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    put("lambda-runtime-aws-request-id", &job.request_id);
    put("lambda-runtime-deadline-ms", &deadline.to_string());
    put("lambda-runtime-invoked-function-arn", &job.function_arn);
    put("lambda-runtime-trace-id", &crate::report::trace_id());
    // The API takes the client context base64-encoded; the runtime gets the JSON itself.
    if let Some(decoded) = job
        .client_context
        .as_deref()
        .and_then(|cc| base64::engine::general_purpose::STANDARD.decode(cc).ok())
        && let Ok(v) = HeaderValue::from_bytes(&decoded)
    {
        headers.insert("lambda-runtime-client-context", v);
    }
    resp
}

async fn answer(shared: &Shared, req: Request<Incoming>, id: String, error: bool) -> Reply {
    {
        let state = shared.state();
        if state.current.as_deref() != Some(id.as_str()) {
            return error_reply(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            );
        }
    }
    let body = match Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            shared.state().current = None;
            let _ = shared.events.send(ApiEvent::TooLarge { request_id: id });
            return error_reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestEntityTooLarge",
                &format!("Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."),
            );
        }
        Err(_) => {
            return error_reply(
                StatusCode::BAD_REQUEST,
                "TruncatedHTTPRequest",
                "The request body was not fully received",
            );
        }
    };
    {
        let mut state = shared.state();
        if state.current.as_deref() != Some(id.as_str()) {
            return error_reply(
                StatusCode::BAD_REQUEST,
                "InvalidRequestID",
                "Invalid request ID",
            );
        }
        state.current = None;
    }
    let event = if error {
        ApiEvent::Error {
            request_id: id,
            body,
        }
    } else {
        ApiEvent::Response {
            request_id: id,
            body,
        }
    };
    let _ = shared.events.send(event);
    accepted()
}

async fn init_error(shared: &Shared, req: Request<Incoming>) -> Reply {
    if shared.state().started {
        return error_reply(
            StatusCode::FORBIDDEN,
            "InvalidStateTransition",
            "State transition from Running to InitError failed for runtime. Error: State transition is not allowed",
        );
    }
    let body = match Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let _ = shared.events.send(ApiEvent::InitError { body });
    accepted()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Whether the server closed the connection within `wait` (reads EOF or a reset).
    async fn closed_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
        let mut buf = [0u8; 256];
        match tokio::time::timeout(wait, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) => false,
            Err(_) => false,
        }
    }

    /// Whether a request on `stream` is answered within `wait`.
    async fn answered_within(stream: &mut tokio::net::TcpStream, wait: Duration) -> bool {
        let _ = stream
            .write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            .await;
        let mut buf = [0u8; 64];
        matches!(
            tokio::time::timeout(wait, stream.read(&mut buf)).await,
            Ok(Ok(n)) if buf[..n].starts_with(b"HTTP/1.1 404")
        )
    }

    #[tokio::test]
    async fn connections_beyond_the_limit_wait_for_a_slot() {
        let limits = Limits {
            header_timeout: Duration::from_secs(60),
            ..LIMITS
        };
        let api = RuntimeApi::start_with(Box::new(|| {}), limits, None)
            .await
            .unwrap();
        let mut held = Vec::new();
        for _ in 0..limits.max_connections + 2 {
            held.push(tokio::net::TcpStream::connect(api.addr).await.unwrap());
            // Accepted in order.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut served = 0;
        for s in &mut held[..limits.max_connections] {
            if answered_within(s, Duration::from_secs(5)).await {
                served += 1;
            }
        }
        assert_eq!(served, limits.max_connections);
        let mut waiting = held.split_off(limits.max_connections);
        for s in &mut waiting {
            assert!(!answered_within(s, Duration::from_millis(200)).await);
        }
        // Slots given back serve the waiting connections (their requests already sent).
        drop(held);
        for s in &mut waiting {
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(buf[..n].starts_with(b"HTTP/1.1 404"), "{:?}", &buf[..n]);
        }
    }

    #[tokio::test]
    async fn headers_that_never_finish_time_out() {
        let limits = Limits {
            header_timeout: Duration::from_millis(300),
            ..LIMITS
        };
        let api = RuntimeApi::start_with(Box::new(|| {}), limits, None)
            .await
            .unwrap();
        let mut s = tokio::net::TcpStream::connect(api.addr).await.unwrap();
        s.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n")
            .await
            .unwrap();
        assert!(closed_within(&mut s, Duration::from_secs(5)).await);
    }

    #[tokio::test]
    async fn only_the_environments_user_is_served() {
        use std::os::unix::fs::MetadataExt;
        let me = std::fs::metadata("/proc/self").unwrap().uid();
        async fn answer(api: &RuntimeApi) -> Vec<u8> {
            let mut s = tokio::net::TcpStream::connect(api.addr).await.unwrap();
            let _ = s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n").await;
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
                .await
                .unwrap()
                .unwrap_or(0);
            buf[..n].to_vec()
        }
        let other = RuntimeApi::start_with(Box::new(|| {}), LIMITS, Some(me.wrapping_add(1)))
            .await
            .unwrap();
        assert!(
            answer(&other).await.is_empty(),
            "another user's connection is closed"
        );
        let own = RuntimeApi::start_with(Box::new(|| {}), LIMITS, Some(me))
            .await
            .unwrap();
        assert!(answer(&own).await.starts_with(b"HTTP/1.1 404"));
    }
}
