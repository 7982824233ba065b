//! `cairn env`: the shell exports that point AWS clients at this instance.

use anyhow::{Context, bail};
use cairn_store::identity::AccessKey;

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::serve::export_block;

#[derive(clap::Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// The account whose root credentials to print (see `cairn accounts list`); default: the
    /// instance's first account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
}

/// What a client needs to reach this instance: its endpoint, root key and region.
pub struct InstanceSettings {
    pub endpoint: String,
    pub key: cairn_store::identity::AccessKey,
    pub region: String,
    /// The CA file that makes the endpoint's self-signed certificate trusted.
    pub ca_bundle: Option<String>,
}

pub fn instance_settings(dir: &DataDir) -> anyhow::Result<InstanceSettings> {
    if !dir.exists() {
        bail!(
            "no cairn data in {}: start `cairn serve --data-dir {}` first",
            dir.root.display(),
            dir.root.display()
        );
    }
    let identity = dir.identity()?;
    let acct = identity
        .accounts()?
        .into_iter()
        .next()
        .context("the data directory has no account yet: start `cairn serve` once")?;
    let key = identity
        .root_key(&acct.id)?
        .with_context(|| format!("account {} has no active root access key", acct.id))?;
    let saved = std::fs::read_to_string(dir.endpoint_file()).unwrap_or_default();
    let mut lines = saved.lines();
    Ok(InstanceSettings {
        endpoint: lines.next().unwrap_or("http://127.0.0.1:4566").to_owned(),
        key,
        region: lines.next().unwrap_or("us-east-1").to_owned(),
        ca_bundle: lines.next().filter(|l| !l.is_empty()).map(str::to_owned),
    })
}

/// A client for cairn's own calls (`Cairn.*`) on the running instance of `dir`, signed with the
/// root key of `account` (the first account when `None`).
pub fn admin_endpoint(
    dir: &DataDir,
    account: Option<&str>,
) -> anyhow::Result<(cairn_wire::client::Endpoint, InstanceSettings, AccessKey)> {
    let settings = instance_settings(dir)?;
    let key = match account {
        Some(id) => {
            let id = cairn_model::AccountId::parse(id)?;
            dir.identity()?
                .root_key(&id)?
                .with_context(|| format!("account {id} does not exist in {}", dir.root.display()))?
        }
        None => settings.key.clone(),
    };
    let url = cairn_wire::client::parse_url(&settings.endpoint).map_err(anyhow::Error::msg)?;
    let tls = if url.https {
        let ca = settings.ca_bundle.as_ref().map(std::path::PathBuf::from);
        Some(cairn_wire::tls::Tls::new(ca.as_deref()).map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let endpoint = cairn_wire::client::Endpoint {
        host_port: url.host_port,
        region: settings.region.clone(),
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
        tls,
        ..Default::default()
    };
    Ok((endpoint, settings, key))
}

/// Sends one of cairn's own calls (`Cairn.<Op>`, JSON) to the running instance and returns its
/// answer, whatever its status; `doing` names the act in errors.
pub fn admin_send(
    endpoint: &cairn_wire::client::Endpoint,
    settings: &InstanceSettings,
    target: &str,
    body: &serde_json::Value,
    doing: &str,
) -> anyhow::Result<cairn_wire::client::Response> {
    endpoint
        .send(
            cairn_services::admin::SIGNING_NAME,
            "POST",
            "/",
            None,
            &[
                ("x-amz-target", target),
                ("content-type", "application/x-amz-json-1.1"),
            ],
            body.to_string().as_bytes(),
        )
        .map_err(|e| anyhow::anyhow!("reaching {} for {doing}: {e}", settings.endpoint))
}

/// Sends one of cairn's own calls (`Cairn.<Op>`, JSON) to the running instance and returns its
/// answer's body; `doing` names the act in errors ("the import", "moving its clock").
pub fn admin_call(
    endpoint: &cairn_wire::client::Endpoint,
    settings: &InstanceSettings,
    target: &str,
    body: &serde_json::Value,
    doing: &str,
) -> anyhow::Result<Vec<u8>> {
    let r = admin_send(endpoint, settings, target, body, doing)?;
    if !r.ok() {
        bail!(
            "the running instance at {} refused {doing} ({}): {}",
            settings.endpoint,
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    Ok(r.body)
}

pub fn run(args: EnvArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&args.data_dir)?;
    let mut s = instance_settings(&dir)?;
    if let Some(id) = &args.account {
        let id = cairn_model::AccountId::parse(id)?;
        let identity = dir.identity()?;
        s.key = identity
            .root_key(&id)?
            .with_context(|| format!("no account {id} with an active root key here"))?;
    }
    print!(
        "{}",
        export_block(&s.endpoint, &s.key, &s.region, s.ca_bundle.as_deref())
    );
    Ok(())
}
