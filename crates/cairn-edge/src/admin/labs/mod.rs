//! Labs: the course's exercises and attack investigations, graded (`cairn lab`, the console's
//! Labs page).
//!
//! A lab states its goal and the steps in AWS's own terms, and grades the learner's result by
//! reading the account's state through cairn's public APIs as the learner (internal calls, as
//! the best-practice checks read): each criterion passes or says in one sentence what is
//! missing, with a hint for the next step. Exercises (`exercises`) grade what the learner
//! built; investigations (`scenarios`) replay a real attack's records into the account amid
//! benign activity and grade the learner's answers against the truth taken from those
//! records. Progress (when a lab started, what it set up, the answers, the outcome) is kept
//! per account in the labs store; grading counts only what happened after the start.
//!
//! Modules: `exercises` (the seed exercises), `scenarios` (the investigations and their
//! replay), `read` (what the criteria read: trails with their status, bucket listings, objects,
//! event history).

mod exercises;
mod read;
mod scenarios;

use cairn_store::labs::Progress;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use crate::app::App;
use crate::pipeline::internal::Internal;

/// What a lab's start and grading work with: the instance, the learner (as whom the account's
/// state is read and changed), and the time.
pub struct Ctx<'a> {
    pub app: &'a App,
    pub who: &'a Internal,
    pub now_ms: i64,
}

impl Ctx<'_> {
    /// A JSON call as the learner.
    fn call(&self, service: &str, op: &str, input: Value) -> Result<Value, AwsError> {
        self.who.call_json(self.app, service, op, input)
    }

    /// The learner's account.
    fn account(&self) -> &str {
        &self.who.account
    }
}

/// One criterion's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Criterion {
    /// What is checked, short.
    pub name: String,
    pub passed: bool,
    /// What was found (passed), or what is missing, in one sentence.
    pub explanation: String,
    /// The next step when it did not pass.
    pub hint: String,
}

impl Criterion {
    fn pass(name: impl Into<String>, found: impl Into<String>) -> Criterion {
        Criterion {
            name: name.into(),
            passed: true,
            explanation: found.into(),
            hint: String::new(),
        }
    }

    fn fail(name: impl Into<String>, why: impl Into<String>, hint: impl Into<String>) -> Criterion {
        Criterion {
            name: name.into(),
            passed: false,
            explanation: why.into(),
            hint: hint.into(),
        }
    }

    fn to_json(&self) -> Value {
        json!({
            "Criterion": self.name,
            "Passed": self.passed,
            "Explanation": self.explanation,
            "Hint": (!self.passed).then_some(&self.hint),
        })
    }
}

/// A question an investigation asks.
#[derive(Clone, Copy, Debug)]
pub struct Question {
    /// What `--answer ID=VALUE` names.
    pub id: &'static str,
    pub text: &'static str,
}

/// An exercise or an investigation.
#[derive(Clone, Copy)]
pub enum Lab {
    Exercise(&'static exercises::Exercise),
    Investigation(&'static scenarios::Scenario),
}

impl Lab {
    pub fn name(&self) -> &'static str {
        match self {
            Lab::Exercise(e) => e.name,
            Lab::Investigation(s) => s.name,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            Lab::Exercise(e) => e.title,
            Lab::Investigation(s) => s.title,
        }
    }

    /// `exercise` or `investigation`.
    pub fn kind(&self) -> &'static str {
        match self {
            Lab::Exercise(_) => "exercise",
            Lab::Investigation(_) => "investigation",
        }
    }

    pub fn goal(&self) -> &'static str {
        match self {
            Lab::Exercise(e) => e.goal,
            Lab::Investigation(s) => s.story,
        }
    }

    pub fn steps(&self) -> Vec<String> {
        match self {
            Lab::Exercise(e) => e.steps.iter().map(|s| (*s).to_owned()).collect(),
            Lab::Investigation(s) => s.steps(),
        }
    }

    pub fn questions(&self) -> Vec<Question> {
        match self {
            Lab::Exercise(e) => e.questions.to_vec(),
            Lab::Investigation(s) => s.questions.iter().map(|a| a.question).collect(),
        }
    }

    /// The MITRE ATT&CK-style technique an investigation replays (Stratus Red Team's id).
    pub fn technique(&self) -> Option<&'static str> {
        match self {
            Lab::Exercise(_) => None,
            Lab::Investigation(s) => Some(s.technique),
        }
    }

    fn start(&self, ctx: &Ctx) -> Result<Value, AwsError> {
        match self {
            Lab::Exercise(e) => (e.start)(ctx),
            Lab::Investigation(s) => s.start(ctx),
        }
    }

    fn grade(&self, ctx: &Ctx, progress: &mut Progress) -> Vec<Criterion> {
        match self {
            Lab::Exercise(e) => (e.grade)(ctx, progress),
            Lab::Investigation(s) => s.grade(progress),
        }
    }

    /// What the listing and the console show of a lab.
    pub fn describe(&self) -> Value {
        json!({
            "Name": self.name(),
            "Title": self.title(),
            "Kind": self.kind(),
            "Goal": self.goal(),
            "Steps": self.steps(),
            "Technique": self.technique(),
            "Questions": self.questions().iter().map(|q| json!({"Id": q.id, "Text": q.text})).collect::<Vec<_>>(),
        })
    }
}

/// Every lab, exercises first, in the course's order.
pub fn catalogue() -> Vec<Lab> {
    exercises::ALL
        .iter()
        .map(Lab::Exercise)
        .chain(scenarios::ALL.iter().map(Lab::Investigation))
        .collect()
}

/// The lab named `name`.
pub fn find(name: &str) -> Result<Lab, AwsError> {
    catalogue()
        .into_iter()
        .find(|l| l.name() == name)
        .ok_or_else(|| {
            AwsError::new(
                404,
                "ResourceNotFoundException",
                format!("There is no lab named {name}: `cairn lab list` shows them."),
            )
        })
}

fn unavailable(e: cairn_store::StoreError) -> AwsError {
    tracing::error!(error = %e, "the labs store failed");
    AwsError::new(
        503,
        "ServiceUnavailable",
        "Lab progress cannot be read or kept now.",
    )
}

/// The lab a call names, or else the one the account started last.
fn named_or_current(ctx: &Ctx, name: Option<&str>) -> Result<(Lab, Option<Progress>), AwsError> {
    if let Some(name) = name {
        let lab = find(name)?;
        let progress = ctx
            .app
            .labs
            .progress(ctx.account(), name)
            .map_err(unavailable)?;
        return Ok((lab, progress));
    }
    let started = ctx.app.labs.list(ctx.account()).map_err(unavailable)?;
    let current = started
        .into_iter()
        .max_by_key(|p| p.started_ms)
        .ok_or_else(|| {
            AwsError::client(
                "ValidationException",
                "No lab was started in this account: `cairn lab list` shows them, `cairn lab start NAME` starts one.",
            )
        })?;
    Ok((find(&current.lab)?, Some(current)))
}

fn not_started(lab: &Lab) -> AwsError {
    AwsError::client(
        "ValidationException",
        format!(
            "Lab {0} was not started in this account: run `cairn lab start {0}` first.",
            lab.name()
        ),
    )
}

/// Every lab with the account's progress through it.
pub fn list(ctx: &Ctx) -> Result<Value, AwsError> {
    let started = ctx.app.labs.list(ctx.account()).map_err(unavailable)?;
    let labs: Vec<Value> = catalogue()
        .iter()
        .map(|lab| {
            let mut v = lab.describe();
            let p = started.iter().find(|p| p.lab == lab.name());
            v["Status"] = json!(match p {
                None => "NOT_STARTED",
                Some(p) if p.passed_ms.is_some() => "PASSED",
                Some(_) => "STARTED",
            });
            v["StartedMs"] = json!(p.map(|p| p.started_ms));
            v["PassedMs"] = json!(p.and_then(|p| p.passed_ms));
            v["Answers"] = json!(p.map(|p| &p.answers));
            v
        })
        .collect();
    Ok(json!({ "Labs": labs }))
}

/// Starts (or restarts) a lab: runs its set-up and forgets earlier progress through it.
pub fn start(ctx: &Ctx, name: &str) -> Result<Value, AwsError> {
    let lab = find(name)?;
    let state = lab.start(ctx)?;
    let progress = Progress {
        account: ctx.account().to_owned(),
        lab: name.to_owned(),
        started_ms: ctx.now_ms,
        state: state.clone(),
        answers: Default::default(),
        passed_ms: None,
        checks: 0,
        checked_ms: None,
    };
    ctx.app.labs.keep(&progress).map_err(unavailable)?;
    let mut v = lab.describe();
    v["StartedMs"] = json!(ctx.now_ms);
    v["SetUp"] = state.get("setUp").cloned().unwrap_or(json!([]));
    Ok(v)
}

/// Grades a lab (the one started last when `name` is `None`), keeping `answers` first.
pub fn check(
    ctx: &Ctx,
    name: Option<&str>,
    answers: &[(String, String)],
) -> Result<Value, AwsError> {
    let (lab, progress) = named_or_current(ctx, name)?;
    let mut progress = progress.ok_or_else(|| not_started(&lab))?;
    let questions = lab.questions();
    for (id, value) in answers {
        if !questions.iter().any(|q| q.id == id) {
            let ids: Vec<&str> = questions.iter().map(|q| q.id).collect();
            return Err(AwsError::client(
                "ValidationException",
                if ids.is_empty() {
                    format!("Lab {} asks no questions.", lab.name())
                } else {
                    format!(
                        "Lab {} asks no question {id}: its questions are {}.",
                        lab.name(),
                        ids.join(", ")
                    )
                },
            ));
        }
        progress.answers.insert(id.clone(), value.trim().to_owned());
    }
    let criteria = lab.grade(ctx, &mut progress);
    let passed = criteria.iter().all(|c| c.passed);
    progress.checks += 1;
    progress.checked_ms = Some(ctx.now_ms);
    if passed && progress.passed_ms.is_none() {
        progress.passed_ms = Some(ctx.now_ms);
    }
    ctx.app.labs.keep(&progress).map_err(unavailable)?;
    Ok(json!({
        "Lab": lab.name(),
        "Title": lab.title(),
        "Passed": passed,
        "PassedMs": progress.passed_ms,
        "Criteria": criteria.iter().map(Criterion::to_json).collect::<Vec<_>>(),
    }))
}

/// The next step: the hint of the first criterion not yet met.
pub fn hint(ctx: &Ctx, name: Option<&str>) -> Result<Value, AwsError> {
    let (lab, progress) = named_or_current(ctx, name)?;
    let mut progress = progress.ok_or_else(|| not_started(&lab))?;
    let criteria = lab.grade(ctx, &mut progress);
    // Grading may have set something up (the log file an exercise altered): keep it.
    ctx.app.labs.keep(&progress).map_err(unavailable)?;
    let next = criteria.iter().find(|c| !c.passed);
    Ok(json!({
        "Lab": lab.name(),
        "Criterion": next.map(|c| c.name.as_str()),
        "Hint": next.map_or_else(
            || format!("Every criterion of {} is met: `cairn lab check {}` records it.", lab.name(), lab.name()),
            |c| c.hint.clone(),
        ),
    }))
}

/// Forgets the account's progress through a lab (what it did to the account stays: records
/// are history).
pub fn reset(ctx: &Ctx, name: Option<&str>) -> Result<Value, AwsError> {
    let (lab, _) = named_or_current(ctx, name)?;
    let forgot = ctx
        .app
        .labs
        .forget(ctx.account(), lab.name())
        .map_err(unavailable)?;
    Ok(json!({"Lab": lab.name(), "Reset": forgot}))
}

/// Whether two answers say the same: trimmed, case-insensitive, an `s3://bucket/` prefix or
/// surrounding quotes ignored.
fn same_answer(given: &str, truth: &str) -> bool {
    let clean = |s: &str| {
        s.trim()
            .trim_matches(|c| c == '"' || c == '\'')
            .trim()
            .to_ascii_lowercase()
    };
    clean(given) == clean(truth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_lab_describes_itself() {
        let labs = catalogue();
        let mut names: Vec<&str> = labs.iter().map(Lab::name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), labs.len());
        assert!(labs.iter().filter(|l| l.kind() == "exercise").count() >= 7);
        assert!(labs.iter().filter(|l| l.kind() == "investigation").count() >= 10);
        for lab in &labs {
            assert!(
                !lab.goal().is_empty() && !lab.steps().is_empty(),
                "{}",
                lab.name()
            );
        }
    }

    #[test]
    fn answers_compare_loosely() {
        assert!(same_answer(" AKIAEXAMPLE ", "akiaexample"));
        assert!(same_answer("\"trail-1\"", "trail-1"));
        assert!(!same_answer("trail-2", "trail-1"));
    }
}
