//! Service control policies: AWS Organizations' guardrails on every principal of a member
//! account, its root user included. A call is allowed only if, at every level from the
//! organization's root down through its organizational units to the account, some attached
//! SCP allows it and none denies it; the management account, AWS services and service-linked
//! roles are not subject to them. Judged before the caller's own policies, with the same
//! request context.
//!
//! What applies to an account (its levels' parsed policies) is cached while both the
//! Organizations store's generation and IAM's stand still: every change to an organization
//! also moves IAM's generation (`IdentityStore::mark_changed`), which every node of a cluster
//! reads when it authenticates a call, so a store that cannot tell its own (PostgreSQL) is
//! followed through IAM's, without another reading.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cairn_model::Principal;
use cairn_policy::{Outcome, PolicyDocument, Request};
use cairn_store::organizations::SCP;

use super::Denied;
use crate::app::App;

/// The SCPs on each level of an account's path; `None`: none apply to it.
type Levels = Option<Arc<Vec<Vec<PolicyDocument>>>>;

/// IAM's generation and the Organizations store's (when it keeps one).
type Generation = (u64, Option<u64>);

#[derive(Default)]
pub struct ScpCache {
    /// ((IAM's generation, the Organizations store's), account → levels)
    entries: RwLock<(Generation, HashMap<String, Levels>)>,
}

impl ScpCache {
    fn levels(&self, app: &App, account: &str) -> Result<Levels, String> {
        let generation = app
            .identity
            .cache_generation_seen()
            .map(|iam| (iam, app.organizations.generation()));
        if let Some(g) = generation
            && let Ok(e) = self.entries.read()
            && e.0 == g
            && let Some(l) = e.1.get(account)
        {
            return Ok(l.clone());
        }
        let levels = compute(app, account)?;
        if let Some(g) = generation
            && let Ok(mut e) = self.entries.write()
        {
            if e.0 != g {
                *e = (g, HashMap::new());
            }
            e.1.insert(account.to_owned(), levels.clone());
        }
        Ok(levels)
    }
}

fn compute(app: &App, account: &str) -> Result<Levels, String> {
    let Some(org) = app
        .organizations
        .organization_of(account)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    if org.management_account == account || !org.policy_type_enabled(SCP) {
        return Ok(None);
    }
    let levels = org
        .path_to(account)
        .iter()
        .map(|target| {
            org.attached_to(target, SCP)
                .into_iter()
                .filter_map(|p| PolicyDocument::parse_lenient(&p.content).ok())
                .collect()
        })
        .collect();
    Ok(Some(Arc::new(levels)))
}

/// Whether the organization's SCPs let `request` through, for a caller in `account`.
pub fn check(app: &App, principal: &Principal, request: &Request<'_>) -> Result<(), Denied> {
    let account = match principal {
        Principal::AwsService { .. } => return Ok(()),
        Principal::AssumedRole { role_path, .. } if role_path.starts_with("/aws-service-role/") => {
            return Ok(());
        }
        p => match p.account() {
            Some(a) => a.to_string(),
            None => return Ok(()),
        },
    };
    let head = || {
        format!(
            "User: {} is not authorized to perform: {} on resource: {}",
            request.caller.arn(),
            request.action,
            request.resource
        )
    };
    let levels = match app.scps.levels(app, &account) {
        Ok(Some(l)) => l,
        Ok(None) => return Ok(()),
        Err(e) => {
            tracing::error!(error = %e, "could not read the organization's policies; denying");
            return Err(Denied { message: head() });
        }
    };
    for level in levels.iter() {
        let mut allowed = false;
        for doc in level {
            match doc.evaluate(request) {
                Outcome::ExplicitDeny => {
                    return Err(Denied {
                        message: format!(
                            "{} with an explicit deny in a service control policy",
                            head()
                        ),
                    });
                }
                Outcome::Allow => allowed = true,
                Outcome::NotApplicable => {}
            }
        }
        if !allowed {
            return Err(Denied {
                message: format!(
                    "{} because no service control policy allows the {} action",
                    head(),
                    request.action
                ),
            });
        }
    }
    Ok(())
}
