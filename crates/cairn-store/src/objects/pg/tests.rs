//! The PostgreSQL S3 store's own behaviour beyond the shared suite: a refused call takes the
//! bodies it wrote with it, and nodes writing one key at once leave it one latest version.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use super::PgObjects;
use crate::db::enter;
use crate::objects::{BucketConfig, NewObject};
use crate::suite::pg::TestPostgres;

const ACCT: &str = "111122223333";

#[test]
fn a_refused_call_takes_the_bodies_it_wrote() {
    let server = TestPostgres::start();
    let dir = tempfile::tempdir().unwrap();
    let s = PgObjects::open(&server.url(), "refused_bodies", &dir.path().join("b")).unwrap();
    s.create_bucket("b", ACCT, "us-east-1", 1).unwrap();
    let call = enter();
    let small = s
        .put_object("b", "small", b"refused", &NewObject::default(), 2)
        .unwrap();
    let big = s
        .put_object("b", "big", &vec![7u8; 200_000], &NewObject::default(), 2)
        .unwrap();
    assert_eq!(s.read_body(&small, None).unwrap(), b"refused");
    assert!(call.leave().finish(false).is_err());
    assert!(s.head_object("b", "small", None).is_err());
    assert!(s.read_body(&small, None).is_err(), "the small body is gone");
    assert!(s.read_body(&big, None).is_err(), "the large body is gone");
}

/// (latest versions, versions) of a key, as the table holds them.
fn versions(url: &str, schema: &str, key: &str) -> (i64, i64) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    let r = c
        .query_one(
            &format!("SELECT count(*) FILTER (WHERE is_latest), count(*) FROM {schema}.objects WHERE key = $1"),
            &[&key],
        )
        .unwrap();
    (r.get(0), r.get(1))
}

/// Every node writes the key ten times, each write in a call whose record takes a while.
fn write_from_every_node(nodes: &[Arc<PgObjects>], key: &'static str) {
    let threads: Vec<_> = nodes
        .iter()
        .enumerate()
        .map(|(n, node)| {
            let node = Arc::clone(node);
            std::thread::spawn(move || {
                for i in 0..10 {
                    let call = enter();
                    let body = format!("{n}-{i}");
                    node.put_object("b", key, body.as_bytes(), &NewObject::default(), i)
                        .unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                    call.leave().finish(true).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn nodes_writing_one_key_at_once_leave_one_latest_version() {
    let server = TestPostgres::start();
    let url = server.url();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let nodes: Vec<Arc<PgObjects>> = dirs
        .iter()
        .map(|d| Arc::new(PgObjects::open(&url, "shared_objects", d.path()).unwrap()))
        .collect();
    nodes[0].create_bucket("b", ACCT, "us-east-1", 1).unwrap();
    write_from_every_node(&nodes, "k");
    assert_eq!(
        versions(&url, "shared_objects", "k"),
        (1, 1),
        "one null version"
    );
    nodes[1]
        .set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    write_from_every_node(&nodes, "k");
    assert_eq!(
        versions(&url, "shared_objects", "k"),
        (1, 21),
        "every version kept, one of them the latest"
    );
    let latest = nodes[0].head_object("b", "k", None).unwrap();
    assert_eq!(nodes[1].head_object("b", "k", None).unwrap(), latest);
}
