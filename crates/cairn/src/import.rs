//! `cairn import`: load CloudTrail records from files into the journal, with a progress bar.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_import::{Importer, discover};
use cairn_model::{Clock, SystemClock};

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::open;
use crate::serve::ensure_account;

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Account to load the records into (12 digits). Default: the instance's first account.
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub account: Option<String>,
    /// Files and folders to import; folders are walked recursively for .json, .json.gz,
    /// .jsonl and .ndjson files.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&args.data_dir)?;
    dir.create()?;
    let _lock = dir.lock()?;
    let stores = open::open(&dir)?;
    let (key, created) = ensure_account(&stores.identity, SystemClock.now_millis())?;
    if created {
        eprintln!(
            "created account {} in {} (run `cairn env` for its credentials)",
            key.account,
            dir.root.display()
        );
    }
    let account = match args.account {
        Some(a) => {
            let known = stores
                .identity
                .accounts()?
                .into_iter()
                .any(|x| x.id.as_str() == a);
            if !known {
                bail!("account {a} does not exist in {}", dir.root.display());
            }
            a
        }
        None => key.account.to_string(),
    };
    let files = discover(&args.paths).map_err(|e| anyhow::anyhow!("{e}"))?;
    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
        .sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "importing {bar:40} {bytes}/{total_bytes} {msg} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let importer = Importer {
        journal: stores.journal.clone(),
        history: stores.history.clone(),
        account: account.clone(),
    };
    let report = importer
        .import_files(&files, |_, size| bar.inc(size))
        .context("writing to the journal")?;
    bar.finish_and_clear();
    for e in &report.errors {
        eprintln!("error: {e}");
    }
    println!(
        "imported {} records into account {account} ({} already present) from {} files; {} files had errors",
        report.imported,
        report.duplicates,
        report.files,
        {
            let mut f: Vec<&str> = report.errors.iter().map(|e| e.file.as_str()).collect();
            f.dedup();
            f.len()
        }
    );
    if !report.errors.is_empty() {
        std::process::exit(1);
    }
    Ok(())
}
