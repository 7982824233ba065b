//! Table-driven conformance cases: one row per (pattern, message, expected), from AWS's
//! documentation examples (ALERTING.md §3.6) and the grammar's edge cases.

use super::{Dimension, FilterPattern, FilterSet, MetricValue, PatternError, validate_dimensions};

/// The doc's sample JSON event.
const EV: &str = r#"{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true}"#;
/// The doc's compound-expression event.
const USER: &str = r#"{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1],[2,3]]}"#;
const NUMS: &str = r#"{"latency":50,"size":1.5e3,"neg":-7,"str":"42","zero":0,"flag":false,"msg":"bind: address already in use","ip":"10.0.1.27","esc":"a\"b\u00e9\/c"}"#;
const APACHE: &str =
    r#"127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534"#;

/// (pattern, message, expected match)
const CASES: &[(&str, &str, bool)] = &[
    // ---- match everything
    ("", "anything", true),
    ("   ", "anything", true),
    ("\"\"", "anything", true),
    ("\" \"", "", true),
    // ---- terms
    ("ERROR", "Exiting with ERRORCODE: -1", true),
    ("ERROR", "error in lower case", false),
    ("ERROR ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", true),
    ("ARGUMENTS ERROR", "[ERROR 419] MISSING ARGUMENTS", true),
    ("ERROR WARN", "[ERROR 419] MISSING ARGUMENTS", false),
    ("ERROR -ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", false),
    ("ERROR -WARN", "[ERROR 419] MISSING ARGUMENTS", true),
    (
        "ERROR - \"MISSING ARGUMENTS\"",
        "[ERROR 419] MISSING ARGUMENTS",
        false,
    ),
    ("?ERROR ?ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", true),
    ("?WARN ?ARGUMENTS", "[ERROR 419] MISSING ARGUMENTS", true),
    ("?WARN ?INFO", "[ERROR 419] MISSING ARGUMENTS", false),
    (
        "\"INTERNAL SERVER ERROR\"",
        "500 INTERNAL SERVER ERROR here",
        true,
    ),
    (
        "\"INTERNAL SERVER ERROR\"",
        "500 INTERNAL ERROR SERVER",
        false,
    ),
    ("\"say \\\"hi\\\"\"", "they say \"hi\" loudly", true),
    // Terms before the first `?` form an alternative of their own [I].
    ("MISSING ?WARN ?INFO", "[ERROR 419] MISSING ARGUMENTS", true),
    ("NOPE ?WARN ?419", "[ERROR 419] MISSING ARGUMENTS", true),
    // `?` opens a group; plain terms after it join it (CDK's anyTermGroup rendering).
    (
        r#"?"ERROR" "MISSING" ?"WARN" "Deadlock""#,
        "[ERROR 419] MISSING ARGUMENTS",
        true,
    ),
    (
        r#"?"ERROR" "MainThread" ?"WARN" "Deadlock""#,
        "[ERROR 419] MISSING ARGUMENTS",
        false,
    ),
    (
        r#"?"ERROR" "MainThread" ?"WARN" "Deadlock""#,
        "WARN: Deadlock found",
        true,
    ),
    (
        "?ERROR -ARGUMENTS ?WARN",
        "[ERROR 419] MISSING ARGUMENTS",
        false,
    ),
    (
        "?ERROR -ARGUMENTS ?MISSING",
        "[ERROR 419] MISSING ARGUMENTS",
        true,
    ),
    // ---- regex
    ("%AUTHORIZED%", "[SUCCESS 200] AUTHORIZED REQUEST", true),
    ("%AUTHORIZED%", "[ERROR 401] UNAUTHORIZED REQUEST", true),
    ("%^\\[SUCCESS%", "[SUCCESS 200] AUTHORIZED REQUEST", true),
    ("%^\\[SUCCESS%", "[ERROR 401] UNAUTHORIZED REQUEST", false),
    (
        "%\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}%",
        "from 10.0.0.1 ok",
        true,
    ),
    ("%[Ee]rror|[Ff]ail%", "it did fail", true),
    // Classes are ASCII: an Arabic-Indic digit is not `\d`.
    ("%\\d%", "\u{663}", false),
    ("%\\d%", "x1", true),
    ("%^.{3}$%", "abc", true),
    ("%a.c%", "a\u{e9}c", true),
    ("%^\\w+\\s\\S+$%", "ab_9 x\u{e9}", true),
    ("%^\\w+$%", "ab\u{e9}", false),
    ("%\\bfoo\\b%", "a foo b", true),
    ("%\\bfoo\\b%", "afoo b", false),
    ("%[\\d_]x%", "_x", true),
    ("%[^\\d]x%", "1x", false),
    ("%a\\.c%", "abc", false),
    ("%a\\.c%", "a.c", true),
    // ---- JSON: the doc's table
    (r#"{ $.eventType = "UpdateTrail" }"#, EV, true),
    (r#"{ $.eventType = UpdateTrail }"#, EV, true),
    (r#"{ $.eventType = "updatetrail" }"#, EV, false),
    (r#"{ $.eventType != "UpdateTrail" }"#, EV, false),
    (r#"{ $.sourceIPAddress != 123.123.* }"#, EV, true),
    (r#"{ $.sourceIPAddress = 111.111.* }"#, EV, true),
    (r#"{ $.sourceIPAddress = "*.111" }"#, EV, true),
    (r#"{ $.arrayKey[0] = "value" }"#, EV, true),
    (r#"{ $.arrayKey[1] = "another value" }"#, EV, true),
    (r#"{ $.arrayKey[2] = "value" }"#, EV, false),
    (r#"{ $.objectList[1].id = 2 }"#, EV, true),
    (r#"{ $.objectList[0].name = "b" }"#, EV, false),
    (r#"{ $.SomeObject IS NULL }"#, EV, true),
    (r#"{ $.ThisFlag IS NULL }"#, EV, false),
    (r#"{ $.SomeOtherObject NOT EXISTS }"#, EV, true),
    (r#"{ $.SomeObject NOT EXISTS }"#, EV, false),
    (r#"{ $.ThisFlag IS TRUE }"#, EV, true),
    (r#"{ $.ThisFlag IS FALSE }"#, EV, false),
    (r#"{ $.arrayKey NOT EXISTS }"#, EV, false),
    (r#"{ $.users = 1 }"#, r#"{"users":[1,2,3]}"#, false),
    (r#"{ $.users != 1 }"#, r#"{"users":[1,2,3]}"#, false),
    (r#"{ $.objectList = "*" }"#, EV, false),
    // absent field: neither = nor != applies
    (r#"{ $.nothing != "x" }"#, EV, false),
    // ---- JSON: precedence (doc example)
    (
        r#"{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }"#,
        USER,
        true,
    ),
    (
        r#"{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }"#,
        USER,
        false,
    ),
    (
        r#"{ $.user.id = 1 && $.users[0].email = "John.Doe@example.com" }"#,
        USER,
        true,
    ),
    (
        r#"{ $.users[1].email = "Jane*" && $.coordinates[1][0] = 2 }"#,
        USER,
        true,
    ),
    (r#"{ $.coordinates[0][1] = 1 }"#, USER, true),
    (r#"{ $.user.email = "*@example.com" }"#, USER, true),
    (
        r#"{ $.user.email = "John*Stiles@example.com" }"#,
        USER,
        false,
    ),
    (r#"{ $.actions[1] = PUT || $.nope = 1 }"#, USER, true),
    (r#"{ (($.actions[0] = GET)) }"#, USER, true),
    // CDK's rendering of all()/any(): every clause parenthesised.
    (
        r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#,
        r#"{"component":"HttpServer","error":false,"latency":1500}"#,
        true,
    ),
    (
        r#"{ ($.component = "HttpServer") && (($.error IS TRUE) || ($.latency > 1000)) }"#,
        r#"{"component":"HttpServer","error":false,"latency":15}"#,
        false,
    ),
    // Exact-value alternatives are compiled to a set lookup: numbers and booleans still compare as text.
    (r#"{ $.flag = false || $.flag = x }"#, NUMS, true),
    (r#"{ $.str = "42" || $.str = "43" }"#, NUMS, true),
    (r#"{ $.latency = "50" || $.latency = "51" }"#, NUMS, true),
    (r#"{ $.esc = "a\"bé/c" || $.esc = "z" }"#, NUMS, true),
    (r#"{ $.objectList = "a" || $.objectList = "b" }"#, EV, false),
    // ---- JSON: numbers
    (r#"{ $.latency = 50 }"#, NUMS, true),
    (r#"{ $.latency = 50.0 }"#, NUMS, true),
    (r#"{ $.latency = 5e1 }"#, NUMS, true),
    (r#"{ $.latency > 49 }"#, NUMS, true),
    (r#"{ $.latency >= 50 }"#, NUMS, true),
    (r#"{ $.latency < 50 }"#, NUMS, false),
    (r#"{ $.latency <= 50 }"#, NUMS, true),
    (r#"{ $.latency != 50 }"#, NUMS, false),
    (r#"{ $.size = 1500 }"#, NUMS, true),
    (r#"{ $.size > 1e3 }"#, NUMS, true),
    (r#"{ $.size < +10e3 }"#, NUMS, true),
    (r#"{ $.neg < -6.5 }"#, NUMS, true),
    (r#"{ $.neg > 0 }"#, NUMS, false),
    (r#"{ $.zero = 0 }"#, NUMS, true),
    (r#"{ $.str = 42 }"#, NUMS, true),
    (r#"{ $.str > 41 }"#, NUMS, true),
    (r#"{ $.msg > 1 }"#, NUMS, false),
    (r#"{ $.latency = * }"#, NUMS, true),
    (r#"{ $.latency = "*" }"#, NUMS, true),
    (r#"{ $.missing = * }"#, NUMS, false),
    (r#"{ $.latency = 5* }"#, NUMS, true),
    (r#"{ $.flag IS FALSE }"#, NUMS, true),
    (r#"{ $.flag IS TRUE }"#, NUMS, false),
    (r#"{ $.str = 42.0 }"#, NUMS, true),
    (r#"{ $.SomeObject = * }"#, EV, false),
    (r#"{ $.ThisFlag = * }"#, EV, true),
    (r#"{ $.a = 1 }"#, r#"{"a":{"b":1}}"#, false),
    (r#"{ $.a.b = 1 }"#, r#"{"a":{"b":1}}"#, true),
    (r#"{ $.a.b.c = 1 }"#, r#"{"a":{"b":1}}"#, false),
    (r#"{ $.a-b_c = 1 }"#, r#"{"a-b_c":1}"#, true),
    // Keys and set values longer than 16 bytes that share their first and last eight bytes.
    (
        r#"{ $.aaaaaaaaXbbbbbbbb = 1 }"#,
        r#"{"aaaaaaaaYbbbbbbbb":1}"#,
        false,
    ),
    (
        r#"{ $.aaaaaaaaXbbbbbbbb = 1 }"#,
        r#"{"aaaaaaaaYbbbbbbbb":2,"aaaaaaaaXbbbbbbbb":1}"#,
        true,
    ),
    (
        r#"{ $.k = aaaaaaaaXbbbbbbbb || $.k = c }"#,
        r#"{"k":"aaaaaaaaYbbbbbbbb"}"#,
        false,
    ),
    (
        r#"{ $.k = aaaaaaaaXbbbbbbbb || $.k = c }"#,
        r#"{"k":"aaaaaaaaXbbbbbbbb"}"#,
        true,
    ),
    (
        r#"{ $.eventName = x || $.eventName = ReplaceRouteTableAssociation }"#,
        r#"{"eventName":"ReplaceRouteTableAssociation"}"#,
        true,
    ),
    // An escaped key in the message is the same key.
    (r#"{ $.eventName = A }"#, r#"{"event\u004eame":"A"}"#, true),
    // ---- JSON: IP addresses (wildcard prefixes, as AWS documents)
    (r#"{ $.ip = 10.0.* }"#, NUMS, true),
    (r#"{ $.ip = 10.1.* }"#, NUMS, false),
    (r#"{ $.ip != 192.168.* }"#, NUMS, true),
    (r#"{ $.ip = "10.0.1.27" }"#, NUMS, true),
    // ---- JSON: regex values
    (r#"{ $.msg = %address already in use% }"#, NUMS, true),
    (r#"{ $.msg = %^bind:% }"#, NUMS, true),
    (r#"{ $.msg != %^bind:% }"#, NUMS, false),
    (r#"{ $.ip = %^10\.0\.[0-9]+\.[0-9]+$% }"#, NUMS, true),
    // ---- JSON: escapes in the message are resolved before comparing
    (r#"{ $.esc = "a\"bé/c" }"#, NUMS, true),
    // ---- JSON: message must be one JSON object
    (r#"{ $.latency = 50 }"#, "latency 50", false),
    (r#"{ $.latency = 50 }"#, r#"{"latency":50"#, false),
    (r#"{ $.latency = 50 }"#, r#"{"latency":50} trailing"#, false),
    (r#"{ $.latency = 50 }"#, r#"INFO {"latency":50}"#, false),
    (r#"{ $.latency = 50 }"#, r#"[{"latency":50}]"#, false),
    (r#"{ $.latency = 50 }"#, r#"{"latency":50,}"#, false),
    (r#"{ $.latency = 50 }"#, r#"  {"latency" : 50 }  "#, true),
    (r#"{ $.a = 1 }"#, r#"{"a":2,"a":1}"#, true),
    // ---- space-delimited
    (
        "[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]",
        APACHE,
        true,
    ),
    (
        "[ip, user, username, timestamp, request =*.php*, status_code = 4*, bytes]",
        APACHE,
        false,
    ),
    (
        "[ip, user, ..., status_code = 404 || status_code = 410, bytes]",
        APACHE,
        true,
    ),
    (
        "[ip, user, ..., status_code = 500 || status_code = 410, bytes]",
        APACHE,
        false,
    ),
    (
        "[ip, user, ..., status_code >= 400 && status_code < 500, bytes > 1000]",
        APACHE,
        true,
    ),
    ("[ip, user, ..., bytes < 1000]", APACHE, false),
    ("[..., request=*.html*, status_code=4*,]", APACHE, true),
    ("[ip = 127.0.0.*, ...]", APACHE, true),
    ("[ip != 127.0.0.*, ...]", APACHE, false),
    ("[ip, user = Prod, username = \"frank\", ...]", APACHE, true),
    (
        "[ip, user, username, timestamp = \"10/Oct/2000*\", ...]",
        APACHE,
        true,
    ),
    ("[..., bytes = 1534.0]", APACHE, true),
    ("[..., bytes = 1.534e3]", APACHE, true),
    ("[a, b, c]", "one two", false),
    ("[w1=ERROR, w2]", "ERROR Exiting with ERRORCODE: -1", true),
    ("[w1=ERROR, w2]", "WARN Exiting with ERRORCODE: -1", false),
    ("[..., last = 1534]", APACHE, true),
    ("[first = 127.0.0.1, ...]", APACHE, true),
    ("[ip, ..., bytes = %^15%]", APACHE, true),
];

/// Patterns AWS rejects, all with the one `InvalidParameterException` text.
const MALFORMED: &[&str] = &[
    "{ $.eventType = \"UpdateTrail\"",
    "{ eventType = UpdateTrail }",
    "{ $.eventType == UpdateTrail }",
    "{ $.a = 1 && }",
    "{ $.a = 1 || || $.b = 2 }",
    "{ ($.a = 1 }",
    "{ $.a = 1) }",
    "{ $.a > abc }",
    "{ $.a < \"5\" }",
    "{ $.a IS NOT NULL }",
    "{ $.a EXISTS }",
    "{ $.a IS MAYBE }",
    "{ $.a[*] = 1 }",
    "{ $.a. = 1 }",
    "{ $.a = user@example.com }",
    "{ $.a = 1 } extra",
    "{ }",
    "{ $.a = %unclosed }",
    "{ $.a = %(group)% }",
    "{ $.a > %x% }",
    "%something!%",
    "%(a|b)%",
    "[a, b",
    "[a = ]",
    "[a b]",
    "[status = 1 || other = 2]",
    "[a, b] extra",
    "\"unterminated",
    "ERROR -",
];

fn parse(p: &str) -> FilterPattern {
    FilterPattern::parse(p).unwrap_or_else(|e| panic!("{p:?} should parse: {}", e.detail()))
}

#[test]
fn table() {
    let mut failures = Vec::new();
    for &(pattern, message, expected) in CASES {
        let got = parse(pattern).is_match(message);
        if got != expected {
            failures.push(format!(
                "{pattern}  on  {message}: expected {expected}, got {got}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
    assert!(CASES.len() + MALFORMED.len() >= 80);
}

#[test]
fn malformed_patterns_answer_aws_text() {
    for p in MALFORMED {
        match FilterPattern::parse(p) {
            Err(e @ PatternError::Syntax { .. }) => {
                assert_eq!(e.to_string(), "Invalid metric filter pattern", "{p}");
                assert_eq!(e.code(), "InvalidParameterException");
            }
            other => panic!("{p:?} should be rejected, got {other:?}"),
        }
    }
}

#[test]
fn length_limit() {
    let ok = format!("{{ $.a = \"{}\" }}", "x".repeat(1024 - 12));
    assert_eq!(ok.len(), 1024);
    parse(&ok);
    let long = "x".repeat(1025);
    let e = FilterPattern::parse(&long).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "1 validation error detected: Value '{long}' at 'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"
        )
    );
}

#[test]
fn metric_values() {
    let m = |p: &str, msg: &str, v: &str| -> Option<f64> {
        let p = parse(p);
        let mt = p.matches(msg).expect("pattern should match");
        MetricValue::parse(v).unwrap().extract(&mt)
    };
    assert_eq!(
        m("{ $.latency = * }", r#"{"latency":50}"#, "$.latency"),
        Some(50.0)
    );
    assert_eq!(m("{ $.latency = * }", r#"{"latency":50}"#, "1"), Some(1.0));
    assert_eq!(
        m("{ $.latency = * }", r#"{"latency":50}"#, "2.5e1"),
        Some(25.0)
    );
    assert_eq!(
        m("{ $.a.b[1] > 0 }", r#"{"a":{"b":[1,2.5]}}"#, "$.a.b[1]"),
        Some(2.5)
    );
    assert_eq!(m("{ $.s = * }", r#"{"s":"12"}"#, "$.s"), Some(12.0));
    assert_eq!(m("{ $.s = * }", r#"{"s":"twelve"}"#, "$.s"), None);
    assert_eq!(m("{ $.s = * }", r#"{"s":"x"}"#, "$.missing"), None);
    let delim = "[ip, user, username, timestamp, request, status_code, bytes]";
    assert_eq!(m(delim, APACHE, "$bytes"), Some(1534.0));
    assert_eq!(m(delim, APACHE, "$status_code"), Some(404.0));
    assert_eq!(m(delim, APACHE, "$user"), None);
    assert_eq!(m("[..., status_code, bytes]", APACHE, "$1"), None);
    assert_eq!(
        m("[..., status_code, bytes]", APACHE, "$bytes"),
        Some(1534.0)
    );
    assert!(MetricValue::parse("abc").is_err());
    assert!(MetricValue::parse("$.a[x]").is_err());
    assert!(MetricValue::parse(&"1".repeat(101)).is_err());
}

#[test]
fn extracted_values_follow_the_doc() {
    let p = parse("[..., request=*.html*, status_code=4*,]");
    let m = p.matches(APACHE).unwrap();
    let names: Vec<&str> = m
        .extracted_values()
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(
        names,
        ["$1", "$2", "$3", "$4", "$request", "$status_code", "$7"]
    );
    assert_eq!(m.field("$request"), Some("GET /index.html HTTP/1.0"));
    assert_eq!(m.field("$4"), Some("10/Oct/2000:13:25:15 -0700"));
    assert_eq!(m.field("$7"), Some("1534"));
    assert!(
        parse("{ $.a = 1 }")
            .matches(r#"{"a":1}"#)
            .unwrap()
            .extracted_values()
            .is_empty()
    );
}

#[test]
fn dimensions() {
    let p = parse("{ $.eventName = * }");
    let m = p.matches(r#"{"eventName":"ConsoleLogin","n":3}"#).unwrap();
    assert_eq!(
        Dimension::parse("$.eventName")
            .unwrap()
            .extract(&m)
            .as_deref(),
        Some("ConsoleLogin")
    );
    assert_eq!(
        Dimension::parse("$.n").unwrap().extract(&m).as_deref(),
        Some("3")
    );
    assert!(Dimension::parse("1").is_err());
    let d = parse("[ip, user, ...]");
    assert_eq!(
        Dimension::parse("$user")
            .unwrap()
            .extract(&d.matches(APACHE).unwrap())
            .as_deref(),
        Some("Prod")
    );
    assert!(validate_dimensions(&p, 1).is_ok());
    assert!(validate_dimensions(&d, 3).is_ok());
    let terms = parse("?ERROR ?WARN");
    assert!(validate_dimensions(&terms, 0).is_ok());
    assert_eq!(
        validate_dimensions(&terms, 1).unwrap_err().to_string(),
        "The specified filter pattern does not support dimensions"
    );
}

#[test]
fn set_agrees_with_single_patterns() {
    let pats: Vec<&str> = CASES.iter().map(|c| c.0).collect();
    let set = FilterSet::new(pats.iter().map(|p| parse(p)).collect());
    let mut out = Vec::new();
    for &(_, msg, _) in CASES {
        set.matches_into(msg, &mut out);
        for (i, p) in pats.iter().enumerate() {
            assert_eq!(out[i], parse(p).is_match(msg), "{p} on {msg}");
        }
    }
}
