//! The embedded S3 store's own body files: small bodies packed, large and durable ones in
//! files of their own, replaced ones removed. The store's contract is in the shared suite
//! (`crate::suite::objects`).

use super::*;

#[test]
fn small_and_large_bodies_round_trip_and_are_removed_when_replaced() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("s3");
    let big: Vec<u8> = (0..(blobs::SMALL_MAX + 10))
        .map(|i| (i % 251) as u8)
        .collect();
    {
        let s = SqliteObjects::open(&dir).unwrap();
        s.create_bucket("b", "111122223333", "us-east-1", 1)
            .unwrap();
        let small = s
            .put_object("b", "small", b"hello world", &NewObject::default(), 2)
            .unwrap();
        assert!(small.blob.as_deref().unwrap().starts_with("d:"));
        assert_eq!(s.read_body(&small, Some((6, 10))).unwrap(), b"world");
        let large = s
            .put_object("b", "large", &big, &NewObject::default(), 2)
            .unwrap();
        assert!(!blobs::Blobs::is_packed(large.blob.as_deref().unwrap()));
        // Durable writes (trail delivery) always go to fsynced files.
        let durable = NewObject {
            durable: true,
            ..NewObject::default()
        };
        let d1 = s.put_object("b", "delivered", b"log", &durable, 2).unwrap();
        assert!(!blobs::Blobs::is_packed(d1.blob.as_deref().unwrap()));
        // Replacing a small body lets the old one go: the next small write deletes it.
        let again = s
            .put_object("b", "small", b"second", &NewObject::default(), 3)
            .unwrap();
        assert_eq!(s.read_body(&small, None).unwrap(), b"hello world");
        s.put_object("b", "other", b"x", &NewObject::default(), 3)
            .unwrap();
        assert!(matches!(
            s.read_body(&small, None),
            Err(ObjectsError::Io { .. })
        ));
        assert_eq!(s.read_body(&again, None).unwrap(), b"second");
    }
    // Everything is there after reopening.
    let s = SqliteObjects::open(&dir).unwrap();
    let v = s.head_object("b", "small", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), b"second");
    let v = s.head_object("b", "large", None).unwrap();
    assert_eq!(s.read_body(&v, None).unwrap(), big);
}

#[test]
fn bodies_kept_in_small_db_by_earlier_versions_are_still_read() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("s3");
    let name = {
        let old = Blobs::open(&dir.join("blobs")).unwrap();
        old.write(b"from before", false).unwrap()
    };
    assert!(name.starts_with("s:"));
    let s = SqliteObjects::open(&dir).unwrap();
    assert_eq!(s.blobs.read(&name, Some((5, 10))).unwrap(), b"before");
}

#[test]
fn a_packed_body_written_in_a_call_goes_with_its_rolled_back_row() {
    let d = tempfile::tempdir().unwrap();
    let s = SqliteObjects::open(&d.path().join("s3")).unwrap();
    s.create_bucket("b", "111122223333", "us-east-1", 1)
        .unwrap();
    let scope = crate::db::enter();
    let v = s
        .put_object("b", "k", b"lost", &NewObject::default(), 2)
        .unwrap();
    scope.leave().finish(false).unwrap_err();
    let bodies: i64 =
        s.db.read()
            .query_row("SELECT count(*) FROM bodies", [], |r| r.get(0))
            .unwrap();
    assert_eq!(bodies, 0);
    assert!(matches!(
        s.head_object("b", "k", None),
        Err(ObjectsError::NoSuchKey)
    ));
    assert!(v.blob.as_deref().unwrap().starts_with("d:"));
}
