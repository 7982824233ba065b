//! The S3 store's contract: bucket names and ownership, bodies with their ETags and ranges,
//! overwrites, versioning with delete markers, listing in byte order with prefixes,
//! delimiters and pages, multipart uploads, and what survives a restart.

use std::sync::Arc;

use super::{Backend, cases};
use crate::objects::{
    AccountConfig, BucketConfig, ListQuery, MIN_PART_SIZE, NewObject, ObjectStore, ObjectVersion,
    ObjectsError, UploadsQuery, VersionsQuery, WriteCondition, etag_of,
};

cases!(
    buckets,
    objects_round_trip_with_etag_range_and_overwrite,
    versioning_keeps_old_versions_and_delete_markers,
    versions_list_newest_first_in_key_order_with_markers_and_prefixes,
    deleting_versions_empties_a_versioned_bucket,
    a_bucket_goes_with_its_uploads_in_progress,
    listing_in_byte_order_with_prefix_delimiter_and_pages,
    multipart_upload,
    an_upload_keeps_what_it_will_write,
    conditional_writes_hold_inside_the_write,
    uploads_in_progress_list_by_key_with_markers_and_prefixes,
    objects_survive_a_restart,
    bucket_and_account_configurations,
    version_metadata_changes_are_decided_on_the_stored_version,
    a_guarded_version_is_removed_only_when_its_guard_allows,
    suspended_versioning_deletes_with_a_null_delete_marker,
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

/// A page as (key, version id, latest, delete marker) rows, its common prefixes, and where the
/// next page starts when it is truncated.
type Listed = (
    Vec<(String, String, bool, bool)>,
    Vec<String>,
    Option<(String, Option<String>)>,
);

fn versions(s: &dyn ObjectStore, q: VersionsQuery) -> Listed {
    let page = s
        .list_versions(&VersionsQuery {
            bucket: "b".into(),
            ..q
        })
        .unwrap();
    (
        page.versions
            .iter()
            .map(|v| {
                (
                    v.key.clone(),
                    v.version_id.clone(),
                    v.is_latest,
                    v.delete_marker,
                )
            })
            .collect(),
        page.common_prefixes,
        page.truncated.then(|| {
            (
                page.next_key_marker.unwrap_or_default(),
                page.next_version_marker,
            )
        }),
    )
}

pub fn versions_list_newest_first_in_key_order_with_markers_and_prefixes(b: &dyn Backend) {
    let s = store(b);
    // A null version from before versioning, then versions and a delete marker.
    let a0 = put(&*s, "a", b"0");
    assert_eq!(a0.version_id, "null");
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let a1 = put(&*s, "a", b"1");
    let a2 = s.delete_object("b", "a", 3).unwrap().unwrap();
    let b1 = put(&*s, "b", b"1");
    let d1 = put(&*s, "dir/x", b"1");
    let d2 = put(&*s, "dir/y", b"1");
    let all = |max_keys| VersionsQuery {
        max_keys,
        ..Default::default()
    };
    let (got, prefixes, more) = versions(&*s, all(100));
    let id = |v: &ObjectVersion| v.version_id.clone();
    assert_eq!(
        got,
        vec![
            ("a".into(), id(&a2), true, true),
            ("a".into(), id(&a1), false, false),
            ("a".into(), "null".into(), false, false),
            ("b".into(), id(&b1), true, false),
            ("dir/x".into(), id(&d1), true, false),
            ("dir/y".into(), id(&d2), true, false),
        ]
    );
    assert!(prefixes.is_empty() && more.is_none());
    // Pages: two at a time, each starting where the last said.
    let (first, _, more) = versions(&*s, all(2));
    assert_eq!(first.len(), 2);
    let (key, version) = more.unwrap();
    assert_eq!((key.as_str(), version.clone()), ("a", Some(id(&a1))));
    let (second, _, _) = versions(
        &*s,
        VersionsQuery {
            key_marker: Some(key),
            version_marker: version,
            max_keys: 2,
            ..Default::default()
        },
    );
    assert_eq!(
        second.iter().map(|v| v.1.clone()).collect::<Vec<_>>(),
        ["null".to_owned(), id(&b1)]
    );
    // A key marker alone skips every version of that key.
    let (after_a, _, _) = versions(
        &*s,
        VersionsQuery {
            key_marker: Some("a".into()),
            max_keys: 100,
            ..Default::default()
        },
    );
    assert_eq!(after_a.first().map(|v| v.0.as_str()), Some("b"));
    // A delimiter groups keys into common prefixes, returned once.
    let (top, prefixes, _) = versions(
        &*s,
        VersionsQuery {
            delimiter: Some("/".into()),
            max_keys: 100,
            ..Default::default()
        },
    );
    assert_eq!(top.len(), 4);
    assert_eq!(prefixes, ["dir/"]);
    let (inside, _, _) = versions(
        &*s,
        VersionsQuery {
            prefix: "dir/".into(),
            max_keys: 100,
            ..Default::default()
        },
    );
    assert_eq!(inside.len(), 2);
    // A marker version removed since (a clean-up deleting page by page): the key's remaining
    // versions come next.
    s.delete_version("b", "a", &a2.version_id).unwrap();
    s.delete_version("b", "a", &a1.version_id).unwrap();
    let (rest, _, _) = versions(
        &*s,
        VersionsQuery {
            key_marker: Some("a".into()),
            version_marker: Some(id(&a1)),
            max_keys: 2,
            ..Default::default()
        },
    );
    assert_eq!(
        rest.iter().map(|v| v.1.clone()).collect::<Vec<_>>(),
        ["null".to_owned(), id(&b1)]
    );
}

pub fn deleting_versions_empties_a_versioned_bucket(b: &dyn Backend) {
    let s = store(b);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let v1 = put(&*s, "k", b"one");
    let v2 = put(&*s, "k", b"two");
    let marker = s.delete_object("b", "k", 4).unwrap().unwrap();
    // Removing the delete marker brings the newest version back.
    let gone = s
        .delete_version("b", "k", &marker.version_id)
        .unwrap()
        .unwrap();
    assert!(gone.delete_marker);
    let back = s.head_object("b", "k", None).unwrap();
    assert_eq!(back.version_id, v2.version_id);
    assert!(back.is_latest);
    // Removing the latest version makes the one before it latest.
    s.delete_version("b", "k", &v2.version_id).unwrap().unwrap();
    let now = s.head_object("b", "k", None).unwrap();
    assert_eq!(s.read_body(&now, None).unwrap(), b"one");
    // A version that is not there: nothing to remove, no error.
    assert_eq!(s.delete_version("b", "k", "no-such-version").unwrap(), None);
    s.delete_version("b", "k", &v1.version_id).unwrap().unwrap();
    assert!(
        s.list_versions(&VersionsQuery {
            bucket: "b".into(),
            max_keys: 10,
            ..Default::default()
        })
        .unwrap()
        .versions
        .is_empty()
    );
    s.delete_bucket("b").unwrap();
}

/// What an upload will write is read back as it was started (an Object Lock in its metadata
/// included), and only under its own bucket and key.
pub fn an_upload_keeps_what_it_will_write(b: &dyn Backend) {
    let s = store(b);
    let mut new = NewObject {
        content_type: Some("text/plain".into()),
        sse: Some("AES256".into()),
        ..NewObject::default()
    };
    new.metadata
        .insert(":x-amz-object-lock-mode".into(), "GOVERNANCE".into());
    new.metadata.insert("color".into(), "blue".into());
    let id = s.create_upload("b", "locked", &new, 1).unwrap();
    let got = s.upload_object("b", "locked", &id).unwrap();
    assert_eq!(got.content_type.as_deref(), Some("text/plain"));
    assert_eq!(got.sse.as_deref(), Some("AES256"));
    assert_eq!(got.metadata, new.metadata);
    assert!(matches!(
        s.upload_object("b", "other", &id),
        Err(ObjectsError::NoSuchUpload)
    ));
    s.abort_upload("b", "locked", &id).unwrap();
    assert!(matches!(
        s.upload_object("b", "locked", &id),
        Err(ObjectsError::NoSuchUpload)
    ));
}

pub fn a_bucket_goes_with_its_uploads_in_progress(b: &dyn Backend) {
    let s = store(b);
    let id = s
        .create_upload("b", "big", &NewObject::default(), 2)
        .unwrap();
    s.put_part("b", "big", &id, 1, &vec![7u8; MIN_PART_SIZE as usize], 3)
        .unwrap();
    s.delete_bucket("b").unwrap();
    assert!(s.bucket("b").unwrap().is_none());
    // A bucket of the same name starts with no upload.
    s.create_bucket("b", "111122223333", "us-east-1", 4)
        .unwrap();
    assert!(matches!(
        s.list_parts("b", "big", &id),
        Err(ObjectsError::NoSuchUpload)
    ));
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
    assert!(matches!(
        s.upload_object("b", "big", "no-such-upload"),
        Err(ObjectsError::NoSuchUpload)
    ));
    let p1 = vec![b'a'; MIN_PART_SIZE as usize];
    let e1 = s.put_part("b", "big", &id, 1, &p1, 2).unwrap();
    let e2 = s.put_part("b", "big", &id, 2, b"tail", 2).unwrap();
    assert_eq!(s.list_parts("b", "big", &id).unwrap().len(), 2);
    assert!(matches!(
        s.complete_upload(
            "b",
            "big",
            &id,
            &[(2, e2.clone()), (1, e1.clone())],
            None,
            3
        ),
        Err(ObjectsError::InvalidPartOrder)
    ));
    assert!(matches!(
        s.complete_upload(
            "b",
            "big",
            &id,
            &[(1, e1.clone()), (2, "\"nope\"".into())],
            None,
            3
        ),
        Err(ObjectsError::InvalidPart)
    ));
    let v = s
        .complete_upload("b", "big", &id, &[(1, e1), (2, e2)], None, 3)
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
        s.complete_upload("b", "small", &id, &[(1, e1), (2, e2)], None, 3),
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

pub fn bucket_and_account_configurations(b: &dyn Backend) {
    let s = store(b);
    s.create_bucket("other", "111122223333", "us-east-1", 1)
        .unwrap();
    s.set_bucket_config("b", BucketConfig::Cors, Some("<CORSConfiguration/>"))
        .unwrap();
    s.set_bucket_config("b", BucketConfig::Tagging, Some("{}"))
        .unwrap();
    s.set_bucket_config("b", BucketConfig::Tagging, Some("{\"a\":\"1\"}"))
        .unwrap();
    s.set_bucket_config("other", BucketConfig::Lifecycle, Some("<L/>"))
        .unwrap();
    let bucket = s.bucket("b").unwrap().unwrap();
    assert_eq!(
        bucket.config(BucketConfig::Cors),
        Some("<CORSConfiguration/>")
    );
    assert_eq!(bucket.config(BucketConfig::Tagging), Some("{\"a\":\"1\"}"));
    assert_eq!(bucket.config(BucketConfig::Lifecycle), None);
    let listed = s.list_buckets("111122223333").unwrap();
    assert_eq!(
        listed[0].config(BucketConfig::Cors),
        Some("<CORSConfiguration/>")
    );
    let with: Vec<String> = s
        .buckets_with(BucketConfig::Lifecycle)
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(with, ["other"]);
    s.set_bucket_config("b", BucketConfig::Cors, None).unwrap();
    assert_eq!(
        s.bucket("b").unwrap().unwrap().config(BucketConfig::Cors),
        None
    );
    assert!(matches!(
        s.set_bucket_config("nope", BucketConfig::Cors, Some("x")),
        Err(ObjectsError::NoSuchBucket)
    ));
    // A bucket's configurations go with it: a new bucket of that name starts bare.
    s.delete_bucket("b").unwrap();
    s.create_bucket("b", "111122223333", "us-east-1", 1)
        .unwrap();
    assert_eq!(
        s.bucket("b")
            .unwrap()
            .unwrap()
            .config(BucketConfig::Tagging),
        None
    );

    let pab = AccountConfig::PublicAccessBlock;
    assert_eq!(s.account_config("111122223333", pab).unwrap(), None);
    s.set_account_config("111122223333", pab, Some("<P/>"))
        .unwrap();
    assert_eq!(
        s.account_config("111122223333", pab).unwrap().as_deref(),
        Some("<P/>")
    );
    assert_eq!(s.account_config("999999999999", pab).unwrap(), None);
    s.set_account_config("111122223333", pab, None).unwrap();
    assert_eq!(s.account_config("111122223333", pab).unwrap(), None);
}

pub fn version_metadata_changes_are_decided_on_the_stored_version(b: &dyn Backend) {
    let s = store(b);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let first = put(&*s, "k", b"one");
    let second = put(&*s, "k", b"two");
    let changed = s
        .update_version("b", "k", Some(&first.version_id), &mut |v| {
            v.metadata.insert(":tagging".into(), "a=1".into());
            Ok(())
        })
        .unwrap();
    assert_eq!(changed.version_id, first.version_id);
    let stored = s.head_object("b", "k", Some(&first.version_id)).unwrap();
    assert_eq!(
        stored.metadata.get(":tagging").map(String::as_str),
        Some("a=1")
    );
    assert!(s.head_object("b", "k", None).unwrap().metadata.is_empty());
    // The latest, when no version is named; a refusal changes nothing.
    let refused = s.update_version("b", "k", None, &mut |v| {
        assert_eq!(v.version_id, second.version_id);
        v.metadata.insert(":legal-hold".into(), "ON".into());
        Err(ObjectsError::NoSuchKey)
    });
    assert!(matches!(refused, Err(ObjectsError::NoSuchKey)));
    assert!(s.head_object("b", "k", None).unwrap().metadata.is_empty());
    // Delete markers and missing versions are absent.
    s.delete_object("b", "k", 3).unwrap();
    assert!(matches!(
        s.update_version("b", "k", None, &mut |_| Ok(())),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(matches!(
        s.update_version("b", "k", Some("nope"), &mut |_| Ok(())),
        Err(ObjectsError::NoSuchVersion)
    ));
    assert!(matches!(
        s.update_version("nope", "k", None, &mut |_| Ok(())),
        Err(ObjectsError::NoSuchBucket)
    ));
}

fn conditional(condition: WriteCondition) -> NewObject {
    NewObject {
        condition: Some(condition),
        ..NewObject::default()
    }
}

pub fn conditional_writes_hold_inside_the_write(b: &dyn Backend) {
    let s = store(b);
    let create = conditional(WriteCondition::IfNoneMatch);
    // If-None-Match: * writes a key that has no object, and only once.
    let first = s.put_object("b", "k", b"one", &create, 2).unwrap();
    assert!(matches!(
        s.put_object("b", "k", b"two", &create, 3),
        Err(ObjectsError::PreconditionFailed)
    ));
    let now = s.head_object("b", "k", None).unwrap();
    assert_eq!(s.read_body(&now, None).unwrap(), b"one");
    // If-Match writes over the ETag it names, and not over another.
    let swap = conditional(WriteCondition::IfMatch(first.etag.clone()));
    let second = s.put_object("b", "k", b"two", &swap, 4).unwrap();
    assert!(matches!(
        s.put_object("b", "k", b"three", &swap, 5),
        Err(ObjectsError::PreconditionFailed)
    ));
    assert_eq!(s.head_object("b", "k", None).unwrap().etag, second.etag);
    // If-Match on a key with no object: NoSuchKey, as S3 answers it.
    let other = conditional(WriteCondition::IfMatch(second.etag.clone()));
    assert!(matches!(
        s.put_object("b", "absent", b"x", &other, 5),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(matches!(
        s.head_object("b", "absent", None),
        Err(ObjectsError::NoSuchKey)
    ));
    // A delete marker is no object: If-None-Match writes over it.
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    s.delete_object("b", "k", 6).unwrap().unwrap();
    s.put_object("b", "k", b"back", &create, 7).unwrap();
    // CompleteMultipartUpload carries the condition to the moment the object goes in.
    let id = s.create_upload("b", "k", &NewObject::default(), 8).unwrap();
    let e1 = s.put_part("b", "k", &id, 1, b"part", 9).unwrap();
    assert!(matches!(
        s.complete_upload(
            "b",
            "k",
            &id,
            &[(1, e1.clone())],
            Some(&WriteCondition::IfNoneMatch),
            10
        ),
        Err(ObjectsError::PreconditionFailed)
    ));
    // A failed condition leaves the upload in progress.
    assert_eq!(s.list_parts("b", "k", &id).unwrap().len(), 1);
    let current = s.head_object("b", "k", None).unwrap().etag;
    let v = s
        .complete_upload(
            "b",
            "k",
            &id,
            &[(1, e1)],
            Some(&WriteCondition::IfMatch(current)),
            11,
        )
        .unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), b"part");
}

pub fn uploads_in_progress_list_by_key_with_markers_and_prefixes(b: &dyn Backend) {
    let s = store(b);
    let start = |key: &str, at: i64| {
        s.create_upload("b", key, &NewObject::default(), at)
            .unwrap()
    };
    let a1 = start("a", 1);
    let a2 = start("a", 2);
    let c = start("c", 1);
    let d1 = start("dir/x", 1);
    start("dir/y", 1);
    let q = |prefix: &str, delimiter: Option<&str>, km: Option<&str>, im: Option<&str>, max| {
        s.list_uploads(&UploadsQuery {
            bucket: "b".into(),
            prefix: prefix.into(),
            delimiter: delimiter.map(str::to_owned),
            key_marker: km.map(str::to_owned),
            upload_id_marker: im.map(str::to_owned),
            max_uploads: max,
        })
        .unwrap()
    };
    let ids = |p: &crate::objects::UploadsPage| {
        p.uploads
            .iter()
            .map(|u| u.upload_id.clone())
            .collect::<Vec<_>>()
    };
    let all = q("", None, None, None, 100);
    assert_eq!(all.uploads.len(), 5);
    assert_eq!(ids(&all)[..3], [a1.clone(), a2.clone(), c.clone()]);
    assert_eq!(all.uploads[0].initiated_ms, 1);
    // Two at a time, each page starting where the last said.
    let first = q("", None, None, None, 2);
    assert!(first.truncated);
    assert_eq!(ids(&first), [a1.clone(), a2.clone()]);
    let second = q(
        "",
        None,
        first.next_key_marker.as_deref(),
        first.next_upload_id_marker.as_deref(),
        2,
    );
    assert_eq!(ids(&second), [c.clone(), d1]);
    // Between a key's uploads.
    assert_eq!(ids(&q("", None, Some("a"), Some(&a1), 1)), [a2]);
    // A delimiter groups keys; a prefix narrows.
    let top = q("", Some("/"), None, None, 100);
    assert_eq!(top.common_prefixes, ["dir/"]);
    assert_eq!(top.uploads.len(), 3);
    assert_eq!(q("dir/", None, None, None, 100).uploads.len(), 2);
    // Completed and aborted uploads are gone from the list.
    s.abort_upload("b", "c", &c).unwrap();
    assert_eq!(q("c", None, None, None, 100).uploads.len(), 0);
    assert!(matches!(
        s.list_uploads(&UploadsQuery {
            bucket: "nope".into(),
            max_uploads: 1,
            ..Default::default()
        }),
        Err(ObjectsError::NoSuchBucket)
    ));
}

/// Why a guard refused, as a service would say it.
#[derive(Debug)]
struct Locked;

impl std::fmt::Display for Locked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("locked")
    }
}

impl std::error::Error for Locked {}

/// A guard as Object Lock uses it: refuses while the stored version has a legal hold.
fn unless_held(v: &ObjectVersion) -> Result<(), ObjectsError> {
    match v.metadata.get(":legal-hold").map(String::as_str) {
        Some("ON") => Err(ObjectsError::Refused(Box::new(Locked))),
        _ => Ok(()),
    }
}

pub fn a_guarded_version_is_removed_only_when_its_guard_allows(b: &dyn Backend) {
    let s = store(b);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let v1 = put(&*s, "k", b"one");
    let v2 = put(&*s, "k", b"two");
    // The hold is put on after the caller last read the version: the guard sees it as stored.
    s.update_version("b", "k", Some(&v1.version_id), &mut |v| {
        v.metadata.insert(":legal-hold".into(), "ON".into());
        Ok(())
    })
    .unwrap();
    let mut seen = Vec::new();
    let refused = s.delete_version_guarded("b", "k", &v1.version_id, &mut |v| {
        seen.push(v.version_id.clone());
        unless_held(v)
    });
    match refused {
        Err(ObjectsError::Refused(why)) => assert!(why.downcast_ref::<Locked>().is_some()),
        other => panic!("a held version was not kept: {other:?}"),
    }
    assert_eq!(seen, std::slice::from_ref(&v1.version_id));
    // Refused: the version and its body are still there, and the latest is unchanged.
    let kept = s.head_object("b", "k", Some(&v1.version_id)).unwrap();
    assert_eq!(s.read_body(&kept, None).unwrap(), b"one");
    assert_eq!(
        s.head_object("b", "k", None).unwrap().version_id,
        v2.version_id
    );
    // A delete marker is not a removal: deleting the key still hides it.
    let marker = s.delete_object("b", "k", 3).unwrap().unwrap();
    assert!(matches!(
        s.head_object("b", "k", None),
        Err(ObjectsError::NoSuchKey)
    ));
    // Versions the guard allows go: the marker, the unheld version.
    s.delete_version_guarded("b", "k", &marker.version_id, &mut unless_held)
        .unwrap()
        .unwrap();
    s.delete_version_guarded("b", "k", &v2.version_id, &mut unless_held)
        .unwrap()
        .unwrap();
    // A version that is not there is never judged.
    let mut judged = false;
    assert_eq!(
        s.delete_version_guarded("b", "k", "no-such-version", &mut |_| {
            judged = true;
            Ok(())
        })
        .unwrap(),
        None
    );
    assert!(!judged);
    // Once the hold is off, the same guard lets it go.
    s.update_version("b", "k", Some(&v1.version_id), &mut |v| {
        v.metadata.insert(":legal-hold".into(), "OFF".into());
        Ok(())
    })
    .unwrap();
    let gone = s
        .delete_version_guarded("b", "k", &v1.version_id, &mut unless_held)
        .unwrap()
        .unwrap();
    assert_eq!(gone.version_id, v1.version_id);
    assert!(matches!(
        s.head_object("b", "k", Some(&v1.version_id)),
        Err(ObjectsError::NoSuchVersion)
    ));
}

pub fn suspended_versioning_deletes_with_a_null_delete_marker(b: &dyn Backend) {
    let s = store(b);
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let kept = put(&*s, "k", b"versioned");
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Suspended"))
        .unwrap();
    let null = put(&*s, "k", b"null version");
    assert_eq!(null.version_id, "null");
    // The delete replaces the null version with a null delete marker; the older version stays,
    // not current.
    let marker = s.delete_object("b", "k", 3).unwrap().unwrap();
    assert!(marker.delete_marker);
    assert_eq!(marker.version_id, "null");
    assert!(matches!(
        s.head_object("b", "k", None),
        Err(ObjectsError::NoSuchKey)
    ));
    let all = versions(
        &*s,
        VersionsQuery {
            bucket: "b".into(),
            max_keys: 100,
            ..Default::default()
        },
    );
    let listed: Vec<(String, bool, bool)> = all
        .0
        .into_iter()
        .map(|(_, id, latest, marker)| (id, latest, marker))
        .collect();
    assert_eq!(
        listed,
        [
            ("null".to_owned(), true, true),
            (kept.version_id.clone(), false, false)
        ]
    );
    // Removing the marker brings the versioned object back.
    s.delete_version("b", "k", "null").unwrap();
    assert_eq!(
        s.head_object("b", "k", None).unwrap().version_id,
        kept.version_id
    );
}
