//! The CIS AWS Foundations Benchmark monitoring filters (v1.4–5.0 §4.1–4.15; Security Hub
//! CloudWatch.1–14), verbatim. Security Hub fails a control unless exactly these strings are
//! used, so they are kept byte for byte (DETECTIONS.md §9.1).

/// One CIS monitoring control and its metric filter pattern.
#[derive(Debug, Clone, Copy)]
pub struct CisFilter {
    /// CIS v1.4–5.0 number, e.g. `4.3`.
    pub cis: &'static str,
    /// Security Hub control, e.g. `CloudWatch.1` (empty when Security Hub has none).
    pub security_hub: &'static str,
    pub title: &'static str,
    pub pattern: &'static str,
}

/// The fourteen patterns Security Hub checks (CloudWatch.1–14), in CIS order.
pub const CIS_FILTERS: [CisFilter; 14] = [
    CisFilter {
        cis: "4.1",
        security_hub: "CloudWatch.2",
        title: "Unauthorized API calls",
        pattern: r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#,
    },
    CisFilter {
        cis: "4.2",
        security_hub: "CloudWatch.3",
        title: "Management console sign-in without MFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#,
    },
    CisFilter {
        cis: "4.3",
        security_hub: "CloudWatch.1",
        title: "Usage of the root user",
        pattern: r#"{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}"#,
    },
    CisFilter {
        cis: "4.4",
        security_hub: "CloudWatch.4",
        title: "IAM policy changes",
        pattern: r#"{($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || ($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || ($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || ($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || ($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || ($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy)}"#,
    },
    CisFilter {
        cis: "4.5",
        security_hub: "CloudWatch.5",
        title: "CloudTrail configuration changes",
        pattern: r#"{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || ($.eventName=StartLogging) || ($.eventName=StopLogging)}"#,
    },
    CisFilter {
        cis: "4.6",
        security_hub: "CloudWatch.6",
        title: "Console authentication failures",
        pattern: r#"{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}"#,
    },
    CisFilter {
        cis: "4.7",
        security_hub: "CloudWatch.7",
        title: "Disabling or scheduled deletion of customer managed keys",
        pattern: r#"{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}"#,
    },
    CisFilter {
        cis: "4.8",
        security_hub: "CloudWatch.8",
        title: "S3 bucket policy changes",
        pattern: r#"{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || ($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || ($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || ($.eventName=DeleteBucketReplication))}"#,
    },
    CisFilter {
        cis: "4.9",
        security_hub: "CloudWatch.9",
        title: "AWS Config configuration changes",
        pattern: r#"{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || ($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}"#,
    },
    CisFilter {
        cis: "4.10",
        security_hub: "CloudWatch.10",
        title: "Security group changes",
        pattern: r#"{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}"#,
    },
    CisFilter {
        cis: "4.11",
        security_hub: "CloudWatch.11",
        title: "Network ACL changes",
        pattern: r#"{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || ($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || ($.eventName=ReplaceNetworkAclAssociation)}"#,
    },
    CisFilter {
        cis: "4.12",
        security_hub: "CloudWatch.12",
        title: "Network gateway changes",
        pattern: r#"{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || ($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || ($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}"#,
    },
    CisFilter {
        cis: "4.13",
        security_hub: "CloudWatch.13",
        title: "Route table changes",
        pattern: r#"{($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || ($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || ($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable)}"#,
    },
    CisFilter {
        cis: "4.14",
        security_hub: "CloudWatch.14",
        title: "VPC changes",
        pattern: r#"{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || ($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || ($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || ($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || ($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}"#,
    },
];

/// Variants the CIS text prints besides Security Hub's strings, and 4.15 (no Security Hub control).
pub const CIS_VARIANTS: [CisFilter; 4] = [
    CisFilter {
        cis: "4.1 (v5.0)",
        security_hub: "",
        title: "Unauthorized API calls, excluding log delivery and HeadBucket",
        pattern: r#"{ ($.errorCode ="*UnauthorizedOperation") || ($.errorCode ="AccessDenied*") && ($.sourceIPAddress!="delivery.logs.amazonaws.com") && ($.eventName!="HeadBucket") }"#,
    },
    CisFilter {
        cis: "4.2 (CIS text)",
        security_hub: "",
        title: "Management console sign-in without MFA",
        pattern: r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    },
    CisFilter {
        cis: "4.10 (v5.0)",
        security_hub: "",
        title: "Security group changes, with ModifySecurityGroupRules",
        pattern: r#"{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || ($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || ($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup) || ($.eventName = ModifySecurityGroupRules)}"#,
    },
    CisFilter {
        cis: "4.15",
        security_hub: "",
        title: "AWS Organizations changes",
        pattern: r#"{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }"#,
    },
];
