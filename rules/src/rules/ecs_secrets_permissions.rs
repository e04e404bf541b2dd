use crate::context::Context;
use crate::declare_rule;
use crate::ecs::{Container, containers, execution_role};
use crate::kms::{self, EncryptedService, KeyRef};
use crate::policies::{is_allow, items, statements};
use crate::registry::{Rule, RuleMeta};
use crate::requests::{Requirement, RunsAs, arn_service, needs};
use iamlint_core::{
    Diagnostic, Part, Pseudo, Reference, Resource, Severity, SymPart, SymStr, Symbol, Value,
    ValueKind,
};
use iamlint_policy::eval::match_action;

declare_rule! {
    /// ## What it does
    /// Finds ECS task definitions whose execution role (`ExecutionRoleArn`) cannot read the
    /// secrets its containers use: `Secrets[].ValueFrom` and
    /// `LogConfiguration.SecretOptions[].ValueFrom` (a Secrets Manager secret needs
    /// `secretsmanager:GetSecretValue`, a Parameter Store parameter `ssm:GetParameters`), and
    /// `RepositoryCredentials.CredentialsParameter` (a Secrets Manager secret). A secret of the
    /// template encrypted with a customer managed key of the template also needs `kms:Decrypt`
    /// on the key.
    ///
    /// AWS Batch job definitions are checked the same way, on Fargate and EC2 alike (the agent
    /// reads secrets with the execution role on both): `ContainerProperties` (with its
    /// `ExecutionRoleArn`) and `EcsProperties.TaskProperties[].Containers[]` (with the task
    /// properties' `ExecutionRoleArn`); Terraform's `aws_batch_job_definition`
    /// `container_properties` and `ecs_properties` alike.
    ///
    /// The IAM resource of a secret is its ARN without what follows it in `ValueFrom`
    /// (`:json-key:version-stage:version-id`); a parameter given by name is
    /// `arn:…:ssm:REGION:ACCOUNT:parameter/NAME` in the task's region and account.
    ///
    /// ## Why is this bad?
    /// The ECS agent fetches the secrets with the execution role (not the task role) before it
    /// starts the containers. When the role cannot read one, every task of the definition
    /// fails to start with "ResourceInitializationError: unable to pull secrets or registry
    /// auth".
    ///
    /// ## Example
    /// ```yaml
    /// TaskDefinition:
    ///   Type: AWS::ECS::TaskDefinition
    ///   Properties:
    ///     ExecutionRoleArn: !GetAtt ExecutionRole.Arn   # AmazonECSTaskExecutionRolePolicy only
    ///     ContainerDefinitions:
    ///       - Name: web
    ///         Image: nginx
    ///         Secrets:
    ///           - Name: DB_PASSWORD
    ///             ValueFrom: !Sub "${DatabaseSecret}:password::"
    /// ```
    ///
    /// Use instead, in the execution role's policies:
    /// ```yaml
    ///             - Effect: Allow
    ///               Action: secretsmanager:GetSecretValue
    ///               Resource: !Ref DatabaseSecret
    /// ```
    ///
    /// ## How to fix
    /// Allow `secretsmanager:GetSecretValue` on the secret's ARN (`ssm:GetParameters` on the
    /// parameter's ARN) in the execution role, and `kms:Decrypt` on the key when the secret or
    /// parameter is encrypted with a customer managed key. `AmazonECSTaskExecutionRolePolicy`
    /// grants none of these.
    ///
    /// A secret outside the template may have a resource policy that allows the role: the
    /// finding is then a warning. Secrets and roles given by parameter or imported are not
    /// reported, nor roles whose policies are not all visible. When the role is allowed
    /// `secretsmanager:GetSecretValue` on the secret by name, a missing `kms:Decrypt` is
    /// reported by `kms-encrypted-resource-missing-key-permission` (IAM013).
    ///
    /// ## References
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
    /// - https://docs.aws.amazon.com/AmazonECS/latest/developerguide/private-auth.html
    /// - https://repost.aws/knowledge-center/ecs-unable-to-pull-secrets
    /// - https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html
    /// - https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-parameters.html
    /// - https://docs.aws.amazon.com/batch/latest/userguide/private-auth-iam.html
    pub struct EcsSecretsPermissions {
        code: "IAM020",
        name: "ecs-secrets-permissions",
        severity: Error,
        summary: "ECS container secrets the execution role cannot read",
    }
}

/// Where a container reads a secret.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Environment,
    LogOption,
    RegistryCredentials,
}

/// One secret or parameter a container reads with the execution role.
struct Wired<'a> {
    req: Requirement<'a>,
    /// The KMS key the secret of the template is encrypted with, when customer managed.
    key: Option<(Requirement<'a>, &'a Resource)>,
    value: &'a Value,
    /// The resource as the fix writes it.
    written: String,
    noun: &'static str,
    /// The secret is outside the template (its resource policy may allow the role).
    external: bool,
    /// The secret of the template, when it is one.
    secret: Option<&'a Resource>,
    /// What the container does with it, for messages: "injects the secret … as …".
    doing: String,
    /// What fails to start: "task", "job".
    unit: &'static str,
}

impl EcsSecretsPermissions {
    fn wired<'a>(ctx: &Context<'a>) -> Vec<Wired<'a>> {
        let mut out = Vec::new();
        for container in containers(ctx) {
            let Some((role, role_value)) = execution_role(ctx, &container) else {
                continue;
            };
            for (value, name, used) in uses(&container) {
                let Some(source) = source_of(ctx, value, used == Use::RegistryCredentials) else {
                    continue;
                };
                // A secret of the template with its own resource policy: the policy may allow
                // the role; left to the evaluator of resource policies.
                if let Some(secret) = source.secret
                    && has_resource_policy(ctx, secret)
                {
                    continue;
                }
                let what = |this: &str| match used {
                    Use::Environment => format!(
                        "injects {this} as the environment variable {}",
                        name.unwrap_or("?")
                    ),
                    Use::LogOption => format!("passes {this} to its log driver"),
                    Use::RegistryCredentials => {
                        format!("pulls its image with the registry credentials in {this}")
                    }
                };
                let why = format!(
                    "{} {}",
                    container.subject,
                    what(&format!("this {}", source.noun))
                );
                let doing = what(&format!(
                    "the {} {}",
                    source.noun,
                    ctx.sub_text(&source.arn)
                ));
                let req = Requirement {
                    role: role.id().to_string(),
                    role_value,
                    actions: vec![source.action],
                    resource: source.arn.clone(),
                    code: Self::META.code,
                    why: why.clone(),
                    span: value.span,
                    cite: Some(value),
                    subject: container.subject.clone(),
                    severity: Self::META.severity,
                    via_service: true,
                };
                let key = source.secret.and_then(|secret| {
                    let key = customer_key(ctx, secret)?;
                    Some((
                        Requirement {
                            actions: vec!["kms:Decrypt"],
                            resource: kms::key_arn(ctx, key),
                            why: format!("{why}, encrypted with the KMS key {}", key.id),
                            cite: None,
                            ..req.clone()
                        },
                        key,
                    ))
                });
                out.push(Wired {
                    req,
                    key,
                    value,
                    written: source.written,
                    noun: source.noun,
                    external: source.external,
                    secret: source.secret,
                    doing,
                    unit: container.unit,
                });
            }
        }
        out
    }
}

impl Rule for EcsSecretsPermissions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn requirements<'a>(&self, ctx: &Context<'a>) -> Vec<Requirement<'a>> {
        Self::wired(ctx)
            .into_iter()
            .flat_map(|w| std::iter::once(w.req).chain(w.key.map(|(req, _)| req)))
            .collect()
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Diagnostic>) {
        for w in Self::wired(ctx) {
            let Some(role) = ctx.role(&w.req.role) else {
                continue;
            };
            let role_name = role.id();
            let action = w.req.actions[0];
            let result = needs(ctx, role, &w.req.actions, &w.req.resource);
            if !result.denied.is_empty() {
                continue;
            }
            // kms:Decrypt, unless IAM013 reports it (the role is allowed the secret by name).
            let key_gap = w.key.as_ref().and_then(|(req, key)| {
                if w.secret
                    .is_some_and(|s| grants_secret_by_name(ctx, role, s))
                {
                    return None;
                }
                let r = needs(ctx, role, &req.actions, &req.resource);
                (r.denied.is_empty() && !r.is_met()).then_some((req, *key, r))
            });
            let mut statements = Vec::new();
            let mut certain = true;
            let mut lacks = Vec::new();
            if !result.is_met() {
                certain &= !result.missing.is_empty();
                lacks.push(format!("{action} on it"));
                statements.push(ctx.fix_statement(&[action], &w.written));
            }
            if let Some((req, key, r)) = &key_gap {
                certain &= !r.missing.is_empty();
                lacks.push(format!(
                    "kms:Decrypt on the {}'s KMS key {}",
                    w.noun, key.id
                ));
                statements.push(ctx.fix_statement(
                    &["kms:Decrypt"],
                    &ctx.written_ref(&Reference::get_att(key.id.clone(), "Arn")),
                ));
                let _ = req;
            }
            if statements.is_empty() {
                continue;
            }
            let mut message = format!(
                "{} {}, but its execution role {role_name} cannot call {}.",
                capitalised(&w.req.subject),
                w.doing,
                lacks.join(", nor ")
            );
            if certain {
                message.push_str(&format!(
                    " Every {} will fail to start with \"ResourceInitializationError: unable to pull secrets or registry auth\".",
                    w.unit
                ));
            } else {
                message.push_str(" It is allowed only under conditions iamlint cannot check.");
            }
            let external = w.external && !result.is_met();
            if external {
                message.push_str(&format!(
                    " (Unless the {}'s resource policy, outside the template, allows the role.)",
                    w.noun
                ));
            }
            let help = format!(
                "add {} to one of {role_name}'s policies:\n{}",
                if statements.len() == 1 {
                    "this statement"
                } else {
                    "these statements"
                },
                statements.join("\n")
            );
            let label_action = if result.is_met() {
                "kms:Decrypt"
            } else {
                action
            };
            out.push(
                Diagnostic::new(
                    Self::META.code,
                    Self::META.name,
                    if certain && !external {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    role.fix_span(),
                    message,
                )
                .with_label(format!("role {role_name} lacks {label_action}"))
                .with_secondary(
                    w.value.span,
                    format!("{} reads this {} at start", w.req.subject, w.noun),
                )
                .with_runs_as(role, w.req.role_value, &w.req.subject)
                .with_help(help)
                .with_resource(w.req.subject.clone()),
            );
        }
    }
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// The secrets a container reads: (`ValueFrom` value, the secret's `Name`, where).
fn uses<'a>(container: &Container<'a>) -> Vec<(&'a Value, Option<&'a str>, Use)> {
    let mut out = Vec::new();
    for (path, used) in [
        (&["Secrets"][..], Use::Environment),
        (&["LogConfiguration", "SecretOptions"][..], Use::LogOption),
    ] {
        for secret in container.list(path) {
            if let Some(value) = secret.get("ValueFrom") {
                out.push((value, secret.get("Name").and_then(Value::as_str), used));
            }
        }
    }
    if let Some(value) = container.get_path(&["RepositoryCredentials", "CredentialsParameter"]) {
        out.push((value, None, Use::RegistryCredentials));
    }
    out
}

/// What a `ValueFrom` (or `CredentialsParameter`) names, as IAM sees it.
struct Source<'a> {
    action: &'static str,
    arn: SymStr,
    written: String,
    noun: &'static str,
    external: bool,
    secret: Option<&'a Resource>,
}

fn source_of<'a>(ctx: &Context<'a>, value: &'a Value, credentials: bool) -> Option<Source<'a>> {
    let resolved = ctx.resolver.string(value)?;
    let secret = stack_secret(ctx, value);
    match arn_service(&resolved) {
        Some("secretsmanager") => {
            let mut arn = secret_arn(&resolved);
            let as_written = arn == resolved;
            let mut shown = arn.clone();
            if secret.is_none() && lacks_suffix(&arn) {
                // A partial ARN: ECS finds the secret, IAM sees its full ARN.
                shown.push_lit("-??????");
                arn.push_lit("-");
                arn.push_sym(Symbol::Opaque);
            }
            let written = match secret {
                Some(secret) => ctx.written_ref(&Reference::to_ref(secret.id.clone())),
                None if as_written && shown == arn => ctx.written(value, &resolved),
                None => ctx.written_str(&shown),
            };
            Some(Source {
                action: "secretsmanager:GetSecretValue",
                arn,
                written,
                noun: "secret",
                external: secret.is_none(),
                secret,
            })
        }
        Some("ssm") if !credentials => Some(Source {
            action: "ssm:GetParameters",
            written: ctx.written(value, &resolved),
            arn: resolved,
            noun: "parameter",
            external: false,
            secret: None,
        }),
        Some(_) => None,
        None if credentials => None,
        None => {
            // A parameter by name, in the task's region and account.
            let [SymPart::Lit(first), ..] = resolved.parts() else {
                return None;
            };
            if first.starts_with("arn:") || first.starts_with("/aws/reference/") {
                return None;
            }
            let mut arn = SymStr::lit("arn:");
            arn.push_sym(Symbol::Pseudo(Pseudo::Partition));
            arn.push_lit(":ssm:");
            arn.push_sym(Symbol::Pseudo(Pseudo::Region));
            arn.push_lit(":");
            arn.push_sym(Symbol::Pseudo(Pseudo::AccountId));
            arn.push_lit(if first.starts_with('/') {
                ":parameter"
            } else {
                ":parameter/"
            });
            arn.push(resolved);
            Some(Source {
                action: "ssm:GetParameters",
                written: ctx.written_str(&arn),
                arn,
                noun: "parameter",
                external: false,
                secret: None,
            })
        }
    }
}

/// The secret's ARN in a `ValueFrom`: everything before the seventh colon (what follows is
/// `json-key:version-stage:version-id`).
fn secret_arn(value: &SymStr) -> SymStr {
    let mut out = SymStr::new();
    let mut colons = 0;
    for part in value.parts() {
        match part {
            SymPart::Lit(text) => {
                for (i, c) in text.char_indices() {
                    if c == ':' {
                        colons += 1;
                        if colons == 7 {
                            out.push_lit(&text[..i]);
                            return out;
                        }
                    }
                }
                out.push_lit(text.clone());
            }
            SymPart::Sym(symbol) => out.push_sym(symbol.clone()),
        }
    }
    out
}

/// Whether a literal secret ARN lacks the six characters Secrets Manager appends to the name
/// (`-AbCdEf`): a partial ARN.
fn lacks_suffix(arn: &SymStr) -> bool {
    let Some(SymPart::Lit(last)) = arn.parts().last() else {
        return false;
    };
    let Some((_, name)) = last.rsplit_once("secret:") else {
        return false;
    };
    let suffix = name.rsplit_once('-').map(|(_, s)| s);
    !suffix.is_some_and(|s| s.len() == 6 && s.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The secret of the template a value names (`!Ref Secret`, `!Sub "${Secret}:password::"`).
fn stack_secret<'a>(ctx: &Context<'a>, value: &Value) -> Option<&'a Resource> {
    let reference = match &value.kind {
        ValueKind::Ref(r) => r,
        ValueKind::Template(parts) => parts.iter().find_map(|p| match p {
            Part::Ref(r) => Some(r),
            _ => None,
        })?,
        _ => return None,
    };
    ctx.stack
        .resource(&reference.resource)
        .filter(|r| r.kind == "AWS::SecretsManager::Secret")
}

fn has_resource_policy(ctx: &Context<'_>, secret: &Resource) -> bool {
    ctx.stack
        .resources_of("AWS::SecretsManager::ResourcePolicy")
        .any(|p| {
            p.property("SecretId")
                .and_then(|v| stack_secret(ctx, v))
                .is_some_and(|s| s.id == secret.id)
        })
}

/// The customer managed key of the template a secret of the template is encrypted with.
fn customer_key<'a>(ctx: &Context<'a>, secret: &Resource) -> Option<&'a Resource> {
    kms::encrypted_resources(ctx)
        .into_iter()
        .find(|e| e.resource.id == secret.id && e.service == EncryptedService::SecretsManager)
        .and_then(|e| match e.key {
            KeyRef::InStack(key) => Some(key),
            _ => None,
        })
}

/// Whether the role's policies allow `secretsmanager:GetSecretValue` on the secret by name: then
/// IAM013 sees the use and reports a missing `kms:Decrypt`.
fn grants_secret_by_name(
    ctx: &Context<'_>,
    role: &crate::principal::Role<'_>,
    secret: &Resource,
) -> bool {
    role.identity.iter().any(|doc| {
        statements(&doc.document).into_iter().any(|statement| {
            if !is_allow(statement) {
                return false;
            }
            let acts = statement.get("Action").map(items).unwrap_or_default();
            if !acts
                .iter()
                .filter_map(|a| a.as_str())
                .any(|a| match_action(a, "secretsmanager:GetSecretValue"))
            {
                return false;
            }
            statement
                .get("Resource")
                .map(items)
                .unwrap_or_default()
                .into_iter()
                .flat_map(|v| ctx.resolver.strings(v))
                .any(|p| kms::pattern_names(ctx, &p, secret, EncryptedService::SecretsManager))
        })
    })
}
