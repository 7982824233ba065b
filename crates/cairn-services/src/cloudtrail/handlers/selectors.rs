//! Event selectors: validating basic and advanced selectors as AWS does, and the default a
//! trail has until selectors are put.

use cairn_wire::AwsError;
use serde_json::{Value, json};

const MAX_BASIC_SELECTORS: usize = 5;
const MAX_DATA_RESOURCE_VALUES: usize = 250;
const MAX_ADVANCED_VALUES: usize = 500;

const DATA_RESOURCE_TYPES: &[&str] = &[
    "AWS::S3::Object",
    "AWS::Lambda::Function",
    "AWS::DynamoDB::Table",
];

const ADVANCED_FIELDS: &[&str] = &[
    "eventCategory",
    "eventSource",
    "eventName",
    "eventType",
    "readOnly",
    "resources.type",
    "resources.ARN",
    "errorCode",
    "sessionCredentialFromConsole",
    "userIdentity.arn",
    "vpcEndpointId",
];

pub const OPERATORS: &[&str] = &[
    "Equals",
    "StartsWith",
    "EndsWith",
    "NotEquals",
    "NotStartsWith",
    "NotEndsWith",
];

fn invalid(msg: impl Into<String>) -> AwsError {
    AwsError::client("InvalidEventSelectorsException", msg)
}

/// What GetEventSelectors shows for a trail that never had selectors put.
pub fn default_basic() -> Value {
    json!([{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}])
}

/// Validates basic selectors and fills in AWS's defaults.
pub fn validate_basic(v: &Value) -> Result<Value, AwsError> {
    let list = v
        .as_array()
        .ok_or_else(|| invalid("EventSelectors must be a list."))?;
    if list.is_empty() || list.len() > MAX_BASIC_SELECTORS {
        return Err(invalid(format!(
            "A trail can have 1 to {MAX_BASIC_SELECTORS} event selectors; {} were specified.",
            list.len()
        )));
    }
    let mut out = Vec::new();
    let mut values = 0;
    for s in list {
        let rw = s
            .get("ReadWriteType")
            .and_then(Value::as_str)
            .unwrap_or("All");
        if !matches!(rw, "All" | "ReadOnly" | "WriteOnly") {
            return Err(invalid(format!(
                "Invalid ReadWriteType {rw}: must be ReadOnly, WriteOnly or All."
            )));
        }
        let mgmt = s
            .get("IncludeManagementEvents")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let mut data = Vec::new();
        for r in s
            .get("DataResources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let t = r.get("Type").and_then(Value::as_str).unwrap_or("");
            if !DATA_RESOURCE_TYPES.contains(&t) {
                return Err(invalid(format!(
                    "Invalid DataResource type {t}. Valid types: {}.",
                    DATA_RESOURCE_TYPES.join(", ")
                )));
            }
            let vals: Vec<&str> = r
                .get("Values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for val in &vals {
                let ok = match t {
                    "AWS::S3::Object" => {
                        *val == "arn:aws:s3"
                            || (val.starts_with("arn:aws:s3:::")
                                && val.len() > "arn:aws:s3:::".len()
                                && val["arn:aws:s3:::".len()..].contains('/'))
                    }
                    "AWS::Lambda::Function" => {
                        *val == "arn:aws:lambda" || val.starts_with("arn:aws:lambda:")
                    }
                    _ => *val == "arn:aws:dynamodb" || val.starts_with("arn:aws:dynamodb:"),
                };
                if !ok {
                    return Err(invalid(format!(
                        "Value {val} for DataResource of type {t} is invalid."
                    )));
                }
            }
            values += vals.len();
            data.push(json!({"Type": t, "Values": vals}));
        }
        if values > MAX_DATA_RESOURCE_VALUES {
            return Err(invalid(format!(
                "A trail can have at most {MAX_DATA_RESOURCE_VALUES} data resource values across all selectors."
            )));
        }
        let excluded: Vec<&str> = s
            .get("ExcludeManagementEventSources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        for e in &excluded {
            if !matches!(*e, "kms.amazonaws.com" | "rdsdata.amazonaws.com") {
                return Err(invalid(format!(
                    "Invalid ExcludeManagementEventSources value {e}: only kms.amazonaws.com and rdsdata.amazonaws.com can be excluded."
                )));
            }
        }
        out.push(json!({"ReadWriteType": rw, "IncludeManagementEvents": mgmt, "DataResources": data, "ExcludeManagementEventSources": excluded}));
    }
    Ok(Value::Array(out))
}

/// Whether a field selector uses no operator but `Equals` (AWS's rule for eventCategory,
/// readOnly and resources.type).
fn only_equals(f: &Value) -> bool {
    OPERATORS
        .iter()
        .all(|op| *op == "Equals" || f.get(*op).is_none())
}

/// Validates a trail's advanced selectors; returns them as put.
pub fn validate_advanced(v: &Value) -> Result<Value, AwsError> {
    validate_selectors(v, false)
}

/// Validates an event data store's advanced selectors, which may also select events from
/// outside AWS (`eventCategory` `ActivityAuditLog`, arriving through channels).
pub fn validate_store_selectors(v: &Value) -> Result<Value, AwsError> {
    validate_selectors(v, true)
}

fn validate_selectors(v: &Value, lake: bool) -> Result<Value, AwsError> {
    let list = v
        .as_array()
        .ok_or_else(|| invalid("AdvancedEventSelectors must be a list."))?;
    if list.is_empty() {
        return Err(invalid("At least one advanced event selector is required."));
    }
    let mut total = 0;
    for s in list {
        let fields = s
            .get("FieldSelectors")
            .and_then(Value::as_array)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                invalid("Each advanced event selector needs at least one field selector.")
            })?;
        let mut category = None;
        let mut has_type = false;
        for f in fields {
            let name = f.get("Field").and_then(Value::as_str).unwrap_or("");
            if !ADVANCED_FIELDS.contains(&name) {
                return Err(invalid(format!(
                    "Invalid field {name} in an advanced event selector."
                )));
            }
            let mut any = false;
            for op in OPERATORS {
                if let Some(vals) = f.get(*op) {
                    let vals = vals.as_array().filter(|a| !a.is_empty()).ok_or_else(|| {
                        invalid(format!(
                            "{op} for field {name} must list at least one value."
                        ))
                    })?;
                    if vals.iter().any(|x| x.as_str().is_none_or(str::is_empty)) {
                        return Err(invalid(format!(
                            "Values for field {name} must be non-empty strings."
                        )));
                    }
                    total += vals.len();
                    any = true;
                }
            }
            if !any {
                return Err(invalid(format!(
                    "Field selector {name} needs an operator: {}.",
                    OPERATORS.join(", ")
                )));
            }
            match name {
                "eventCategory" => {
                    let eq: Vec<&str> = f
                        .get("Equals")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    let known = matches!(
                        eq.first(),
                        Some(&("Management" | "Data" | "NetworkActivity"))
                    ) || (lake && eq.first() == Some(&"ActivityAuditLog"));
                    if !only_equals(f) || eq.len() != 1 || !known {
                        return Err(invalid(
                            "eventCategory must use Equals with exactly one of Management, Data or NetworkActivity.",
                        ));
                    }
                    category = Some(eq[0].to_owned());
                }
                "resources.type" => {
                    let one = f
                        .get("Equals")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.len() == 1);
                    if !only_equals(f) || !one {
                        return Err(invalid(
                            "resources.type must use Equals with exactly one resource type.",
                        ));
                    }
                    has_type = true;
                }
                "readOnly" => {
                    let ok = f.get("Equals").and_then(Value::as_array).is_some_and(|a| {
                        a.iter()
                            .all(|x| matches!(x.as_str(), Some("true") | Some("false")))
                    });
                    if !ok || !only_equals(f) {
                        return Err(invalid("readOnly must use Equals with true or false."));
                    }
                }
                _ => {}
            }
        }
        match category.as_deref() {
            None => {
                return Err(invalid(
                    "Each advanced event selector must have an eventCategory field selector.",
                ));
            }
            Some("Management") => {
                for f in fields {
                    let name = f.get("Field").and_then(Value::as_str).unwrap_or("");
                    if !matches!(name, "eventCategory" | "readOnly" | "eventSource") {
                        return Err(invalid(format!(
                            "Field {name} is not supported for management events."
                        )));
                    }
                }
            }
            Some("ActivityAuditLog") => {
                for f in fields {
                    let name = f.get("Field").and_then(Value::as_str).unwrap_or("");
                    if name != "eventCategory" {
                        return Err(invalid(format!(
                            "Field {name} is not supported for ActivityAuditLog events."
                        )));
                    }
                }
            }
            Some("Data") if !has_type => {
                return Err(invalid(
                    "Advanced event selectors for data events must have a resources.type field selector.",
                ));
            }
            _ => {}
        }
    }
    if total > MAX_ADVANCED_VALUES {
        return Err(invalid(format!(
            "Advanced event selectors can have at most {MAX_ADVANCED_VALUES} values in all; {total} were specified."
        )));
    }
    Ok(v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic() {
        let v = validate_basic(
            &json!([{"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::b/"]}]}]),
        )
        .unwrap();
        assert_eq!(v[0]["ReadWriteType"], "All");
        assert_eq!(v[0]["IncludeManagementEvents"], true);
        assert!(validate_basic(&json!([])).is_err());
        assert!(validate_basic(&json!([{"ReadWriteType":"Sometimes"}])).is_err());
        assert!(
            validate_basic(
                &json!([{"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::b"]}]}])
            )
            .is_err()
        );
        assert!(
            validate_basic(
                &json!([{"DataResources":[{"Type":"AWS::EC2::Instance","Values":["x"]}]}])
            )
            .is_err()
        );
        assert!(validate_basic(&json!([{}, {}, {}, {}, {}, {}])).is_err());
    }

    #[test]
    fn advanced() {
        let ok = json!([{"Name":"s3","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::b/"]}]}]);
        assert!(validate_advanced(&ok).is_ok());
        let activity =
            json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["ActivityAuditLog"]}]}]);
        assert!(validate_advanced(&activity).is_err());
        assert!(validate_store_selectors(&activity).is_ok());
        for bad in [
            json!([{"FieldSelectors":[{"Field":"resources.type","Equals":["AWS::S3::Object"]}]}]),
            json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]}]}]),
            json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"eventName","Equals":["X"]}]}]),
            json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type"}]}]),
            json!([{"FieldSelectors":[{"Field":"bogus","Equals":["x"]}]}]),
            json!([{"FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["maybe"]}]}]),
            json!([]),
        ] {
            assert!(validate_advanced(&bad).is_err(), "{bad}");
        }
    }
}
