//! The Terraform front end: HCL modules into the format-neutral resource graph.
//!
//! The unit of analysis is a root module with the child modules it calls ([`unit`]). Each
//! module folder is parsed once with spans ([`module`]); a root is evaluated lazily and
//! three-valued ([`eval`], [`functions`], [`template`]), and every resource instance whose
//! type the rules read becomes a CloudFormation-typed [`Resource`](iamlint_core::Resource)
//! through one table ([`mapping`]), so the rules never know which front end made it. A plan
//! in JSON (`terraform show -json`) is a unit of its own ([`plan`]), mapped by the same table.

pub mod dependencies;
pub mod eval;
pub mod functions;
pub mod json_syntax;
pub mod mapping;
pub mod module;
pub mod plan;
pub mod policy_document;
pub mod template;
pub mod terragrunt;
pub mod tfvars;
pub mod unit;

pub use eval::Options;
pub use module::normalize;
pub use plan::{analyse_plan, detect_plan};
pub use unit::{FileIds, Workspace, is_terraform_file, module_files, root_modules};

use iamlint_core::{Diagnostic, Format, Stack};
use module::Mode;
use std::collections::HashMap;
use std::path::Path;

/// What analysing one root module gave.
pub struct Analysed {
    pub stack: Stack,
    /// Input errors found while evaluating (a cycle between locals or modules).
    pub diagnostics: Vec<Diagnostic>,
}

/// Evaluates the root module in `dir` with every module it calls into one stack. `None` when
/// the folder holds no Terraform files.
pub fn analyse_root(ws: &Workspace, dir: &Path, options: &Options) -> Option<Analysed> {
    let root = ws.module(dir)?;
    let first = root.files.first()?.id;
    let loader = unit::Unit::new(ws, dir);
    let ev = eval::Evaluator::new(root, &loader, options);
    let mut resources = Vec::new();
    // The declaration (module instance, index) each resource comes from, and the addresses of
    // each declaration's instances.
    let mut declared_by = Vec::new();
    let mut addresses: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    let mut tf_resources = Vec::new();
    let mut i = 0;
    while i < ev.insts.borrow().len() {
        let inst = ev.inst(i);
        for (decl_index, decl) in inst.module.resources.iter().enumerate() {
            if decl.mode != Mode::Managed {
                continue;
            }
            for instance in ev.instances(i, decl_index) {
                let address = ev.address(i, decl, &instance);
                let Ok(value) = ev.resource_value(i, decl_index, &instance, decl.span) else {
                    continue;
                };
                let mut mapped = mapping::to_resources(&decl.tf_type, &address, &value, decl.span);
                let account = ev.decl_account(i, decl);
                for r in &mut mapped {
                    r.account = account.clone();
                }
                declared_by.extend(std::iter::repeat_n((i, decl_index), mapped.len()));
                resources.extend(mapped);
                addresses
                    .entry((i, decl_index))
                    .or_default()
                    .push(address.clone());
                tf_resources.push((decl.tf_type.clone(), address, value));
            }
        }
        for call in 0..inst.module.modules.len() {
            ev.module_instances(i, call);
        }
        i += 1;
    }
    let ordering = dependencies::ordering(&ev);
    let after = |decl: &(usize, usize)| -> Vec<String> {
        let mut ids: Vec<String> = ordering
            .get(decl)
            .into_iter()
            .flatten()
            .filter_map(|d| addresses.get(d))
            .flatten()
            .cloned()
            .collect();
        ids.sort();
        ids
    };
    let mut stack = Stack::new(Format::Terraform, first);
    stack.ordering_known = true;
    stack.account = ev.stack_account();
    for (mut r, decl) in resources.into_iter().zip(declared_by) {
        r.depends_on = after(&decl);
        stack.add_resource(r);
    }
    mapping::attach(&mut stack, &tf_resources);
    // A value applied by a separate resource (a bucket notification, a policy attachment) takes
    // effect in the order of that resource, not of the one it is folded into.
    let declaration_of: HashMap<&str, (usize, usize)> = addresses
        .iter()
        .flat_map(|(decl, addrs)| addrs.iter().map(move |a| (a.as_str(), *decl)))
        .collect();
    for applied in &mut stack.applied {
        if let Some(decl) = declaration_of.get(applied.by.as_str()) {
            applied.after = after(decl);
        }
    }
    // What is handed to a module iamlint cannot read may be changed by it.
    for i in 0..ev.insts.borrow().len() {
        let inst = ev.inst(i);
        let Some((caller, call)) = inst.caller.filter(|_| !inst.resolved) else {
            continue;
        };
        let caller_inst = ev.inst(caller);
        let decl = &caller_inst.module.modules[call];
        let inputs: Vec<_> = decl
            .body
            .attributes()
            .filter(|a| !module::META_ARGUMENTS.contains(&a.key.as_str()))
            .map(|a| {
                ev.eval_in(
                    caller,
                    &inst.binding,
                    &module::Expr {
                        expr: a.value.clone(),
                        file: decl.file,
                    },
                )
            })
            .collect();
        let address = inst.prefix.trim_end_matches('.').to_string();
        let why = format!("what module {address} attaches");
        mapping::open_principals(&mut stack, &address, &why, &inputs);
    }
    let diagnostics = ev.diagnostics.into_inner();
    Some(Analysed { stack, diagnostics })
}
