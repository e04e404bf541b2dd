//! Turning values into the strings they will be at deploy time.
//!
//! A reference (`!GetAtt Bucket.Arn`, `!Ref Queue`) becomes the ARN, name or URL CloudFormation
//! returns for it (SEMANTICS.md A.11), built from the resource's own properties where they are
//! known and from a symbol standing for the generated value where they are not, so that
//! `!Sub "arn:${AWS::Partition}:s3:::${Bucket}/*"` and `!Sub "${Bucket.Arn}/*"` resolve to the
//! same symbolic string.

use iamlint_core::{
    Account, Attribute, Part, Pseudo, Reference, Resource, Stack, SymStr, Symbol, Unknown, Value,
    ValueKind,
};

/// The most alternatives one value expands to (each undecidable `Fn::If` doubles them).
const MAX_ALTERNATIVES: usize = 16;

/// What a reference returns, for the resource types whose `Ref`/`GetAtt` matter to IAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returns {
    /// An ARN.
    Arn,
    /// A name (bucket, table, function, role, stream, log group, repository, parameter).
    Name,
    /// A URL (SQS queue).
    Url,
    /// An opaque id (KMS key id, API id).
    Id,
    /// Something else or not known.
    Other,
}

impl Returns {
    pub fn describe(self) -> &'static str {
        match self {
            Returns::Arn => "ARN",
            Returns::Name => "name",
            Returns::Url => "URL",
            Returns::Id => "id",
            Returns::Other => "value",
        }
    }
}

/// The property that names a resource of this type, for the types whose `Ref` returns the
/// name (so a generated name can be written `${LogicalId}`).
pub fn name_property(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "AWS::S3::Bucket" => "BucketName",
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::Lambda::Function" => "FunctionName",
        "AWS::IAM::Role" => "RoleName",
        "AWS::IAM::User" => "UserName",
        "AWS::IAM::Group" => "GroupName",
        "AWS::IAM::InstanceProfile" => "InstanceProfileName",
        "AWS::Kinesis::Stream" => "Name",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::ECR::Repository" => "RepositoryName",
        "AWS::SSM::Parameter" => "Name",
        "AWS::CodeBuild::Project" => "Name",
        "AWS::IoT::TopicRule" => "RuleName",
        _ => return None,
    })
}

/// What `Ref` returns for a resource type (SEMANTICS.md A.11); `None` for types not covered.
pub fn ref_returns(kind: &str) -> Option<Returns> {
    Some(match kind {
        "AWS::SQS::Queue" => Returns::Url,
        "AWS::SNS::Topic"
        | "AWS::SecretsManager::Secret"
        | "AWS::StepFunctions::StateMachine"
        | "AWS::IAM::ManagedPolicy"
        | "AWS::Lambda::Alias"
        | "AWS::Lambda::Version"
        | "AWS::Lambda::LayerVersion" => Returns::Arn,
        "AWS::S3::Bucket"
        | "AWS::DynamoDB::Table"
        | "AWS::Lambda::Function"
        | "AWS::IAM::Role"
        | "AWS::IAM::User"
        | "AWS::IAM::Group"
        | "AWS::IAM::InstanceProfile"
        | "AWS::Kinesis::Stream"
        | "AWS::Logs::LogGroup"
        | "AWS::ECR::Repository"
        | "AWS::SSM::Parameter"
        | "AWS::CodeBuild::Project"
        | "AWS::IoT::TopicRule" => Returns::Name,
        "AWS::KMS::Key" | "AWS::ApiGateway::RestApi" | "AWS::ApiGatewayV2::Api" => Returns::Id,
        _ => return None,
    })
}

/// Resolves values of one stack.
pub struct Resolver<'a> {
    pub stack: &'a Stack,
    /// Whether `AWS::AccountId` is written as the stack's account id where the front end
    /// knows it ([`Resolver::with_known_account`]).
    known_account: bool,
}

impl<'a> Resolver<'a> {
    pub fn new(stack: &'a Stack) -> Self {
        Resolver {
            stack,
            known_account: false,
        }
    }

    /// A resolver that writes `AWS::AccountId` as the stack's account id when the front end
    /// knows it ([`Stack::account`]), so that requests between accounts compare ids. Rules
    /// that reason within one account keep the symbol: ARNs they build carry it.
    pub fn with_known_account(stack: &'a Stack) -> Self {
        Resolver {
            stack,
            known_account: true,
        }
    }

    /// The account a resource of the stack is created in, as it appears in its ARN.
    pub fn account_of(&self, resource: &Resource) -> SymStr {
        match &resource.account {
            Account::Stack => self.symbol(&Unknown::Pseudo(Pseudo::AccountId)),
            _ => own_account(resource),
        }
    }

    /// The string an unknown value stands for.
    fn symbol(&self, u: &Unknown) -> SymStr {
        match (u, &self.stack.account) {
            (Unknown::Pseudo(Pseudo::AccountId), Some(id)) if self.known_account => {
                SymStr::lit(id.clone())
            }
            _ => SymStr::sym(unknown_symbol(u)),
        }
    }

    /// The strings `value` may be at deploy time (several when it holds undecidable
    /// conditions). Values that are not strings (maps, lists) give an opaque symbol.
    pub fn strings(&self, value: &Value) -> Vec<SymStr> {
        let mut out = Vec::new();
        for alt in value.alternatives() {
            if out.len() >= MAX_ALTERNATIVES {
                break;
            }
            match &alt.kind {
                ValueKind::NoValue => {}
                _ => out.extend(self.string_of(alt)),
            }
        }
        out.truncate(MAX_ALTERNATIVES);
        out
    }

    /// The single string a value is, when it has no alternatives.
    pub fn string(&self, value: &Value) -> Option<SymStr> {
        let mut all = self.strings(value);
        if all.len() == 1 { all.pop() } else { None }
    }

    fn string_of(&self, value: &Value) -> Vec<SymStr> {
        match &value.kind {
            ValueKind::String(s) | ValueKind::Number(s) => vec![SymStr::lit(s.clone())],
            ValueKind::Bool(b) => vec![SymStr::lit(b.to_string())],
            ValueKind::Ref(r) => vec![self.reference(r, 0)],
            ValueKind::Unknown(u) => vec![self.symbol(u)],
            ValueKind::Template(parts) => {
                let mut s = SymStr::new();
                for part in parts {
                    match part {
                        Part::Lit(l) => s.push_lit(l.clone()),
                        Part::Ref(r) => s.push(self.reference(r, 0)),
                        Part::Unknown(u) => s.push(self.symbol(u)),
                    }
                }
                vec![s]
            }
            ValueKind::Choice(_) => self.strings(value),
            _ => vec![SymStr::sym(Symbol::Opaque)],
        }
    }

    /// The string a reference returns.
    pub fn reference(&self, r: &Reference, depth: usize) -> SymStr {
        let Some(resource) = self.stack.resource(&r.resource) else {
            return SymStr::sym(Symbol::Opaque);
        };
        // A resource's name may itself be built from other resources' attributes; a cycle is
        // impossible in a deployable template, but cap the depth anyway.
        if depth > 8 {
            return SymStr::sym(Symbol::Attr(r.clone()));
        }
        let attr = match &r.attribute {
            Attribute::Ref => None,
            Attribute::Get(a) => Some(a.as_str()),
        };
        let p = || SymStr::sym(Symbol::Pseudo(Pseudo::Partition));
        let region = || SymStr::sym(Symbol::Pseudo(Pseudo::Region));
        let account = || self.account_of(resource);
        let name = |prop: &str| self.name_of(resource.id.as_str(), prop, depth);
        let arn = |service: &str, regional: bool, resource_part: SymStr| {
            let mut s = SymStr::lit("arn:");
            s.push(p());
            s.push_lit(format!(":{service}:"));
            if regional {
                s.push(region());
            }
            s.push_lit(":");
            if service != "s3" {
                s.push(account());
            }
            s.push_lit(":");
            s.push(resource_part);
            s
        };
        let prefixed = |prefix: &str, rest: SymStr| {
            let mut s = SymStr::lit(prefix);
            s.push(rest);
            s
        };
        match (resource.kind.as_str(), attr) {
            ("AWS::S3::Bucket", None) => name("BucketName"),
            ("AWS::S3::Bucket", Some("Arn")) => arn("s3", false, name("BucketName")),
            ("AWS::SQS::Queue", Some("Arn")) => arn("sqs", true, name("QueueName")),
            ("AWS::SQS::Queue", Some("QueueName")) => name("QueueName"),
            ("AWS::SQS::Queue", None | Some("QueueUrl")) => {
                let mut s = SymStr::lit("https://sqs.");
                s.push(region());
                s.push_lit(".");
                s.push_sym(Symbol::Pseudo(Pseudo::UrlSuffix));
                s.push_lit("/");
                s.push(account());
                s.push_lit("/");
                s.push(name("QueueName"));
                s
            }
            ("AWS::SNS::Topic", None | Some("TopicArn")) => arn("sns", true, name("TopicName")),
            ("AWS::SNS::Topic", Some("TopicName")) => name("TopicName"),
            ("AWS::DynamoDB::Table", None) => name("TableName"),
            ("AWS::DynamoDB::Table", Some("Arn")) => {
                arn("dynamodb", true, prefixed("table/", name("TableName")))
            }
            ("AWS::DynamoDB::Table", Some("StreamArn")) => {
                let mut s = arn("dynamodb", true, prefixed("table/", name("TableName")));
                s.push_lit("/stream/");
                // The stream label (a timestamp such as 2015-05-11T21:21:33.291) is generated
                // when the stream is enabled; shown as `${Table.StreamLabel}`.
                s.push_sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "StreamLabel",
                )));
                s
            }
            ("AWS::Lambda::Function", None) => name("FunctionName"),
            ("AWS::Lambda::Function", Some("Arn")) => {
                arn("lambda", true, prefixed("function:", name("FunctionName")))
            }
            ("AWS::IAM::Role", None) => name("RoleName"),
            ("AWS::IAM::Role", Some("Arn")) => {
                let mut rest = self.path_of(resource.id.as_str());
                rest.push(name("RoleName"));
                arn("iam", false, prefixed("role", rest))
            }
            ("AWS::IAM::ManagedPolicy", None | Some("PolicyArn")) => {
                let mut rest = self.path_of(resource.id.as_str());
                rest.push(name("ManagedPolicyName"));
                arn("iam", false, prefixed("policy", rest))
            }
            // A key id is a generated UUID: colon-free and distinct for each key, which the
            // matcher knows of `KeyId` attributes.
            ("AWS::KMS::Key", None | Some("KeyId")) => SymStr::sym(Symbol::Attr(
                Reference::get_att(resource.id.clone(), "KeyId"),
            )),
            ("AWS::KMS::Key", Some("Arn")) => {
                let id = SymStr::sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "KeyId",
                )));
                arn("kms", true, prefixed("key/", id))
            }
            ("AWS::KMS::Alias", None) => name("AliasName"),
            ("AWS::Kinesis::Stream", None) => name("Name"),
            ("AWS::Kinesis::Stream", Some("Arn")) => {
                arn("kinesis", true, prefixed("stream/", name("Name")))
            }
            ("AWS::Logs::LogGroup", None) => name("LogGroupName"),
            ("AWS::Logs::LogGroup", Some("Arn")) => {
                let mut s = arn("logs", true, prefixed("log-group:", name("LogGroupName")));
                s.push_lit(":*");
                s
            }
            ("AWS::SecretsManager::Secret", None | Some("Id")) => {
                let mut rest = name("Name");
                rest.push_lit("-");
                rest.push_sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "Suffix",
                )));
                arn("secretsmanager", true, prefixed("secret:", rest))
            }
            ("AWS::StepFunctions::StateMachine", None | Some("Arn")) => arn(
                "states",
                true,
                prefixed("stateMachine:", name("StateMachineName")),
            ),
            ("AWS::ECR::Repository", None) => name("RepositoryName"),
            ("AWS::ECR::Repository", Some("Arn")) => {
                arn("ecr", true, prefixed("repository/", name("RepositoryName")))
            }
            ("AWS::SSM::Parameter", None) => name("Name"),
            ("AWS::Events::Rule", Some("Arn")) => {
                arn("events", true, prefixed("rule/", name("Name")))
            }
            ("AWS::CloudWatch::Alarm" | "AWS::CloudWatch::CompositeAlarm", Some("Arn")) => {
                arn("cloudwatch", true, prefixed("alarm:", name("AlarmName")))
            }
            ("AWS::Events::EventBus", None | Some("Name")) => name("Name"),
            ("AWS::IoT::TopicRule", None) => name("RuleName"),
            ("AWS::IoT::TopicRule", Some("Arn")) => {
                arn("iot", true, prefixed("rule/", name("RuleName")))
            }
            // A user pool's id (`us-east-1_AbC123`) is generated.
            ("AWS::Cognito::UserPool", None | Some("UserPoolId")) => {
                SymStr::sym(Symbol::Attr(Reference::to_ref(resource.id.clone())))
            }
            ("AWS::Cognito::UserPool", Some("Arn")) => {
                let id = SymStr::sym(Symbol::Attr(Reference::to_ref(resource.id.clone())));
                arn("cognito-idp", true, prefixed("userpool/", id))
            }
            ("AWS::Events::EventBus", Some("Arn")) => {
                arn("events", true, prefixed("event-bus/", name("Name")))
            }
            // Event sources of Lambda (IAM004): the cluster's UUID and the broker's id are
            // generated.
            ("AWS::MSK::Cluster" | "AWS::MSK::ServerlessCluster", None | Some("Arn")) => {
                let mut rest = name("ClusterName");
                rest.push_lit("/");
                rest.push_sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "ClusterUuid",
                )));
                arn("kafka", true, prefixed("cluster/", rest))
            }
            ("AWS::AmazonMQ::Broker", Some("Arn")) => {
                let mut rest = name("BrokerName");
                rest.push_lit(":");
                rest.push_sym(Symbol::Attr(Reference::get_att(resource.id.clone(), "Id")));
                arn("mq", true, prefixed("broker:", rest))
            }
            // File system and access point ids (`fs-…`, `fsap-…`) are generated.
            ("AWS::EFS::FileSystem", None | Some("FileSystemId")) => SymStr::sym(Symbol::Attr(
                Reference::get_att(resource.id.clone(), "FileSystemId"),
            )),
            ("AWS::EFS::FileSystem", Some("Arn")) => {
                let id = SymStr::sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "FileSystemId",
                )));
                arn("elasticfilesystem", true, prefixed("file-system/", id))
            }
            ("AWS::EFS::AccessPoint", None | Some("AccessPointId")) => SymStr::sym(Symbol::Attr(
                Reference::get_att(resource.id.clone(), "AccessPointId"),
            )),
            ("AWS::EFS::AccessPoint", Some("Arn")) => {
                let id = SymStr::sym(Symbol::Attr(Reference::get_att(
                    resource.id.clone(),
                    "AccessPointId",
                )));
                arn("elasticfilesystem", true, prefixed("access-point/", id))
            }
            _ => SymStr::sym(Symbol::Attr(r.clone())),
        }
    }

    /// The value of a resource's name property, or a symbol for the name CloudFormation
    /// generates when the property is absent.
    fn name_of(&self, id: &str, property: &str, depth: usize) -> SymStr {
        let generated = || SymStr::sym(Symbol::Attr(Reference::get_att(id, property)));
        let Some(value) = self.stack.resource(id).and_then(|r| r.property(property)) else {
            return generated();
        };
        match &value.kind {
            ValueKind::String(s) => SymStr::lit(s.clone()),
            ValueKind::Ref(r) => self.reference(r, depth + 1),
            ValueKind::Unknown(u) => self.symbol(u),
            ValueKind::Template(parts) => {
                let mut s = SymStr::new();
                for part in parts {
                    match part {
                        Part::Lit(l) => s.push_lit(l.clone()),
                        Part::Ref(r) => s.push(self.reference(r, depth + 1)),
                        Part::Unknown(u) => s.push(self.symbol(u)),
                    }
                }
                s
            }
            // A name that depends on a condition could be either: treat it as generated.
            _ => generated(),
        }
    }

    /// An IAM path (`/`, `/service-role/`) of a role or policy; `/` when absent.
    fn path_of(&self, id: &str) -> SymStr {
        match self
            .stack
            .resource(id)
            .and_then(|r| r.property("Path"))
            .map(|v| &v.kind)
        {
            None => SymStr::lit("/"),
            Some(ValueKind::String(s)) => SymStr::lit(s.clone()),
            Some(_) => SymStr::sym(Symbol::Attr(Reference::get_att(id, "Path"))),
        }
    }
}

/// The account a resource is created in, as the ARNs of the stack's plain [`Resolver`] write
/// it: `AWS::AccountId` for the stack's own account.
pub fn own_account(resource: &Resource) -> SymStr {
    match &resource.account {
        Account::Stack => SymStr::sym(Symbol::Pseudo(Pseudo::AccountId)),
        Account::Id(id) => SymStr::lit(id.clone()),
        Account::Unknown => SymStr::sym(Symbol::Opaque),
    }
}

/// The symbol an unknown value stands for.
pub fn unknown_symbol(u: &Unknown) -> Symbol {
    match u {
        Unknown::Pseudo(p) => Symbol::Pseudo(*p),
        Unknown::Parameter { name, .. } => Symbol::Param(name.clone()),
        _ => Symbol::Opaque,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{FileId, Format, Origin, Resource, Span};

    fn stack_with(resources: &[(&str, &str, serde_json::Value)]) -> Stack {
        let mut stack = Stack::new(Format::CloudFormation, FileId(0));
        for (id, kind, props) in resources {
            stack.add_resource(Resource {
                id: (*id).to_string(),
                kind: (*kind).to_string(),
                properties: Value::from_json(props, Span::default()),
                span: Span::default(),
                condition: None,
                depends_on: Vec::new(),
                origin: Origin::Declared,
                account: iamlint_core::Account::Stack,
            });
        }
        stack
    }

    #[test]
    fn bucket_arn_and_sub_agree() {
        let stack = stack_with(&[("Bucket", "AWS::S3::Bucket", serde_json::json!({}))]);
        let r = Resolver::new(&stack);
        let arn = r.reference(&Reference::get_att("Bucket", "Arn"), 0);
        assert_eq!(
            arn.to_string(),
            "arn:${AWS::Partition}:s3:::${Bucket.BucketName}"
        );
        let mut sub = SymStr::lit("arn:");
        sub.push_sym(Symbol::Pseudo(Pseudo::Partition));
        sub.push_lit(":s3:::");
        sub.push(r.reference(&Reference::to_ref("Bucket"), 0));
        assert_eq!(sub, arn);
    }

    #[test]
    fn named_queue_and_role_with_path() {
        let stack = stack_with(&[
            (
                "Q",
                "AWS::SQS::Queue",
                serde_json::json!({"QueueName": "jobs"}),
            ),
            (
                "R",
                "AWS::IAM::Role",
                serde_json::json!({"Path": "/svc/", "RoleName": "app"}),
            ),
        ]);
        let r = Resolver::new(&stack);
        assert_eq!(
            r.reference(&Reference::get_att("Q", "Arn"), 0).to_string(),
            "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:jobs"
        );
        assert_eq!(
            r.reference(&Reference::get_att("R", "Arn"), 0).to_string(),
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/svc/app"
        );
        assert_eq!(r.reference(&Reference::to_ref("R"), 0).to_string(), "app");
    }
}
