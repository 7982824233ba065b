//! What a principal's identity policies are: the documents that decide its calls, gathered
//! from the store's own answers (the same for every backend).

use super::error::IamResult;
use super::{Grants, IdentityStore, Owner, OwnerKind, Role, User};

fn add_owner<S: IdentityStore + ?Sized>(s: &S, g: &mut Grants, owner: Owner<'_>) -> IamResult<()> {
    for name in s.inline_policy_names(owner)? {
        g.documents.push(s.inline_policy(owner, &name)?);
    }
    for arn in s.attached_policies(owner)? {
        match s.policy_document(&arn)? {
            Some(doc) => g.documents.push(doc),
            None => g.aws_managed.push(arn),
        }
    }
    Ok(())
}

/// A user's policies, with those of its groups.
pub(super) fn user_grants<S: IdentityStore + ?Sized>(s: &S, user: &User) -> IamResult<Grants> {
    let mut g = Grants::default();
    add_owner(
        s,
        &mut g,
        Owner {
            kind: OwnerKind::User,
            id: &user.user_id,
            name: &user.name,
        },
    )?;
    for group in s.groups_of(user)? {
        add_owner(
            s,
            &mut g,
            Owner {
                kind: OwnerKind::Group,
                id: &group.group_id,
                name: &group.name,
            },
        )?;
    }
    Ok(g)
}

/// A role's permission policies.
pub(super) fn role_grants<S: IdentityStore + ?Sized>(s: &S, role: &Role) -> IamResult<Grants> {
    let mut g = Grants::default();
    add_owner(
        s,
        &mut g,
        Owner {
            kind: OwnerKind::Role,
            id: &role.role_id,
            name: &role.name,
        },
    )?;
    Ok(g)
}
