//! Cycles CloudFormation rejects before it creates anything: a condition that depends on
//! itself through `Condition`, and resources that depend on each other through `Ref`,
//! `Fn::GetAtt`, `Fn::Sub` or `DependsOn` ("Circular dependency between resources").
//!
//! Only certain dependencies count: a reference in a branch of an `Fn::If` whose condition is
//! not decided, or from or to a resource created under such a condition, is left out, so a
//! cycle is reported only when every deployment has it. So are SAM resources iamlint leaves
//! unexpanded, whose references SAM rewrites.

use iamlint_core::{Diagnostic, Part, Resource, Span, Stack, Value, ValueKind};
use std::collections::HashMap;

/// Reports every cycle between the conditions of a `Conditions` section, at the first
/// condition of the cycle.
pub(crate) fn condition_cycles(conditions: &Value) -> Vec<Diagnostic> {
    let Some(map) = conditions.as_map() else {
        return Vec::new();
    };
    let names: Vec<(&str, Span)> = map.iter().map(|(k, _)| (k.name.as_str(), k.span)).collect();
    let index: HashMap<&str, usize> = names
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, i))
        .collect();
    let edges: Vec<Vec<usize>> = map
        .iter()
        .map(|(_, definition)| {
            let mut out = Vec::new();
            condition_references(definition, &mut |name| {
                if let Some(&j) = index.get(name) {
                    out.push(j);
                }
            });
            out
        })
        .collect();
    cycles(&edges)
        .into_iter()
        .map(|cycle| {
            let (_, span) = names[cycle[0]];
            Diagnostic::input_error(
                span,
                format!(
                    "circular reference between conditions: {}",
                    path(&cycle, |i| names[i].0)
                ),
            )
            .with_label("a condition cannot depend on itself through `Condition`")
        })
        .collect()
}

/// Every `{"Condition": name}` inside a condition's definition.
fn condition_references<'v>(value: &'v Value, found: &mut impl FnMut(&'v str)) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match &v.kind {
            ValueKind::Map(map) => {
                if map.len() == 1
                    && let Some(name) = map.get("Condition").and_then(Value::as_str)
                {
                    found(name);
                    continue;
                }
                stack.extend(map.iter().map(|(_, v)| v));
            }
            ValueKind::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

/// Reports every cycle between the resources of a stack, at the first resource of the cycle
/// (in file order).
pub(crate) fn resource_cycles(stack: &Stack) -> Vec<Diagnostic> {
    let resources: Vec<&Resource> = stack
        .resources()
        .iter()
        // A SAM resource left as it is (a type iamlint does not expand, or a template read
        // without the transform) refers to others in SAM's terms, not CloudFormation's.
        .filter(|r| r.condition.is_none() && !r.kind.starts_with("AWS::Serverless::"))
        .collect();
    let index: HashMap<&str, usize> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let edges: Vec<Vec<usize>> = resources
        .iter()
        .map(|r| {
            let mut out: Vec<usize> = Vec::new();
            let mut add = |name: &str| {
                if let Some(&j) = index.get(name)
                    && !out.contains(&j)
                {
                    out.push(j);
                }
            };
            resource_references(&r.properties, &mut add);
            for d in &r.depends_on {
                add(d);
            }
            out
        })
        .collect();
    cycles(&edges)
        .into_iter()
        .map(|cycle| {
            let first = resources[cycle[0]];
            Diagnostic::input_error(
                first.span,
                format!(
                    "circular dependency between resources: {}",
                    path(&cycle, |i| resources[i].id.as_str())
                ),
            )
            .with_label("each resource must be created before the next, through Ref, Fn::GetAtt, Fn::Sub or DependsOn")
            .with_resource(first.id.clone())
        })
        .collect()
}

/// Every resource a resolved value certainly refers to (not inside an undecided `Fn::If`).
fn resource_references(value: &Value, found: &mut impl FnMut(&str)) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match &v.kind {
            ValueKind::Ref(r) => found(&r.resource),
            ValueKind::Template(parts) => {
                for part in parts {
                    if let Part::Ref(r) = part {
                        found(&r.resource);
                    }
                }
            }
            ValueKind::Map(map) => stack.extend(map.iter().map(|(_, v)| v)),
            ValueKind::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}

/// `A → B → A`.
fn path<'a>(cycle: &[usize], name: impl Fn(usize) -> &'a str) -> String {
    let mut names: Vec<String> = cycle.iter().map(|&i| format!("`{}`", name(i))).collect();
    names.push(format!("`{}`", name(cycle[0])));
    names.join(" → ")
}

/// One cycle per strongly connected component that has one (a node referring to itself
/// included): the nodes along it, starting at the component's first node.
fn cycles(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut out = Vec::new();
    for component in components(edges) {
        let Some(&start) = component.iter().min() else {
            continue;
        };
        if component.len() == 1 && !edges[start].contains(&start) {
            continue;
        }
        if let Some(cycle) = shortest_cycle(edges, start, &component) {
            out.push(cycle);
        }
    }
    out.sort();
    out
}

/// The shortest way from `start` back to itself inside one component (breadth first).
fn shortest_cycle(edges: &[Vec<usize>], start: usize, component: &[usize]) -> Option<Vec<usize>> {
    let mut previous: HashMap<usize, usize> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for &next in &edges[node] {
            if !component.contains(&next) {
                continue;
            }
            if next == start {
                let mut cycle = vec![node];
                let mut at = node;
                while at != start {
                    at = *previous.get(&at)?;
                    cycle.push(at);
                }
                cycle.reverse();
                return Some(cycle);
            }
            if let std::collections::hash_map::Entry::Vacant(e) = previous.entry(next) {
                e.insert(node);
                queue.push_back(next);
            }
        }
    }
    None
}

/// The strongly connected components of a graph (Tarjan's algorithm, without recursion so a
/// long chain cannot overflow the stack).
fn components(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next_index = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        // (node, position of the next edge to look at)
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&(node, edge)) = work.last() {
            if edge == 0 && index[node] == UNSEEN {
                index[node] = next_index;
                low[node] = next_index;
                next_index += 1;
                stack.push(node);
                on_stack[node] = true;
            }
            if let Some(&next) = edges[node].get(edge) {
                if let Some(top) = work.last_mut() {
                    top.1 += 1;
                }
                if index[next] == UNSEEN {
                    work.push((next, 0));
                } else if on_stack[next] {
                    low[node] = low[node].min(index[next]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == index[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}
