//! The `AWS::LanguageExtensions` transform's loops: every `Fn::ForEach::Name` whose collection
//! is known is replaced by its instances, on the raw document, before the SAM transform runs
//! (CloudFormation requires the language extensions to be listed first).
//!
//! Semantics follow the CloudFormation template reference
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-foreach.html>):
//! `[Identifier, Collection, {OutputKey: OutputValue}]`; in the output key and value every
//! `${Identifier}` becomes the item and every `&{Identifier}` the item without its
//! non-alphanumeric characters; `Ref: Identifier` is the item. The collection is a list, or a
//! `Ref` to a `CommaDelimitedList` parameter. Loops may nest, in `Resources`, `Conditions` and
//! `Outputs` (including resource properties).
//!
//! A loop whose collection is unknown (a parameter without value, a value only known at deploy
//! time) stays in the document unexpanded: the template layer treats what it would generate as
//! unknown, never as an error. Instances keep the spans of the loop body, so findings land on
//! the user's lines.

use iamlint_core::{Diagnostic, Key, Map, Span, Value, ValueKind};
use std::collections::{HashMap, HashSet};

/// The prefix of a loop's key.
pub(crate) const FOR_EACH: &str = "Fn::ForEach::";

/// The most nodes the expansion may create in one template (a template at CloudFormation's
/// size limit has far fewer); past it, the remaining loops stay unexpanded, i.e. unknown.
const MAX_EXPANDED_NODES: usize = 500_000;

/// The sections `Fn::ForEach` may be used in.
const SECTIONS: &[&str] = &["Conditions", "Resources", "Outputs"];

/// What the expansion left unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Expansion {
    /// A loop in `Conditions` could not be expanded: some condition names are unknown.
    pub(crate) unknown_conditions: bool,
    /// A loop in `Resources` could not be expanded: some logical ids are unknown.
    pub(crate) unknown_resources: bool,
}

/// Expands every loop of the template whose collection is known. `given` are the parameter
/// values from the command line; a parameter's `Default` is used otherwise.
pub(crate) fn expand(
    root: &mut Value,
    given: &HashMap<String, String>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Expansion {
    let mut expansion = Expansion::default();
    let Some(map) = root.as_map() else {
        return expansion;
    };
    if !SECTIONS
        .iter()
        .any(|s| map.get(s).is_some_and(contains_loop))
    {
        return expansion;
    }
    let parameters = map
        .get("Parameters")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let mappings = map
        .get("Mappings")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let mut expander = Expander {
        parameters: &parameters,
        mappings: &mappings,
        given,
        budget: MAX_EXPANDED_NODES,
        diagnostics,
        reported: HashSet::new(),
        unknown: false,
    };
    let Some(map) = root.as_map_mut() else {
        return expansion;
    };
    for (key, section) in &mut map.entries {
        if !SECTIONS.contains(&key.name.as_str()) || !contains_loop(section) {
            continue;
        }
        expander.unknown = false;
        *section = expander.value(section, &[]);
        match key.name.as_str() {
            "Conditions" => expansion.unknown_conditions |= expander.unknown,
            "Resources" => expansion.unknown_resources |= expander.unknown,
            _ => {}
        }
    }
    expansion
}

/// Whether a loop is written anywhere in `value`.
fn contains_loop(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match &v.kind {
            ValueKind::Map(m) => {
                if m.keys().any(|k| k.starts_with(FOR_EACH)) {
                    return true;
                }
                stack.extend(m.iter().map(|(_, v)| v));
            }
            ValueKind::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    false
}

/// The identifiers of the loops around a node and their current items, innermost last.
type Bindings = [(String, String)];

struct Expander<'a> {
    parameters: &'a Map,
    mappings: &'a Map,
    given: &'a HashMap<String, String>,
    /// Nodes the expansion may still create.
    budget: usize,
    diagnostics: &'a mut Vec<Diagnostic>,
    /// What was already reported (a malformed loop inside a loop body is seen once per item).
    reported: HashSet<(Span, String)>,
    /// Whether a loop of the current section stayed unexpanded.
    unknown: bool,
}

impl Expander<'_> {
    fn report(&mut self, span: Span, message: String) {
        if self.reported.insert((span, message.clone())) {
            self.diagnostics
                .push(Diagnostic::input_error(span, message));
        }
    }

    fn value(&mut self, value: &Value, bindings: &Bindings) -> Value {
        match &value.kind {
            ValueKind::Map(map) => self.map(map, value.span, bindings),
            ValueKind::List(items) => Value::new(
                ValueKind::List(items.iter().map(|i| self.value(i, bindings)).collect()),
                value.span,
            ),
            _ => value.clone(),
        }
    }

    fn map(&mut self, map: &Map, span: Span, bindings: &Bindings) -> Value {
        if !bindings.is_empty()
            && let Some(replaced) = self.bound_function(map, span, bindings)
        {
            return replaced;
        }
        let mut entries: Vec<(Key, Value)> = Vec::with_capacity(map.len());
        let mut generated: Vec<usize> = Vec::new();
        for (key, child) in map.iter() {
            if key.name.starts_with(FOR_EACH) {
                match self.for_each(key, child, bindings) {
                    Some(instances) => {
                        for instance in instances {
                            generated.push(entries.len());
                            entries.push(instance);
                        }
                    }
                    None => {
                        // Unknown: left for the template layer, which treats it as such.
                        self.unknown = true;
                        entries.push((key.clone(), child.clone()));
                    }
                }
                continue;
            }
            let key = Key {
                name: substitute(&key.name, bindings),
                span: key.span,
            };
            entries.push((key, self.value(child, bindings)));
        }
        if !generated.is_empty() {
            self.check_duplicates(&entries, &generated);
        }
        Value::new(ValueKind::Map(Map { entries }), span)
    }

    /// CloudFormation rejects a loop that generates a key written elsewhere in the same map.
    fn check_duplicates(&mut self, entries: &[(Key, Value)], generated: &[usize]) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut duplicates = Vec::new();
        for (i, (key, _)) in entries.iter().enumerate() {
            if let Some(first) = seen.insert(key.name.as_str(), i)
                && (generated.contains(&i) || generated.contains(&first))
            {
                duplicates.push((key.span, key.name.clone()));
            }
        }
        for (span, name) in duplicates {
            self.report(
                span,
                format!("`{name}` is generated by Fn::ForEach but is already defined in this map"),
            );
        }
    }

    /// `Ref: Identifier` and `Fn::Sub` inside a loop body, with the loop identifiers replaced.
    fn bound_function(&mut self, map: &Map, span: Span, bindings: &Bindings) -> Option<Value> {
        if map.len() != 1 {
            return None;
        }
        let (key, arg) = map.iter().next()?;
        match key.name.as_str() {
            "Ref" => {
                let item = lookup(bindings, arg.as_str()?)?;
                Some(Value::string(item, span))
            }
            "Fn::Sub" => {
                let arg = match &arg.kind {
                    ValueKind::String(s) => {
                        let text = substitute(s, bindings);
                        if !text.contains("${") {
                            // Nothing left to substitute: a plain string, as the transform
                            // leaves it (so `!GetAtt [!Sub "Topic${Name}", Arn]` resolves).
                            return Some(Value::string(text, span));
                        }
                        Value::string(text, arg.span)
                    }
                    ValueKind::List(items) if !items.is_empty() => {
                        let mut out: Vec<Value> = Vec::with_capacity(items.len());
                        for (i, item) in items.iter().enumerate() {
                            match (&item.kind, i) {
                                (ValueKind::String(s), 0) => {
                                    out.push(Value::string(substitute(s, bindings), item.span))
                                }
                                _ => out.push(self.value(item, bindings)),
                            }
                        }
                        Value::new(ValueKind::List(out), arg.span)
                    }
                    _ => self.value(arg, bindings),
                };
                Some(Value::new(
                    ValueKind::Map(Map {
                        entries: vec![(key.clone(), arg)],
                    }),
                    span,
                ))
            }
            _ => None,
        }
    }

    /// The instances of one loop: `None` when its collection is unknown (or the expansion has
    /// used its budget).
    fn for_each(
        &mut self,
        key: &Key,
        arg: &Value,
        bindings: &Bindings,
    ) -> Option<Vec<(Key, Value)>> {
        let shape = "Fn::ForEach takes [Identifier, Collection, {OutputKey: OutputValue}]";
        let Some([identifier, collection, body]) = arg.as_list() else {
            self.report(key.span, format!("`{}`: {shape}", key.name));
            return None;
        };
        let Some(identifier) = identifier.as_str() else {
            self.report(
                identifier.span,
                "the identifier of Fn::ForEach must be a string".to_string(),
            );
            return None;
        };
        let Some(body_map) = body.as_map() else {
            self.report(
                body.span,
                "the output of Fn::ForEach must be a map of OutputKey to OutputValue".to_string(),
            );
            return None;
        };
        let items = self.collection(collection, bindings)?;
        let size = node_count(body);
        let mut instances = Vec::new();
        for item in items {
            self.budget = self.budget.checked_sub(size)?;
            let mut inner = bindings.to_vec();
            inner.push((identifier.to_string(), item));
            let expanded = self.map(body_map, body.span, &inner);
            if let ValueKind::Map(m) = expanded.kind {
                instances.extend(m.entries);
            }
        }
        Some(instances)
    }

    /// The items of a loop's collection, when known.
    fn collection(&self, value: &Value, bindings: &Bindings) -> Option<Vec<String>> {
        match &value.kind {
            ValueKind::List(items) => items
                .iter()
                .map(|item| self.scalar(item, bindings))
                .collect(),
            ValueKind::Map(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next()?;
                match key.name.as_str() {
                    "Ref" => {
                        let name = arg.as_str()?;
                        self.list_parameter(name)
                    }
                    "Fn::FindInMap" => {
                        let found = self.find_in_map(arg, bindings)?;
                        match &found.kind {
                            ValueKind::List(items) => items
                                .iter()
                                .map(|i| i.as_scalar_str().map(|s| s.into_owned()))
                                .collect(),
                            _ => split_list(&found.as_scalar_str()?),
                        }
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A scalar item: a literal, a loop identifier, or a parameter with a value.
    fn scalar(&self, value: &Value, bindings: &Bindings) -> Option<String> {
        if let Some(s) = value.as_scalar_str() {
            return Some(s.into_owned());
        }
        let name = value.get("Ref")?.as_str()?;
        if let Some(item) = lookup(bindings, name) {
            return Some(item.to_string());
        }
        if let Some(given) = self.given.get(name) {
            return Some(given.clone());
        }
        let decl = self.parameters.get(name)?;
        Some(decl.get("Default")?.as_scalar_str()?.into_owned())
    }

    /// The value of a list parameter (`CommaDelimitedList`, `List<...>`): given on the command
    /// line, else its default.
    fn list_parameter(&self, name: &str) -> Option<Vec<String>> {
        let decl = self.parameters.get(name)?;
        let kind = decl.get("Type").and_then(Value::as_str)?;
        if !(kind == "CommaDelimitedList" || kind.starts_with("List<")) {
            return None;
        }
        if let Some(given) = self.given.get(name) {
            return split_list(given);
        }
        let default = decl.get("Default")?;
        match &default.kind {
            ValueKind::List(items) => items
                .iter()
                .map(|i| i.as_scalar_str().map(|s| s.into_owned()))
                .collect(),
            _ => split_list(&default.as_scalar_str()?),
        }
    }

    fn find_in_map(&self, arg: &Value, bindings: &Bindings) -> Option<Value> {
        let items = arg.as_list()?;
        let [map, top, second, ..] = items else {
            return None;
        };
        let map = self.scalar(map, bindings)?;
        let top = self.scalar(top, bindings)?;
        let second = self.scalar(second, bindings)?;
        self.mappings
            .get(&map)
            .and_then(|m| m.get(&top))
            .and_then(|m| m.get(&second))
            .or_else(|| items.get(3)?.get("DefaultValue"))
            .cloned()
    }
}

/// The item bound to `name` by the innermost loop that binds it.
fn lookup<'b>(bindings: &'b Bindings, name: &str) -> Option<&'b str> {
    bindings
        .iter()
        .rev()
        .find(|(id, _)| id == name)
        .map(|(_, item)| item.as_str())
}

/// `text` with `${Identifier}` replaced by the item and `&{Identifier}` by the item without
/// its non-alphanumeric characters, for every loop around it.
fn substitute(text: &str, bindings: &Bindings) -> String {
    if bindings.is_empty() || !(text.contains("${") || text.contains("&{")) {
        return text.to_string();
    }
    let mut out = text.to_string();
    for (identifier, item) in bindings.iter().rev() {
        let plain = format!("${{{identifier}}}");
        if out.contains(&plain) {
            out = out.replace(&plain, item);
        }
        let stripped = format!("&{{{identifier}}}");
        if out.contains(&stripped) {
            let alphanumeric: String = item.chars().filter(char::is_ascii_alphanumeric).collect();
            out = out.replace(&stripped, &alphanumeric);
        }
    }
    out
}

/// A comma-delimited list as CloudFormation splits a `CommaDelimitedList` value.
fn split_list(text: &str) -> Option<Vec<String>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    Some(text.split(',').map(|s| s.trim().to_string()).collect())
}

fn node_count(value: &Value) -> usize {
    let mut count = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match &v.kind {
            ValueKind::Map(m) => stack.extend(m.iter().map(|(_, v)| v)),
            ValueKind::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    count
}
