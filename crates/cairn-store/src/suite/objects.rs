//! The S3 store's contract: bucket names and ownership, bodies with their ETags and ranges,
//! overwrites, versioning with delete markers, listing in byte order with prefixes,
//! delimiters and pages, multipart uploads, and what survives a restart.

use std::sync::Arc;

use super::{Backend, cases};
use crate::objects::{
    BucketConfig, ListQuery, MIN_PART_SIZE, NewObject, ObjectStore, ObjectVersion, ObjectsError,
    etag_of,
};

cases!(
    buckets,
    objects_round_trip_with_etag_range_and_overwrite,
    versioning_keeps_old_versions_and_delete_markers,
    listing_in_byte_order_with_prefix_delimiter_and_pages,
    multipart_upload,
    objects_survive_a_restart,
);

fn store(b: &dyn Backend) -> Arc<dyn ObjectStore> {
    let s = b.objects();
    s.create_bucket("b", "111122223333", "us-east-1", 1)
        .unwrap();
    s
}

fn put(s: &dyn ObjectStore, key: &str, body: &[u8]) -> ObjectVersion {
    s.put_object("b", key, body, &NewObject::default(), 2)
        .unwrap()
}

pub fn buckets(b: &dyn Backend) {
    let s = store(b);
    assert!(matches!(
        s.create_bucket("b", "111122223333", "us-east-1", 1),
        Err(ObjectsError::BucketAlreadyOwnedByYou)
    ));
    assert!(matches!(
        s.create_bucket("b", "999999999999", "us-east-1", 1),
        Err(ObjectsError::BucketAlreadyExists)
    ));
    assert_eq!(s.list_buckets("111122223333").unwrap().len(), 1);
    put(&*s, "k", b"x");
    assert!(matches!(
        s.delete_bucket("b"),
        Err(ObjectsError::BucketNotEmpty)
    ));
    s.delete_object("b", "k", 3).unwrap();
    s.delete_bucket("b").unwrap();
    assert!(matches!(
        s.delete_bucket("b"),
        Err(ObjectsError::NoSuchBucket)
    ));
}

pub fn objects_round_trip_with_etag_range_and_overwrite(b: &dyn Backend) {
    let s = store(b);
    let v = put(&*s, "dir/a.txt", b"hello world");
    assert_eq!(v.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    let h = s.head_object("b", "dir/a.txt", None).unwrap();
    assert_eq!(s.read_body(&h, None).unwrap(), b"hello world");
    assert_eq!(s.read_body(&h, Some((0, 4))).unwrap(), b"hello");
    put(&*s, "dir/a.txt", b"second");
    let h = s.head_object("b", "dir/a.txt", None).unwrap();
    assert_eq!(s.read_body(&h, None).unwrap(), b"second");
    s.delete_object("b", "dir/a.txt", 3).unwrap();
    assert!(matches!(
        s.head_object("b", "dir/a.txt", None),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(matches!(
        s.head_object("nope", "x", None),
        Err(ObjectsError::NoSuchBucket)
    ));
}

pub fn versioning_keeps_old_versions_and_delete_markers(b: &dyn Backend) {
    let s = store(b);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let v1 = put(&*s, "k", b"one");
    let v2 = put(&*s, "k", b"two");
    assert_ne!(v1.version_id, v2.version_id);
    let old = s.head_object("b", "k", Some(&v1.version_id)).unwrap();
    assert_eq!(s.read_body(&old, None).unwrap(), b"one");
    let marker = s.delete_object("b", "k", 4).unwrap().unwrap();
    assert!(marker.delete_marker);
    assert!(matches!(
        s.head_object("b", "k", None),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(
        s.list(&ListQuery {
            bucket: "b".into(),
            max_keys: 10,
            ..Default::default()
        })
        .unwrap()
        .contents
        .is_empty()
    );
}

pub fn listing_in_byte_order_with_prefix_delimiter_and_pages(b: &dyn Backend) {
    let s = store(b);
    for k in ["a/1", "a/2", "a/b/3", "b", "c/x", "é", "Z"] {
        put(&*s, k, b".");
    }
    let all = s
        .list(&ListQuery {
            bucket: "b".into(),
            max_keys: 1000,
            ..Default::default()
        })
        .unwrap();
    let keys: Vec<&str> = all.contents.iter().map(|v| v.key.as_str()).collect();
    assert_eq!(keys, vec!["Z", "a/1", "a/2", "a/b/3", "b", "c/x", "é"]);
    let q = ListQuery {
        bucket: "b".into(),
        delimiter: Some("/".into()),
        max_keys: 1000,
        ..Default::default()
    };
    let p = s.list(&q).unwrap();
    assert_eq!(p.common_prefixes, vec!["a/", "c/"]);
    assert_eq!(
        p.contents
            .iter()
            .map(|v| v.key.as_str())
            .collect::<Vec<_>>(),
        vec!["Z", "b", "é"]
    );
    let q = ListQuery {
        bucket: "b".into(),
        prefix: "a/".into(),
        delimiter: Some("/".into()),
        max_keys: 1000,
        ..Default::default()
    };
    let p = s.list(&q).unwrap();
    assert_eq!(p.common_prefixes, vec!["a/b/"]);
    assert_eq!(p.contents.len(), 2);
    // Pages of two, following next_after, cover everything once.
    let mut q = ListQuery {
        bucket: "b".into(),
        delimiter: Some("/".into()),
        max_keys: 2,
        ..Default::default()
    };
    let mut seen = Vec::new();
    loop {
        let p = s.list(&q).unwrap();
        seen.extend(p.contents.iter().map(|v| v.key.clone()));
        seen.extend(p.common_prefixes.iter().cloned());
        if !p.truncated {
            break;
        }
        q.after = p.next_after;
    }
    seen.sort();
    assert_eq!(seen, vec!["Z", "a/", "b", "c/", "é"]);
}

pub fn multipart_upload(b: &dyn Backend) {
    let s = store(b);
    let id = s
        .create_upload("b", "big", &NewObject::default(), 1)
        .unwrap();
    let p1 = vec![b'a'; MIN_PART_SIZE as usize];
    let e1 = s.put_part("b", "big", &id, 1, &p1, 2).unwrap();
    let e2 = s.put_part("b", "big", &id, 2, b"tail", 2).unwrap();
    assert_eq!(s.list_parts("b", "big", &id).unwrap().len(), 2);
    assert!(matches!(
        s.complete_upload("b", "big", &id, &[(2, e2.clone()), (1, e1.clone())], 3),
        Err(ObjectsError::InvalidPartOrder)
    ));
    assert!(matches!(
        s.complete_upload(
            "b",
            "big",
            &id,
            &[(1, e1.clone()), (2, "\"nope\"".into())],
            3
        ),
        Err(ObjectsError::InvalidPart)
    ));
    let v = s
        .complete_upload("b", "big", &id, &[(1, e1), (2, e2)], 3)
        .unwrap();
    assert!(v.etag.ends_with("-2\""));
    assert_eq!(v.size, MIN_PART_SIZE + 4);
    let body = s
        .read_body(&v, Some((MIN_PART_SIZE - 1, MIN_PART_SIZE + 3)))
        .unwrap();
    assert_eq!(body, b"atail");
    assert!(matches!(
        s.list_parts("b", "big", &id),
        Err(ObjectsError::NoSuchUpload)
    ));
    let id = s
        .create_upload("b", "small", &NewObject::default(), 1)
        .unwrap();
    let e1 = s.put_part("b", "small", &id, 1, b"x", 2).unwrap();
    let e2 = s.put_part("b", "small", &id, 2, b"y", 2).unwrap();
    assert!(matches!(
        s.complete_upload("b", "small", &id, &[(1, e1), (2, e2)], 3),
        Err(ObjectsError::EntityTooSmall)
    ));
    s.abort_upload("b", "small", &id).unwrap();
    assert!(matches!(
        s.abort_upload("b", "small", &id),
        Err(ObjectsError::NoSuchUpload)
    ));
}

pub fn objects_survive_a_restart(b: &dyn Backend) {
    let s = store(b);
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    put(&*s, "small", b"hello");
    put(&*s, "large", &big);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    drop(s);
    b.restart();
    let s = b.objects();
    let v = s.head_object("b", "small", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), b"hello");
    assert_eq!(v.etag, etag_of(b"hello"));
    let v = s.head_object("b", "large", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), big);
    assert_eq!(
        s.bucket("b").unwrap().unwrap().versioning.as_deref(),
        Some("Enabled")
    );
}
