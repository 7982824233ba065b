//! The EventBridge pattern table (`data/event_patterns.json`): every case's pattern is parsed
//! and matched against its event, or refused with the recorded reason. The same file feeds the
//! end-to-end `TestEventPattern` test, so its format is fixed: `name`, `pattern` (text),
//! `event` (a complete envelope), and `matches` or `error`.

use cairn_rules::pattern::{Pattern, PatternSet};
use serde_json::Value;

fn cases() -> Vec<Value> {
    let text = include_str!("data/event_patterns.json");
    serde_json::from_str(text).expect("the table is JSON")
}

#[test]
fn every_case_in_the_table() {
    let cases = cases();
    assert!(cases.len() >= 120, "the table holds {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let text = case["pattern"].as_str().unwrap();
        let event = &case["event"];
        for key in [
            "id",
            "account",
            "source",
            "time",
            "region",
            "resources",
            "detail-type",
        ] {
            assert!(event.get(key).is_some(), "{name}: the event lacks {key}");
        }
        match (Pattern::parse(text), case.get("error")) {
            (Ok(p), None) => {
                let want = case["matches"].as_bool().unwrap();
                if p.matches(event) != want {
                    failures.push(format!("{name}: expected matches={want}"));
                }
            }
            (Ok(_), Some(e)) => failures.push(format!("{name}: accepted, expected error {e}")),
            (Err(e), None) => failures.push(format!("{name}: refused: {}", e.reason)),
            (Err(e), Some(want)) => {
                if e.reason != want.as_str().unwrap() {
                    failures.push(format!(
                        "{name}: reason\n   got {:?}\n  want {:?}",
                        e.reason, want
                    ));
                }
                assert_eq!(
                    e.to_string(),
                    format!("Event pattern is not valid. Reason: {}", e.reason)
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_set_of_every_valid_pattern_agrees_with_each_pattern() {
    let cases = cases();
    let mut set = PatternSet::new();
    let mut patterns = Vec::new();
    for case in &cases {
        if let Ok(p) = Pattern::parse(case["pattern"].as_str().unwrap()) {
            patterns.push(p.clone());
            set.insert(p);
        }
    }
    for case in &cases {
        let event = &case["event"];
        let want: Vec<usize> = patterns
            .iter()
            .enumerate()
            .filter(|(_, p)| p.matches(event))
            .map(|(i, _)| i)
            .collect();
        assert_eq!(set.matches(event), want, "{}", case["name"]);
    }
}

mod robustness {
    use cairn_rules::pattern::Pattern;
    use proptest::prelude::*;

    proptest! {
        /// Any text is either a pattern or a refusal with AWS's prefix; nothing panics.
        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,60}") {
            if let Err(e) = Pattern::parse(&text) {
                prop_assert!(e.to_string().starts_with("Event pattern is not valid. Reason: "));
            }
        }

        /// Pattern-shaped text built from the grammar's own pieces.
        #[test]
        fn pattern_shaped_text_never_panics(
            parts in proptest::collection::vec(prop_oneof![
                Just("{"), Just("}"), Just("["), Just("]"), Just(","), Just(":"), Just("\"a\""),
                Just("\"$or\""), Just("\"prefix\""), Just("\"numeric\""), Just("\"anything-but\""),
                Just("\"wildcard\""), Just("\"*x*\""), Just("\"cidr\""), Just("\"10.0.0.0/8\""),
                Just("\">\""), Just("1"), Just("-2.5e3"), Just("null"), Just("true"), Just("\"exists\""),
                Just("\"\\u00e9\""), Just(" "), Just("\n"), Just("é")
            ], 0..40)
        ) {
            let text: String = parts.concat();
            let event = serde_json::json!({"a": [1, "x", {"a": null}], "$or": "10.1.2.3"});
            if let Ok(p) = Pattern::parse(&text) {
                let _ = p.matches(&event);
            }
        }
    }
}
