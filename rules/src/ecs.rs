//! What the ECS rules share: a task definition's execution role and its containers.

use crate::context::Context;
use crate::principal::Role;
use crate::requests::closed_role;
use iamlint_core::{Resource, Value};

/// One container of a task definition, with a name for messages.
pub struct Container<'a> {
    pub task: &'a Resource,
    pub definition: &'a Value,
    /// "task definition App (container web)".
    pub subject: String,
}

impl<'a> Container<'a> {
    pub fn get_path(&self, path: &[&str]) -> Option<&'a Value> {
        self.definition.get_path(path)
    }

    /// The items of a list property (`Secrets`, `LogConfiguration.SecretOptions`); every
    /// branch of an undecidable condition, `NoValue` dropped.
    pub fn list(&self, path: &[&str]) -> Vec<&'a Value> {
        self.get_path(path)
            .map(crate::policies::items)
            .unwrap_or_default()
    }
}

/// The containers of every task definition of the stack, in order.
pub fn containers<'a>(ctx: &Context<'a>) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for task in ctx.stack.resources_of("AWS::ECS::TaskDefinition") {
        let Some(definitions) = task.property("ContainerDefinitions") else {
            continue;
        };
        for definition in crate::policies::items(definitions) {
            if definition.as_map().is_none() {
                continue;
            }
            let subject = match definition.get("Name").and_then(Value::as_str) {
                Some(name) => format!("task definition {} (container {name})", task.id),
                None => format!("task definition {}", task.id),
            };
            out.push(Container {
                task,
                definition,
                subject,
            });
        }
    }
    out
}

/// The execution role of a task definition (`ExecutionRoleArn`), when closed, with the value
/// naming it.
pub fn execution_role<'c, 'a>(
    ctx: &'c Context<'a>,
    task: &'a Resource,
) -> Option<(&'c Role<'a>, &'a Value)> {
    let value = task.property("ExecutionRoleArn")?;
    Some((closed_role(ctx, value)?, value))
}
