//! Serving query-protocol services (STS; IAM next): the `Action` and its parameters come
//! form-encoded in the body (or in the query string), and answers are XML in the service's
//! namespace: `<{Op}Response><{Op}Result>…</{Op}Result><ResponseMetadata>…`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use cairn_wire::xml::escape;
use cairn_wire::{AwsError, Protocol};
use http::Response;
use http_body_util::Full;
use percent_encoding::percent_decode_str;

use super::json::{Call, perform};
use super::respond::error_response;
use crate::app::App;
use crate::recorder::{CallContext, CallFacts};

/// A query-protocol service front.
pub trait QueryFront: Send + Sync + 'static {
    /// The API version the service answers to (`Version=`).
    fn version(&self) -> &'static str;
    /// The XML namespace of its answers.
    fn xmlns(&self) -> &'static str;
    fn operation(&self, action: &str) -> Option<&'static str>;
    /// Runs an operation; success is the inner XML of `<{Op}Result>`.
    fn call(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        params: &BTreeMap<String, String>,
    ) -> (Result<String, AwsError>, CallFacts);
    /// The region the service records its events in, when it is global (IAM: us-east-1).
    fn region(&self) -> Option<&'static str> {
        None
    }
    /// What the call needs permission for, as (action, resource ARN); `None` when the
    /// operation judges its own (STS).
    fn permission(
        &self,
        app: &App,
        ctx: &CallContext,
        op: &'static str,
        params: &BTreeMap<String, String>,
    ) -> Option<(String, String)>;
    /// Service condition keys the request sets (e.g. `iam:PolicyARN`), for policies to test.
    fn condition_keys(
        &self,
        _op: &'static str,
        _params: &BTreeMap<String, String>,
    ) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// How a refused call is recorded: its name and source, no parameters.
    fn denied_facts(&self, op: &'static str) -> CallFacts;
}

/// `a=1&b=x+y%21` → {a: 1, b: "x y!"}
pub fn parse_form(text: &str) -> BTreeMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (dec(k), dec(v))
        })
        .collect()
}

pub async fn serve_query(
    app: Arc<App>,
    call: Call,
    raw_query: Option<&str>,
    body: Bytes,
    front: &'static dyn QueryFront,
) -> Response<Full<Bytes>> {
    let protocol = Protocol::Query {
        xmlns: front.xmlns(),
    };
    let rid = call.request_id.clone();
    // What the query string says is never overridden by the body: a presigned URL signs its
    // query string, and its holder must not be able to change the action it names.
    let mut params = parse_form(&String::from_utf8_lossy(&body));
    params.extend(parse_form(raw_query.unwrap_or("")));
    let action = params.get("Action").cloned().unwrap_or_default();
    // An API version the service does not have names no operation of it.
    if let Some(v) = params
        .get("Version")
        .filter(|v| v.as_str() != front.version())
    {
        let e = AwsError::client(
            "InvalidAction",
            format!("Could not find operation {action} for version {v}"),
        );
        return error_response(&e, protocol, &rid);
    }
    let Some(op) = front.operation(&action) else {
        let e = if action.is_empty() {
            AwsError::client("MissingAction", "Missing Action")
        } else {
            AwsError::client(
                "InvalidAction",
                format!(
                    "Could not find operation {action} for version {}",
                    front.version()
                ),
            )
        };
        return error_response(&e, protocol, &rid);
    };
    let rid2 = rid.clone();
    let mut call = call;
    if let Some(region) = front.region() {
        call.region = region.to_owned();
    }
    perform(app, call, protocol, move |app, ctx| {
        let denied = front.permission(app, ctx, op, &params).and_then(|(action, resource)| {
            let keys = front.condition_keys(op, &params);
            crate::authz::authorize(app, ctx, &action, &resource, None, &keys).err()
        });
        let (result, facts) = match denied {
            Some(d) => (Err(d.to_error(protocol)), front.denied_facts(op)),
            None => front.call(app, ctx, op, &params),
        };
        let bytes = result.map(|inner| {
            format!(
                "<{op}Response xmlns=\"{}\">\n  <{op}Result>\n{inner}  </{op}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n",
                front.xmlns(),
                escape(&rid2)
            )
            .into_bytes()
        });
        (bytes, facts)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let p = parse_form("Action=GetCallerIdentity&Version=2011-06-15&X=a+b%21&Empty=");
        assert_eq!(p["Action"], "GetCallerIdentity");
        assert_eq!(p["X"], "a b!");
        assert_eq!(p["Empty"], "");
    }

    proptest::proptest! {
        #[test]
        fn any_form_parses(text in "\\PC{0,300}") {
            let _ = parse_form(&text);
        }

        #[test]
        fn encoded_pairs_come_back(pairs in proptest::collection::btree_map("\\PC{1,12}", "\\PC{0,12}", 0..8)) {
            let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
            let text = pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&");
            proptest::prop_assert_eq!(parse_form(&text), pairs);
        }
    }
}
