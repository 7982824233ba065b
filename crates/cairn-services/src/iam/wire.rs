//! IAM's wire shapes: the query codec (version 2010-05-08), its XML shapes (members in the
//! order of the service model) and the matching `responseElements` CloudTrail records
//! (lower-camel names, Java-style dates).

use cairn_model::timefmt;
use cairn_store::identity::{
    AccessKey, Account, Group, LoginProfile, ManagedPolicy, MfaDevice, PolicyVersion, Role, Tags,
    User,
};
use cairn_wire::xml::escape;
use serde_json::{Value, json};

use crate::pipeline::codec::query::QueryCodec;

pub(super) static CODEC: QueryCodec = QueryCodec {
    version: "2010-05-08",
    xmlns: "https://iam.amazonaws.com/doc/2010-05-08/",
};

/// `<Name>value</Name>` with the value escaped.
pub fn el(name: &str, value: &str) -> String {
    format!("<{name}>{}</{name}>", escape(value))
}

pub fn time(ms: i64) -> String {
    timefmt::event_time(ms)
}

fn tags_xml(tags: &Tags) -> String {
    if tags.is_empty() {
        return String::new();
    }
    let members: String = tags
        .iter()
        .map(|(k, v)| format!("<member>{}{}</member>", el("Key", k), el("Value", v)))
        .collect();
    format!("<Tags>{members}</Tags>")
}

fn tags_json(tags: &Tags) -> Option<Value> {
    (!tags.is_empty()).then(|| {
        Value::Array(
            tags.iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect(),
        )
    })
}

pub fn user(u: &User, wrapper: &str) -> String {
    format!(
        "<{wrapper}>{}{}{}{}{}{}{}</{wrapper}>",
        el("Path", &u.path),
        el("UserName", &u.name),
        el("UserId", &u.user_id),
        el("Arn", &u.arn()),
        el("CreateDate", &time(u.created_ms)),
        u.password_last_used_ms
            .map(|t| el("PasswordLastUsed", &time(t)))
            .unwrap_or_default(),
        tags_xml(&u.tags),
    )
}

/// The root user as IAM describes it (GetUser by root, a root device's `User`): the account
/// id as its id, the account's ARN, the account's creation; no path and no user name.
pub fn root_user(account: &Account, wrapper: &str) -> String {
    format!(
        "<{wrapper}>{}{}{}</{wrapper}>",
        el("UserId", account.id.as_str()),
        el("Arn", &format!("arn:aws:iam::{}:root", account.id)),
        el("CreateDate", &time(account.created_ms)),
    )
}

pub fn user_json(u: &User) -> Value {
    let mut v = json!({
        "path": u.path,
        "userName": u.name,
        "userId": u.user_id,
        "arn": u.arn(),
        "createDate": timefmt::java_date(u.created_ms),
    });
    if let Some(t) = tags_json(&u.tags) {
        v["tags"] = t;
    }
    v
}

pub fn group(g: &Group, wrapper: &str) -> String {
    format!(
        "<{wrapper}>{}{}{}{}{}</{wrapper}>",
        el("Path", &g.path),
        el("GroupName", &g.name),
        el("GroupId", &g.group_id),
        el("Arn", &g.arn()),
        el("CreateDate", &time(g.created_ms)),
    )
}

pub fn group_json(g: &Group) -> Value {
    json!({
        "path": g.path,
        "groupName": g.name,
        "groupId": g.group_id,
        "arn": g.arn(),
        "createDate": timefmt::java_date(g.created_ms),
    })
}

/// AWS answers policy documents URL-encoded inside the XML.
pub fn url_encoded(doc: &str) -> String {
    percent_encoding::utf8_percent_encode(doc, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
        .replace("%7E", "~")
}

pub fn role(r: &Role, wrapper: &str) -> String {
    let last_used = match &r.last_used {
        Some((ms, region)) => format!(
            "<RoleLastUsed>{}{}</RoleLastUsed>",
            el("LastUsedDate", &time(*ms)),
            el("Region", region)
        ),
        None => "<RoleLastUsed/>".into(),
    };
    format!(
        "<{wrapper}>{}{}{}{}{}{}{}{}{}{last_used}</{wrapper}>",
        el("Path", &r.path),
        el("RoleName", &r.name),
        el("RoleId", &r.role_id),
        el("Arn", &r.arn()),
        el("CreateDate", &time(r.created_ms)),
        el("AssumeRolePolicyDocument", &url_encoded(&r.trust_policy)),
        r.description
            .as_deref()
            .map(|d| el("Description", d))
            .unwrap_or_default(),
        el("MaxSessionDuration", &r.max_session_duration.to_string()),
        tags_xml(&r.tags),
    )
}

pub fn role_json(r: &Role) -> Value {
    let mut v = json!({
        "path": r.path,
        "roleName": r.name,
        "roleId": r.role_id,
        "arn": r.arn(),
        "createDate": timefmt::java_date(r.created_ms),
        "assumeRolePolicyDocument": url_encoded(&r.trust_policy),
    });
    if let Some(d) = &r.description {
        v["description"] = Value::String(d.clone());
    }
    if let Some(t) = tags_json(&r.tags) {
        v["tags"] = t;
    }
    v
}

pub fn access_key(k: &AccessKey, user_name: &str, with_secret: bool) -> String {
    format!(
        "{}{}{}{}{}",
        el("UserName", user_name),
        el("AccessKeyId", &k.access_key_id),
        el("Status", if k.active { "Active" } else { "Inactive" }),
        if with_secret {
            el("SecretAccessKey", &k.secret_access_key)
        } else {
            String::new()
        },
        el("CreateDate", &time(k.created_ms)),
    )
}

/// CloudTrail's record of a new key: never the secret.
pub fn access_key_json(k: &AccessKey, user_name: &str) -> Value {
    json!({
        "accessKeyId": k.access_key_id,
        "createDate": timefmt::java_date(k.created_ms),
        "status": if k.active { "Active" } else { "Inactive" },
        "userName": user_name,
    })
}

pub fn login_profile(p: &LoginProfile) -> String {
    format!(
        "<LoginProfile>{}{}{}</LoginProfile>",
        el("UserName", &p.user_name),
        el("CreateDate", &time(p.created_ms)),
        el("PasswordResetRequired", &p.reset_required.to_string()),
    )
}

pub fn login_profile_json(p: &LoginProfile) -> Value {
    json!({
        "createDate": timefmt::java_date(p.created_ms),
        "passwordResetRequired": p.reset_required,
        "userName": p.user_name,
    })
}

pub fn policy(p: &ManagedPolicy, wrapper: &str) -> String {
    format!(
        "<{wrapper}>{}{}{}{}{}{}{}{}{}{}{}{}</{wrapper}>",
        el("PolicyName", &p.name),
        el("PolicyId", &p.policy_id),
        el("Arn", &p.arn),
        el("Path", &p.path),
        el("DefaultVersionId", &p.default_version),
        el("AttachmentCount", &p.attachment_count.to_string()),
        el("PermissionsBoundaryUsageCount", "0"),
        el("IsAttachable", "true"),
        p.description
            .as_deref()
            .map(|d| el("Description", d))
            .unwrap_or_default(),
        el("CreateDate", &time(p.created_ms)),
        el("UpdateDate", &time(p.updated_ms)),
        tags_xml(&p.tags),
    )
}

pub fn policy_json(p: &ManagedPolicy) -> Value {
    let mut v = json!({
        "policyName": p.name,
        "policyId": p.policy_id,
        "arn": p.arn,
        "path": p.path,
        "defaultVersionId": p.default_version,
        "attachmentCount": p.attachment_count,
        "permissionsBoundaryUsageCount": 0,
        "isAttachable": true,
        "createDate": timefmt::java_date(p.created_ms),
        "updateDate": timefmt::java_date(p.updated_ms),
    });
    if let Some(d) = &p.description {
        v["description"] = Value::String(d.clone());
    }
    if let Some(t) = tags_json(&p.tags) {
        v["tags"] = t;
    }
    v
}

pub fn policy_version(v: &PolicyVersion, wrapper: &str) -> String {
    format!(
        "<{wrapper}>{}{}{}{}</{wrapper}>",
        el("Document", &url_encoded(&v.document)),
        el("VersionId", &v.version_id),
        el("IsDefaultVersion", &v.is_default.to_string()),
        el("CreateDate", &time(v.created_ms)),
    )
}

pub fn policy_version_json(v: &PolicyVersion) -> Value {
    json!({
        "versionId": v.version_id,
        "isDefaultVersion": v.is_default,
        "createDate": timefmt::java_date(v.created_ms),
    })
}

/// Who a listed virtual MFA device is enabled for.
#[derive(Clone)]
pub enum DeviceOwner {
    User(User),
    Root(Account),
}

/// A virtual MFA device; a new one (`with_seed`) carries its secret as `Base32StringSeed` and
/// as the QR code authenticator apps scan (`QRCodePNG`), both base64 as blobs are on the wire.
pub fn mfa_device(
    d: &MfaDevice,
    owner: Option<&DeviceOwner>,
    with_seed: bool,
    wrapper: &str,
) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let seed = if with_seed {
        let b32 = cairn_store::identity::totp::base32(&d.seed);
        let name = d.serial.rsplit('/').next().unwrap_or_default();
        let qr = super::qr::png(&super::qr::otpauth_uri(name, d.account.as_str(), &b32))
            .map(|png| el("QRCodePNG", &b64.encode(png)))
            .unwrap_or_default();
        format!("{}{qr}", el("Base32StringSeed", &b64.encode(b32)))
    } else {
        String::new()
    };
    format!(
        "<{wrapper}>{}{seed}{}{}</{wrapper}>",
        el("SerialNumber", &d.serial),
        match owner {
            Some(DeviceOwner::User(u)) => user(u, "User"),
            Some(DeviceOwner::Root(a)) => root_user(a, "User"),
            None => String::new(),
        },
        d.enabled_ms
            .map(|t| el("EnableDate", &time(t)))
            .unwrap_or_default(),
    )
}
