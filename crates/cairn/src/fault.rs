//! `cairn fault`: makes a running `cairn serve --test-faults` fail on purpose, so that tests
//! (and a lab) can see that a call refused for it leaves no trace.

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Args)]
pub struct FaultArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// What fails.
    #[arg(value_enum)]
    pub fault: Fault,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum Fault {
    /// The next journal commit fails as a broken disk's would: the calls in it answer 503 with
    /// their changes rolled back, and the instance refuses every call until it is restarted.
    JournalWrite,
}

pub fn run(a: FaultArgs) -> anyhow::Result<()> {
    let dir = DataDir::resolve(&a.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, None)?;
    let name = match a.fault {
        Fault::JournalWrite => "JournalWrite",
    };
    crate::env::admin_call(
        &endpoint,
        &settings,
        "Cairn.InjectFault",
        &serde_json::json!({ "Fault": name }),
        "injecting a fault",
    )?;
    println!("{name}: armed on {}", settings.endpoint);
    Ok(())
}
