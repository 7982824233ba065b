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
    /// The PostgreSQL database of a cluster (`postgres://user:password@host:port/db`).
    pub database: Option<String>,
    /// `[object_store]`: where a cluster keeps object bodies.
    pub object_store: Option<ObjectStoreConfig>,
    /// `[[upstream]]`: AWS-compatible endpoints that answer the services cairn does not
    /// implement (the recording gateway).
    #[serde(default)]
    pub upstream: Vec<UpstreamConfig>,
    /// `[gateway]`: where the gateway finds models of services cairn carries none of.
    pub gateway: Option<GatewaySection>,
    /// `[detections]`: Sigma rule folders beside cairn's own sets.
    pub detections: Option<DetectionsConfig>,
}

/// `[detections]`: what the detection engine judges calls with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectionsConfig {
    /// Folders of Sigma rules for CloudTrail (`--sigma-rules`).
    pub sigma_rules: Option<Vec<PathBuf>>,
}

/// `[[upstream]]`: an AWS-compatible endpoint (moto_server, LocalStack) answering services
/// cairn forwards and records.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// `http://host:port` or `https://host[:port]`
    pub url: String,
    /// The services it answers, by signing name (`ec2`, `dynamodb`); empty or absent: every
    /// service cairn carries a model of and does not implement.
    #[serde(default)]
    pub services: Vec<String>,
    /// The credentials cairn signs forwarded calls with (default `test` / `test`, what local
    /// emulators accept).
    #[serde(default = "default_upstream_key")]
    pub access_key_id: String,
    #[serde(default = "default_upstream_key")]
    pub secret_access_key: String,
    /// How long the upstream may stall a read or a write before a call fails with
    /// ServiceUnavailable (default 30 s).
    pub timeout: Option<FileDuration>,
    /// For an `https://` upstream with a private CA: a PEM file of its certificates.
    pub ca_file: Option<PathBuf>,
}

/// `[gateway]`
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewaySection {
    /// A botocore `data` directory (`.../site-packages/botocore/data`): models of services
    /// beyond the ones cairn carries, for `[[upstream]] services`.
    pub models: Option<PathBuf>,
}

fn default_upstream_key() -> String {
    "test".to_owned()
}

/// The gateway's configuration: `--upstream [SERVICE=]URL` flags, then `[[upstream]]` tables.
/// A flag's credentials and timeout come from the table of the same URL, if there is one.
pub fn gateway(
    flags: &[String],
    file: &FileConfig,
) -> anyhow::Result<cairn_services::gateway::GatewayConfig> {
    let spec = |url: &str, table: Option<&UpstreamConfig>| -> anyhow::Result<_> {
        let timeout = match table.and_then(|t| t.timeout.as_ref()) {
            Some(d) => d.seconds("timeout", 1)?,
            None => 30,
        };
        Ok(cairn_services::gateway::UpstreamSpec {
            url: url.to_owned(),
            access_key_id: table.map_or_else(default_upstream_key, |t| t.access_key_id.clone()),
            secret_access_key: table
                .map_or_else(default_upstream_key, |t| t.secret_access_key.clone()),
            timeout: std::time::Duration::from_secs(timeout),
            ca_file: table.and_then(|t| t.ca_file.clone()),
        })
    };
    let mut upstreams = Vec::new();
    for flag in flags {
        let (service, url) = match flag.split_once('=') {
            Some((s, u)) if !s.contains("://") => (Some(s.to_owned()), u),
            _ => (None, flag.as_str()),
        };
        let table = file.upstream.iter().find(|t| t.url == url);
        upstreams.push((service.into_iter().collect(), spec(url, table)?));
    }
    for t in &file.upstream {
        upstreams.push((t.services.clone(), spec(&t.url, Some(t))?));
    }
    Ok(cairn_services::gateway::GatewayConfig {
        upstreams,
        models: file.gateway.as_ref().and_then(|g| g.models.clone()),
    })
}

/// `[object_store]`: a cluster's object bodies in a bucket of an S3-compatible endpoint.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// `s3://BUCKET[/PREFIX]`: the bucket's endpoint and credentials come from the
    /// `[[external_bucket]]` table of that name, or else from `AWS_ENDPOINT_URL`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`.
    pub url: String,
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

/// Where a cluster keeps object bodies: `url` (`s3://BUCKET[/PREFIX]`) with its endpoint and
/// credentials from the `[[external_bucket]]` of that name, or else from the AWS variables in
/// `env` (the process's environment).
pub fn object_store_bucket(
    url: &str,
    external: &[ExternalBucketConfig],
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<cairn_store::objects::BodyBucket> {
    let Some(rest) = url.strip_prefix("s3://") else {
        anyhow::bail!("object store {url:?}: expected s3://BUCKET[/PREFIX]");
    };
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        anyhow::bail!("object store {url:?}: no bucket name");
    }
    if let Some(b) = external.iter().find(|b| b.name == bucket) {
        return Ok(cairn_store::objects::BodyBucket {
            endpoint: b.endpoint.clone(),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            region: b.region.clone(),
            access_key_id: b.access_key_id.clone(),
            secret_access_key: b.secret_access_key.clone(),
        });
    }
    let need = |name: &str| {
        env(name).filter(|v| !v.is_empty()).with_context(|| {
            format!(
                "object store {url:?}: no [[external_bucket]] named {bucket:?} in the configuration file, and {name} is not set"
            )
        })
    };
    Ok(cairn_store::objects::BodyBucket {
        endpoint: env("AWS_ENDPOINT_URL_S3")
            .filter(|v| !v.is_empty())
            .map_or_else(|| need("AWS_ENDPOINT_URL"), Ok)?,
        bucket: bucket.to_string(),
        prefix: prefix.trim_matches('/').to_string(),
        region: env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .filter(|v| !v.is_empty())
            .unwrap_or_else(default_region),
        access_key_id: need("AWS_ACCESS_KEY_ID")?,
        secret_access_key: need("AWS_SECRET_ACCESS_KEY")?,
    })
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
    fn the_object_store_is_an_external_bucket_or_the_aws_variables() {
        let external: FileConfig = toml::from_str(
            "[[external_bucket]]\nname = \"bodies\"\nendpoint = \"http://127.0.0.1:9000\"\naccess_key_id = \"AK\"\nsecret_access_key = \"SK\"\n[object_store]\nurl = \"s3://bodies/cluster/\"\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let b = object_store_bucket(
            &external.object_store.as_ref().unwrap().url,
            &external.external_bucket,
            none,
        )
        .unwrap();
        assert_eq!(
            (b.endpoint.as_str(), b.bucket.as_str(), b.prefix.as_str()),
            ("http://127.0.0.1:9000", "bodies", "cluster")
        );
        assert_eq!(
            (b.access_key_id.as_str(), b.region.as_str()),
            ("AK", "us-east-1")
        );

        let vars = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://minio:9000".to_string()),
            "AWS_ACCESS_KEY_ID" => Some("A".to_string()),
            "AWS_SECRET_ACCESS_KEY" => Some("S".to_string()),
            "AWS_REGION" => Some("eu-west-1".to_string()),
            _ => None,
        };
        let b = object_store_bucket("s3://other", &external.external_bucket, vars).unwrap();
        assert_eq!(
            (
                b.endpoint.as_str(),
                b.bucket.as_str(),
                b.prefix.as_str(),
                b.region.as_str()
            ),
            ("http://minio:9000", "other", "", "eu-west-1")
        );
        let e = object_store_bucket("s3://other", &[], none).unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL is not set"), "{e}");
        for bad in ["bodies", "s3://", "http://x/y"] {
            assert!(object_store_bucket(bad, &[], vars).is_err(), "{bad}");
        }
    }

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
