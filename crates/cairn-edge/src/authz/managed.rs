//! AWS managed policies cairn knows, by ARN. Their documents are AWS's where AWS's are small;
//! `ReadOnlyAccess` and the CloudTrail policies are reduced to the services cairn serves
//! (docs/compatibility.md says so).

/// (name, policy id, document)
const CATALOGUE: [(&str, &str, &str); 11] = [
    (
        "AdministratorAccess",
        "ANPAIWMBCKSKIEE64ZLYK",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
    ),
    (
        "PowerUserAccess",
        "ANPAJYRXTHIB4FOVS3ZXS",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"},{"Effect":"Allow","Action":["iam:CreateServiceLinkedRole","iam:DeleteServiceLinkedRole","iam:ListRoles","organizations:DescribeOrganization","account:ListRegions","account:GetAccountInformation"],"Resource":"*"}]}"#,
    ),
    (
        "ReadOnlyAccess",
        "ANPAILL3HVNFSB6DCOWYQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:Describe*","cloudtrail:Get*","cloudtrail:List*","cloudtrail:LookupEvents","iam:Generate*","iam:Get*","iam:List*","iam:Simulate*","kms:Describe*","kms:Get*","kms:List*","s3:Describe*","s3:Get*","s3:List*","sts:GetCallerIdentity"],"Resource":"*"}]}"#,
    ),
    (
        "IAMFullAccess",
        "ANPAI7XKCFMBPM3QQRRVQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*","organizations:DescribeAccount","organizations:DescribeOrganization","organizations:DescribeOrganizationalUnit","organizations:DescribePolicy","organizations:ListChildren","organizations:ListParents","organizations:ListPoliciesForTarget","organizations:ListRoots","organizations:ListPolicies","organizations:ListTargetsForPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "IAMReadOnlyAccess",
        "ANPAJKSO7NDY4T57MWDSQ",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GenerateCredentialReport","iam:GenerateServiceLastAccessedDetails","iam:Get*","iam:List*","iam:SimulateCustomPolicy","iam:SimulatePrincipalPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "IAMUserChangePassword",
        "ANPAJ4L4MM2A7QIEB56MS",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ChangePassword"],"Resource":["arn:aws:iam::*:user/${aws:username}"]},{"Effect":"Allow","Action":["iam:GetAccountPasswordPolicy"],"Resource":"*"}]}"#,
    ),
    (
        "AWSCloudTrail_FullAccess",
        "ANPAIQNUJTQYDRJPC3BNK",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:*"],"Resource":"*"},{"Effect":"Allow","Action":["s3:CreateBucket","s3:DeleteBucket","s3:ListAllMyBuckets","s3:PutBucketPolicy","s3:ListBucket","s3:GetObject","s3:GetBucketLocation","s3:GetBucketPolicy"],"Resource":"*"},{"Effect":"Allow","Action":["kms:ListKeys","kms:ListAliases","kms:CreateKey","kms:CreateAlias","kms:DescribeKey"],"Resource":"*"},{"Effect":"Allow","Action":["iam:ListRoles","iam:GetRole","iam:GetUser"],"Resource":"*"}]}"#,
    ),
    (
        "AWSCloudTrail_ReadOnlyAccess",
        "ANPAJDU7KJADWBSEQ3E7S",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:Get*","cloudtrail:Describe*","cloudtrail:List*","cloudtrail:LookupEvents"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3FullAccess",
        "ANPAIFIR6V6BVTRAHWINE",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","s3-object-lambda:*"],"Resource":"*"}]}"#,
    ),
    (
        "AmazonS3ReadOnlyAccess",
        "ANPAIZTJ4DXE7G6AGAE6M",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
    (
        "AWSKeyManagementServicePowerUser",
        "ANPAJMWCXC5OT5RXKQBCA",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:CreateAlias","kms:CreateKey","kms:DeleteAlias","kms:Describe*","kms:GenerateRandom","kms:Get*","kms:List*","kms:TagResource","kms:UntagResource","iam:ListGroups","iam:ListRoles","iam:ListUsers"],"Resource":"*"}]}"#,
    ),
];

/// An AWS managed policy: (name, id, document), by ARN.
pub fn aws_managed_policy(arn: &str) -> Option<(&'static str, &'static str, &'static str)> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    CATALOGUE.iter().copied().find(|(n, _, _)| *n == name)
}

/// Every AWS managed policy cairn has, as (arn, name, id, document).
pub fn all() -> impl Iterator<Item = (String, &'static str, &'static str, &'static str)> {
    CATALOGUE
        .iter()
        .map(|(n, id, doc)| (format!("arn:aws:iam::aws:policy/{n}"), *n, *id, *doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_documents_are_valid_identity_policies() {
        for (arn, _, _, doc) in all() {
            cairn_policy::PolicyDocument::parse(doc, cairn_policy::PolicyKind::Identity)
                .unwrap_or_else(|e| panic!("{arn}: {e}"));
        }
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/AdministratorAccess").is_some());
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/Nope").is_none());
        assert!(aws_managed_policy("arn:aws:iam::aws:policy/IAMUserChangePassword").is_some());
    }
}
