//! Authentication: from a request's SigV4 signature to the principal behind it.

use cairn_model::Principal;
use cairn_store::identity::KeyOwner;
use cairn_wire::sigv4::{self, KeySecret, ParsedAuth, RequestParts, SigV4Error};

use crate::app::App;

/// Verifies the signature and returns who signed it.
pub fn authenticate(
    app: &App,
    auth: &ParsedAuth,
    parts: &RequestParts<'_>,
    body: &[u8],
) -> Result<Principal, SigV4Error> {
    let key = match app.identity.key(&auth.access_key_id) {
        Ok(Some(k)) if k.active => k,
        Ok(_) => return Err(SigV4Error::UnknownKey),
        Err(e) => {
            tracing::error!(error = %e, "identity store unavailable");
            return Err(SigV4Error::UnknownKey);
        }
    };
    sigv4::verify(
        auth,
        parts,
        &KeySecret {
            secret_access_key: &key.secret_access_key,
            session_token: key.session_token.as_deref(),
            expires_ms: key.expires_ms,
        },
        body,
        app.clock.now_millis(),
    )?;
    Ok(match key.owner {
        KeyOwner::Root => Principal::Root {
            account: key.account,
            access_key_id: key.access_key_id,
            alias: None,
            session: None,
        },
    })
}
