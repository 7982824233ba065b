//! STS's wire shapes: the query codec (version 2011-06-15, XML answers) and the documents its
//! answers and records carry.

use cairn_model::{Principal, timefmt};
use cairn_store::identity::AccessKey;
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use crate::pipeline::codec::query::QueryCodec;
use crate::recorder::CallContext;

pub(super) static CODEC: QueryCodec = QueryCodec {
    version: "2011-06-15",
    xmlns: "https://sts.amazonaws.com/doc/2011-06-15/",
};

/// `aws:userid` of a principal, as GetCallerIdentity answers it.
fn user_id(p: &Principal) -> String {
    match p {
        Principal::Root { account, .. } => account.to_string(),
        Principal::IamUser { user_id, .. } => user_id.clone(),
        Principal::AssumedRole {
            role_id,
            session_name,
            ..
        } => format!("{role_id}:{session_name}"),
        Principal::AwsService { service } => service.clone(),
        // STS takes no unsigned calls; named for completeness.
        Principal::Anonymous => String::new(),
    }
}

/// GetCallerIdentity's answer.
pub(super) fn caller_identity_xml(ctx: &CallContext) -> String {
    format!(
        "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
        escape(&ctx.principal.arn()),
        escape(&user_id(&ctx.principal)),
        escape(&ctx.recipient_account)
    )
}

pub(super) fn credentials_xml(k: &AccessKey) -> String {
    format!(
        "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&k.access_key_id),
        escape(&k.secret_access_key),
        escape(k.session_token.as_deref().unwrap_or("")),
        timefmt::event_time(k.expires_ms.unwrap_or(0)),
    )
}

/// CloudTrail's record of new credentials: never the secret key.
pub(super) fn credentials_json(k: &AccessKey) -> Value {
    json!({
        "accessKeyId": k.access_key_id,
        "sessionToken": k.session_token,
        "expiration": timefmt::java_date(k.expires_ms.unwrap_or(0)),
    })
}
