//! `cairn operations`: the registry's operation tables — every operation of every service,
//! with its IAM actions, CloudTrail category, read-only flag, who decides it and whether cairn
//! serves it.

use std::io::Write;

use serde_json::json;

#[derive(clap::Args, Debug)]
pub struct OperationsArgs {
    /// Only this service (its signing name: cloudtrail, s3, kms, iam, sts).
    #[arg(long)]
    pub service: Option<String>,
    /// Only the operations cairn serves.
    #[arg(long)]
    pub served: bool,
    /// Print JSON lines instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: OperationsArgs) -> anyhow::Result<()> {
    match print(a) {
        // `cairn operations | head` closes the pipe early: that is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print(a: OperationsArgs) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let registry = cairn_services::registry();
    if let Some(s) = &a.service
        && registry.get(s).is_none()
    {
        let names: Vec<_> = registry.iter().map(|s| s.signing_name()).collect();
        return Err(std::io::Error::other(format!(
            "no service '{s}'; cairn serves {}",
            names.join(", ")
        )));
    }
    if !a.json {
        writeln!(
            out,
            "{:<11} {:<42} {:<10} {:<5} {:<24} {:<6} IAM ACTIONS",
            "SERVICE", "OPERATION", "CATEGORY", "READ", "DECIDED BY", "SERVED"
        )?;
    }
    for svc in registry.iter() {
        if a.service
            .as_deref()
            .is_some_and(|s| s != svc.signing_name())
        {
            continue;
        }
        for op in svc.operations() {
            if a.served && !op.served {
                continue;
            }
            if a.json {
                let line = json!({
                    "service": svc.signing_name(),
                    "eventSource": svc.event_source(),
                    "operation": op.name,
                    "actions": op.actions,
                    "category": op.category.as_str(),
                    "readOnly": op.read_only,
                    "access": op.access.as_str(),
                    "served": op.served,
                });
                writeln!(out, "{line}")?;
            } else {
                writeln!(
                    out,
                    "{:<11} {:<42} {:<10} {:<5} {:<24} {:<6} {}",
                    svc.signing_name(),
                    op.name,
                    op.category.as_str(),
                    if op.read_only { "yes" } else { "no" },
                    op.access.as_str(),
                    if op.served { "yes" } else { "no" },
                    op.actions.join(", ")
                )?;
            }
        }
    }
    Ok(())
}
