//! The operation table: what each operation of a service is, as the pipeline and the registry
//! see it. A service lists every operation of its AWS API here, served or not, so that an
//! operation cairn does not have yet answers the service's own "not supported" error and is
//! recorded like any other call.

use cairn_model::EventCategory;

/// Whose policies decide a call, beside the caller's identity policies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Any authenticated caller may make it (GetCallerIdentity).
    Open,
    /// The caller's identity policies alone.
    Identity,
    /// The bucket's policy takes part (S3).
    BucketPolicy,
    /// The resource's own policy takes part, as a bucket policy does (an SNS topic policy).
    ResourcePolicy,
    /// The key's policy decides (KMS): it must allow, directly or by delegating to the account.
    KeyPolicy,
    /// The role's trust policy decides (STS AssumeRole).
    TrustPolicy,
    /// The operation checks who the caller is itself (GetSessionToken refuses sessions).
    Caller,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Open => "open",
            Access::Identity => "identity policies",
            Access::BucketPolicy => "identity + bucket policy",
            Access::ResourcePolicy => "identity + resource policy",
            Access::KeyPolicy => "key policy",
            Access::TrustPolicy => "trust policy",
            Access::Caller => "caller type",
        }
    }
}

/// One operation of a service.
#[derive(Clone, Debug)]
pub struct Operation {
    /// Its name in the AWS API.
    pub name: &'static str,
    /// Its CloudTrail `eventName`: its name, but for services whose records carry the API
    /// version (Lambda's `CreateFunction20150331`).
    pub event_name: &'static str,
    /// The IAM actions it may need (some need one of several: `s3:GetObject` or
    /// `s3:GetObjectVersion`; some several at once: CopyObject).
    pub actions: Vec<String>,
    /// CloudTrail's `readOnly`.
    pub read_only: bool,
    pub category: EventCategory,
    pub access: Access,
    /// Whether cairn serves it; operations it does not answer the service's own
    /// "not supported" error (and are still recorded).
    pub served: bool,
    /// Answered from memory or from a few rows read by key, changing nothing: its calls run on
    /// the pipeline's quick workers instead of a blocking thread each (see
    /// [`crate::pipeline::quick`]).
    pub quick: bool,
}

impl Operation {
    /// An operation needing one IAM action, `{prefix}:{name}`.
    pub fn named(prefix: &str, name: &'static str, read_only: bool, served: bool) -> Operation {
        Operation {
            name,
            event_name: name,
            actions: vec![format!("{prefix}:{name}")],
            read_only,
            category: EventCategory::Management,
            access: Access::Identity,
            served,
            quick: false,
        }
    }

    pub fn access(mut self, access: Access) -> Operation {
        self.access = access;
        self
    }

    pub fn actions(mut self, actions: &[&str]) -> Operation {
        self.actions = actions.iter().map(|a| (*a).to_owned()).collect();
        self
    }

    /// Recorded under another `eventName` than its name.
    pub fn recorded_as(mut self, event_name: &'static str) -> Operation {
        self.event_name = event_name;
        self
    }

    /// Marks it quick (see [`Operation::quick`]). Only for read-only operations.
    pub fn quick(mut self) -> Operation {
        debug_assert!(
            self.read_only,
            "{} changes something: it cannot be quick",
            self.name
        );
        self.quick = true;
        self
    }

    pub fn data(mut self) -> Operation {
        self.category = EventCategory::Data;
        self
    }
}

/// The operation of a table with this name.
pub fn find<'t>(table: &'t [Operation], name: &str) -> Option<&'t Operation> {
    table.iter().find(|o| o.name == name)
}
