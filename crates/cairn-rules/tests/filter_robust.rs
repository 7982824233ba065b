//! Whatever a client sends as a pattern and whatever an application logs, the engine answers
//! (a match, no match, or AWS's error) and never panics; and for well-formed JSON its selective
//! scan agrees with a full parse on whether the message is JSON at all.

use cairn_rules::filter::{FilterPattern, MetricValue};
use proptest::prelude::*;

/// Pattern-ish text: the grammar's own symbols mixed with anything.
fn patternish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "{", "}", "[", "]", "(", ")", "$.a", "$.a[0]", "$.b.c", "=", "!=", "<", ">=", "&&", "||",
        "\"x\"", "\"", "%a.c%", "%", "*", "1", "-2.5e3", "IS", "NULL", "TRUE", "NOT", "EXISTS",
        "...", ",", "?", "-", " ", "a", "é", "\\",
    ]);
    prop::collection::vec(atoms, 0..16).prop_map(|v| v.concat())
}

fn messageish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        "\"a\"",
        ":",
        ",",
        "1",
        "-0.5e2",
        "true",
        "null",
        "\"",
        "\\",
        "\\u00e9",
        "\\ud83d\\ude00",
        " ",
        "x",
        "é",
        "\"b\":",
        "\"c\":{\"d\":[1,2]}",
    ]);
    prop::collection::vec(atoms, 0..24).prop_map(|v| v.concat())
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        (-1e6f64..1e6).prop_map(Value::from),
        "[a-z\"\\\\/ é😀\\n]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[ab\"é]{1,2}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn never_panics(p in patternish(), m in messageish()) {
        if let Ok(pat) = FilterPattern::parse(&p)
            && let Some(hit) = pat.matches(&m)
        {
            let _ = MetricValue::parse("$.a").map(|v| v.extract(&hit));
            let _ = MetricValue::parse("$a").map(|v| v.extract(&hit));
        }
    }

    #[test]
    fn json_detection_agrees_with_serde(m in messageish()) {
        // `$.zz NOT EXISTS` holds for every JSON object without `zz`, so it matches exactly the
        // messages that are one JSON object.
        let p = FilterPattern::parse("{ $.zz NOT EXISTS }").unwrap();
        let is_object = matches!(serde_json::from_str::<serde_json::Value>(&m), Ok(serde_json::Value::Object(_)));
        prop_assert_eq!(p.is_match(&m), is_object, "{}", m);
    }

    #[test]
    fn selectors_agree_with_serde(v in json_value(), pretty in any::<bool>()) {
        use serde_json::Value;
        let obj = match v {
            Value::Object(_) => v,
            other => serde_json::json!({ "a": other }),
        };
        let text = if pretty { serde_json::to_string_pretty(&obj).unwrap() } else { obj.to_string() };
        let is_object = FilterPattern::parse("{ $.zz NOT EXISTS }").unwrap().is_match(&text);
        prop_assert!(is_object, "{}", text);
        let a = obj.get("a");
        let exists = FilterPattern::parse("{ $.a NOT EXISTS }").unwrap().is_match(&text);
        prop_assert_eq!(exists, a.is_none());
        let any = FilterPattern::parse("{ $.a = * }").unwrap().is_match(&text);
        prop_assert_eq!(any, matches!(a, Some(Value::String(_) | Value::Number(_) | Value::Bool(_))));
        if let Some(Value::String(s)) = a {
            // The scanner's unescaping against serde's: an exact match on the decoded text.
            let quoted = s.replace('\\', "\\\\").replace('"', "\\\"");
            let p = FilterPattern::parse(&format!("{{ $.a = \"{quoted}\" }}"));
            if let Ok(p) = p
                && !s.starts_with('*')
                && !s.ends_with('*')
                && !s.is_empty()
            {
                prop_assert!(p.is_match(&text), "{} on {}", p.as_str(), text);
            }
        }
        if let Some(Value::Number(n)) = a {
            let hit = FilterPattern::parse("{ $.a = * }").unwrap().matches(&text).unwrap();
            let got = MetricValue::parse("$.a").unwrap().extract(&hit);
            prop_assert_eq!(got, n.as_f64());
        }
    }
}
