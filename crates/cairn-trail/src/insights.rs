//! A trail's Insights selectors as its store keeps them: the API's `InsightSelectors` list,
//! each selector also noting since when its type has been on (`EnabledMs`, cairn's own
//! member, never answered), so that the Insights baseline starts when the type was turned on
//! and a restart does not move it. Lists kept before that member existed read as on since
//! the epoch.

use cairn_store::trails::Trail;
use serde_json::{Value, json};

/// The member a kept selector notes its start in.
const ENABLED: &str = "EnabledMs";

/// One selector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsightSelector {
    pub insight_type: String,
    /// `EventCategories` as given (`None`: not given, which means Management).
    pub categories: Option<Vec<String>>,
    pub enabled_ms: i64,
}

impl InsightSelector {
    /// Whether it looks at management events.
    pub fn management(&self) -> bool {
        self.categories
            .as_ref()
            .is_none_or(|c| c.iter().any(|k| k == "Management"))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InsightSelectors(pub Vec<InsightSelector>);

impl InsightSelectors {
    /// The trail's selectors (none when Insights are off or the kept text is unreadable).
    pub fn of(t: &Trail) -> InsightSelectors {
        let Some(list) = t
            .insight_selectors
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            return InsightSelectors::default();
        };
        let selectors = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| {
                        Some(InsightSelector {
                            insight_type: s.get("InsightType")?.as_str()?.to_owned(),
                            categories: s.get("EventCategories").and_then(Value::as_array).map(
                                |c| {
                                    c.iter()
                                        .filter_map(Value::as_str)
                                        .map(str::to_owned)
                                        .collect()
                                },
                            ),
                            enabled_ms: s.get(ENABLED).and_then(Value::as_i64).unwrap_or(0),
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        InsightSelectors(selectors)
    }

    /// The types on for management events.
    pub fn management_types(&self) -> impl Iterator<Item = &str> {
        self.0
            .iter()
            .filter(|s| s.management())
            .map(|s| s.insight_type.as_str())
    }

    /// Since when `insight_type` has been on for management events.
    pub fn enabled_ms(&self, insight_type: &str) -> Option<i64> {
        self.0
            .iter()
            .find(|s| s.insight_type == insight_type && s.management())
            .map(|s| s.enabled_ms)
    }

    /// The list as the API answers it.
    pub fn to_api(&self) -> Value {
        Value::Array(self.0.iter().map(api_selector).collect())
    }

    /// The list as the store keeps it (`None` when empty: Insights off).
    pub fn to_kept(&self) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        let list: Vec<Value> = self
            .0
            .iter()
            .map(|s| {
                let mut v = api_selector(s);
                if let Value::Object(m) = &mut v {
                    m.insert(ENABLED.into(), s.enabled_ms.into());
                }
                v
            })
            .collect();
        Some(Value::Array(list).to_string())
    }
}

fn api_selector(s: &InsightSelector) -> Value {
    let mut v = json!({"InsightType": s.insight_type});
    if let (Some(c), Value::Object(m)) = (&s.categories, &mut v) {
        m.insert("EventCategories".into(), json!(c));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_lists_answer_without_their_start_and_old_lists_read_as_on_long_ago() {
        let s = InsightSelectors(vec![InsightSelector {
            insight_type: "ApiCallRateInsight".into(),
            categories: None,
            enabled_ms: 42,
        }]);
        let t = Trail {
            insight_selectors: s.to_kept(),
            ..Trail::default()
        };
        assert_eq!(InsightSelectors::of(&t), s);
        assert_eq!(s.to_api(), json!([{"InsightType": "ApiCallRateInsight"}]));
        let old = Trail {
            insight_selectors: Some(r#"[{"InsightType":"ApiErrorRateInsight"}]"#.into()),
            ..Trail::default()
        };
        assert_eq!(
            InsightSelectors::of(&old).enabled_ms("ApiErrorRateInsight"),
            Some(0)
        );
        let data_only = Trail {
            insight_selectors: Some(
                r#"[{"InsightType":"ApiCallRateInsight","EventCategories":["Data"]}]"#.into(),
            ),
            ..Trail::default()
        };
        assert_eq!(
            InsightSelectors::of(&data_only).management_types().count(),
            0
        );
    }
}
