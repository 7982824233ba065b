//! AWS Organizations: organizations and which accounts belong to them.
//!
//! [`OrganizationsStore`] is the contract. An organization is kept whole, as one document the
//! Organizations service reads and writes (its root, organizational units, accounts, policies
//! and their attachments are the service's model, not the store's), beside an index of the
//! accounts in it. A change reads the document with [`OrganizationsStore::get_for_update`]
//! inside the call's write transaction, so two calls changing one organization never lose
//! each other's change. [`SqliteOrganizations`] is the embedded backend,
//! [`PgOrganizations`] the PostgreSQL one; the shared suite (`crate::suite::organizations`)
//! holds any backend to this contract.

mod model;
mod pg;
mod sqlite;

pub use model::{
    CreateAccountRequest, Delegated, Handshake, Member, Organization, Policy, Root, SCP, Unit,
};
pub use pg::PgOrganizations;
pub use sqlite::SqliteOrganizations;

use crate::error::StoreError;

/// The raw contract each backend implements: documents as text, beside the members' index.
/// Callers use [`OrganizationsStore`], which every backend gets from this.
pub trait OrganizationDocuments: Send + Sync {
    /// The organization `account` belongs to (as its management account or a member).
    fn org_of(&self, account: &str) -> Result<Option<String>, StoreError>;
    /// An organization's document, as committed.
    fn get(&self, org: &str) -> Result<Option<String>, StoreError>;
    /// Every organization's id, in order.
    fn ids(&self) -> Result<Vec<String>, StoreError>;
    /// An organization's document for a change: read inside the call's write transaction,
    /// which holds it until the call's outcome is known.
    fn get_for_update(&self, org: &str) -> Result<Option<String>, StoreError>;
    /// Writes an organization's document (new or changed) and the accounts that belong to it
    /// now (accounts that left are no longer its members).
    fn put(&self, org: &str, document: &str, accounts: &[String]) -> Result<(), StoreError>;
    /// Removes an organization and its members' index.
    fn delete(&self, org: &str) -> Result<(), StoreError>;
    /// Moves on after every committed change, for caches of what organizations decide
    /// (service control policies); `None`: this backend cannot tell (changes may come from
    /// other processes), so nothing may be cached.
    fn generation(&self) -> Option<u64>;
}

fn decode(org: &str, text: Option<String>) -> Result<Option<Organization>, StoreError> {
    text.map(|t| {
        serde_json::from_str(&t)
            .map_err(|e| StoreError::Invalid(format!("organization {org}: {e}")))
    })
    .transpose()
}

/// Organizations, typed: what the Organizations service and authorization use.
pub trait OrganizationsStore: OrganizationDocuments {
    /// The organization `account` belongs to, if any.
    fn organization_of(&self, account: &str) -> Result<Option<Organization>, StoreError> {
        match self.org_of(account)? {
            Some(id) => self.organization(&id),
            None => Ok(None),
        }
    }

    fn organization(&self, id: &str) -> Result<Option<Organization>, StoreError> {
        decode(id, self.get(id)?)
    }

    /// Every organization (what an account outside them is invited to is found there).
    fn organizations(&self) -> Result<Vec<Organization>, StoreError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            out.extend(self.organization(&id)?);
        }
        Ok(out)
    }

    /// The organization `account` belongs to, read for a change (see
    /// [`OrganizationDocuments::get_for_update`]).
    fn organization_for_update(&self, account: &str) -> Result<Option<Organization>, StoreError> {
        match self.org_of(account)? {
            Some(id) => decode(&id, self.get_for_update(&id)?),
            None => Ok(None),
        }
    }

    /// An organization by id, read for a change.
    fn organization_for_change(&self, id: &str) -> Result<Option<Organization>, StoreError> {
        decode(id, self.get_for_update(id)?)
    }

    /// Writes an organization, its members' index following its accounts.
    fn save(&self, org: &Organization) -> Result<(), StoreError> {
        let text = serde_json::to_string(org)
            .map_err(|e| StoreError::Invalid(format!("organization {}: {e}", org.id)))?;
        self.put(&org.id, &text, &org.account_ids())
    }
}

impl<T: OrganizationDocuments + ?Sized> OrganizationsStore for T {}
