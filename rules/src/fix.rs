//! Help texts: the change to make, written in the template's own syntax.

use crate::principal::Role;
use crate::resolve::{Returns, ref_returns};
use iamlint_core::{
    Attribute, Format, Part, Pseudo, Reference, Stack, SymPart, SymStr, Symbol, Unknown, Value,
    ValueKind,
};

/// "Attach this AWS managed policy, or add this statement", for the role's format.
pub fn attach_managed_policy(
    format: Format,
    role: &Role<'_>,
    managed_policy: &str,
    actions: &[&str],
    resource: &str,
) -> String {
    attach_managed_policy_on(format, role, managed_policy, actions, &[resource])
}

/// [`attach_managed_policy`] with a statement on several resources.
pub fn attach_managed_policy_on(
    format: Format,
    role: &Role<'_>,
    managed_policy: &str,
    actions: &[&str],
    resources: &[&str],
) -> String {
    let role_id = role.id();
    if format.is_cloudformation() {
        let has_managed = role.resource.property("ManagedPolicyArns").is_some();
        let verb = if has_managed { "add to" } else { "give" };
        format!(
            "{verb} role {role_id} the AWS managed policy:\n  ManagedPolicyArns:\n    - !Sub arn:${{AWS::Partition}}:iam::aws:policy/{managed_policy}\nor add this statement to one of its policies:\n{}",
            yaml_statement_on(actions, resources, 2)
        )
    } else {
        format!(
            "attach the AWS managed policy to {role_id}:\n  resource \"aws_iam_role_policy_attachment\" \"{}\" {{\n    role       = {role_id}.name\n    policy_arn = \"arn:aws:iam::aws:policy/{managed_policy}\"\n  }}\nor add this statement to one of its policies:\n{}",
            managed_policy
                .rsplit('/')
                .next()
                .unwrap_or(managed_policy)
                .to_ascii_lowercase(),
            hcl_statement_on(actions, resources, 2)
        )
    }
}

/// A policy statement in CloudFormation YAML, indented by `indent` spaces.
pub fn yaml_statement(actions: &[&str], resource: &str, indent: usize) -> String {
    yaml_statement_on(actions, &[resource], indent)
}

/// [`yaml_statement`] on several resources (a `Resource` list when there are more than one).
pub fn yaml_statement_on(actions: &[&str], resources: &[&str], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}- Effect: Allow\n{pad}  Action:\n");
    for a in actions {
        out.push_str(&format!("{pad}    - {a}\n"));
    }
    // Each resource is already a YAML value (`"*"`, a literal ARN or `!Sub …`).
    let yaml = |r: &str| {
        if r == "*" {
            "\"*\"".to_string()
        } else {
            r.to_string()
        }
    };
    match resources {
        [one] => out.push_str(&format!("{pad}  Resource: {}", yaml(one))),
        many => {
            out.push_str(&format!("{pad}  Resource:"));
            for r in many {
                out.push_str(&format!("\n{pad}    - {}", yaml(r)));
            }
        }
    }
    out
}

/// A policy statement as an `aws_iam_policy_document` block. `resource` is an HCL
/// expression ([`hcl_string`], [`hcl_of`]); a bare `*` is quoted.
pub fn hcl_statement(actions: &[&str], resource: &str, indent: usize) -> String {
    hcl_statement_on(actions, &[resource], indent)
}

/// [`hcl_statement`] on several resources.
pub fn hcl_statement_on(actions: &[&str], resources: &[&str], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let list = hcl_list(actions);
    let resources = resources
        .iter()
        .map(|r| if *r == "*" { "\"*\"" } else { r })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{pad}statement {{\n{pad}  actions   = {list}\n{pad}  resources = [{resources}]\n{pad}}}"
    )
}

/// A policy statement in the stack's own syntax: YAML for CloudFormation and SAM, an
/// `aws_iam_policy_document` block for Terraform. `resource` is written in that syntax
/// ([`written_str`], [`written`]).
pub fn statement(format: Format, actions: &[&str], resource: &str, indent: usize) -> String {
    if format.is_cloudformation() {
        yaml_statement(actions, resource, indent)
    } else {
        hcl_statement(actions, resource, indent)
    }
}

/// [`statement`] on several resources (each already written in the stack's syntax).
pub fn statement_on(format: Format, actions: &[&str], resources: &[&str], indent: usize) -> String {
    if format.is_cloudformation() {
        yaml_statement_on(actions, resources, indent)
    } else {
        hcl_statement_on(actions, resources, indent)
    }
}

/// [`statement`] with one condition (`test` `variable` = `value`, written in the stack's
/// syntax).
pub fn statement_with_condition(
    format: Format,
    actions: &[&str],
    resource: &str,
    condition: (&str, &str, &str),
) -> String {
    statement_on_with_condition(format, actions, &[resource], condition)
}

/// [`statement_with_condition`] on several resources.
pub fn statement_on_with_condition(
    format: Format,
    actions: &[&str],
    resources: &[&str],
    (test, variable, value): (&str, &str, &str),
) -> String {
    let mut out = statement_on(format, actions, resources, 2);
    if format.is_cloudformation() {
        out.push_str(&format!(
            "\n    Condition:\n      {test}:\n        {variable}: {value}"
        ));
    } else {
        // Before the statement block's closing brace.
        out.truncate(out.len() - "\n  }".len());
        out.push_str(&format!(
            "\n    condition {{\n      test     = \"{test}\"\n      variable = \"{variable}\"\n      values   = [{value}]\n    }}\n  }}"
        ));
    }
    out
}

/// "The statement's resource is X", as one line of the stack's syntax: `Resource: X` in
/// YAML, `resources = [X]` in an `aws_iam_policy_document` statement.
pub fn resource_line(format: Format, resource: &str) -> String {
    if format.is_cloudformation() {
        format!("Resource: {resource}")
    } else {
        let resource = if resource == "*" { "\"*\"" } else { resource };
        format!("resources = [{resource}]")
    }
}

/// A trust-policy statement letting a service assume the role, in the stack's syntax.
pub fn trust_statement(format: Format, service: &str) -> String {
    if format.is_cloudformation() {
        format!(
            "  - Effect: Allow\n    Principal:\n      Service: {service}\n    Action: sts:AssumeRole"
        )
    } else {
        format!(
            "  statement {{\n    actions = [\"sts:AssumeRole\"]\n    principals {{\n      type        = \"Service\"\n      identifiers = [\"{service}\"]\n    }}\n  }}\nor, in a jsonencode document:\n  {{\n    Effect    = \"Allow\"\n    Principal = {{ Service = \"{service}\" }}\n    Action    = \"sts:AssumeRole\"\n  }}"
        )
    }
}

/// A key-policy statement letting `principal` use the key for `actions`, in the stack's
/// syntax. `principal` is written in that syntax.
pub fn key_policy_statement(format: Format, principal: &str, actions: &[&str]) -> String {
    if format.is_cloudformation() {
        let mut out =
            format!("  - Effect: Allow\n    Principal:\n      AWS: {principal}\n    Action:\n");
        for a in actions {
            out.push_str(&format!("      - {a}\n"));
        }
        out.push_str("    Resource: \"*\"");
        out
    } else {
        format!(
            "  statement {{\n    actions   = {}\n    resources = [\"*\"]\n    principals {{\n      type        = \"AWS\"\n      identifiers = [{principal}]\n    }}\n  }}",
            hcl_list(actions)
        )
    }
}

/// Help for a key policy that does not delegate to IAM: the default "Enable IAM User
/// Permissions" statement, or one naming the role (`role_arn`, written in the stack's syntax).
pub fn enable_iam_policies(format: Format, key: &str, role_arn: &str, actions: &[&str]) -> String {
    if format.is_cloudformation() {
        format!(
            "add this statement to the key policy of {key} (it enables IAM policies, as the default key policy does):\n  - Sid: Enable IAM User Permissions\n    Effect: Allow\n    Principal:\n      AWS: !Sub arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:root\n    Action: kms:*\n    Resource: \"*\"\nor one naming the role:\n  - Effect: Allow\n    Principal:\n      AWS: {role_arn}\n    Action:\n{}    Resource: \"*\"",
            actions
                .iter()
                .map(|a| format!("      - {a}\n"))
                .collect::<String>()
        )
    } else {
        format!(
            "add this statement to the key policy of {key} (it enables IAM policies, as the default key policy does):\n  statement {{\n    sid       = \"Enable IAM User Permissions\"\n    actions   = [\"kms:*\"]\n    resources = [\"*\"]\n    principals {{\n      type        = \"AWS\"\n      identifiers = [{}]\n    }}\n  }}\nor one naming the role:\n{}",
            account_root(format),
            key_policy_statement(format, role_arn, actions)
        )
    }
}

/// A condition exempting a principal (its ARN written in the stack's syntax) from a deny.
pub fn principal_arn_exemption(format: Format, principal_arn: &str) -> String {
    if format.is_cloudformation() {
        format!("  Condition:\n    ArnNotEquals:\n      aws:PrincipalArn: {principal_arn}")
    } else {
        format!(
            "  condition {{\n    test     = \"ArnNotEquals\"\n    variable = \"aws:PrincipalArn\"\n    values   = [{principal_arn}]\n  }}"
        )
    }
}

/// The account root as a principal, in the stack's syntax.
pub fn account_root(format: Format) -> String {
    if format.is_cloudformation() {
        "!Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root".to_string()
    } else {
        "\"arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root\"".to_string()
    }
}

/// `["a", "b"]`.
fn hcl_list(items: &[&str]) -> String {
    let list = items
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!("[{list}]")
}

/// The Terraform attribute that returns what the CloudFormation `Ref`/`GetAtt` does, for a
/// resource of the stack (`aws_sqs_queue.q` `Ref` is its `url`).
pub fn hcl_attribute(stack: &Stack, reference: &Reference) -> String {
    let kind = stack.resource(&reference.resource).map(|r| r.kind.as_str());
    match &reference.attribute {
        Attribute::Ref => match (kind, kind.and_then(ref_returns)) {
            (_, Some(Returns::Arn)) => "arn",
            (_, Some(Returns::Url)) => "url",
            (Some("AWS::KMS::Key"), _) => "key_id",
            (Some("AWS::S3::Bucket"), _) => "bucket",
            (Some("AWS::Lambda::Function"), _) => "function_name",
            (_, Some(Returns::Name)) => "name",
            _ => "id",
        }
        .to_string(),
        Attribute::Get(a) => match (kind, a.as_str()) {
            (Some("AWS::SQS::Queue"), "QueueName") => "name".to_string(),
            (_, "RoleId") => "unique_id".to_string(),
            _ => snake_case(a),
        },
    }
}

fn snake_case(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A reference as a Terraform expression: `aws_sqs_queue.q.arn`.
pub fn hcl_reference(stack: &Stack, reference: &Reference) -> String {
    format!("{}.{}", reference.resource, hcl_attribute(stack, reference))
}

/// What a pseudo parameter is in Terraform (the data sources the AWS provider offers).
fn hcl_pseudo(p: Pseudo) -> String {
    match p {
        Pseudo::AccountId => "data.aws_caller_identity.current.account_id".to_string(),
        Pseudo::Region => "data.aws_region.current.name".to_string(),
        Pseudo::Partition => "data.aws_partition.current.partition".to_string(),
        Pseudo::UrlSuffix => "data.aws_partition.current.dns_suffix".to_string(),
        other => other.name().to_string(),
    }
}

/// Literal text inside an HCL string: quotes, backslashes and template openers escaped.
fn hcl_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace("${", "$${")
        .replace("%{", "%%{")
}

/// A symbolic string as an HCL expression: a reference alone is written bare
/// (`aws_sqs_queue.q.arn`), anything else as a quoted template
/// (`"${aws_s3_bucket.b.arn}/*"`, `"arn:aws:kms:${data.aws_region.current.name}:…"`).
pub fn hcl_string(stack: &Stack, s: &SymStr) -> String {
    if let [SymPart::Sym(Symbol::Attr(r))] = s.parts() {
        return hcl_reference(stack, r);
    }
    let mut out = String::from("\"");
    for part in s.parts() {
        match part {
            SymPart::Lit(l) => out.push_str(&hcl_escape(l)),
            SymPart::Sym(Symbol::Attr(r)) => {
                out.push_str(&format!("${{{}}}", hcl_reference(stack, r)));
            }
            SymPart::Sym(Symbol::Pseudo(p)) => out.push_str(&format!("${{{}}}", hcl_pseudo(*p))),
            SymPart::Sym(Symbol::Param(name)) => out.push_str(&format!("${{var.{name}}}")),
            SymPart::Sym(Symbol::Opaque) => out.push('*'),
        }
    }
    out.push('"');
    out
}

/// The HCL that names the same thing as `value` (whose string is `resolved`): the user's own
/// reference or template when it is one, else [`hcl_string`] of the resolved string.
pub fn hcl_of(stack: &Stack, value: &Value, resolved: &SymStr) -> String {
    match &value.kind {
        ValueKind::Ref(r) => hcl_reference(stack, r),
        ValueKind::Template(parts) => {
            let mut out = String::from("\"");
            for part in parts {
                match part {
                    Part::Lit(l) => out.push_str(&hcl_escape(l)),
                    Part::Ref(r) => out.push_str(&format!("${{{}}}", hcl_reference(stack, r))),
                    Part::Unknown(Unknown::Pseudo(p)) => {
                        out.push_str(&format!("${{{}}}", hcl_pseudo(*p)));
                    }
                    Part::Unknown(Unknown::Parameter { name, .. }) => {
                        out.push_str(&format!("${{var.{name}}}"));
                    }
                    Part::Unknown(_) => return hcl_string(stack, resolved),
                }
            }
            out.push('"');
            out
        }
        _ => hcl_string(stack, resolved),
    }
}

/// What a `depends_on` list names for a Terraform address: the resource block, without
/// instance keys or the module path (`aws_iam_role_policy_attachment.vpc`).
pub fn hcl_block_name(address: &str) -> String {
    let plain = hcl_without_keys(address);
    let parts: Vec<&str> = plain.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// A Terraform address without its instance keys (`module.a.aws_x.y` for
/// `module.a[0].aws_x.y["k.1"]`).
pub fn hcl_without_keys(address: &str) -> String {
    let mut plain = String::new();
    let mut depth = 0;
    let mut quoted = false;
    for c in address.chars() {
        match c {
            '"' if depth > 0 => quoted = !quoted,
            '[' if !quoted => depth += 1,
            ']' if !quoted => depth -= 1,
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    plain
}

#[cfg(test)]
mod block_name_tests {
    use super::hcl_block_name;

    #[test]
    fn block_names_drop_module_paths_and_instance_keys() {
        assert_eq!(
            hcl_block_name("aws_iam_role_policy_attachment.vpc"),
            "aws_iam_role_policy_attachment.vpc"
        );
        assert_eq!(
            hcl_block_name("module.fn[\"a.b\"].aws_iam_role_policy.p[0]"),
            "aws_iam_role_policy.p"
        );
    }
}
