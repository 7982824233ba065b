use super::*;

fn store() -> (tempfile::TempDir, ObjectStore) {
    let d = tempfile::tempdir().unwrap();
    let s = ObjectStore::open(&d.path().join("s3")).unwrap();
    s.create_bucket("b", "111122223333", "us-east-1", 1)
        .unwrap();
    (d, s)
}

fn put(s: &ObjectStore, key: &str, body: &[u8]) -> ObjectVersion {
    s.put_object("b", key, body, &NewObject::default(), 2)
        .unwrap()
}

#[test]
fn buckets() {
    let (_d, s) = store();
    assert!(matches!(
        s.create_bucket("b", "111122223333", "us-east-1", 1),
        Err(ObjectsError::BucketAlreadyOwnedByYou)
    ));
    assert!(matches!(
        s.create_bucket("b", "999999999999", "us-east-1", 1),
        Err(ObjectsError::BucketAlreadyExists)
    ));
    assert_eq!(s.list_buckets("111122223333").unwrap().len(), 1);
    put(&s, "k", b"x");
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

#[test]
fn objects_round_trip_with_etag_range_and_overwrite() {
    let (_d, s) = store();
    let v = put(&s, "dir/a.txt", b"hello world");
    assert_eq!(v.etag, "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
    let h = s.head_object("b", "dir/a.txt", None).unwrap();
    assert_eq!(s.read_body(&h, None).unwrap(), b"hello world");
    assert_eq!(s.read_body(&h, Some((0, 4))).unwrap(), b"hello");
    put(&s, "dir/a.txt", b"second");
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

#[test]
fn versioning_keeps_old_versions_and_delete_markers() {
    let (_d, s) = store();
    s.set_bucket_config("b", BucketConfig::Versioning, Some("Enabled"))
        .unwrap();
    let v1 = put(&s, "k", b"one");
    let v2 = put(&s, "k", b"two");
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

#[test]
fn listing_in_byte_order_with_prefix_delimiter_and_pages() {
    let (_d, s) = store();
    for k in ["a/1", "a/2", "a/b/3", "b", "c/x", "é", "Z"] {
        put(&s, k, b".");
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

#[test]
fn multipart_upload() {
    let (_d, s) = store();
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

#[test]
fn small_and_large_bodies_round_trip_and_are_removed_when_replaced() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("s3");
    let big: Vec<u8> = (0..(blobs::SMALL_MAX + 10))
        .map(|i| (i % 251) as u8)
        .collect();
    {
        let s = ObjectStore::open(&dir).unwrap();
        s.create_bucket("b", "111122223333", "us-east-1", 1)
            .unwrap();
        let small = s
            .put_object("b", "small", b"hello world", &NewObject::default(), 2)
            .unwrap();
        assert!(small.blob.as_deref().unwrap().starts_with("s:"));
        assert_eq!(s.read_body(&small, Some((6, 10))).unwrap(), b"world");
        let large = s
            .put_object("b", "large", &big, &NewObject::default(), 2)
            .unwrap();
        assert!(!large.blob.as_deref().unwrap().starts_with("s:"));
        // Durable writes (trail delivery) always go to fsynced files.
        let durable = NewObject {
            durable: true,
            ..NewObject::default()
        };
        let d1 = s.put_object("b", "delivered", b"log", &durable, 2).unwrap();
        assert!(!d1.blob.as_deref().unwrap().starts_with("s:"));
        // Replacing a small body removes the old one.
        let again = s
            .put_object("b", "small", b"second", &NewObject::default(), 3)
            .unwrap();
        assert!(matches!(
            s.read_body(&small, None),
            Err(ObjectsError::Io { .. })
        ));
        assert_eq!(s.read_body(&again, None).unwrap(), b"second");
    }
    // Everything is there after reopening.
    let s = ObjectStore::open(&dir).unwrap();
    let v = s.head_object("b", "small", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), b"second");
    let v = s.head_object("b", "large", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), big);
}
