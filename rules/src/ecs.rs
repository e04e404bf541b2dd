//! What the ECS rules share: containers started by the ECS or Fargate agent with an execution
//! role. ECS task definitions and AWS Batch job definitions (which run as ECS tasks) both
//! declare them; a rule sees one [`Container`] and never which resource declared it.

use crate::context::Context;
use crate::policies::items;
use crate::principal::Role;
use crate::requests::closed_role;
use iamlint_core::{Resource, Value};

/// One container with the execution role its agent uses, and a name for messages.
pub struct Container<'a> {
    pub definition: &'a Value,
    /// The value naming the execution role (`ExecutionRoleArn`), when set.
    pub execution_role: Option<&'a Value>,
    /// Whether the agent certainly pulls the image and creates the awslogs streams with the
    /// execution role: on Fargate, ECS Managed Instances and external instances. On EC2
    /// instances the container instance role does (out of sight), so a task definition counts
    /// only when `RequiresCompatibilities` names none but those, and a Batch job definition
    /// only when it runs on Fargate.
    /// <https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html>
    pub image_and_logs_by_execution_role: bool,
    /// "task definition App (container web)", "job definition Job".
    pub subject: String,
    /// What fails to start when the agent cannot do its part: "task", "job".
    pub unit: &'static str,
}

impl<'a> Container<'a> {
    pub fn get_path(&self, path: &[&str]) -> Option<&'a Value> {
        self.definition.get_path(path)
    }

    /// The items of a list property (`Secrets`, `LogConfiguration.SecretOptions`); every
    /// branch of an undecidable condition, `NoValue` dropped.
    pub fn list(&self, path: &[&str]) -> Vec<&'a Value> {
        self.get_path(path).map(items).unwrap_or_default()
    }
}

/// The containers of every ECS task definition and AWS Batch job definition of the stack, in
/// order.
pub fn containers<'a>(ctx: &Context<'a>) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for task in ctx.stack.resources_of("AWS::ECS::TaskDefinition") {
        let Some(definitions) = task.property("ContainerDefinitions") else {
            continue;
        };
        push_named(
            &mut out,
            task,
            "task",
            definitions,
            task.property("ExecutionRoleArn"),
            off_ec2(task),
        );
    }
    for job in ctx.stack.resources_of("AWS::Batch::JobDefinition") {
        batch_containers(&mut out, job);
    }
    out
}

/// The containers of a Batch job definition: `ContainerProperties` (one unnamed container with
/// its own `ExecutionRoleArn`) and `EcsProperties.TaskProperties[].Containers[]` (named, the
/// execution role on the task properties).
/// https://docs.aws.amazon.com/batch/latest/userguide/execution-IAM-role.html
fn batch_containers<'a>(out: &mut Vec<Container<'a>>, job: &'a Resource) {
    let fargate = on_fargate(job);
    if let Some(properties) = job.property("ContainerProperties") {
        for definition in items(properties) {
            if definition.as_map().is_none() {
                continue;
            }
            out.push(Container {
                definition,
                execution_role: definition.get("ExecutionRoleArn"),
                image_and_logs_by_execution_role: fargate,
                subject: format!("job definition {}", job.id),
                unit: "job",
            });
        }
    }
    if let Some(ecs) = job.property_path(&["EcsProperties", "TaskProperties"]) {
        for task in items(ecs) {
            let Some(definitions) = task.get("Containers") else {
                continue;
            };
            push_named(
                out,
                job,
                "job",
                definitions,
                task.get("ExecutionRoleArn"),
                fargate,
            );
        }
    }
}

/// Pushes the named containers of a list of container definitions of a "task" or "job"
/// definition.
fn push_named<'a>(
    out: &mut Vec<Container<'a>>,
    task: &'a Resource,
    unit: &'static str,
    definitions: &'a Value,
    execution_role: Option<&'a Value>,
    image_and_logs_by_execution_role: bool,
) {
    for definition in items(definitions) {
        if definition.as_map().is_none() {
            continue;
        }
        let subject = match definition.get("Name").and_then(Value::as_str) {
            Some(name) => format!("{unit} definition {} (container {name})", task.id),
            None => format!("{unit} definition {}", task.id),
        };
        out.push(Container {
            definition,
            execution_role,
            image_and_logs_by_execution_role,
            subject,
            unit,
        });
    }
}

/// Whether a task definition certainly runs where the execution role pulls images and writes
/// awslogs streams: `RequiresCompatibilities` names only `FARGATE`, `EXTERNAL` or
/// `MANAGED_INSTANCES` in every resolution (without it, the task runs on EC2).
fn off_ec2(task: &Resource) -> bool {
    let compatibilities = task
        .property("RequiresCompatibilities")
        .map(items)
        .unwrap_or_default();
    !compatibilities.is_empty()
        && compatibilities.iter().all(|c| {
            c.as_str().is_some_and(|s| {
                ["FARGATE", "EXTERNAL", "MANAGED_INSTANCES"]
                    .iter()
                    .any(|k| s.eq_ignore_ascii_case(k))
            })
        })
}

/// Whether a Batch job definition certainly runs on Fargate: `PlatformCapabilities` is
/// `[FARGATE]` in every resolution (the default is `EC2`).
fn on_fargate(job: &Resource) -> bool {
    let capabilities = job
        .property("PlatformCapabilities")
        .map(items)
        .unwrap_or_default();
    !capabilities.is_empty()
        && capabilities.iter().all(|c| {
            c.as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("FARGATE"))
        })
}

/// The execution role of a container, when closed, with the value naming it.
pub fn execution_role<'c, 'a>(
    ctx: &'c Context<'a>,
    container: &Container<'a>,
) -> Option<(&'c Role<'a>, &'a Value)> {
    let value = container.execution_role?;
    Some((closed_role(ctx, value)?, value))
}
