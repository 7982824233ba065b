//! Security: what the detection engine found in the account's calls (its findings, newest
//! first), and the account's best-practice checks (Security Hub's CIS controls), run as the
//! signed-in person through the services' APIs, each with its reason and fix.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use cairn_edge::admin::checks;
use serde_json::{Value, json};

use super::{Me, with};
use crate::Shared;
use crate::render::page;

/// How many findings the page shows.
const SHOWN: usize = 500;

/// GET /console/security/findings
pub async fn findings(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Findings", "findings");
    let account = me.session.account.clone();
    let app = Arc::clone(&shared.app);
    let read = tokio::task::spawn_blocking(move || {
        // The newest: page through to the end, keeping the last SHOWN.
        let mut kept = Vec::new();
        let mut after = 0;
        loop {
            let page = app.detections.list(Some(&account), after, 1000)?;
            let Some(last) = page.last().map(|k| k.seq) else {
                break;
            };
            let full = page.len() == 1000;
            kept.extend(page);
            if kept.len() > SHOWN {
                kept.drain(..kept.len() - SHOWN);
            }
            after = last;
            if !full {
                break;
            }
        }
        Ok::<_, cairn_store::StoreError>(kept)
    })
    .await;
    let ctx = match read {
        Ok(Ok(kept)) => {
            let rows: Vec<Value> = kept
                .iter()
                .rev()
                .map(|k| {
                    let f = &k.finding;
                    json!({
                        "found": cairn_model::timefmt::event_time(f.created_ms),
                        "level": f.level,
                        "title": f.title,
                        "set": f.rule_set,
                        "tags": f.tags.join(", "),
                        "event_id": f.event_id,
                        "call": format!("{}:{}", f.event_source.trim_end_matches(".amazonaws.com"), f.event_name),
                        "who": f.principal.clone().unwrap_or_default(),
                        "count": f.count,
                    })
                })
                .collect();
            json!({"findings": rows})
        }
        _ => {
            json!({"error": {"code": "ServiceUnavailable", "message": "The findings cannot be read now."}})
        }
    };
    page(&shared.templates, "findings.html", with(frame, ctx))
}

/// GET /console/security/checks
pub async fn checks(me: Me, State(shared): State<Arc<Shared>>) -> Response {
    let frame = me.frame(&shared, "Best-practice checks", "checks");
    let who = me.caller.internal(&shared);
    let app = Arc::clone(&shared.app);
    let outcomes = tokio::task::spawn_blocking(move || checks::run(&app, &who))
        .await
        .unwrap_or_default();
    let count = |s: &str| outcomes.iter().filter(|o| o.status == s).count();
    let ctx = json!({
        "controls": outcomes,
        "passed": count("PASSED"),
        "failed": count("FAILED"),
        "unknown": count("NOT_AVAILABLE"),
    });
    page(&shared.templates, "checks.html", with(frame, ctx))
}
