//! Who asks, what for, and the request context's condition keys.

use std::collections::HashMap;

/// Who makes the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// An account's root user.
    Root { account: String },
    /// An IAM user: `arn:aws:iam::ACCOUNT:user/PATH/NAME`.
    User { account: String, arn: String },
    /// A role session: `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, of the role
    /// `arn:aws:iam::ACCOUNT:role/PATH/ROLE`.
    AssumedRole {
        account: String,
        arn: String,
        role_arn: String,
    },
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service { name: String },
    /// An unsigned request: only statements that let everyone in (`"Principal": "*"`, or a
    /// `NotPrincipal`) apply to it, and it has no identity policies.
    Anonymous,
}

impl Caller {
    pub fn arn(&self) -> String {
        match self {
            Caller::Root { account } => format!("arn:aws:iam::{account}:root"),
            Caller::User { arn, .. } | Caller::AssumedRole { arn, .. } => arn.clone(),
            Caller::Service { name } => name.clone(),
            Caller::Anonymous => "anonymous".to_owned(),
        }
    }

    pub fn account(&self) -> Option<&str> {
        match self {
            Caller::Root { account }
            | Caller::User { account, .. }
            | Caller::AssumedRole { account, .. } => Some(account),
            Caller::Service { .. } | Caller::Anonymous => None,
        }
    }
}

/// Condition keys (names case-insensitive) and their values.
#[derive(Clone, Debug, Default)]
pub struct Context {
    keys: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Context {
        Context::default()
    }

    /// Sets a single-valued key, replacing any value it had.
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.keys
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    /// Sets a multi-valued key.
    pub fn set_many(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.keys.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// One request to decide.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub caller: &'a Caller,
    /// `service:Action`, matched case-insensitively.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions on no resource.
    pub resource: &'a str,
    pub context: &'a Context,
}
