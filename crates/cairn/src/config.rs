//! The configuration file. Settings come from, in order of precedence: command-line flags,
//! `CAIRN_*` environment variables, the TOML file, built-in defaults.
//!
//! The file is `--config FILE` (or `CAIRN_CONFIG`), else `$XDG_CONFIG_HOME/cairn/cairn.toml`
//! (or `~/.config/cairn/cairn.toml`) when it exists.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::duration::FileDuration;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub region: Option<String>,
    pub history_retention_days: Option<u32>,
    pub delivery_interval: Option<FileDuration>,
    pub digest_interval: Option<FileDuration>,
    pub signing_key_validity: Option<FileDuration>,
    /// Buckets on other S3-compatible endpoints that trails may deliver to.
    #[serde(default)]
    pub external_bucket: Vec<ExternalBucketConfig>,
    /// `[lambda]`: how functions run.
    pub lambda: Option<LambdaConfig>,
    /// `[lake]`: where event data stores keep their files.
    pub lake: Option<LakeConfig>,
}

/// `[lake]`: event data stores' Parquet files in a bucket instead of the data directory.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// The `name` of one of the `[[external_bucket]]` tables: its endpoint and credentials.
    pub bucket: String,
    /// Key prefix for the stores' folders (`<prefix>/<store id>/eventdate=…/`).
    #[serde(default)]
    pub prefix: String,
}

impl FileConfig {
    /// The bucket `[lake]` names, resolved against `[[external_bucket]]`.
    pub fn lake_bucket(&self) -> anyhow::Result<Option<cairn_lake::BucketConfig>> {
        let Some(lake) = &self.lake else {
            return Ok(None);
        };
        let Some(b) = self.external_bucket.iter().find(|b| b.name == lake.bucket) else {
            anyhow::bail!(
                "[lake] bucket = {:?} names no [[external_bucket]] table (give its endpoint and credentials there)",
                lake.bucket
            );
        };
        let ca_pem = match &b.ca_file {
            Some(f) => Some(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?),
            None => None,
        };
        Ok(Some(cairn_lake::BucketConfig {
            endpoint: b.endpoint.clone(),
            bucket: b.name.clone(),
            prefix: lake.prefix.clone(),
            region: b.region.clone(),
            access_key_id: b.access_key_id.clone(),
            secret_access_key: b.secret_access_key.clone(),
            ca_pem,
        }))
    }
}

/// `[lambda]`: how Lambda functions run.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaConfig {
    /// The interpreter `python3.x` functions run with.
    pub python: Option<PathBuf>,
    /// Directories after a Python function's code on `PYTHONPATH` (the runtime's packages).
    pub python_path: Option<Vec<PathBuf>>,
}

/// `[[external_bucket]]`: a bucket on another S3-compatible endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalBucketConfig {
    pub name: String,
    /// `http://host:port` or `https://host[:port]`
    pub endpoint: String,
    /// For `https://` endpoints with a private CA: a PEM file of the certificates to trust
    /// besides the public roots.
    pub ca_file: Option<PathBuf>,
    #[serde(default = "default_region")]
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

impl ExternalBucketConfig {
    pub fn resolve(&self) -> anyhow::Result<cairn_trail::sink::ExternalBucket> {
        let (endpoint, tls) =
            cairn_trail::sink::ExternalBucket::endpoint_of(&self.endpoint, self.ca_file.as_deref())
                .map_err(anyhow::Error::msg)?;
        Ok(cairn_trail::sink::ExternalBucket {
            name: self.name.clone(),
            endpoint,
            tls,
            region: self.region.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
        })
    }
}

fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".config")))?;
    let p = base.join("cairn").join("cairn.toml");
    p.exists().then_some(p)
}

/// Reads the configuration file named by `explicit`, or the default one if it exists.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) => p,
            None => return Ok(FileConfig::default()),
        },
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("in configuration file {}", path.display()))
}

/// Whether an argument was left at its built-in default (neither a flag nor a variable set it).
pub fn is_default(matches: &clap::ArgMatches, id: &str) -> bool {
    matches!(
        matches.value_source(id),
        None | Some(ValueSource::DefaultValue)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_rejects_unknown_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:5000\"\nhistory_retention_days = 7\n",
        )
        .unwrap();
        let c = load(Some(&p)).unwrap();
        assert_eq!(c.listen.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(c.history_retention_days, Some(7));
        std::fs::write(&p, "lisen = 1\n").unwrap();
        assert!(load(Some(&p)).is_err());
    }

    #[test]
    fn the_lake_bucket_is_one_of_the_external_buckets() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.toml");
        let bucket = "[[external_bucket]]\nname = \"audit\"\nendpoint = \"http://127.0.0.1:9000\"\naccess_key_id = \"AK\"\nsecret_access_key = \"SK\"\n";
        std::fs::write(
            &p,
            format!("{bucket}[lake]\nbucket = \"audit\"\nprefix = \"l\"\n"),
        )
        .unwrap();
        let got = load(Some(&p)).unwrap().lake_bucket().unwrap().unwrap();
        assert_eq!(
            (
                got.endpoint.as_str(),
                got.bucket.as_str(),
                got.prefix.as_str()
            ),
            ("http://127.0.0.1:9000", "audit", "l")
        );
        assert_eq!(got.region, "us-east-1");
        std::fs::write(&p, format!("{bucket}[lake]\nbucket = \"other\"\n")).unwrap();
        let err = load(Some(&p)).unwrap().lake_bucket().unwrap_err();
        assert!(
            err.to_string().contains("names no [[external_bucket]]"),
            "{err}"
        );
        std::fs::write(&p, bucket).unwrap();
        assert!(load(Some(&p)).unwrap().lake_bucket().unwrap().is_none());
    }
}
