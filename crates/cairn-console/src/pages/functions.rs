//! Lambda functions: the list, a function's configuration, and a test invocation with a JSON
//! event showing the result and the log tail, each the Lambda API call it is (`ListFunctions`,
//! `GetFunction`, `Invoke` with `LogType` `Tail`).

use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use cairn_edge::edge::web::WebPeer;
use http::HeaderMap;
use serde_json::{Value, json};

use super::{Me, error_of, with};
use crate::Shared;
use crate::render::page;

/// The test event the page starts with, as AWS's console's "hello-world" template.
const HELLO: &str =
    "{\n  \"key1\": \"value1\",\n  \"key2\": \"value2\",\n  \"key3\": \"value3\"\n}";

fn configuration(c: &Value) -> Value {
    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default();
    let n = |k: &str| c.get(k).and_then(Value::as_i64);
    let environment: Vec<Value> = c
        .pointer("/Environment/Variables")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| json!({"name": k, "value": v.as_str().unwrap_or_default()}))
        .collect();
    json!({
        "name": s("FunctionName"),
        "arn": s("FunctionArn"),
        "runtime": s("Runtime"),
        "handler": s("Handler"),
        "role": s("Role"),
        "description": s("Description"),
        "memory": n("MemorySize"),
        "timeout": n("Timeout"),
        "code_size": n("CodeSize"),
        "sha256": s("CodeSha256"),
        "modified": s("LastModified"),
        "version": s("Version"),
        "state": s("State"),
        "package_type": s("PackageType"),
        "architectures": c.get("Architectures").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default(),
        "log_group": c.pointer("/LoggingConfig/LogGroup").and_then(Value::as_str).unwrap_or_default(),
        "environment": environment,
    })
}

/// GET /console/lambda/functions
pub async fn list(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Functions", "functions");
    let mut functions = Vec::new();
    let mut marker: Option<String> = None;
    let ctx = loop {
        let mut input = json!({"MaxItems": 50});
        if let Some(m) = &marker {
            input["Marker"] = json!(m);
        }
        match me
            .caller
            .call(&shared, "lambda", "ListFunctions", input)
            .await
        {
            Ok(a) => {
                functions.extend(
                    a.get("Functions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(configuration),
                );
                marker = a
                    .get("NextMarker")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if marker.is_none() || functions.len() >= 1000 {
                    break json!({"functions": functions});
                }
            }
            Err(e) => break json!({"functions": [], "error": error_of(&e)}),
        }
    };
    page(&shared.templates, "functions.html", with(frame, ctx))
}

async fn function_context(shared: &Arc<Shared>, me: &Me, name: &str) -> Value {
    match me
        .caller
        .call(
            shared,
            "lambda",
            "GetFunction",
            json!({"FunctionName": name}),
        )
        .await
    {
        Ok(f) => json!({
            "function": configuration(f.get("Configuration").unwrap_or(&Value::Null)),
            "event": HELLO,
        }),
        Err(e) => json!({"error": error_of(&e)}),
    }
}

/// GET /console/lambda/functions/{name}
pub async fn detail(
    me: Me,
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    let frame = me.frame(&shared, &name, "functions");
    let ctx = function_context(&shared, &me, &name).await;
    page(&shared.templates, "function.html", with(frame, ctx))
}

#[derive(serde::Deserialize)]
pub struct InvokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    event: String,
}

/// Bytes as the page shows them: pretty JSON when they are JSON, else the text as it is.
fn shown_payload(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.into_owned())
}

/// What the page shows of Invoke's answer.
fn result_of(answer: &Value) -> Value {
    let decode = |k: &str| {
        answer
            .get(k)
            .and_then(Value::as_str)
            .and_then(|s| B64.decode(s).ok())
            .unwrap_or_default()
    };
    json!({
        "status": answer.get("StatusCode"),
        "function_error": answer.get("FunctionError").and_then(Value::as_str),
        "version": answer.get("ExecutedVersion").and_then(Value::as_str),
        "payload": shown_payload(&decode("Payload")),
        "log": String::from_utf8_lossy(&decode("LogResult")),
    })
}

/// POST /console/lambda/functions/{name}: Invoke (RequestResponse, LogType Tail) with the event.
pub async fn invoke(
    State(shared): State<Arc<Shared>>,
    axum::Extension(peer): axum::Extension<WebPeer>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<InvokeForm>,
) -> Response {
    let me = match Me::posting(&shared, &headers, &peer, &f.csrf) {
        Ok(m) => m,
        Err(r) => return *r,
    };
    let frame = me.frame(&shared, &name, "functions");
    let mut ctx = function_context(&shared, &me, &name).await;
    ctx["event"] = json!(f.event);
    // As AWS's console, the event must be JSON before anything is sent.
    if let Err(e) = serde_json::from_str::<Value>(&f.event) {
        ctx["invoke_error"] = json!({"code": "Invalid JSON", "message": format!("The test event is not valid JSON: {e}.")});
        return page(&shared.templates, "function.html", with(frame, ctx));
    }
    let answer = me
        .caller
        .call(
            &shared,
            "lambda",
            "Invoke",
            json!({
                "FunctionName": name,
                "InvocationType": "RequestResponse",
                "LogType": "Tail",
                "Payload": B64.encode(f.event.as_bytes()),
            }),
        )
        .await;
    match answer {
        Ok(a) => ctx["result"] = result_of(&a),
        Err(e) => ctx["invoke_error"] = error_of(&e),
    }
    page(&shared.templates, "function.html", with(frame, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_answers_are_decoded() {
        let a = json!({"StatusCode": 200, "Payload": B64.encode(br#"{"ok":true}"#),
            "LogResult": B64.encode(b"START RequestId: 1\nEND RequestId: 1\n")});
        let r = result_of(&a);
        assert_eq!(r["payload"], "{\n  \"ok\": true\n}");
        assert_eq!(r["log"], "START RequestId: 1\nEND RequestId: 1\n");
        assert_eq!(r["function_error"], Value::Null);
        assert_eq!(shown_payload(b"plain"), "plain");
    }
}
