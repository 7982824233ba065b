//! Organization trails: a trail of an organization's management account with
//! `IsOrganizationTrail` takes the records of every account of the organization, and keeps each
//! account's log files and digests apart, under `AWSLogs/<o-id>/<account>/…`, with one digest
//! chain per (account, source region).
//!
//! Delivery plans and digest bookkeeping name a file's *source*: its region for the trail's
//! own account, `<account>/<region>` for another account of the organization. The store keeps
//! the source where a single-account trail keeps the region, so a chain stays one per source.

use cairn_store::StoreError;
use cairn_store::organizations::OrganizationsStore;
use cairn_store::trails::Trail;

/// The organization a trail delivers for: its id (the key folder) and its accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub id: String,
    pub accounts: Vec<String>,
}

/// The organization `t` delivers for, if it is an organization trail whose account still
/// manages an organization; otherwise the trail delivers for its own account alone.
pub fn scope_of(orgs: &dyn OrganizationsStore, t: &Trail) -> Result<Option<Scope>, StoreError> {
    if !t.organization {
        return Ok(None);
    }
    Ok(orgs
        .organization_of(&t.account)?
        .filter(|o| o.management_account == t.account)
        .map(|o| Scope {
            id: o.id.clone(),
            accounts: o.account_ids(),
        }))
}

/// The source of a file of `account`'s records from `region` in trail `t`.
pub fn source(t: &Trail, account: &str, region: &str) -> String {
    if account == t.account {
        region.to_owned()
    } else {
        format!("{account}/{region}")
    }
}

/// A source's account and region.
pub fn split<'a>(t: &'a Trail, source: &'a str) -> (&'a str, &'a str) {
    match source.split_once('/') {
        Some((account, region)) => (account, region),
        None => (t.account.as_str(), source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        let t = Trail {
            account: "111111111111".into(),
            ..Trail::default()
        };
        assert_eq!(source(&t, "111111111111", "eu-west-1"), "eu-west-1");
        assert_eq!(split(&t, "eu-west-1"), ("111111111111", "eu-west-1"));
        let s = source(&t, "222222222222", "us-east-1");
        assert_eq!(s, "222222222222/us-east-1");
        assert_eq!(split(&t, &s), ("222222222222", "us-east-1"));
    }
}
