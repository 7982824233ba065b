//! Who made a call: the principal behind a verified signature, and the `userIdentity` object
//! CloudTrail writes for it (reference section a.2).

use serde_json::{Map, Value, json};

use crate::account::AccountId;

/// The user name AWS's console gives the root user when it assigns or removes the root user's
/// MFA device (EnableMFADevice and DeactivateMFADevice, recorded with this `userName`). No API
/// client can name the root user so: IAM user names have no spaces.
pub const CONSOLE_ROOT_USER_NAME: &str = "AWS ROOT USER";

/// The attributes of a temporary-credential session (`sessionContext.attributes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionAttributes {
    /// ISO-8601 UTC, whole seconds, e.g. `2023-07-19T21:11:57Z`.
    pub creation_date: String,
    pub mfa_authenticated: bool,
}

impl SessionAttributes {
    fn to_json(&self) -> Value {
        json!({
            "creationDate": self.creation_date,
            "mfaAuthenticated": if self.mfa_authenticated { "true" } else { "false" },
        })
    }
}

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// The account's root user.
    Root {
        account: AccountId,
        access_key_id: String,
        /// The account alias; CloudTrail writes it as `userName` when one is set.
        alias: Option<String>,
        session: Option<SessionAttributes>,
    },
    /// An IAM user, possibly with GetSessionToken credentials (`session`).
    IamUser {
        account: AccountId,
        /// `AIDA…`
        user_id: String,
        user_name: String,
        /// IAM path, `/` unless set.
        path: String,
        access_key_id: String,
        session: Option<SessionAttributes>,
    },
    /// A role session from AssumeRole.
    AssumedRole {
        account: AccountId,
        /// `AROA…`
        role_id: String,
        role_name: String,
        role_path: String,
        session_name: String,
        access_key_id: String,
        session: SessionAttributes,
    },
    /// cairn itself acting as an AWS service (for example trail delivery writing to S3).
    AwsService { service: String },
    /// An unsigned S3 request: no one in particular. S3 serves it only where a bucket policy
    /// or ACL lets everyone in, and records it in the bucket owner's account.
    Anonymous,
}

impl Principal {
    pub fn account(&self) -> Option<&AccountId> {
        match self {
            Principal::Root { account, .. }
            | Principal::IamUser { account, .. }
            | Principal::AssumedRole { account, .. } => Some(account),
            Principal::AwsService { .. } | Principal::Anonymous => None,
        }
    }

    pub fn arn(&self) -> String {
        match self {
            Principal::Root { account, .. } => format!("arn:aws:iam::{account}:root"),
            Principal::IamUser {
                account,
                user_name,
                path,
                ..
            } => format!("arn:aws:iam::{account}:user{path}{user_name}"),
            Principal::AssumedRole {
                account,
                role_name,
                session_name,
                ..
            } => format!("arn:aws:sts::{account}:assumed-role/{role_name}/{session_name}"),
            Principal::AwsService { service } => service.clone(),
            // As AWS names it in its refusals ("User: anonymous is not authorized …").
            Principal::Anonymous => "anonymous".to_owned(),
        }
    }

    pub fn access_key_id(&self) -> Option<&str> {
        match self {
            Principal::Root { access_key_id, .. }
            | Principal::IamUser { access_key_id, .. }
            | Principal::AssumedRole { access_key_id, .. } => Some(access_key_id),
            Principal::AwsService { .. } | Principal::Anonymous => None,
        }
    }

    /// The `userIdentity` object, key for key as CloudTrail writes it.
    pub fn user_identity(&self) -> Value {
        let mut m = Map::new();
        match self {
            Principal::Root {
                account,
                access_key_id,
                alias,
                session,
            } => {
                m.insert("type".into(), "Root".into());
                m.insert("principalId".into(), account.as_str().into());
                m.insert("arn".into(), self.arn().into());
                m.insert("accountId".into(), account.as_str().into());
                m.insert("accessKeyId".into(), access_key_id.as_str().into());
                if let Some(alias) = alias {
                    m.insert("userName".into(), alias.as_str().into());
                }
                if let Some(s) = session {
                    m.insert("sessionContext".into(), json!({"attributes": s.to_json()}));
                }
            }
            Principal::IamUser {
                account,
                user_id,
                user_name,
                access_key_id,
                session,
                ..
            } => {
                m.insert("type".into(), "IAMUser".into());
                m.insert("principalId".into(), user_id.as_str().into());
                m.insert("arn".into(), self.arn().into());
                m.insert("accountId".into(), account.as_str().into());
                m.insert("accessKeyId".into(), access_key_id.as_str().into());
                m.insert("userName".into(), user_name.as_str().into());
                if let Some(s) = session {
                    m.insert("sessionContext".into(), json!({"attributes": s.to_json()}));
                }
            }
            Principal::AssumedRole {
                account,
                role_id,
                role_name,
                role_path,
                session_name,
                access_key_id,
                session,
            } => {
                m.insert("type".into(), "AssumedRole".into());
                m.insert(
                    "principalId".into(),
                    format!("{role_id}:{session_name}").into(),
                );
                m.insert("arn".into(), self.arn().into());
                m.insert("accountId".into(), account.as_str().into());
                m.insert("accessKeyId".into(), access_key_id.as_str().into());
                m.insert(
                    "sessionContext".into(),
                    json!({
                        "sessionIssuer": {
                            "type": "Role",
                            "principalId": role_id,
                            "arn": format!("arn:aws:iam::{account}:role{role_path}{role_name}"),
                            "accountId": account.as_str(),
                            "userName": role_name,
                        },
                        "webIdFederationData": {},
                        "attributes": session.to_json(),
                    }),
                );
            }
            Principal::AwsService { service } => {
                m.insert("type".into(), "AWSService".into());
                m.insert("invokedBy".into(), service.as_str().into());
            }
            // How CloudTrail writes an unsigned S3 request, in the bucket owner's records.
            Principal::Anonymous => {
                m.insert("type".into(), "AWSAccount".into());
                m.insert("principalId".into(), "".into());
                m.insert("accountId".into(), "anonymous".into());
            }
        }
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acct() -> AccountId {
        AccountId::parse("111122223333").unwrap()
    }

    #[test]
    fn root_identity() {
        let p = Principal::Root {
            account: acct(),
            access_key_id: "AKIAEXAMPLE".into(),
            alias: None,
            session: None,
        };
        assert_eq!(
            p.user_identity(),
            json!({"type":"Root","principalId":"111122223333",
                   "arn":"arn:aws:iam::111122223333:root","accountId":"111122223333",
                   "accessKeyId":"AKIAEXAMPLE"})
        );
    }

    #[test]
    fn assumed_role_identity_has_session_issuer() {
        let p = Principal::AssumedRole {
            account: acct(),
            role_id: "AROAEXAMPLE".into(),
            role_name: "Deployer".into(),
            role_path: "/".into(),
            session_name: "ci".into(),
            access_key_id: "ASIAEXAMPLE".into(),
            session: SessionAttributes {
                creation_date: "2025-03-04T09:58:12Z".into(),
                mfa_authenticated: true,
            },
        };
        let ui = p.user_identity();
        assert_eq!(ui["principalId"], "AROAEXAMPLE:ci");
        assert_eq!(
            ui["arn"],
            "arn:aws:sts::111122223333:assumed-role/Deployer/ci"
        );
        assert_eq!(
            ui["sessionContext"]["sessionIssuer"]["arn"],
            "arn:aws:iam::111122223333:role/Deployer"
        );
        assert_eq!(
            ui["sessionContext"]["attributes"]["mfaAuthenticated"],
            "true"
        );
    }

    #[test]
    fn anonymous_identity_is_cloudtrails_anonymous_account() {
        let p = Principal::Anonymous;
        assert_eq!(
            p.user_identity(),
            json!({"type": "AWSAccount", "principalId": "", "accountId": "anonymous"})
        );
        assert_eq!(p.account(), None);
        assert_eq!(p.access_key_id(), None);
    }

    #[test]
    fn iam_user_arn_includes_path() {
        let p = Principal::IamUser {
            account: acct(),
            user_id: "AIDAEXAMPLE".into(),
            user_name: "alice".into(),
            path: "/team/".into(),
            access_key_id: "AKIA1".into(),
            session: None,
        };
        assert_eq!(p.arn(), "arn:aws:iam::111122223333:user/team/alice");
        assert_eq!(p.user_identity()["userName"], "alice");
    }
}
