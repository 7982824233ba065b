//! Principals' identity policies, parsed once and kept until IAM changes.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cairn_model::Principal;
use cairn_policy::PolicyDocument;
use cairn_store::identity::{Grants, IamError};

use super::IdentityPolicies;
use crate::app::App;

#[derive(Default)]
pub struct GrantCache {
    /// principal key → (identity-store generation, policies)
    entries: RwLock<HashMap<String, (u64, IdentityPolicies)>>,
}

fn key_of(p: &Principal) -> Option<String> {
    match p {
        Principal::IamUser { user_id, .. } => Some(format!("user:{user_id}")),
        Principal::AssumedRole { role_id, .. } => Some(format!("role:{role_id}")),
        Principal::Root { .. } | Principal::AwsService { .. } | Principal::Anonymous => None,
    }
}

fn parse(g: Grants) -> Vec<PolicyDocument> {
    let managed = g.aws_managed.iter().filter_map(|arn| {
        super::managed::aws_managed_policy(arn).map(|(_, _, doc)| doc.to_owned())
    });
    g.documents
        .iter()
        .cloned()
        .chain(managed)
        .filter_map(|d| match PolicyDocument::parse_lenient(&d) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "a stored policy no longer parses; ignoring it");
                None
            }
        })
        .collect()
}

impl GrantCache {
    pub fn identity_policies(
        &self,
        app: &App,
        principal: &Principal,
    ) -> Result<IdentityPolicies, IamError> {
        let Some(key) = key_of(principal) else {
            return Ok(Arc::new(Vec::new()));
        };
        // Inside a call that changed IAM and has not committed, nothing read may be cached.
        let generation = app.identity.cache_generation();
        if let Some(generation) = generation
            && let Some((g, p)) = self
                .entries
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&key)
            && *g == generation
        {
            return Ok(Arc::clone(p));
        }
        let grants = match principal {
            Principal::IamUser { user_id, .. } => match app.identity.user_by_id(user_id)? {
                Some(u) => app.identity.user_grants(&u)?,
                None => Grants::default(),
            },
            Principal::AssumedRole { role_id, .. } => match app.identity.role_by_id(role_id)? {
                Some(r) => app.identity.role_grants(&r)?,
                None => Grants::default(),
            },
            _ => Grants::default(),
        };
        let policies = Arc::new(parse(grants));
        if let Some(generation) = generation {
            self.entries
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(key, (generation, Arc::clone(&policies)));
        }
        Ok(policies)
    }
}
