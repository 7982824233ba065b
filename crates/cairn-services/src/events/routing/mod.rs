//! EventBridge's router: a journal consumer that puts every recorded call on its account's
//! default bus (`envelope`), takes the events PutEvents put on buses, fires scheduled rules
//! on the injected clock, matches each event against the enabled rules of its bus, shapes
//! each target's input (`shape`), and delivers through internal calls (`deliver`), retrying
//! as the target's policy says (`retry`) and dead-lettering what is given up.
//!
//! Durability: a match becomes rows of the outbox in the same transaction that moves the
//! cursor past the record or bus event it came from, and a delivery leaves the outbox only
//! once it was made or given up, so a crash at any point delivers every matched event at
//! least once, in journal order. The router reads the journal behind the commits; the
//! server wakes it on every commit (`Stores::commits`), so a call reaches its targets within
//! milliseconds.

mod deliver;
pub(crate) mod envelope;
mod retry;
pub(crate) mod shape;

use std::collections::HashMap;
use std::sync::Arc;

use cairn_model::ids::new_uuid;
use cairn_model::timefmt::{event_time, parse_event_time};
use cairn_rules::pattern::{Pattern, PatternSet};
use cairn_store::StoreError;
use cairn_store::events::{Delivery, NewDelivery, Rule};
use cairn_store::journal::{Consumer, Entry, EntryKind, Round};
use serde_json::{Value, json};

use super::schedule::Schedule;
use super::wire::DEFAULT_BUS;
use crate::app::App;

/// The router's cursor into the journal, and into the events put on buses.
const RECORDS: &str = "cloudtrail";
const BUS: &str = "bus";

/// Journal bytes read per batch, and batches per round at most.
const READ_BYTES: usize = 1 << 20;
const BATCHES: usize = 20;
/// Bus events and deliveries taken per batch.
const BATCH: usize = 200;
/// Deliveries made at once.
const PARALLEL: usize = 8;

/// A rule ready to match: its targets, parsed.
struct Armed {
    rule: Rule,
    targets: Vec<(String, Value)>,
}

/// The enabled rules with patterns of one bus: their patterns in one set, matched together;
/// `rules[i]` is the rule of the set's pattern `i`.
#[derive(Default)]
struct Bus {
    set: PatternSet,
    rules: Vec<Armed>,
}

/// The buses met in one round, by account, region and name.
type Armory = HashMap<(String, String, String), Bus>;

/// Routes events to targets: see the module documentation.
pub struct Router {
    app: Arc<App>,
    /// cairn's own endpoint, which queue URLs name.
    base_url: String,
}

impl Router {
    /// The router of `app`. The first time, it starts at the journal's head: calls recorded
    /// before this data directory had EventBridge are history, not events.
    pub fn new(app: Arc<App>, base_url: &str) -> Result<Router, StoreError> {
        if app.events.cursor(RECORDS)?.is_none() {
            let head = i64::try_from(app.journal.head()).unwrap_or(i64::MAX);
            app.events
                .advance(RECORDS, head, &[], app.clock.now_millis())?;
        }
        Ok(Router {
            app,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// One round: records, bus events and schedules routed, due deliveries made. How many
    /// things it did.
    pub fn run_once(&self) -> Result<u64, StoreError> {
        let mut done = self.route_records()?;
        done += self.route_bus()?;
        done += self.fire_schedules()?;
        done += self.deliver_due()?;
        Ok(done)
    }

    /// The rules of a bus, armed.
    fn armed<'a>(
        &self,
        armory: &'a mut Armory,
        account: &str,
        region: &str,
        bus: &str,
    ) -> Result<&'a Bus, StoreError> {
        let key = (account.to_owned(), region.to_owned(), bus.to_owned());
        if !armory.contains_key(&key) {
            let mut armed = Bus::default();
            for rule in self.app.events.rules(account, region, bus)? {
                if rule.state == "DISABLED" {
                    continue;
                }
                let pattern = match rule.event_pattern.as_deref().map(Pattern::parse) {
                    Some(Ok(p)) => p,
                    Some(Err(e)) => {
                        tracing::warn!(rule = %rule.arn, error = %e, "a stored pattern no longer parses");
                        continue;
                    }
                    // A schedule only: no event matches it.
                    None => continue,
                };
                let targets = self
                    .app
                    .events
                    .targets(&rule.arn)?
                    .into_iter()
                    .filter_map(|t| Some((t.spec.clone(), serde_json::from_str(&t.spec).ok()?)))
                    .collect();
                armed.set.insert(pattern);
                armed.rules.push(Armed { rule, targets });
            }
            armory.insert(key.clone(), armed);
        }
        Ok(&armory[&key])
    }

    /// The deliveries an event on a bus makes. `read_only` marks a read-only management
    /// event from CloudTrail, which only rules that ask for all of them get.
    #[allow(clippy::too_many_arguments)]
    fn matches(
        &self,
        armory: &mut Armory,
        account: &str,
        region: &str,
        bus: &str,
        event: &Value,
        text: &str,
        read_only: bool,
        out: &mut Vec<NewDelivery>,
    ) -> Result<(), StoreError> {
        let now = self.app.clock.now_millis();
        let event_ms = event.get("time").and_then(parse_event_time).unwrap_or(now);
        let armed = self.armed(armory, account, region, bus)?;
        if armed.rules.is_empty() {
            return Ok(());
        }
        for i in armed.set.matches(event) {
            let Some(a) = armed.rules.get(i) else {
                continue;
            };
            if read_only && a.rule.state != "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS" {
                continue;
            }
            for (spec, target) in &a.targets {
                let Some(input) = shape::input_for(target, event, text, &a.rule.arn, now) else {
                    tracing::debug!(rule = %a.rule.arn, "a target's input shaping yields nothing; not delivered");
                    continue;
                };
                out.push(NewDelivery {
                    rule_arn: a.rule.arn.clone(),
                    target: spec.clone(),
                    event: text.to_owned(),
                    input,
                    event_ms,
                    due_ms: now,
                });
            }
        }
        Ok(())
    }

    /// CloudTrail records, in journal order, onto their default buses.
    fn route_records(&self) -> Result<u64, StoreError> {
        let mut cursor = u64::try_from(self.app.events.cursor(RECORDS)?.unwrap_or(0)).unwrap_or(0);
        let mut done = 0;
        if !self.app.events.any_pattern_rule()? {
            // No rule could match: nothing to read. The cursor stays where it is (moving it
            // would be a write per commit); the first rule moves it ([`skip_unwatched`]).
            return Ok(0);
        }
        for _ in 0..BATCHES {
            let (entries, next) = self.app.journal.read_from(cursor, READ_BYTES)?;
            if entries.is_empty() && next == cursor {
                break;
            }
            // Rules are read after the records they judge: a call made once a rule or target
            // change was answered is judged with that change (the change's store commit came
            // before the call, so before this read).
            let mut armory = Armory::new();
            let armory = &mut armory;
            let mut deliveries = Vec::new();
            for (offset, payload) in &entries {
                let entry = match Entry::decode(*offset, payload) {
                    Ok(e) => e,
                    Err(e) => {
                        tracing::error!(offset, error = %e, "a journal entry EventBridge cannot read");
                        continue;
                    }
                };
                // Imported records are history: they happened elsewhere, long ago.
                if entry.kind != EntryKind::Recorded {
                    continue;
                }
                let Some(e) = envelope::from_record(&entry.record) else {
                    continue;
                };
                self.matches(
                    armory,
                    &e.account,
                    &e.region,
                    DEFAULT_BUS,
                    &e.value,
                    &e.event,
                    e.read_only,
                    &mut deliveries,
                )?;
            }
            done += deliveries.len() as u64;
            self.app.events.advance(
                RECORDS,
                i64::try_from(next).unwrap_or(i64::MAX),
                &deliveries,
                self.app.clock.now_millis(),
            )?;
            cursor = next;
        }
        Ok(done)
    }

    /// Events PutEvents put on buses, in the order they were put.
    fn route_bus(&self) -> Result<u64, StoreError> {
        let mut done = 0;
        for _ in 0..BATCHES {
            let cursor = self.app.events.cursor(BUS)?.unwrap_or(0);
            let events = self.app.events.bus_events_after(cursor, BATCH)?;
            let Some(last) = events.last().map(|e| e.seq) else {
                break;
            };
            // As for records: rules read after the events they judge.
            let mut armory = Armory::new();
            let armory = &mut armory;
            let mut deliveries = Vec::new();
            for e in &events {
                let Ok(value) = serde_json::from_str::<Value>(&e.event) else {
                    continue;
                };
                self.matches(
                    armory,
                    &e.account,
                    &e.region,
                    &e.bus,
                    &value,
                    &e.event,
                    false,
                    &mut deliveries,
                )?;
            }
            done += deliveries.len() as u64;
            let now = self.app.clock.now_millis();
            self.app.events.advance(BUS, last, &deliveries, now)?;
            self.app.events.forget_bus_events(last)?;
            if events.len() < BATCH {
                break;
            }
        }
        Ok(done)
    }

    /// Scheduled rules whose time came: each fires once (missed firings are not made up,
    /// as in AWS) and is set to fire next after now.
    fn fire_schedules(&self) -> Result<u64, StoreError> {
        let now = self.app.clock.now_millis();
        let mut done = 0;
        for rule in self.app.events.schedules_due(now)? {
            let fire_ms = rule.next_fire_ms.unwrap_or(now);
            let text = envelope::event_json(
                &new_uuid(),
                "Scheduled Event",
                "aws.events",
                &rule.account,
                &event_time(fire_ms),
                &rule.region,
                json!([rule.arn]),
                json!({}),
            );
            let event: Value = serde_json::from_str(&text).unwrap_or_default();
            let deliveries: Vec<NewDelivery> = self
                .app
                .events
                .targets(&rule.arn)?
                .into_iter()
                .filter_map(|t| {
                    let target: Value = serde_json::from_str(&t.spec).ok()?;
                    Some(NewDelivery {
                        rule_arn: rule.arn.clone(),
                        input: shape::input_for(&target, &event, &text, &rule.arn, now)?,
                        target: t.spec,
                        event: text.clone(),
                        event_ms: fire_ms,
                        due_ms: now,
                    })
                })
                .collect();
            let next = rule
                .schedule
                .as_deref()
                .and_then(|s| Schedule::parse(s).ok())
                .and_then(|s| s.next_after(now))
                .unwrap_or(i64::MAX);
            done += deliveries.len() as u64;
            self.app.events.fired(&rule.arn, next, &deliveries, now)?;
        }
        Ok(done)
    }

    /// The deliveries due now.
    fn deliver_due(&self) -> Result<u64, StoreError> {
        let mut made = 0;
        for _ in 0..BATCHES {
            let due = self.app.events.due(self.app.clock.now_millis(), BATCH)?;
            // Each delivery is an internal call that waits for its record; made side by side,
            // their records share the journal's group commits.
            // Internal calls run on the server's runtime: each thread enters it.
            let runtime = tokio::runtime::Handle::try_current().ok();
            let per = if runtime.is_some() {
                due.len().div_ceil(PARALLEL).max(1)
            } else {
                due.len().max(1)
            };
            let results: Vec<Result<u64, StoreError>> = std::thread::scope(|s| {
                let running: Vec<_> = due
                    .chunks(per)
                    .map(|chunk| {
                        let runtime = runtime.clone();
                        s.spawn(move || {
                            let _inside = runtime.as_ref().map(|r| r.enter());
                            let mut n = 0;
                            for d in chunk {
                                n += u64::from(self.attempt(d)?);
                            }
                            Ok(n)
                        })
                    })
                    .collect();
                running
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            tracing::error!("an EventBridge delivery thread panicked");
                            Ok(0)
                        })
                    })
                    .collect()
            });
            for r in results {
                made += r?;
            }
            if due.len() < BATCH {
                break;
            }
        }
        Ok(made)
    }

    /// One attempt at one delivery: `true` when it was made.
    fn attempt(&self, d: &Delivery) -> Result<bool, StoreError> {
        let events = &self.app.events;
        let (Ok(target), Ok(event)) = (
            serde_json::from_str::<Value>(&d.target),
            serde_json::from_str::<Value>(&d.event),
        ) else {
            tracing::error!(
                id = d.id,
                "an EventBridge delivery that does not parse; dropped"
            );
            events.finish(d.id)?;
            return Ok(false);
        };
        let why = match deliver::deliver(
            &self.app,
            &self.base_url,
            &d.rule_arn,
            &target,
            &event,
            &d.input,
            d.event_ms,
        ) {
            Ok(()) => {
                events.finish(d.id)?;
                return Ok(true);
            }
            Err(why) => why,
        };
        let attempts = d.attempts + 1;
        let now = self.app.clock.now_millis();
        let target_arn = target
            .get("Arn")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match retry::next_attempt(
            &target,
            attempts,
            d.created_ms,
            now,
            retry::retryable(&why.0),
        ) {
            Ok(next) => {
                tracing::info!(rule = %d.rule_arn, target = target_arn, attempts, code = %why.0, error = %why.1, "EventBridge delivery failed; will retry");
                events.retry_later(d.id, attempts, next, &format!("{}: {}", why.0, why.1))?;
            }
            Err(exhausted) => {
                tracing::warn!(rule = %d.rule_arn, target = target_arn, attempts, code = %why.0, error = %why.1, "EventBridge delivery given up");
                if let Some(dlq) = target
                    .pointer("/DeadLetterConfig/Arn")
                    .and_then(Value::as_str)
                    && let Err(e) = deliver::dead_letter(
                        &self.app,
                        &self.base_url,
                        dlq,
                        &d.rule_arn,
                        target_arn,
                        &d.event,
                        &why,
                        exhausted.as_str(),
                        attempts,
                    )
                {
                    tracing::warn!(rule = %d.rule_arn, queue = dlq, code = %e.0, error = %e.1, "EventBridge dead-letter queue refused the event");
                }
                events.finish(d.id)?;
            }
        }
        Ok(false)
    }
}

/// Called before a rule is put or enabled: when no enabled rule with a pattern exists yet, the
/// CloudTrail cursor moves to the journal's head, so that records made while nothing watched
/// (which the router left unread) are never judged by the new rule. Part of the rule's call:
/// it commits with it.
pub(crate) fn skip_unwatched(app: &App) -> Result<(), StoreError> {
    if app.events.any_pattern_rule()? {
        return Ok(());
    }
    let head = i64::try_from(app.journal.head()).unwrap_or(i64::MAX);
    let cursor = app.events.cursor(RECORDS)?.unwrap_or(0);
    if head > cursor {
        app.events
            .advance(RECORDS, head, &[], app.clock.now_millis())?;
    }
    Ok(())
}

impl Consumer for Router {
    fn name(&self) -> &'static str {
        "events-routing"
    }

    fn needs_from(&self) -> Result<u64, StoreError> {
        // Unwatched records are never read (the first rule skips them).
        if !self.app.events.any_pattern_rule()? {
            return Ok(self.app.journal.head());
        }
        Ok(u64::try_from(self.app.events.cursor(RECORDS)?.unwrap_or(0)).unwrap_or(0))
    }

    fn run_due(&self) -> Result<Round, String> {
        self.run_once()
            .map(|done| Round { done })
            .map_err(|e| e.to_string())
    }
}
