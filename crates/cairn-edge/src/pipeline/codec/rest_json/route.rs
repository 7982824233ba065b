//! A REST-JSON service's routes: the table each service declares (one [`Route`] per
//! operation, copied from its model's `http` trait and member locations), and matching a
//! request's method, path and query string against the URI templates in it.

use percent_encoding::percent_decode_str;

/// One operation's HTTP binding, as the model gives it.
#[derive(Debug)]
pub struct Route {
    pub op: &'static str,
    pub method: &'static str,
    /// `requestUri`: literal segments, `{Label}` (one segment), `{Label+}` (the rest of the
    /// path, slashes included), and an optional literal query (`?List=ALL`) the request must
    /// carry.
    pub uri: &'static str,
    /// `responseCode`: the status of a successful answer.
    pub status: u16,
    /// Input members bound outside the JSON body.
    pub input: &'static [Binding],
    /// Output members bound outside the JSON body.
    pub output: &'static [Binding],
    /// The input member that is the whole body (`payload`), if one is.
    pub input_payload: Option<Payload>,
    /// The output member that is the whole body, if one is.
    pub output_payload: Option<Payload>,
}

/// A member bound to a part of the request or response other than the JSON body.
#[derive(Debug)]
pub struct Binding {
    /// Its name in the model (and so in the document the handler sees).
    pub member: &'static str,
    pub at: At,
    pub kind: Kind,
}

/// Where a member is bound (`location` and `locationName` in the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// A `{label}` of the URI template (`uri`).
    Label(&'static str),
    /// A query string parameter (`querystring`).
    Query(&'static str),
    /// An HTTP header (`header`).
    Header(&'static str),
    /// The HTTP status of the answer (`statusCode`, output only).
    Status,
}

/// The type of a bound member, which says how its text becomes a document value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Integer,
    Boolean,
    Double,
    /// A list of strings: a repeated query parameter, or a comma-separated header.
    List,
}

/// A member that is the whole body, and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct Payload {
    pub member: &'static str,
    pub kind: PayloadKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadKind {
    /// Raw bytes (Lambda Invoke's `Payload`): base64 in the document.
    Blob,
    /// Text, as it is.
    String,
    /// A JSON structure.
    Structure,
}

/// `a=1&b=x%20y&b=z` as decoded pairs, in order (`+` is a space, as form encoding has it;
/// botocore sends `%2B` for a plus).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// What matching a request against a route found: the route and its labels' values.
#[derive(Debug)]
pub struct Matched {
    pub route: &'static Route,
    pub labels: Vec<(&'static str, String)>,
}

/// The labels a path fills in a template's path part, if it matches.
fn match_path(template: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut labels = Vec::new();
    let tpl: Vec<&'static str> = template.trim_start_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, t) in tpl.iter().enumerate() {
        if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix("+}")) {
            // Greedy: the rest of the path, which must not be empty.
            let rest = segs.get(i..)?.join("/");
            if rest.is_empty() || i + 1 != tpl.len() {
                return None;
            }
            labels.push((name, decode(&rest)));
            return Some(labels);
        }
        let seg = segs.get(i)?;
        match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
            Some(name) if !seg.is_empty() => labels.push((name, decode(seg))),
            Some(_) => return None,
            None if decode(seg) == *t => {}
            None => return None,
        }
    }
    (segs.len() == tpl.len()).then_some(labels)
}

/// The route a request takes: its method, path and any literal query the template requires.
/// When several match, the one with the most literal text wins (`…/functions/{F}/policy`
/// over `…/functions/{F}`, `?List=ALL` over none).
pub fn find(
    routes: &'static [Route],
    method: &str,
    path: &str,
    query: &[(String, String)],
) -> Option<Matched> {
    let mut best: Option<(usize, Matched)> = None;
    for route in routes.iter().filter(|r| r.method == method) {
        let (tpl_path, tpl_query) = route.uri.split_once('?').unwrap_or((route.uri, ""));
        let Some(labels) = match_path(tpl_path, path) else {
            continue;
        };
        let required = tpl_query.split('&').filter(|p| !p.is_empty());
        let mut ok = true;
        for need in required.clone() {
            let (k, v) = need
                .split_once('=')
                .map_or((need, None), |(k, v)| (k, Some(v)));
            ok &= query
                .iter()
                .any(|(qk, qv)| qk == k && v.is_none_or(|v| v == qv));
        }
        if !ok {
            continue;
        }
        let literal = route.uri.len() - labels.iter().map(|(n, _)| n.len() + 2).sum::<usize>();
        if best.as_ref().is_none_or(|(score, _)| literal > *score) {
            best = Some((literal, Matched { route, labels }));
        }
    }
    best.map(|(_, m)| m)
}
