//! Which records a trail takes: its account; its home region or, if multi-region, every
//! region; global service events only if included; only records committed while it was
//! logging; and its event selectors, basic or advanced.

use cairn_model::EventCategory;
use cairn_model::summary::category_of;
use cairn_store::trails::Trail;
use serde_json::Value;

/// Global services log in us-east-1 and reach only trails that include global service events.
const GLOBAL_SOURCES: &[&str] = &[
    "iam.amazonaws.com",
    "sts.amazonaws.com",
    "signin.amazonaws.com",
    "cloudfront.amazonaws.com",
    "route53.amazonaws.com",
    "waf.amazonaws.com",
    "organizations.amazonaws.com",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadWrite {
    All,
    ReadOnly,
    WriteOnly,
}

#[derive(Clone, Debug)]
struct Basic {
    rw: ReadWrite,
    management: bool,
    data: Vec<(String, Vec<String>)>,
    excluded_sources: Vec<String>,
}

#[derive(Clone, Debug, Default)]
struct FieldCondition {
    field: String,
    equals: Vec<String>,
    starts_with: Vec<String>,
    ends_with: Vec<String>,
    not_equals: Vec<String>,
    not_starts_with: Vec<String>,
    not_ends_with: Vec<String>,
}

#[derive(Clone, Debug)]
enum Selectors {
    Basic(Vec<Basic>),
    Advanced(Vec<Vec<FieldCondition>>),
}

/// A trail's delivery filter.
#[derive(Clone, Debug)]
pub struct TrailFilter {
    pub trail_arn: String,
    account: String,
    /// An organization trail's other accounts (its organization's members).
    members: std::collections::BTreeSet<String>,
    home_region: String,
    multi_region: bool,
    include_global: bool,
    ranges: Vec<(u64, Option<u64>)>,
    selectors: Selectors,
    /// The Insights types its Insights selectors turn on for management events.
    insight_types: Vec<String>,
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_basic(v: &Value) -> Vec<Basic> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| Basic {
            rw: match s.get("ReadWriteType").and_then(Value::as_str) {
                Some("ReadOnly") => ReadWrite::ReadOnly,
                Some("WriteOnly") => ReadWrite::WriteOnly,
                _ => ReadWrite::All,
            },
            management: s
                .get("IncludeManagementEvents")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            data: s
                .get("DataResources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|r| {
                    (
                        r.get("Type")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_owned(),
                        strs(r.get("Values")),
                    )
                })
                .collect(),
            excluded_sources: strs(s.get("ExcludeManagementEventSources")),
        })
        .collect()
}

fn parse_advanced(v: &Value) -> Vec<Vec<FieldCondition>> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            s.get("FieldSelectors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|f| FieldCondition {
                    field: f
                        .get("Field")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_owned(),
                    equals: strs(f.get("Equals")),
                    starts_with: strs(f.get("StartsWith")),
                    ends_with: strs(f.get("EndsWith")),
                    not_equals: strs(f.get("NotEquals")),
                    not_starts_with: strs(f.get("NotStartsWith")),
                    not_ends_with: strs(f.get("NotEndsWith")),
                })
                .collect()
        })
        .collect()
}

fn str_field<'a>(r: &'a Value, k: &str) -> Option<&'a str> {
    r.get(k).and_then(Value::as_str)
}

fn read_only(r: &Value) -> Option<bool> {
    match r.get("readOnly")? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s == "true"),
        _ => None,
    }
}

/// `(type, ARN or ARNPrefix)` of each resource a record names.
fn resources(r: &Value) -> Vec<(String, String)> {
    r.get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| {
            let t = str_field(x, "type").unwrap_or("").to_owned();
            let arn = str_field(x, "ARN").or_else(|| str_field(x, "ARNPrefix"))?;
            Some((t, arn.to_owned()))
        })
        .collect()
}

fn rw_matches(rw: ReadWrite, r: &Value) -> bool {
    match rw {
        ReadWrite::All => true,
        ReadWrite::ReadOnly => read_only(r) == Some(true),
        ReadWrite::WriteOnly => read_only(r) != Some(true),
    }
}

impl FieldCondition {
    /// The record's values for this field (some fields have several, e.g. resources.ARN).
    fn values(&self, r: &Value, category: &str, types: &[String]) -> Vec<String> {
        match self.field.as_str() {
            "eventCategory" => vec![category.to_owned()],
            "readOnly" => read_only(r)
                .map(|b| vec![b.to_string()])
                .unwrap_or_default(),
            "userIdentity.arn" => r
                .get("userIdentity")
                .and_then(|u| str_field(u, "arn"))
                .map(|s| vec![s.to_owned()])
                .unwrap_or_default(),
            "resources.type" => resources(r).into_iter().map(|(t, _)| t).collect(),
            "resources.ARN" => resources(r)
                .into_iter()
                .filter(|(t, _)| types.is_empty() || types.contains(t))
                .map(|(_, a)| a)
                .collect(),
            other => str_field(r, other)
                .map(|s| vec![s.to_owned()])
                .unwrap_or_default(),
        }
    }

    fn holds(&self, r: &Value, category: &str, types: &[String]) -> bool {
        let vals = self.values(r, category, types);
        let any = |pats: &[String], f: &dyn Fn(&str, &str) -> bool| {
            vals.iter().any(|v| pats.iter().any(|p| f(v, p)))
        };
        let eq = |v: &str, p: &str| v == p;
        let sw = |v: &str, p: &str| v.starts_with(p);
        let ew = |v: &str, p: &str| v.ends_with(p);
        (self.equals.is_empty() || any(&self.equals, &eq))
            && (self.starts_with.is_empty() || any(&self.starts_with, &sw))
            && (self.ends_with.is_empty() || any(&self.ends_with, &ew))
            && (self.not_equals.is_empty() || !any(&self.not_equals, &eq))
            && (self.not_starts_with.is_empty() || !any(&self.not_starts_with, &sw))
            && (self.not_ends_with.is_empty() || !any(&self.not_ends_with, &ew))
    }
}

/// The logging range (its first offset) that holds a journal offset, if any.
pub fn logging_range(ranges: &[(u64, Option<u64>)], offset: u64) -> Option<u64> {
    ranges
        .iter()
        .find(|(from, to)| offset >= *from && to.is_none_or(|t| offset < t))
        .map(|(from, _)| *from)
}

impl TrailFilter {
    pub fn of(t: &Trail) -> TrailFilter {
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|s| serde_json::from_str::<Value>(s).ok())
        };
        let selectors = match (
            parse(&t.advanced_event_selectors),
            parse(&t.event_selectors),
        ) {
            (Some(a), _) => Selectors::Advanced(parse_advanced(&a)),
            (None, Some(b)) => Selectors::Basic(parse_basic(&b)),
            (None, None) => Selectors::Basic(vec![Basic {
                rw: ReadWrite::All,
                management: true,
                data: Vec::new(),
                excluded_sources: Vec::new(),
            }]),
        };
        TrailFilter {
            trail_arn: t.arn.clone(),
            account: t.account.clone(),
            members: Default::default(),
            home_region: t.home_region.clone(),
            multi_region: t.multi_region,
            include_global: t.include_global_events,
            ranges: t.logging_ranges.clone(),
            selectors,
            insight_types: crate::insights::InsightSelectors::of(t)
                .management_types()
                .map(str::to_owned)
                .collect(),
        }
    }

    fn logging_at(&self, offset: u64) -> bool {
        logging_range(&self.ranges, offset).is_some()
    }

    /// Whether the trail takes this record, journaled at `offset` for `account`.
    /// The filter of an organization trail: it also takes the records of `members`.
    pub fn with_members(mut self, members: impl IntoIterator<Item = String>) -> TrailFilter {
        self.members.extend(members);
        self
    }

    pub fn takes(&self, account: &str, offset: u64, r: &Value) -> bool {
        let ours = account == self.account || self.members.contains(account);
        if !ours || !self.logging_at(offset) {
            return false;
        }
        let region = str_field(r, "awsRegion").unwrap_or("");
        if !self.multi_region && region != self.home_region {
            return false;
        }
        let source = str_field(r, "eventSource").unwrap_or("");
        if GLOBAL_SOURCES.contains(&source) && region == "us-east-1" && !self.include_global {
            return false;
        }
        self.selects(r)
    }

    /// Whether the trail's Insights selectors take this Insights record (journaled at
    /// `offset` for `account`): its account and regions, logging, and an Insights selector of
    /// the record's `insightType`. Such records go to the trail's `CloudTrail-Insight` folder.
    pub fn takes_insight(&self, account: &str, offset: u64, r: &Value) -> bool {
        let ours = account == self.account || self.members.contains(account);
        if !ours || !self.logging_at(offset) || category_of(r) != Some(EventCategory::Insight) {
            return false;
        }
        let region = str_field(r, "awsRegion").unwrap_or("");
        if !self.multi_region && region != self.home_region {
            return false;
        }
        r.pointer("/insightDetails/insightType")
            .and_then(Value::as_str)
            .is_some_and(|t| self.insight_types.iter().any(|k| k == t))
    }

    /// Whether the trail's event selectors log management events, read-only or write ones:
    /// what an Insights type needs (d.6).
    pub fn logs_management(&self, read_only: bool) -> bool {
        self.selects(&serde_json::json!({
            "eventSource": "cairn.insights.check",
            "eventName": "Check",
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "eventCategory": "Management",
        }))
    }

    /// Whether the event selectors (only) take the record.
    fn selects(&self, r: &Value) -> bool {
        let source = str_field(r, "eventSource").unwrap_or("");
        let category = category_of(r);
        let cat = match category {
            Some(EventCategory::Management) => "Management",
            Some(EventCategory::Data) => "Data",
            Some(EventCategory::NetworkActivity) => "NetworkActivity",
            // Insights events go to their own files.
            Some(EventCategory::Insight) | None => return false,
        };
        match &self.selectors {
            Selectors::Basic(list) => list.iter().any(|s| {
                if !rw_matches(s.rw, r) {
                    return false;
                }
                match category {
                    Some(EventCategory::Management) => {
                        s.management && !s.excluded_sources.iter().any(|x| x == source)
                    }
                    Some(EventCategory::Data) => {
                        let res = resources(r);
                        s.data.iter().any(|(ty, values)| {
                            res.iter().any(|(t, arn)| {
                                t == ty
                                    && values.iter().any(|v| {
                                        // `arn:aws:s3` (and the like) selects every resource of
                                        // the type; a listing's ARN prefix matches values under it.
                                        !v.contains(":::")
                                            && !v.contains(":function:")
                                            && !v.contains(":table/")
                                            || arn.starts_with(v.as_str())
                                            || (arn.ends_with('/') && v.starts_with(arn.as_str()))
                                    })
                            })
                        })
                    }
                    _ => false,
                }
            }),
            Selectors::Advanced(list) => list.iter().any(|conds| {
                let types: Vec<String> = conds
                    .iter()
                    .filter(|c| c.field == "resources.type")
                    .flat_map(|c| c.equals.clone())
                    .collect();
                conds.iter().all(|c| c.holds(r, cat, &types))
            }),
        }
    }
}

/// Advanced event selectors on their own, as an event data store has them: which records they
/// take, whatever account or region the records come from.
#[derive(Clone, Debug)]
pub struct AdvancedSelectors(Vec<Vec<FieldCondition>>);

impl AdvancedSelectors {
    /// From the API's `AdvancedEventSelectors` list (already validated).
    pub fn parse(list: &Value) -> AdvancedSelectors {
        AdvancedSelectors(parse_advanced(list))
    }

    /// Whether any selector takes the record.
    pub fn takes(&self, r: &Value) -> bool {
        let cat = match category_of(r) {
            Some(EventCategory::Management) => "Management",
            Some(EventCategory::Data) => "Data",
            Some(EventCategory::NetworkActivity) => "NetworkActivity",
            Some(EventCategory::Insight) => "Insight",
            None => return false,
        };
        self.0.iter().any(|conds| {
            let types: Vec<String> = conds
                .iter()
                .filter(|c| c.field == "resources.type")
                .flat_map(|c| c.equals.clone())
                .collect();
            conds.iter().all(|c| c.holds(r, cat, &types))
        })
    }
}

#[cfg(test)]
#[path = "selectors_tests.rs"]
mod tests;
