//! REST services (REST-JSON, REST-XML) through the gateway: their routes, made from the
//! model's `http` bindings, and a request's parameters as recorded, read from where the model
//! binds each member (URI labels, the query string, headers, the body).

use serde_json::{Map, Value, json};

use super::model::{Model, Shape};
use super::params::{self, Side};
use crate::pipeline::codec::form::lower_first;
use crate::pipeline::codec::rest_json::route::Route;

/// One route per operation with an `http` binding, for the shared matcher (the model lives as
/// long as the server: its routes are leaked once, as the operation table is).
pub fn routes(model: &Model) -> &'static [Route] {
    let leak = |s: &str| -> &'static str { Box::leak(s.to_owned().into_boxed_str()) };
    let routes: Vec<Route> = model
        .operations
        .iter()
        .filter_map(|(name, op)| {
            let http = op.http.as_ref()?;
            Some(Route {
                op: leak(name),
                method: leak(&http.method),
                uri: leak(&http.request_uri),
                status: 200,
                input: &[],
                output: &[],
                input_payload: None,
                output_payload: None,
            })
        })
        .collect();
    Box::leak(routes.into_boxed_slice())
}

/// What a REST request carries, as the codec read it.
pub struct RestRequest<'a> {
    pub labels: &'a [(&'static str, String)],
    pub query: &'a [(String, String)],
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
    pub xml: bool,
}

/// The request's parameters as recorded (lower camel case, secrets hidden), `None` when its
/// body is not the document the protocol says.
pub fn request_params(model: &Model, shape: &str, r: &RestRequest<'_>) -> Option<Value> {
    let s = model.shape(shape)?;
    let mut bound = Map::new();
    for (name, m) in &s.members {
        let wire = m.location_name.as_deref().unwrap_or(name);
        let Some(ms) = model.shape(&m.shape) else {
            continue;
        };
        let text: Option<Vec<String>> = match m.location.as_deref() {
            Some("uri") => r
                .labels
                .iter()
                .find(|(l, _)| *l == wire)
                .map(|(_, v)| vec![v.clone()]),
            Some("querystring") => {
                let all: Vec<String> = r
                    .query
                    .iter()
                    .filter(|(k, _)| k == wire)
                    .map(|(_, v)| v.clone())
                    .collect();
                (!all.is_empty()).then_some(all)
            }
            Some("header") => (r.header)(wire).map(|v| vec![v]),
            _ => None,
        };
        if let Some(text) = text {
            bound.insert(name.clone(), typed(model, ms, text));
        }
    }
    // The body: one member (`payload`), or the members bound nowhere else.
    let mut out = match params::from_json(model, shape, &Value::Object(bound), Side::Request) {
        Value::Object(o) => o,
        _ => Map::new(),
    };
    if r.body.is_empty() {
        return Some(Value::Object(out));
    }
    let body = if r.xml {
        let root = params::parse_xml(r.body)?;
        match &s.payload {
            Some(p) => {
                let m = s.members.iter().find(|(n, _)| n == p)?;
                let inner = params::from_rest_xml(model, &m.1.shape, &root);
                json!({ lower_first(p): inner })
            }
            None => params::from_rest_xml(model, shape, &root),
        }
    } else {
        let doc: Value = serde_json::from_slice(r.body).ok()?;
        match &s.payload {
            Some(p) => {
                let wrapped = json!({ p.clone(): doc });
                params::from_json(model, shape, &wrapped, Side::Request)
            }
            None => params::from_json(model, shape, &doc, Side::Request),
        }
    };
    if let Value::Object(b) = body {
        out.extend(b);
    }
    Some(Value::Object(out))
}

/// Whether an operation's request body is one blob member (an API definition to import, a
/// file): bytes passed on as they are, never read for the record or for authorization, so
/// they may flow to the upstream as they arrive.
pub fn body_is_blob(model: &Model, op: &str) -> bool {
    let Some(input) = model.operations.get(op).and_then(|o| o.input.as_ref()) else {
        return false;
    };
    let Some(shape) = model.shape(&input.shape) else {
        return false;
    };
    let Some(payload) = &shape.payload else {
        return false;
    };
    shape
        .members
        .iter()
        .find(|(n, _)| n == payload)
        .and_then(|(_, m)| model.shape(&m.shape))
        .is_some_and(|s| s.kind == "blob")
}

/// A bound member's text as its shape's JSON value (lists: each value, or a header's
/// comma-separated items).
fn typed(model: &Model, s: &Shape, mut text: Vec<String>) -> Value {
    if s.kind == "list" {
        let item = s.member.as_ref().and_then(|m| model.shape(&m.shape));
        if text.len() == 1 && text[0].contains(',') {
            text = text[0].split(',').map(|t| t.trim().to_owned()).collect();
        }
        return Value::Array(
            text.into_iter()
                .map(|t| {
                    item.map_or(Value::String(t.clone()), |i| {
                        params::scalar(i, &t, params::HIDDEN)
                    })
                })
                .collect(),
        );
    }
    params::scalar(s, &text.swap_remove(0), params::HIDDEN)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::pipeline::codec::rest_json::route::{find, query_pairs};

    fn model(text: &str) -> Model {
        serde_json::from_str(text).unwrap()
    }

    const API: &str = r#"{
      "metadata": {"protocol": "rest-json", "endpointPrefix": "apigateway"},
      "operations": {
        "GetRestApis": {"name": "GetRestApis", "http": {"method": "GET", "requestUri": "/restapis"},
                        "input": {"shape": "GetRestApisRequest"}},
        "GetRestApi": {"name": "GetRestApi", "http": {"method": "GET", "requestUri": "/restapis/{restapi_id}"},
                       "input": {"shape": "GetRestApiRequest"}},
        "CreateRestApi": {"name": "CreateRestApi", "http": {"method": "POST", "requestUri": "/restapis"},
                          "input": {"shape": "CreateRestApiRequest"}},
        "GetExport": {"name": "GetExport", "http": {"method": "GET", "requestUri": "/restapis/{restapi_id}/stages/{stage_name}/exports/{export_type}"},
                      "input": {"shape": "GetExportRequest"}}
      },
      "shapes": {
        "GetRestApisRequest": {"type": "structure", "members": {
            "position": {"shape": "String", "location": "querystring", "locationName": "position"},
            "limit": {"shape": "Integer", "location": "querystring", "locationName": "limit"}}},
        "GetRestApiRequest": {"type": "structure", "members": {
            "restApiId": {"shape": "String", "location": "uri", "locationName": "restapi_id"}}},
        "CreateRestApiRequest": {"type": "structure", "members": {
            "name": {"shape": "String"}, "apiKeySource": {"shape": "Secret"},
            "tags": {"shape": "Map"}}},
        "GetExportRequest": {"type": "structure", "members": {
            "restApiId": {"shape": "String", "location": "uri", "locationName": "restapi_id"},
            "accepts": {"shape": "String", "location": "header", "locationName": "Accept"}}},
        "Secret": {"type": "string", "sensitive": true},
        "Map": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
        "String": {"type": "string"},
        "Integer": {"type": "integer"}
      }
    }"#;

    #[test]
    fn routes_find_the_operation_and_its_labels() {
        let m = model(API);
        let r = routes(&m);
        let hit = find(r, "GET", "/restapis/abc123", &[]).unwrap();
        assert_eq!(hit.route.op, "GetRestApi");
        assert_eq!(hit.labels, [("restapi_id", "abc123".to_owned())]);
        assert_eq!(
            find(r, "GET", "/restapis", &[]).unwrap().route.op,
            "GetRestApis"
        );
        assert_eq!(
            find(r, "POST", "/restapis", &[]).unwrap().route.op,
            "CreateRestApi"
        );
        assert!(find(r, "DELETE", "/restapis", &[]).is_none());
    }

    #[test]
    fn parameters_come_from_where_the_model_binds_them() {
        let m = model(API);
        let none = |_: &str| None;
        let q = query_pairs(Some("limit=25&position=p2"));
        let got = request_params(
            &m,
            "GetRestApisRequest",
            &RestRequest {
                labels: &[],
                query: &q,
                header: &none,
                body: b"",
                xml: false,
            },
        )
        .unwrap();
        assert_eq!(got, json!({"position": "p2", "limit": 25}));
        let accept = |h: &str| (h == "Accept").then(|| "application/json".to_owned());
        let got = request_params(
            &m,
            "GetExportRequest",
            &RestRequest {
                labels: &[("restapi_id", "abc".to_owned())],
                query: &[],
                header: &accept,
                body: b"",
                xml: false,
            },
        )
        .unwrap();
        assert_eq!(
            got,
            json!({"restApiId": "abc", "accepts": "application/json"})
        );
        let got = request_params(
            &m,
            "CreateRestApiRequest",
            &RestRequest {
                labels: &[],
                query: &[],
                header: &none,
                body: br#"{"name": "pets", "apiKeySource": "HEADER", "tags": {"team": "a"}}"#,
                xml: false,
            },
        )
        .unwrap();
        assert_eq!(got["name"], "pets");
        assert_eq!(got["apiKeySource"], "HIDDEN_DUE_TO_SECURITY_REASONS");
        assert_eq!(got["tags"], json!({"team": "a"}));
        // A body that is not JSON is not the protocol's.
        assert!(
            request_params(
                &m,
                "CreateRestApiRequest",
                &RestRequest {
                    labels: &[],
                    query: &[],
                    header: &none,
                    body: b"<x/>",
                    xml: false
                },
            )
            .is_none()
        );
    }
}
