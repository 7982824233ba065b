//! Lambda's wire: the REST-JSON codec over its routes (`routes.rs`, one per operation of the
//! model), and the documents its answers are made of: `FunctionConfiguration` (the stored
//! configuration with the members that follow the code and every change: name, ARN, digest,
//! size, revision, last modified), and its timestamps' format (`2024-05-01T12:00:00.000+0000`).

mod routes;

use cairn_store::lambda::Function;
use serde_json::{Map, Value, json};

use crate::pipeline::codec::rest_json::RestJsonCodec;
use crate::pipeline::codec::rest_json::route::Route;

pub(super) static CODEC: RestJsonCodec = RestJsonCodec {
    routes: &routes::ROUTES,
};

/// An operation's route.
pub fn route_of(op: &str) -> Option<&'static Route> {
    routes::ROUTES.iter().find(|r| r.op == op)
}

/// `LastModified`: `2024-05-01T12:00:00.000+0000`.
pub(super) fn last_modified(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The stored configuration document of a function.
pub(super) fn stored_config(f: &Function) -> Map<String, Value> {
    match serde_json::from_str(&f.config) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A function's `FunctionConfiguration`, in the model's member order.
pub(super) fn configuration(f: &Function) -> Value {
    let stored = stored_config(f);
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    put("FunctionName", json!(f.name));
    put("FunctionArn", json!(f.arn));
    let order = [
        "Runtime",
        "Role",
        "Handler",
        "CodeSize",
        "Description",
        "Timeout",
        "MemorySize",
        "LastModified",
        "CodeSha256",
        "Version",
        "VpcConfig",
        "DeadLetterConfig",
        "Environment",
        "KMSKeyArn",
        "TracingConfig",
        "RevisionId",
        "Layers",
        "State",
        "LastUpdateStatus",
        "PackageType",
        "Architectures",
        "EphemeralStorage",
        "SnapStart",
        "LoggingConfig",
    ];
    for k in order {
        let v = match k {
            "CodeSize" => json!(f.code_size),
            "LastModified" => json!(last_modified(f.modified_ms)),
            "CodeSha256" => json!(f.code_sha256),
            "RevisionId" => json!(f.revision_id),
            _ => match stored.get(k) {
                Some(v) => v.clone(),
                None => continue,
            },
        };
        put(k, v);
    }
    // Members the order above does not name, kept as stored.
    for (k, v) in stored {
        if !out.contains_key(&k) {
            out.insert(k, v);
        }
    }
    Value::Object(out)
}
