//! Where policy documents live in a stack: one table of resource types and properties, so a
//! rule that looks at every policy never needs to know where policies are written.

use iamlint_core::{Resource, Stack, Value, ValueKind};

/// What a policy document is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocKind {
    /// Attached to an IAM role, user or group.
    Identity,
    /// A role's trust policy.
    Trust,
    /// A resource-based policy (bucket, queue, topic, key, secret...).
    Resource,
    /// A service control policy (`AWS::Organizations::Policy` of type SCP).
    ServiceControl,
}

/// One policy document of the stack.
#[derive(Clone, Debug)]
pub struct Located<'a> {
    pub resource: &'a Resource,
    pub kind: DocKind,
    /// The property path, for messages (`Policies[0].PolicyDocument`).
    pub path: String,
    pub document: &'a Value,
}

/// Resource types with a policy document in one property: (type, property, kind).
const SINGLE: &[(&str, &str, DocKind)] = &[
    ("AWS::IAM::Role", "AssumeRolePolicyDocument", DocKind::Trust),
    ("AWS::IAM::Policy", "PolicyDocument", DocKind::Identity),
    (
        "AWS::IAM::ManagedPolicy",
        "PolicyDocument",
        DocKind::Identity,
    ),
    ("AWS::IAM::RolePolicy", "PolicyDocument", DocKind::Identity),
    ("AWS::IAM::UserPolicy", "PolicyDocument", DocKind::Identity),
    ("AWS::IAM::GroupPolicy", "PolicyDocument", DocKind::Identity),
    ("AWS::S3::BucketPolicy", "PolicyDocument", DocKind::Resource),
    ("AWS::SQS::QueuePolicy", "PolicyDocument", DocKind::Resource),
    ("AWS::SNS::TopicPolicy", "PolicyDocument", DocKind::Resource),
    ("AWS::KMS::Key", "KeyPolicy", DocKind::Resource),
    (
        "AWS::SecretsManager::ResourcePolicy",
        "ResourcePolicy",
        DocKind::Resource,
    ),
    (
        "AWS::ECR::Repository",
        "RepositoryPolicyText",
        DocKind::Resource,
    ),
    ("AWS::S3::AccessPoint", "Policy", DocKind::Resource),
    ("AWS::ApiGateway::RestApi", "Policy", DocKind::Resource),
    (
        "AWS::EFS::FileSystem",
        "FileSystemPolicy",
        DocKind::Resource,
    ),
    (
        "AWS::Backup::BackupVault",
        "AccessPolicy",
        DocKind::Resource,
    ),
    (
        "AWS::OpenSearchService::Domain",
        "AccessPolicies",
        DocKind::Resource,
    ),
    (
        "AWS::Elasticsearch::Domain",
        "AccessPolicies",
        DocKind::Resource,
    ),
    (
        "AWS::Logs::ResourcePolicy",
        "PolicyDocument",
        DocKind::Resource,
    ),
    ("AWS::SSO::PermissionSet", "InlinePolicy", DocKind::Identity),
];

/// Resource types with a list of inline policies (`Policies: [{PolicyName, PolicyDocument}]`).
const INLINE_LISTS: &[&str] = &["AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"];

/// Every policy document of the stack, in resource order. Documents written as JSON strings
/// (CloudWatch Logs resource policies, OpenSearch) are returned as they are; documents under
/// undecidable conditions are returned once per branch.
pub fn documents(stack: &Stack) -> Vec<Located<'_>> {
    let mut out = Vec::new();
    for resource in stack.resources() {
        for (kind, property, doc_kind) in SINGLE {
            if resource.kind != *kind {
                continue;
            }
            if let Some(doc) = resource.property(property) {
                push_alternatives(&mut out, resource, *doc_kind, property.to_string(), doc);
            }
        }
        if resource.kind == "AWS::Organizations::Policy"
            && resource.property("Type").and_then(Value::as_str) == Some("SERVICE_CONTROL_POLICY")
            && let Some(doc) = resource.property("Content")
        {
            push_alternatives(
                &mut out,
                resource,
                DocKind::ServiceControl,
                "Content".into(),
                doc,
            );
        }
        if INLINE_LISTS.contains(&resource.kind.as_str())
            && let Some(list) = resource.property("Policies")
        {
            for alt in list.alternatives() {
                for (i, item) in alt.as_list().unwrap_or_default().iter().enumerate() {
                    for entry in item.alternatives() {
                        if let Some(doc) = entry.get("PolicyDocument") {
                            push_alternatives(
                                &mut out,
                                resource,
                                DocKind::Identity,
                                format!("Policies[{i}].PolicyDocument"),
                                doc,
                            );
                        }
                    }
                }
            }
        }
    }
    out
}

fn push_alternatives<'a>(
    out: &mut Vec<Located<'a>>,
    resource: &'a Resource,
    kind: DocKind,
    path: String,
    doc: &'a Value,
) {
    for alt in doc.alternatives() {
        if matches!(alt.kind, ValueKind::NoValue) {
            continue;
        }
        out.push(Located {
            resource,
            kind,
            path: path.clone(),
            document: alt,
        });
    }
}

/// The statements of a policy document (`Statement` as a map or a list; every branch of an
/// undecidable `Fn::If`).
pub fn statements(document: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for statement in document
        .get("Statement")
        .map(Value::alternatives)
        .unwrap_or_default()
    {
        match &statement.kind {
            ValueKind::List(items) => {
                out.extend(
                    items
                        .iter()
                        .flat_map(Value::alternatives)
                        .filter(|s| s.as_map().is_some()),
                );
            }
            ValueKind::Map(_) => out.push(statement),
            _ => {}
        }
    }
    out
}

/// The items of a statement element that takes one value or a list (`Action`, `Resource`,
/// `Principal.AWS`...), every branch of an undecidable `Fn::If` included, `NoValue` dropped.
pub fn items(element: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for alt in element.alternatives() {
        for item in alt.as_one_or_many() {
            out.extend(item.alternatives().into_iter().filter(|v| !v.is_no_value()));
        }
    }
    out
}

/// Whether a statement allows (a missing or non-literal `Effect` counts as not known).
pub fn is_allow(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
}
