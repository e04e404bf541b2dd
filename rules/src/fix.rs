//! Help texts: the change to make, written in the template's own syntax.

use crate::principal::Role;
use iamlint_core::Format;

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

/// A policy statement as an `aws_iam_policy_document` block.
pub fn hcl_statement(actions: &[&str], resource: &str, indent: usize) -> String {
    hcl_statement_on(actions, &[resource], indent)
}

/// [`hcl_statement`] on several resources.
pub fn hcl_statement_on(actions: &[&str], resources: &[&str], indent: usize) -> String {
    let pad = " ".repeat(indent);
    let list = actions
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let resources = resources
        .iter()
        .map(|r| format!("\"{r}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{pad}statement {{\n{pad}  actions   = [{list}]\n{pad}  resources = [{resources}]\n{pad}}}"
    )
}
