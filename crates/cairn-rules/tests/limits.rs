//! Resource limits: patterns whose `$or`s multiply, patterns and events nested deeply, and
//! input transformers that repeat large placeholders are refused or cut off, quickly and
//! without exhausting memory or the stack.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cairn_rules::pattern::{Pattern, PatternSet};
use cairn_rules::transform::{InputTransformer, MAX_OUTPUT_LEN};
use serde_json::{Value, json};

const OR_TOO_COMPLEX: &str =
    "Rule is too complex - try using fewer or-ed alternatives or fewer nested or-relationships";

/// The default stack of a test thread; the limits must hold within it.
const SMALL_STACK: usize = 2 * 1024 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("a thread")
        .join()
        .expect("no stack overflow or panic")
}

/// `{"f0":{"$or":[{"a":[1]},{"b":[1]}]}, …}`: k sequential `$or`s, 2^k branches.
fn sequential_ors(k: usize) -> String {
    let mut s = String::from("{");
    for i in 0..k {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "\"f{i}\":{{\"$or\":[{{\"a\":[1]}},{{\"b\":[1]}}]}}"
        ));
    }
    s.push('}');
    s
}

#[test]
fn twenty_two_ors_are_refused_quickly() {
    let text = sequential_ors(22);
    assert!(text.len() < 4096);
    let t = Instant::now();
    let err = Pattern::parse(&text).unwrap_err();
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(err.reason, OR_TOO_COMPLEX);
    assert_eq!(
        err.to_string(),
        format!("Event pattern is not valid. Reason: {OR_TOO_COMPLEX}")
    );
    // Eleven make 2048 branches, one fork past the cap.
    assert_eq!(
        Pattern::parse(&sequential_ors(11)).unwrap_err().reason,
        OR_TOO_COMPLEX
    );
}

#[test]
fn ors_within_the_cap_still_compile_and_match() {
    // Ten make 1024 branches: the most allowed.
    let p = Pattern::parse(&sequential_ors(10)).unwrap();
    let mut event = serde_json::Map::new();
    for i in 0..10 {
        event.insert(format!("f{i}"), json!({"b": 1}));
    }
    assert!(p.matches(&Value::Object(event.clone())));
    event.insert("f3".into(), json!({"c": 1}));
    assert!(!p.matches(&Value::Object(event)));
}

#[test]
fn nested_ors_are_capped_too() {
    // Each alternative forks into 1024 branches of its own: 2048 in all.
    let text = format!("{{\"$or\":[{s},{s}]}}", s = sequential_ors(10));
    let t = Instant::now();
    let r = Pattern::parse(&text).err().map(|e| e.reason);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(r.as_deref(), Some(OR_TOO_COMPLEX));
}

fn nested_pattern(levels: usize) -> String {
    let mut s = String::with_capacity(levels * 6 + 3);
    for _ in 0..levels {
        s.push_str("{\"a\":");
    }
    s.push_str("[1]");
    for _ in 0..levels {
        s.push('}');
    }
    s
}

#[test]
fn deep_pattern_nesting_is_refused_on_a_small_stack() {
    let reason = on_small_stack(|| Pattern::parse(&nested_pattern(200_000)).unwrap_err().reason);
    assert_eq!(
        reason,
        "Document nesting depth (1001) exceeds the maximum allowed (1000, from \
         `StreamReadConstraints.getMaxNestingDepth()`)"
    );
    // Objects inside `$or` alternatives nest the same way.
    let mut ors = String::new();
    for _ in 0..100_000 {
        ors.push_str("{\"$or\":[{\"b\":[1]},");
    }
    let reason = on_small_stack(move || Pattern::parse(&ors).unwrap_err().reason);
    assert!(
        reason.starts_with("Document nesting depth (1001)"),
        "{reason}"
    );
}

/// `{"a":{"a":…{"a":1}…}}`, `levels` objects, built without recursion.
fn nested_event(levels: usize) -> Value {
    let mut v = json!(1);
    for _ in 0..levels {
        v = object("a", v);
    }
    v
}

/// `{key: value}`, without `json!` (which serializes its arguments, recursively).
fn object(key: &str, value: Value) -> Value {
    let mut m = serde_json::Map::new();
    m.insert(key.to_owned(), value);
    Value::Object(m)
}

/// Drops a deeply nested value without recursing (serde_json's drop recurses).
fn dismantle(mut v: Value) {
    let mut stack = vec![];
    loop {
        match &mut v {
            Value::Array(items) => stack.append(items),
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    if let Some(child) = map.remove(&k) {
                        stack.push(child);
                    }
                }
            }
            _ => {}
        }
        match stack.pop() {
            Some(next) => v = next,
            None => return,
        }
    }
}

#[test]
fn the_deepest_pattern_allowed_compiles_and_matches_on_a_small_stack() {
    // 999 objects and the value's array: 1000 levels, the most allowed.
    let (ok, miss) = on_small_stack(|| {
        let p = Pattern::parse(&nested_pattern(999)).unwrap();
        let hit = nested_event(999);
        let ok = p.matches(&hit);
        dismantle(hit);
        let other = nested_event(998);
        let miss = p.matches(&other);
        dismantle(other);
        (ok, miss)
    });
    assert!(ok);
    assert!(!miss);
}

#[test]
fn deeply_nested_events_do_not_overflow_matching() {
    let (single, set, shallow) = on_small_stack(|| {
        let p = Pattern::parse(r#"{"detail":{"a":[1]}}"#).unwrap();
        let mut set = PatternSet::new();
        set.insert(p.clone());
        // 200k nested arrays under `detail.a`: arrays add no path step, so resolving
        // descends through all of them.
        let mut deep = json!(1);
        for _ in 0..200_000 {
            deep = Value::Array(vec![deep]);
        }
        let event = object("detail", object("a", deep));
        let single = p.matches(&event);
        let set = set.matches(&event);
        dismantle(event);
        // Nesting that serde_json parses (under its 128 levels) still matches.
        let text = format!(
            "{{\"detail\":{{\"a\":{}1{}}}}}",
            "[".repeat(100),
            "]".repeat(100)
        );
        let event: Value = serde_json::from_str(&text).unwrap();
        let shallow = p.matches(&event);
        (single, set, shallow)
    });
    // Values past the resolving depth are not seen.
    assert!(!single);
    assert!(set.is_empty());
    assert!(shallow);
}

#[test]
fn a_branch_of_many_fields_matches_on_a_small_stack() {
    // Matching walks a branch's fields without recursing per field.
    let n = 10_000;
    let mut pattern = String::from("{");
    let mut event = serde_json::Map::new();
    for i in 0..n {
        if i > 0 {
            pattern.push(',');
        }
        pattern.push_str(&format!("\"k{i}\":[{i}]"));
        event.insert(format!("k{i}"), json!([i, -1]));
    }
    pattern.push('}');
    let (hit, miss) = on_small_stack(move || {
        let p = Pattern::parse(&pattern).unwrap();
        let mut event = Value::Object(event);
        let hit = p.matches(&event);
        event[format!("k{}", n - 1)] = json!(0);
        (hit, p.matches(&event))
    });
    assert!(hit);
    assert!(!miss);
}

fn event_with_detail_of(bytes: usize) -> Value {
    json!({"version": "0", "id": "e-1", "detail-type": "t", "source": "s",
        "account": "111111111111", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
        "resources": [], "detail": {"blob": "x".repeat(bytes)}})
}

#[test]
fn transformer_output_stops_at_256_kb() {
    assert_eq!(MAX_OUTPUT_LEN, 256 * 1024);
    let placeholder = "<aws.events.event.json>,";
    let mut template = String::from("[");
    while template.len() + placeholder.len() < 8192 {
        template.push_str(placeholder);
    }
    template.pop();
    template.push(']');
    let t = InputTransformer::new(&BTreeMap::new(), &template).unwrap();
    let event = event_with_detail_of(10_000);
    let start = Instant::now();
    assert_eq!(
        t.render_checked(&event, "arn", "rule", "2026-01-01T00:00:00Z"),
        None
    );
    let out = t.render(&event, "arn", "rule", "2026-01-01T00:00:00Z");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(out.len() <= MAX_OUTPUT_LEN, "{}", out.len());
    assert!(out.len() > MAX_OUTPUT_LEN - 11_000, "{}", out.len());

    // One copy of a large event fits, and is delivered whole.
    let t = InputTransformer::new(&BTreeMap::new(), "[<aws.events.event.json>]").unwrap();
    let event = event_with_detail_of(200_000);
    let out = t
        .render_checked(&event, "arn", "rule", "2026-01-01T00:00:00Z")
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap(), json!([event]));

    // A text template is cut off the same way.
    let t = InputTransformer::new(
        &BTreeMap::from([("b".to_string(), "$.detail.blob".to_string())]),
        "<b> <b> <b>",
    )
    .unwrap();
    assert_eq!(t.render_checked(&event, "arn", "rule", "t"), None);
    let out = t.render(&event, "arn", "rule", "t");
    assert_eq!(out.len(), 200_001);
}
