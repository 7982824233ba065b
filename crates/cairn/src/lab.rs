//! `cairn lab`: the course's exercises and attack investigations on a running `cairn serve`,
//! graded by reading the account's state through the public APIs (`list`, `start NAME`,
//! `check [NAME] [--answer ID=VALUE]…`, `hint [NAME]`, `reset [NAME]`).

use anyhow::bail;
use serde_json::{Value, json};

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Args)]
pub struct Common {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// Whose progress: an account id of this instance (default: the first account).
    #[arg(long, value_name = "ACCOUNT")]
    pub account: Option<String>,
    /// `text` (for reading) or `json` (the instance's answer as it is).
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
}

#[derive(clap::Args)]
pub struct Named {
    /// The lab's name (default: the one started last).
    pub name: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(clap::Subcommand)]
pub enum LabCommand {
    /// Every lab (exercises first, then investigations) with the account's progress.
    List(Common),
    /// Start (or restart) a lab: prints its goal, steps and questions. An investigation replays
    /// its attack into the account amid ordinary activity.
    Start {
        /// The lab's name, as `cairn lab list` shows it.
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// Grade a lab (the one started last when no name is given): each criterion passed or
    /// what is missing, in one sentence. Exits 1 until every criterion is met.
    Check {
        /// The lab's name (default: the one started last).
        name: Option<String>,
        /// An answer to one of the lab's questions (repeatable): `--answer access-key=AKIA…`.
        #[arg(long = "answer", value_name = "ID=VALUE")]
        answers: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// The next step: the hint of the first criterion not met yet.
    Hint(Named),
    /// Forget the account's progress through a lab (what it did stays in history).
    Reset(Named),
}

impl LabCommand {
    /// The options every lab command takes.
    pub fn common_mut(&mut self) -> &mut Common {
        match self {
            LabCommand::List(c) => c,
            LabCommand::Start { common, .. } | LabCommand::Check { common, .. } => common,
            LabCommand::Hint(n) | LabCommand::Reset(n) => &mut n.common,
        }
    }
}

/// Calls a lab operation; an error the instance answered becomes its message.
pub(crate) fn call(common: &Common, target: &str, body: &Value) -> anyhow::Result<Value> {
    let dir = DataDir::resolve(&common.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, common.account.as_deref())?;
    let r = crate::env::admin_send(&endpoint, &settings, target, body, "the lab")?;
    let v: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    if !r.ok() {
        let message = v
            .get("message")
            .or_else(|| v.get("Message"))
            .and_then(Value::as_str)
            .map_or_else(
                || String::from_utf8_lossy(&r.body).into_owned(),
                str::to_owned,
            );
        bail!("{message}");
    }
    Ok(v)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

fn print_lab(v: &Value) {
    println!("{} — {}", s(v, "Name"), s(v, "Title"));
    println!();
    println!("{}", s(v, "Goal"));
    if let Some(set_up) = v
        .get("SetUp")
        .and_then(Value::as_array)
        .filter(|a| !a.is_empty())
    {
        println!();
        println!("Set up:");
        for line in set_up {
            println!("  - {}", line.as_str().unwrap_or(""));
        }
    }
    println!();
    println!("Steps:");
    for (i, step) in v
        .get("Steps")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        println!("  {}. {}", i + 1, step.as_str().unwrap_or(""));
    }
    let questions = v
        .get("Questions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if !questions.is_empty() {
        println!();
        println!("Questions (answer with --answer ID=VALUE):");
        for q in &questions {
            println!("  {:<16} {}", s(q, "Id"), s(q, "Text"));
        }
    }
}

pub fn run(command: LabCommand) -> anyhow::Result<()> {
    match command {
        LabCommand::List(c) => {
            let c = &c;
            let json_out = c.output == "json";
            let v = call(c, "Cairn.ListLabs", &json!({}))?;
            if json_out {
                println!("{v}");
                return Ok(());
            }
            println!("{:<20}  {:<13}  {:<11}  TITLE", "LAB", "KIND", "STATUS");
            for l in v
                .get("Labs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                println!(
                    "{:<20}  {:<13}  {:<11}  {}",
                    s(l, "Name"),
                    s(l, "Kind"),
                    s(l, "Status"),
                    s(l, "Title")
                );
            }
        }
        LabCommand::Start { name, common } => {
            let (c, json_out) = (&common, common.output == "json");
            let v = call(c, "Cairn.StartLab", &json!({"Lab": name}))?;
            if json_out {
                println!("{v}");
            } else {
                print_lab(&v);
                println!();
                println!("When you are done: cairn lab check {name}   (stuck? cairn lab hint)");
            }
        }
        LabCommand::Check {
            name,
            answers,
            common,
        } => {
            let (c, json_out) = (&common, common.output == "json");
            let mut given = serde_json::Map::new();
            for a in &answers {
                let Some((id, value)) = a.split_once('=') else {
                    bail!("--answer takes ID=VALUE (got {a:?})");
                };
                given.insert(id.trim().to_owned(), json!(value));
            }
            let v = call(c, "Cairn.CheckLab", &json!({"Lab": name, "Answers": given}))?;
            let passed = v.get("Passed").and_then(Value::as_bool) == Some(true);
            if json_out {
                println!("{v}");
            } else {
                println!("{} — {}", s(&v, "Lab"), s(&v, "Title"));
                for cr in v
                    .get("Criteria")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let ok = cr.get("Passed").and_then(Value::as_bool) == Some(true);
                    println!(
                        "  [{}] {}: {}",
                        if ok { "pass" } else { "FAIL" },
                        s(cr, "Criterion"),
                        s(cr, "Explanation")
                    );
                }
                println!();
                if passed {
                    println!("Passed.");
                } else {
                    println!(
                        "Not yet: cairn lab hint {} says what to do next.",
                        s(&v, "Lab")
                    );
                }
            }
            if !passed {
                std::process::exit(1);
            }
        }
        LabCommand::Hint(Named { name, common }) => {
            let (c, json_out) = (&common, common.output == "json");
            let v = call(c, "Cairn.LabHint", &json!({"Lab": name}))?;
            if json_out {
                println!("{v}");
            } else {
                if let Some(cr) = v.get("Criterion").and_then(Value::as_str) {
                    println!("{}: {cr}", s(&v, "Lab"));
                }
                println!("{}", s(&v, "Hint"));
            }
        }
        LabCommand::Reset(Named { name, common }) => {
            let (c, json_out) = (&common, common.output == "json");
            let v = call(c, "Cairn.ResetLab", &json!({"Lab": name}))?;
            if json_out {
                println!("{v}");
            } else if v.get("Reset").and_then(Value::as_bool) == Some(true) {
                println!("{}: progress forgotten.", s(&v, "Lab"));
            } else {
                println!("{}: there was no progress to forget.", s(&v, "Lab"));
            }
        }
    }
    Ok(())
}
