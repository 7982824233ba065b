//! What the delivery and digest tests share: a journal, trail store and object store in a
//! temporary directory, with a bucket `logs` and one multi-region trail `t` that logs from the
//! start.

use std::sync::Arc;

use cairn_store::journal::{Journal, JournalConfig, NoHook, SegmentJournal};
use cairn_store::objects::{ObjectStore, SqliteObjects};
use cairn_store::organizations::{OrganizationsStore, SqliteOrganizations};
use cairn_store::trails::{SqliteTrails, Trail, TrailStore};

pub const ACCT: &str = "111122223333";
/// 2015-08-01T02:05:00Z
pub const START_MS: i64 = 1_438_394_700_000;

pub struct Stores {
    pub dir: tempfile::TempDir,
    pub journal: Arc<dyn Journal>,
    pub trails: Arc<dyn TrailStore>,
    pub organizations: Arc<dyn OrganizationsStore>,
    pub objects: Arc<dyn ObjectStore>,
    pub arn: String,
}

pub fn stores(log_file_validation: bool) -> Stores {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(
        SegmentJournal::open(
            &dir.path().join("j"),
            JournalConfig::default(),
            Box::new(NoHook),
        )
        .unwrap(),
    );
    let trails = Arc::new(SqliteTrails::open(&dir.path().join("trails.db")).unwrap());
    let organizations =
        Arc::new(SqliteOrganizations::open(&dir.path().join("organizations.db")).unwrap());
    let objects = Arc::new(SqliteObjects::open(&dir.path().join("s3")).unwrap());
    objects.create_bucket("logs", ACCT, "us-east-1", 0).unwrap();
    let arn = format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/t");
    trails
        .put(&Trail {
            arn: arn.clone(),
            account: ACCT.into(),
            home_region: "us-east-1".into(),
            name: "t".into(),
            s3_bucket: "logs".into(),
            s3_key_prefix: Some("pre".into()),
            include_global_events: true,
            multi_region: true,
            log_file_validation,
            logging: true,
            logging_ranges: vec![(0, None)],
            ..Trail::default()
        })
        .unwrap();
    Stores {
        dir,
        journal,
        trails,
        organizations,
        objects,
        arn,
    }
}
