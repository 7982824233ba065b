//! The detection engine: a journal consumer that judges every recorded call with the rules,
//! per account (an aggregating rule counts one account's records), and keeps the findings
//! with its cursor in one transaction, so a crash never loses or repeats one. Each finding is
//! then put on its account's default event bus as a "Cairn Finding" event (source
//! `cairn.detections`), where EventBridge rules take it to SNS, SQS or Lambda; that step runs
//! after the findings are kept, so a crash between the two leaves a finding kept but not
//! published (at most once, as notifications go).
//!
//! Aggregation windows live in memory: after a restart, counting starts afresh. Records
//! imported from elsewhere (`cairn import`) are history, not calls: they are not judged. The
//! first time, the engine starts at the journal's head.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use cairn_model::ids::new_uuid;
use cairn_model::timefmt::{event_time, parse_event_time};
use cairn_rules::sigma::{Detector, Hit};
use cairn_store::StoreError;
use cairn_store::detections::Finding;
use cairn_store::journal::{Consumer, Entry, EntryKind, Round};
use serde_json::{Value, json};

use super::rules::Armed;
use crate::app::App;
use crate::pipeline::Durability;
use crate::pipeline::internal::Internal;

/// Journal bytes read per batch, and batches per round at most.
const READ_BYTES: usize = 1 << 20;
const BATCHES: usize = 20;

/// The event source findings carry on the bus.
pub const FINDING_SOURCE: &str = "cairn.detections";
pub const FINDING_DETAIL_TYPE: &str = "Cairn Finding";
/// The service principal the engine publishes as.
pub const ENGINE: &str = "detections.cairn.internal";

pub struct Detections {
    app: Arc<App>,
    rules: Vec<Armed>,
    /// One detector per account, made on its first record.
    detectors: Mutex<HashMap<String, Detector>>,
}

impl Detections {
    pub fn new(app: Arc<App>, rules: Vec<Armed>) -> Result<Detections, StoreError> {
        if app.detections.cursor()?.is_none() {
            app.detections.advance(app.journal.head(), &[])?;
        }
        Ok(Detections {
            app,
            rules,
            detectors: Mutex::new(HashMap::new()),
        })
    }

    pub fn rules(&self) -> &[Armed] {
        &self.rules
    }

    fn judge(&self) -> Result<u64, StoreError> {
        let mut cursor = self.app.detections.cursor()?.unwrap_or(0);
        let mut done = 0;
        for _ in 0..BATCHES {
            let (entries, next) = self.app.journal.read_from(cursor, READ_BYTES)?;
            if entries.is_empty() && next == cursor {
                break;
            }
            let mut findings = Vec::new();
            {
                let mut detectors = self.detectors.lock().unwrap_or_else(|p| p.into_inner());
                for (offset, payload) in &entries {
                    let entry = match Entry::decode(*offset, payload) {
                        Ok(e) => e,
                        Err(e) => {
                            tracing::error!(offset, error = %e, "a journal entry detections cannot read");
                            continue;
                        }
                    };
                    if entry.kind != EntryKind::Recorded {
                        continue;
                    }
                    let Ok(record) = serde_json::from_slice::<Value>(&entry.record) else {
                        continue;
                    };
                    let time = record
                        .get("eventTime")
                        .and_then(parse_event_time)
                        .unwrap_or_else(|| self.app.clock.now_millis());
                    let detector = detectors.entry(entry.account.clone()).or_insert_with(|| {
                        Detector::new(self.rules.iter().map(|a| a.rule.clone()).collect())
                    });
                    for hit in detector.observe(&record, time) {
                        findings.push(self.finding(&entry.account, &record, &hit));
                    }
                }
            }
            done += findings.len() as u64;
            self.app.detections.advance(next, &findings)?;
            // With no EventBridge rule anywhere, nothing could take a finding from the bus
            // (the router reads nothing then either): publishing would only fill it.
            if !findings.is_empty() && self.app.events.any_pattern_rule().unwrap_or(true) {
                self.publish(&findings);
            }
            cursor = next;
        }
        Ok(done)
    }

    fn finding(&self, account: &str, record: &Value, hit: &Hit) -> Finding {
        let armed = &self.rules[hit.rule];
        let text = |k: &str| record.get(k).and_then(Value::as_str).map(str::to_owned);
        Finding {
            id: new_uuid(),
            account: account.to_owned(),
            region: text("awsRegion").unwrap_or_else(|| "us-east-1".into()),
            rule_id: armed.id.clone(),
            rule_set: armed.set.clone(),
            title: armed.rule.title.clone(),
            level: armed.rule.level.clone().unwrap_or_else(|| "medium".into()),
            tags: armed.rule.tags.clone(),
            created_ms: self.app.clock.now_millis(),
            event_time: text("eventTime").unwrap_or_default(),
            event_id: text("eventID").unwrap_or_default(),
            event_name: text("eventName").unwrap_or_default(),
            event_source: text("eventSource").unwrap_or_default(),
            principal: record
                .pointer("/userIdentity/arn")
                .and_then(Value::as_str)
                .map(str::to_owned),
            source_ip: text("sourceIPAddress"),
            group: hit.group.clone(),
            count: hit.count,
        }
    }

    /// Puts findings on their accounts' default buses, ten to a PutEvents call (its limit),
    /// as cairn's detection engine; not recorded: a finding is not a call anyone made.
    fn publish(&self, findings: &[Finding]) {
        let mut by_place: Vec<((&str, &str), Vec<&Finding>)> = Vec::new();
        for f in findings {
            let place = (f.account.as_str(), f.region.as_str());
            match by_place.iter_mut().find(|(p, _)| *p == place) {
                Some((_, fs)) => fs.push(f),
                None => by_place.push((place, vec![f])),
            }
        }
        for ((account, region), fs) in by_place {
            let me = Internal::service(ENGINE, account, region, None, Durability::Unrecorded);
            for chunk in fs.chunks(10) {
                let entries: Vec<Value> = chunk
                    .iter()
                    .map(|f| {
                        json!({
                            "Source": FINDING_SOURCE,
                            "DetailType": FINDING_DETAIL_TYPE,
                            "Detail": detail(f).to_string(),
                            "Time": f.created_ms as f64 / 1000.0,
                        })
                    })
                    .collect();
                let answer = me.call_json(
                    &self.app,
                    "events",
                    "PutEvents",
                    json!({"Entries": entries}),
                );
                let failed = match &answer {
                    Ok(a) => {
                        a.get("FailedEntryCount")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)
                            > 0
                    }
                    Err(_) => true,
                };
                if failed {
                    let why = match answer {
                        Ok(a) => a.to_string(),
                        Err(e) => format!("{}: {}", e.code, e.message),
                    };
                    tracing::warn!(%account, %region, %why, "findings could not be put on their event bus");
                }
            }
        }
    }
}

/// A finding as its event's `detail` (and `cairn findings --output json`).
pub fn detail(f: &Finding) -> Value {
    json!({
        "findingId": f.id,
        "ruleId": f.rule_id,
        "ruleSet": f.rule_set,
        "title": f.title,
        "level": f.level,
        "tags": f.tags,
        "createdAt": event_time(f.created_ms),
        "account": f.account,
        "region": f.region,
        "count": f.count,
        "group": f.group,
        "event": {
            "eventID": f.event_id,
            "eventTime": f.event_time,
            "eventName": f.event_name,
            "eventSource": f.event_source,
            "principal": f.principal,
            "sourceIPAddress": f.source_ip,
        },
    })
}

impl Consumer for Detections {
    fn name(&self) -> &'static str {
        "detections"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        Ok(self.app.detections.cursor()?.unwrap_or(0))
    }

    fn run_due(&self) -> Result<Round, String> {
        self.judge()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
