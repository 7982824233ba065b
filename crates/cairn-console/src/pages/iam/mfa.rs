//! Setting up and removing a virtual MFA device, as AWS's console does it: name the device
//! (CreateVirtualMFADevice), scan its QR code or type its Base32 secret (shown on that answer
//! only), then give two consecutive codes (EnableMFADevice); a refused pair deletes the device
//! and the set-up starts over. Removing is DeactivateMFADevice, then DeleteVirtualMFADevice.
//!
//! The same steps serve an IAM user's page and the signed-in person's own Security
//! credentials, where the root user assigns its own device: IAM's API cannot do that, so the
//! console names the root user as AWS's console does ([`CONSOLE_ROOT_USER_NAME`]), which
//! CloudTrail records.
//!
//! [`CONSOLE_ROOT_USER_NAME`]: cairn_model::identity::CONSOLE_ROOT_USER_NAME

use std::sync::Arc;

use axum::response::Response;
use base64::Engine;
use cairn_wire::AwsError;
use serde_json::{Value, json};

use super::{Fields, field, iam};
use crate::Shared;
use crate::pages::{Me, error_of, with};
use crate::render::{page, see_other};
use crate::xml::text;

/// Whose device is being set up, and where its pages live.
pub struct Target {
    /// The address the set-up's pages hang under (`{base}/mfa`, `{base}/mfa/enable`), and
    /// where the person goes back to.
    pub base: String,
    /// What the way back is called (the user's name, "Security credentials").
    pub back: String,
    /// Whose device it is, as the page says it (the user's name, "the root user").
    pub owner: String,
    /// The `UserName` IAM's calls name.
    pub user_name: String,
    /// The navigation entry the pages belong to.
    pub nav: &'static str,
}

impl Target {
    fn frame(&self, shared: &Shared, me: &Me) -> Value {
        me.frame(shared, "Assign MFA device", self.nav)
    }

    fn show(&self, shared: &Shared, me: &Me, ctx: Value) -> Response {
        let ctx = with(
            json!({"base": self.base, "back": self.back, "owner": self.owner, "device": ""}),
            ctx,
        );
        page(
            &shared.templates,
            "iam_mfa.html",
            with(self.frame(shared, me), ctx),
        )
    }
}

/// The first step: naming the new device (`suggested` to start with).
pub fn form(shared: &Shared, me: &Me, target: &Target, suggested: &str) -> Response {
    target.show(shared, me, json!({"device": suggested}))
}

/// CreateVirtualMFADevice; the answer shows its QR code and seed (once) and asks for two
/// consecutive codes.
pub async fn create(shared: &Arc<Shared>, me: &Me, target: &Target, f: &Fields) -> Response {
    let device = field(f, "device").trim();
    let ctx = match iam(
        shared,
        me,
        "CreateVirtualMFADevice",
        json!({"VirtualMFADeviceName": device}),
    )
    .await
    {
        Ok(v) => {
            let d = |k: &str| text(&v, &["VirtualMFADevice", k]).to_owned();
            // AWS answers the Base32 seed base64-encoded, like the PNG.
            let seed = base64::engine::general_purpose::STANDARD
                .decode(d("Base32StringSeed"))
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_default();
            json!({
                "device": device,
                "serial": d("SerialNumber"),
                "qr": format!("data:image/png;base64,{}", d("QRCodePNG")),
                "seed": seed,
            })
        }
        Err(e) => json!({"device": device, "error": error_of(&e)}),
    };
    target.show(shared, me, ctx)
}

/// EnableMFADevice with two consecutive codes, then back to `{base}#mfa`. If they are refused
/// the new device is deleted (its seed is never shown again) and the set-up starts over.
pub async fn enable(shared: &Arc<Shared>, me: &Me, target: &Target, f: &Fields) -> Response {
    let serial = field(f, "serial");
    let r = iam(
        shared,
        me,
        "EnableMFADevice",
        json!({
            "UserName": target.user_name,
            "SerialNumber": serial,
            "AuthenticationCode1": field(f, "code1").trim(),
            "AuthenticationCode2": field(f, "code2").trim(),
        }),
    )
    .await;
    match r {
        Ok(_) => see_other(&format!("{}#mfa", target.base)),
        Err(e) => {
            let _ = iam(
                shared,
                me,
                "DeleteVirtualMFADevice",
                json!({"SerialNumber": serial}),
            )
            .await;
            target.show(
                shared,
                me,
                json!({"device": field(f, "device"), "error": error_of(&e), "again": true}),
            )
        }
    }
}

/// DeactivateMFADevice, then DeleteVirtualMFADevice.
pub async fn remove(
    shared: &Arc<Shared>,
    me: &Me,
    target: &Target,
    f: &Fields,
) -> Result<Value, AwsError> {
    let serial = field(f, "serial");
    iam(
        shared,
        me,
        "DeactivateMFADevice",
        json!({"UserName": target.user_name, "SerialNumber": serial}),
    )
    .await?;
    iam(
        shared,
        me,
        "DeleteVirtualMFADevice",
        json!({"SerialNumber": serial}),
    )
    .await
}
