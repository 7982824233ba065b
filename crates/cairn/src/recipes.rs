//! `cairn recipes`: ready-made set-ups made through cairn's public API, as a user would make
//! them with the AWS CLI. `cis-alarms` is the CIS AWS Foundations Benchmark's monitoring
//! section: on the log group a trail delivers to, the fourteen metric filters Security Hub
//! checks (CloudWatch.1–14, byte for byte) and one alarm on each, notifying one SNS topic.

use anyhow::{Context, bail};
use cairn_rules::filter::cis::CIS_FILTERS;
use serde_json::{Value, json};

use crate::DataDirArg;
use crate::datadir::DataDir;

#[derive(clap::Subcommand)]
pub enum RecipesCommand {
    /// The CIS monitoring chain (CIS 4.1–4.14, Security Hub CloudWatch.1–14): a metric filter
    /// per check on the trail's log group, and an alarm per filter (Sum over 5 minutes ≥ 1)
    /// whose action notifies the topic. Running it again replaces them (same names).
    CisAlarms(CisArgs),
}

#[derive(clap::Args)]
pub struct CisArgs {
    #[command(flatten)]
    pub data_dir: DataDirArg,
    /// The log group the trail delivers to (its name, not its ARN).
    #[arg(long)]
    pub log_group: String,
    /// The SNS topic ARN the alarms notify.
    #[arg(long)]
    pub topic: String,
    /// The metric namespace of the filters and alarms.
    #[arg(long, default_value = "CISBenchmark")]
    pub namespace: String,
    /// The account to make them in (default: the instance's first account).
    #[arg(long)]
    pub account: Option<String>,
}

pub fn run(cmd: RecipesCommand) -> anyhow::Result<()> {
    match cmd {
        RecipesCommand::CisAlarms(a) => cis_alarms(a),
    }
}

/// `Unauthorized API calls` → `UnauthorizedAPICalls`: the metric and alarm name of a check.
fn metric_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f)
                    if w == "API"
                        || w == "AWS"
                        || w == "VPC"
                        || w == "IAM"
                        || w == "MFA"
                        || w == "ACL"
                        || w == "S3" =>
                {
                    std::iter::once(f).chain(c).collect::<String>()
                }
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn cis_alarms(a: CisArgs) -> anyhow::Result<()> {
    if !a.topic.starts_with("arn:aws:sns:") {
        bail!(
            "--topic must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), got {}",
            a.topic
        );
    }
    let dir = DataDir::resolve(&a.data_dir)?;
    let (endpoint, settings, _) = crate::env::admin_endpoint(&dir, a.account.as_deref())?;
    let call =
        |service: &str, target: &str, content_type: &str, body: Value| -> anyhow::Result<()> {
            let r = endpoint
                .send(
                    service,
                    "POST",
                    "/",
                    None,
                    &[
                        ("x-amz-target", target),
                        ("content-type", content_type),
                        ("x-amzn-query-mode", "true"),
                    ],
                    body.to_string().as_bytes(),
                )
                .map_err(|e| anyhow::anyhow!("reaching {}: {e}", settings.endpoint))?;
            if !r.ok() {
                bail!(
                    "{target} was refused ({}): {}",
                    r.status,
                    String::from_utf8_lossy(&r.body)
                );
            }
            Ok(())
        };
    // Only the first fourteen are the checks Security Hub runs (the rest are newer variants).
    for f in CIS_FILTERS.iter().take(14) {
        let metric = metric_name(f.title);
        let name = format!("CIS-{}-{metric}", f.cis);
        call(
            "logs",
            "Logs_20140328.PutMetricFilter",
            "application/x-amz-json-1.1",
            json!({
                "logGroupName": a.log_group,
                "filterName": name,
                "filterPattern": f.pattern,
                "metricTransformations": [{
                    "metricName": metric,
                    "metricNamespace": a.namespace,
                    "metricValue": "1",
                }],
            }),
        )
        .with_context(|| format!("making the metric filter {name}"))?;
        call(
            "monitoring",
            "GraniteServiceVersion20100801.PutMetricAlarm",
            "application/x-amz-json-1.0",
            json!({
                "AlarmName": name,
                "AlarmDescription": format!("CIS {} ({}): {}", f.cis, f.security_hub, f.title),
                "Namespace": a.namespace,
                "MetricName": metric,
                "Statistic": "Sum",
                "Period": 300,
                "EvaluationPeriods": 1,
                "Threshold": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [a.topic],
            }),
        )
        .with_context(|| format!("making the alarm {name}"))?;
        println!(
            "{name}: metric filter on {} and alarm → {}",
            a.log_group, a.topic
        );
    }
    println!(
        "14 CIS metric filters and alarms in namespace {}",
        a.namespace
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::metric_name;

    #[test]
    fn metric_names_are_the_titles_in_camel_case() {
        assert_eq!(
            metric_name("Unauthorized API calls"),
            "UnauthorizedAPICalls"
        );
        assert_eq!(metric_name("Usage of the root user"), "UsageOfTheRootUser");
        assert_eq!(
            metric_name("AWS Config configuration changes"),
            "AWSConfigConfigurationChanges"
        );
    }
}
