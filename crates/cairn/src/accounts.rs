//! `cairn accounts`: more accounts on one instance, each with its own root credentials,
//! resources, trails and event history. Works while `cairn serve` runs.

use anyhow::Context;
use cairn_model::{Clock, SystemClock};
use cairn_store::identity::SqliteIdentity;

use crate::DataDirArg;
use crate::datadir::DataDir;
use crate::serve::export_block;

#[derive(clap::Subcommand)]
pub enum AccountsCommand {
    /// Create an account and print its root credentials as `export` lines
    /// (eval "$(cairn accounts create)" switches this shell to it).
    Create(AccountsArgs),
    /// List the instance's accounts (id and alias), the first being the one `cairn env` uses.
    List(AccountsArgs),
}

#[derive(clap::Args)]
pub struct AccountsArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
}

pub fn run(
    c: AccountsCommand,
    with_file_dir: impl Fn(DataDirArg) -> DataDirArg,
) -> anyhow::Result<()> {
    match c {
        AccountsCommand::Create(a) => {
            let dir = DataDir::resolve(&with_file_dir(a.data_dir))?;
            let s = crate::env::instance_settings(&dir)
                .context("create the first account by starting `cairn serve` once")?;
            let identity = SqliteIdentity::open(&dir.identity_db())?;
            let (acct, key) = identity.create_account(SystemClock.now_millis())?;
            eprintln!("created account {}", acct.id);
            print!(
                "{}",
                export_block(&s.endpoint, &key, &s.region, s.ca_bundle.as_deref())
            );
        }
        AccountsCommand::List(a) => {
            let dir = DataDir::resolve(&with_file_dir(a.data_dir))?;
            let identity = SqliteIdentity::open(&dir.identity_db())?;
            for acct in identity.accounts()? {
                println!("{}\t{}", acct.id, acct.alias.unwrap_or_default());
            }
        }
    }
    Ok(())
}
