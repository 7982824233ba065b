//! The layout keeps services apart: no service module imports another (`use crate::kms` in
//! `s3/`, …), and the house (`cairn-edge`) names none. Services reach each other through the
//! registry and the pipeline only.
//!
//! A few calls still cross directly; they are listed below with what replaces them, and the test
//! fails when one disappears (so the list only shrinks) or a new one appears.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// The service modules: each a folder under `src/`.
const SERVICES: [&str; 14] = [
    "cloudtrail",
    "cloudtrail_data",
    "s3",
    "kms",
    "logs",
    "cloudwatch",
    "iam",
    "sts",
    "sqs",
    "sns",
    "lambda",
    "events",
    "gateway",
    "organizations",
];

/// The rooms every service has (`docs/adding-a-service.md`, "The rooms of a service"), as
/// (room, what it holds). A room is a file `<room>.rs` or a folder `<room>/` with a `mod.rs`;
/// `mod.rs` is the service's own.
const ROOMS: [(&str, &str); 6] = [
    (
        "mod",
        "the Service impl: signing name, event source, codec, wiring",
    ),
    ("operations", "the operation table"),
    ("resolve", "what a call acts on and the checks it needs"),
    ("handlers", "running each operation"),
    ("record", "how calls are recorded"),
    (
        "wire",
        "wire shapes: the codec, request and response documents",
    ),
];

/// Crossings not yet replaced by internal calls through the pipeline, as
/// (file, service it reaches into). None are left: CloudTrail checks a trail's bucket and key
/// and writes its log files through S3's and KMS's APIs (`cloudtrail/destination.rs`,
/// `cloudtrail/delivery.rs`), and S3 makes the data keys of SSE-KMS log files through KMS's.
const NOT_YET: [(&str, &str); 0] = [];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_service_has_the_common_rooms() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut missing = Vec::new();
    for service in SERVICES {
        let dir = src.join(service);
        for (room, holds) in ROOMS {
            let file = dir.join(format!("{room}.rs"));
            let folder = dir.join(room).join("mod.rs");
            if !(file.is_file() || (room != "mod" && folder.is_file())) {
                missing.push(format!(
                    "{service}/ has no room `{room}` ({room}.rs or {room}/mod.rs: {holds})"
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "every service has the same rooms (docs/adding-a-service.md, \"The rooms of a \
         service\"):\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn no_service_module_imports_another() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    for service in SERVICES {
        let mut files = Vec::new();
        rust_files(&src.join(service), &mut files);
        assert!(!files.is_empty(), "no module {service}/");
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            let rel = f
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            for other in SERVICES.iter().filter(|o| **o != service) {
                let needle = format!("crate::{other}");
                let crosses = text.match_indices(&needle).any(|(i, _)| {
                    let next = text[i + needle.len()..].chars().next();
                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if crosses {
                    found.push((rel.clone(), (*other).to_owned()));
                }
            }
        }
    }
    found.sort();
    found.dedup();
    let mut allowed: Vec<(String, String)> = NOT_YET
        .iter()
        .map(|(f, s)| ((*f).to_owned(), (*s).to_owned()))
        .collect();
    allowed.sort();
    let new: Vec<_> = found.iter().filter(|x| !allowed.contains(x)).collect();
    assert!(
        new.is_empty(),
        "service modules import other services (use the pipeline's internal calls): {new:?}"
    );
    let gone: Vec<_> = allowed.iter().filter(|x| !found.contains(x)).collect();
    assert!(
        gone.is_empty(),
        "these crossings are gone: remove them from NOT_YET: {gone:?}"
    );
}

/// A path that names the service module `service` in `text`: `crate::s3`, `super::kms`,
/// `cairn_services::iam`, or a path that starts with it (`sts::Sts`; not `aws:iam::` in an ARN,
/// nor `s3_address::`).
fn names_service(text: &str, service: &str) -> bool {
    let needle = format!("{service}::");
    text.match_indices(&needle).any(|(i, _)| {
        let before = &text[..i];
        if before.ends_with("crate::")
            || before.ends_with("super::")
            || before.ends_with("cairn_services::")
        {
            return true;
        }
        !before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
    })
}

/// The house (`cairn-edge`: edge, pipeline, application, authorization, recorder) names no
/// service: it finds them through the registry the application is built with.
#[test]
fn the_house_names_no_service() {
    let house = Path::new(env!("CARGO_MANIFEST_DIR")).join("../cairn-edge");
    let manifest = std::fs::read_to_string(house.join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("cairn-services"),
        "cairn-edge must not depend on cairn-services"
    );
    let mut files = Vec::new();
    rust_files(&house.join("src"), &mut files);
    assert!(files.len() > 10, "no house sources in {}", house.display());
    let mut found = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        if text.contains("cairn_services") {
            found.push((f.display().to_string(), "cairn_services"));
        }
        for service in SERVICES {
            if names_service(&text, service) {
                found.push((f.display().to_string(), service));
            }
        }
    }
    assert!(
        found.is_empty(),
        "the house names services (reach them through `app.registry`): {found:?}"
    );
}

#[test]
fn names_service_tells_paths_from_arns() {
    assert!(names_service("use crate::s3::address;", "s3"));
    assert!(names_service("Arc::new(sts::Sts)", "sts"));
    assert!(names_service("use super::kms::Kms;", "kms"));
    assert!(!names_service("\"arn:aws:iam::aws:policy/X\"", "iam"));
    assert!(!names_service(
        "use cairn_wire::s3_address as address;",
        "s3"
    ));
    assert!(!names_service("cairn_policy::x", "iam"));
}
