//! The order Terraform creates resources in. A resource is created after every resource its
//! configuration refers to — directly, through locals, through a module's input variables and
//! outputs — and every resource its `depends_on` (or its module call's `depends_on`) names;
//! naming a module names everything in it. The graph is syntactic, as Terraform's is: both
//! branches of a conditional count, and so does a reference whose value is never used.
//!
//! <https://developer.hashicorp.com/terraform/language/meta-arguments/depends_on>:
//! "Terraform automatically infers when one resource depends on another by studying the
//! resource attributes used in interpolation expressions."

use crate::eval::Evaluator;
use crate::module::{Expr, Mode};
use hcl_edit::expr::{Expression, Traversal, TraversalOperator};
use hcl_edit::visit::{Visit, visit_traversal};
use std::collections::{HashMap, HashSet};

/// A node of Terraform's graph, in one module instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Node {
    /// A resource or data block (instance, index of the declaration).
    Resource(usize, usize),
    Local(usize, String),
    Var(usize, String),
    Output(usize, String),
    /// Everything a module instance declares (`depends_on = [module.x]`).
    Module(usize),
}

/// For each managed resource declaration (instance, declaration index), every managed resource
/// declaration it is created after, transitively.
pub fn ordering(ev: &Evaluator<'_>) -> HashMap<(usize, usize), HashSet<(usize, usize)>> {
    let graph = Graph { ev };
    let mut out = HashMap::new();
    let count = ev.insts.borrow().len();
    for inst in 0..count {
        let module = std::sync::Arc::clone(&ev.inst(inst).module);
        for (decl, d) in module.resources.iter().enumerate() {
            if d.mode != Mode::Managed {
                continue;
            }
            out.insert((inst, decl), graph.after(inst, decl));
        }
    }
    out
}

struct Graph<'e, 'a> {
    ev: &'e Evaluator<'a>,
}

impl Graph<'_, '_> {
    /// Every managed resource declaration reachable from the declaration's node.
    fn after(&self, inst: usize, decl: usize) -> HashSet<(usize, usize)> {
        let start = Node::Resource(inst, decl);
        let mut seen: HashSet<Node> = HashSet::from([start.clone()]);
        let mut work = vec![start];
        let mut out = HashSet::new();
        while let Some(node) = work.pop() {
            for next in self.edges(&node) {
                if seen.insert(next.clone()) {
                    if let Node::Resource(i, d) = next
                        && self.ev.inst(i).module.resources[d].mode == Mode::Managed
                        && (i, d) != (inst, decl)
                    {
                        out.insert((i, d));
                    }
                    work.push(next);
                }
            }
        }
        out
    }

    fn edges(&self, node: &Node) -> Vec<Node> {
        let mut out = Vec::new();
        match node {
            Node::Resource(inst, decl) => {
                let module_inst = self.ev.inst(*inst);
                let d = &module_inst.module.resources[*decl];
                let mut refs = Refs::new(self, *inst, &mut out);
                refs.visit_body(&d.body);
                for e in [&d.count, &d.for_each].into_iter().flatten() {
                    refs.visit_expr(&e.expr);
                }
                // A module call's `depends_on` orders everything in the module after it.
                let mut at = *inst;
                while let Some((caller, call)) = self.ev.inst(at).caller {
                    let caller_inst = self.ev.inst(caller);
                    if let Some(attr) = caller_inst.module.modules[call]
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == "depends_on")
                    {
                        Refs::new(self, caller, &mut out).visit_expr(&attr.value);
                    }
                    at = caller;
                }
            }
            Node::Local(inst, name) => {
                if let Some(e) = self.ev.inst(*inst).module.locals.get(name) {
                    self.expr(*inst, e, &mut out);
                }
            }
            Node::Var(inst, name) => {
                if let Some((caller, call)) = self.ev.inst(*inst).caller {
                    let caller_inst = self.ev.inst(caller);
                    if let Some(attr) = caller_inst.module.modules[call]
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == name)
                    {
                        Refs::new(self, caller, &mut out).visit_expr(&attr.value);
                    }
                }
            }
            Node::Output(inst, name) => {
                if let Some(e) = self.ev.inst(*inst).module.outputs.get(name) {
                    self.expr(*inst, e, &mut out);
                }
            }
            Node::Module(inst) => {
                let module_inst = self.ev.inst(*inst);
                out.extend(
                    (0..module_inst.module.resources.len()).map(|d| Node::Resource(*inst, d)),
                );
                for children in module_inst.children.borrow().values() {
                    out.extend(children.iter().map(|(_, child)| Node::Module(*child)));
                }
            }
        }
        out
    }

    fn expr(&self, inst: usize, e: &Expr, out: &mut Vec<Node>) {
        Refs::new(self, inst, out).visit_expr(&e.expr);
    }
}

/// Collects the nodes the traversals of an expression or body name, in one module instance.
struct Refs<'g, 'e, 'a, 'o> {
    graph: &'g Graph<'e, 'a>,
    inst: usize,
    out: &'o mut Vec<Node>,
}

impl<'g, 'e, 'a, 'o> Refs<'g, 'e, 'a, 'o> {
    fn new(graph: &'g Graph<'e, 'a>, inst: usize, out: &'o mut Vec<Node>) -> Self {
        Refs { graph, inst, out }
    }

    fn traversal(&mut self, t: &Traversal) {
        let Expression::Variable(root) = &t.expr else {
            return;
        };
        let names: Vec<&str> = t
            .operators
            .iter()
            .filter_map(|o| match &**o {
                TraversalOperator::GetAttr(a) => Some(a.as_str()),
                _ => None,
            })
            .collect();
        let module_inst = self.graph.ev.inst(self.inst);
        let module = &module_inst.module;
        let find = |mode: Mode, tf_type: &str, name: &str| {
            module
                .resources
                .iter()
                .position(|r| r.mode == mode && r.tf_type == tf_type && r.name == name)
        };
        match (root.as_str(), names.as_slice()) {
            ("var", [name, ..]) => self.out.push(Node::Var(self.inst, (*name).to_string())),
            ("local", [name, ..]) => self.out.push(Node::Local(self.inst, (*name).to_string())),
            ("data", [tf_type, name, ..]) => {
                if let Some(d) = find(Mode::Data, tf_type, name) {
                    self.out.push(Node::Resource(self.inst, d));
                }
            }
            ("module", [name, rest @ ..]) => {
                let Some(call) = module.modules.iter().position(|m| m.name == *name) else {
                    return;
                };
                let children = module_inst
                    .children
                    .borrow()
                    .get(&call)
                    .cloned()
                    .unwrap_or_default();
                for (_, child) in children {
                    match rest.first() {
                        Some(output) => self.out.push(Node::Output(child, (*output).to_string())),
                        None => self.out.push(Node::Module(child)),
                    }
                }
            }
            ("count" | "each" | "path" | "terraform" | "self", _) => {}
            (tf_type, [name, ..]) => {
                if let Some(d) = find(Mode::Managed, tf_type, name) {
                    self.out.push(Node::Resource(self.inst, d));
                }
            }
            _ => {}
        }
    }
}

impl Visit for Refs<'_, '_, '_, '_> {
    fn visit_traversal(&mut self, node: &Traversal) {
        self.traversal(node);
        visit_traversal(self, node);
    }
}
