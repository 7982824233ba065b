//! `cairn accounts`: more accounts on one instance, each with its own root credentials,
//! resources, trails and event history. Works while `cairn serve` runs.

use anyhow::Context;
use cairn_model::{Clock, SystemClock};

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
    /// Set the root user's password for the web console (sign in at /console with the
    /// account id or alias and this password). Reads the password from standard input
    /// unless --password is given: `echo 'a long passphrase' | cairn accounts set-password`.
    SetPassword(SetPasswordArgs),
}

#[derive(clap::Args)]
pub struct SetPasswordArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// The account (12 digits or its alias); the first account when absent.
    #[arg(long)]
    pub account: Option<String>,
    /// The new password (visible to other users of this machine in the process list: prefer
    /// standard input).
    #[arg(long, env = "CAIRN_ROOT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

/// AWS's rule for root passwords: 8 to 128 characters, and at least three of upper case,
/// lower case, digits and symbols.
fn check_root_password(pw: &str) -> anyhow::Result<()> {
    let n = pw.chars().count();
    anyhow::ensure!(
        (8..=128).contains(&n),
        "the password must be 8 to 128 characters long"
    );
    let kinds = [
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    anyhow::ensure!(
        kinds.iter().filter(|k| **k).count() >= 3,
        "the password must mix at least three of: upper case, lower case, digits, symbols"
    );
    Ok(())
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
            let identity = dir.identity()?;
            let (acct, key) = identity.create_account(SystemClock.now_millis())?;
            eprintln!("created account {}", acct.id);
            print!(
                "{}",
                export_block(&s.endpoint, &key, &s.region, s.ca_bundle.as_deref())
            );
        }
        AccountsCommand::List(a) => {
            let dir = DataDir::resolve(&with_file_dir(a.data_dir))?;
            let identity = dir.identity()?;
            for acct in identity.accounts()? {
                println!("{}\t{}", acct.id, acct.alias.unwrap_or_default());
            }
        }
        AccountsCommand::SetPassword(a) => {
            let dir = DataDir::resolve(&with_file_dir(a.data_dir))?;
            let identity = dir.identity()?;
            let accounts = identity.accounts()?;
            let acct = match &a.account {
                None => accounts.first(),
                Some(want) => accounts
                    .iter()
                    .find(|x| x.id.as_str() == want || x.alias.as_deref() == Some(want)),
            }
            .context("no such account (start `cairn serve` once to create the first)")?;
            let password = match a.password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            check_root_password(&password)?;
            identity.set_root_password(&acct.id, &password, SystemClock.now_millis())?;
            eprintln!(
                "root password of account {} set: sign in at /console with the account id{}",
                acct.id,
                if acct.alias.is_some() {
                    " or alias"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}
