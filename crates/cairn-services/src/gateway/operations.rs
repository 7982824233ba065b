//! The operation table of a forwarded service, made from its model: every operation it has,
//! its IAM action (`{service}:{Operation}`), whether it only reads (`readOnly`) and whether
//! CloudTrail counts it a data event.

use cairn_model::EventCategory;

use super::model::Model;
use crate::pipeline::{Access, Operation};

/// Name prefixes of operations that only read (CloudTrail's `readOnly`).
const READING: &[&str] = &[
    "Describe",
    "Get",
    "List",
    "Search",
    "Scan",
    "Query",
    "BatchGet",
    "Lookup",
    "Head",
    "TransactGet",
];

/// Operations CloudTrail records as data events, by signing name (AWS's data event types:
/// `AWS::DynamoDB::Table` items).
const DATA_EVENTS: &[(&str, &[&str])] = &[(
    "dynamodb",
    &[
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
        "ExecuteStatement",
        "BatchExecuteStatement",
        "ExecuteTransaction",
    ],
)];

pub fn reads_only(name: &str) -> bool {
    READING.iter().any(|p| name.starts_with(p))
}

pub fn is_data_event(signing_name: &str, name: &str) -> bool {
    DATA_EVENTS
        .iter()
        .any(|(s, ops)| *s == signing_name && ops.contains(&name))
}

/// The table (made once per forwarded service, for the life of the process).
pub fn table(model: &Model) -> &'static [Operation] {
    let prefix = model.signing_name().to_owned();
    let mut names: Vec<&String> = model.operations.keys().collect();
    names.sort();
    let ops: Vec<Operation> = names
        .into_iter()
        .map(|name| {
            let name: &'static str = Box::leak(name.clone().into_boxed_str());
            let mut op =
                Operation::named(&prefix, name, reads_only(name), true).access(Access::Identity);
            if is_data_event(&prefix, name) {
                op.category = EventCategory::Data;
            }
            op
        })
        .collect();
    Box::leak(ops.into_boxed_slice())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::pipeline::operation::find;

    #[test]
    fn a_table_from_the_model() {
        let model = Model::load("dynamodb", None).unwrap();
        let ops = table(&model);
        let put = find(ops, "PutItem").unwrap();
        assert_eq!(put.actions, ["dynamodb:PutItem"]);
        assert!(!put.read_only);
        assert_eq!(put.category, EventCategory::Data);
        let list = find(ops, "ListTables").unwrap();
        assert!(list.read_only);
        assert_eq!(list.category, EventCategory::Management);
        let ec2 = Model::load("ec2", None).unwrap();
        let ops = table(&ec2);
        assert!(ops.len() > 500);
        assert!(
            !find(ops, "AuthorizeSecurityGroupIngress")
                .unwrap()
                .read_only
        );
        assert!(find(ops, "DescribeSecurityGroups").unwrap().read_only);
    }
}
