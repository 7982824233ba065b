//! The data directory: where it is, its layout, and the lock that keeps one writer on it.

use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use cairn_store::identity::{IdentityStore, PgIdentity, SqliteIdentity};
use cairn_store::trails::{PgTrails, SqliteTrails, TrailStore};

use crate::DataDirArg;

pub struct DataDir {
    pub root: PathBuf,
}

impl DataDir {
    pub fn resolve(arg: &DataDirArg) -> anyhow::Result<DataDir> {
        let root = match &arg.data_dir {
            Some(p) => p.clone(),
            None => default_dir()?,
        };
        Ok(DataDir { root })
    }

    /// Creates the directory (mode 0700) if needed.
    pub fn create(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.root)
            .with_context(|| format!("creating data directory {}", self.root.display()))?;
        std::fs::set_permissions(&self.root, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("setting permissions on {}", self.root.display()))?;
        Ok(())
    }

    /// Takes the exclusive lock; held until the returned file is dropped.
    /// The lock if it is free; `None` when another cairn process holds it.
    pub fn try_lock(&self) -> anyhow::Result<Option<File>> {
        let path = self.root.join("LOCK");
        let f = File::create(&path).with_context(|| format!("opening {}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    pub fn lock(&self) -> anyhow::Result<File> {
        let path = self.root.join("LOCK");
        let f = File::create(&path).with_context(|| format!("opening {}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(std::fs::TryLockError::WouldBlock) => bail!(
                "data directory {} is in use by another cairn process (is `cairn serve` running on it?)",
                self.root.display()
            ),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(e).with_context(|| format!("locking {}", path.display()))
            }
        }
    }

    /// Trails, selectors, tags and delivery status.
    pub fn trails_db(&self) -> PathBuf {
        self.root.join("trails.db")
    }
    pub fn identity_db(&self) -> PathBuf {
        self.root.join("identity.db")
    }
    /// The self-signed TLS CA and its key (`--tls-self-signed`).
    pub fn tls_dir(&self) -> PathBuf {
        self.root.join("tls")
    }

    /// Written by `cairn serve`: the endpoint URL and region it serves, for `cairn env`.
    pub fn endpoint_file(&self) -> PathBuf {
        self.root.join("endpoint")
    }

    /// Written by `cairn migrate` once it copied this directory into a cluster: the embedded
    /// stores left here are a snapshot from then, which `cairn serve` will not serve again.
    pub fn migrated_file(&self) -> PathBuf {
        self.root.join("migrated")
    }

    /// Written by `cairn serve` on a node of a cluster (mode 0600): the database URL and the
    /// stores' schema prefix, for the commands that read this instance's accounts.
    pub fn cluster_file(&self) -> PathBuf {
        self.root.join("cluster")
    }

    /// Where a node of a cluster keeps the identity store's master key.
    pub fn identity_key(&self) -> PathBuf {
        self.root.join("identity.key")
    }

    pub fn exists(&self) -> bool {
        self.identity_db().exists() || self.cluster_file().exists()
    }

    /// Records (or, for the embedded mode, forgets) the cluster this directory's node is in.
    pub fn set_cluster(&self, cluster: Option<(&str, &str)>) -> anyhow::Result<()> {
        let path = self.cluster_file();
        let Some((database, prefix)) = cluster else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(e).with_context(|| format!("removing {}", path.display()))
                }
                _ => Ok(()),
            };
        };
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = path.with_extension("tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        writeln!(f, "{database}\n{prefix}")
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))
    }

    /// The cluster this directory's node is in: its database URL and stores' schema prefix;
    /// None in the embedded mode.
    fn cluster(&self) -> anyhow::Result<Option<(String, String)>> {
        match std::fs::read_to_string(self.cluster_file()) {
            Ok(text) => {
                let mut lines = text.lines();
                let (Some(database), Some(prefix)) = (lines.next(), lines.next()) else {
                    bail!("{} is not a cluster file", self.cluster_file().display());
                };
                Ok(Some((database.to_owned(), prefix.to_owned())))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", self.cluster_file().display())),
        }
    }

    /// This instance's accounts and IAM: the data directory's own, or its cluster's.
    pub fn identity(&self) -> anyhow::Result<Box<dyn IdentityStore>> {
        match self.cluster()? {
            Some((database, prefix)) => {
                let schema = format!("{prefix}_identity");
                Ok(Box::new(
                    PgIdentity::open(&database, &schema, &self.identity_key())
                        .with_context(|| format!("opening the cluster's {schema}"))?,
                ))
            }
            None => Ok(Box::new(SqliteIdentity::open(&self.identity_db())?)),
        }
    }

    /// This instance's trails and what it delivered: the data directory's own, or its
    /// cluster's; None when this directory holds neither (another machine's trail).
    pub fn trails(&self) -> anyhow::Result<Option<Box<dyn TrailStore>>> {
        match self.cluster()? {
            Some((database, prefix)) => {
                let schema = format!("{prefix}_trails");
                Ok(Some(Box::new(
                    PgTrails::open(&database, &schema)
                        .with_context(|| format!("opening the cluster's {schema}"))?,
                )))
            }
            None if self.trails_db().exists() => {
                Ok(Some(Box::new(SqliteTrails::open(&self.trails_db())?)))
            }
            None => Ok(None),
        }
    }
}

fn default_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").filter(|x| !x.is_empty()) {
        return Ok(Path::new(&x).join("cairn"));
    }
    match std::env::var_os("HOME").filter(|x| !x.is_empty()) {
        Some(h) => Ok(Path::new(&h).join(".local/share/cairn")),
        None => bail!("cannot pick a default data directory: set --data-dir or HOME"),
    }
}
