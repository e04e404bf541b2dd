//! From the raw document to the resource graph: parameters, mappings, conditions and the
//! intrinsic functions, resolved as far as they can be without deploying.
//!
//! What cannot be known stays typed: `Ref` to a resource becomes a [`Reference`], a parameter
//! without a value a [`Unknown::Parameter`], `Fn::Sub` a template of known and unknown parts,
//! and `Fn::If` on an undecidable condition a [`Choice`] keeping both branches.

use iamlint_core::{
    Choice, Diagnostic, Format, Key, Map, Origin, Parameter, Part, Pseudo, Reference, Resource,
    Span, Stack, Unknown, Value, ValueKind,
};
use std::cell::RefCell;
use std::collections::HashMap;

/// How deep conditions may refer to conditions before iamlint gives up (and calls it unknown).
const MAX_CONDITION_DEPTH: usize = 64;

/// Every intrinsic function CloudFormation (and its language extensions) defines.
const INTRINSICS: &[&str] = &[
    "Ref",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::FindInMap",
    "Fn::ImportValue",
    "Fn::GetAZs",
    "Fn::Cidr",
    "Fn::Base64",
    "Fn::If",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::Transform",
    "Fn::Length",
    "Fn::ToJsonString",
    "Fn::ForEach",
];

/// The parts of a template the resolver reads.
pub(crate) struct Template<'a> {
    parameters: HashMap<&'a str, ParamInfo<'a>>,
    given: &'a HashMap<String, String>,
    mappings: Option<&'a Value>,
    conditions: Option<&'a Value>,
    condition_cache: RefCell<HashMap<String, Option<bool>>>,
    condition_stack: RefCell<Vec<String>>,
    pub(crate) diagnostics: RefCell<Vec<Diagnostic>>,
}

struct ParamInfo<'a> {
    kind: Option<&'a str>,
    default: Option<&'a Value>,
}

/// Builds the stack of one template whose raw document is `root` (SAM already expanded).
pub(crate) fn build_stack(
    root: &Value,
    file: iamlint_core::FileId,
    format: Format,
    given: &HashMap<String, String>,
    generated: &HashMap<String, (String, Span)>,
) -> (Stack, Vec<Diagnostic>) {
    let template = Template::new(root, given);
    let mut stack = Stack::new(format, file);

    if let Some(params) = root.get("Parameters").and_then(Value::as_map) {
        for (key, decl) in params.iter() {
            stack.parameters.push(Parameter {
                name: key.name.clone(),
                kind: decl.get("Type").and_then(Value::as_str).map(str::to_string),
                default: decl.get("Default").cloned(),
                span: key.span,
            });
        }
    }

    if let Some(resources) = root.get("Resources").and_then(Value::as_map) {
        for (key, decl) in resources.iter() {
            if key.name.starts_with("Fn::ForEach::") {
                // Language-extension loops create resources whose names are only known at
                // deploy time; leaving them out keeps iamlint silent about them.
                continue;
            }
            let Some(kind) = decl.get("Type").and_then(Value::as_str) else {
                continue;
            };
            let condition = decl
                .get("Condition")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(name) = &condition
                && template.condition(name, key.span) == Some(false)
            {
                // Never created with the parameters given.
                continue;
            }
            let properties = match decl.get("Properties") {
                Some(props) => template.resolve(props),
                None => Value::new(ValueKind::Map(Map::default()), key.span),
            };
            let depends_on = decl
                .get("DependsOn")
                .map(|d| {
                    d.as_one_or_many()
                        .into_iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let (origin, span) = match generated.get(&key.name) {
                Some((source, anchor)) => (
                    Origin::Generated {
                        source: source.clone(),
                    },
                    *anchor,
                ),
                None => (Origin::Declared, key.span),
            };
            stack.add_resource(Resource {
                id: key.name.clone(),
                kind: kind.to_string(),
                properties,
                span,
                condition: condition.filter(|c| template.condition(c, key.span).is_none()),
                depends_on,
                origin,
            });
        }
    }
    let diagnostics = template.diagnostics.into_inner();
    (stack, diagnostics)
}

impl<'a> Template<'a> {
    fn new(root: &'a Value, given: &'a HashMap<String, String>) -> Self {
        let parameters = root
            .get("Parameters")
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .map(|(k, decl)| {
                        (
                            k.name.as_str(),
                            ParamInfo {
                                kind: decl.get("Type").and_then(Value::as_str),
                                default: decl.get("Default"),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Template {
            parameters,
            given,
            mappings: root.get("Mappings"),
            conditions: root.get("Conditions"),
            condition_cache: RefCell::new(HashMap::new()),
            condition_stack: RefCell::new(Vec::new()),
            diagnostics: RefCell::new(Vec::new()),
        }
    }

    fn report(&self, span: Span, message: String) {
        self.diagnostics
            .borrow_mut()
            .push(Diagnostic::input_error(span, message));
    }

    /// Resolves every intrinsic function in `value`. `NoValue` entries are dropped from maps
    /// and lists; a value that is itself `NoValue` stays so for the caller to drop.
    pub(crate) fn resolve(&self, value: &Value) -> Value {
        match &value.kind {
            ValueKind::Map(map) => {
                if let Some((key, arg)) = intrinsic(map) {
                    return self.intrinsic(key, arg, value.span);
                }
                let mut out = Map::default();
                for (k, v) in map.iter() {
                    let resolved = self.resolve(v);
                    if !resolved.is_no_value() {
                        out.entries.push((k.clone(), resolved));
                    }
                }
                Value::new(ValueKind::Map(out), value.span)
            }
            ValueKind::List(items) => Value::new(
                ValueKind::List(
                    items
                        .iter()
                        .map(|i| self.resolve(i))
                        .filter(|v| !v.is_no_value())
                        .collect(),
                ),
                value.span,
            ),
            ValueKind::String(s) if s.contains("{{resolve:") => dynamic_reference(s, value.span),
            _ => value.clone(),
        }
    }

    fn intrinsic(&self, key: &Key, arg: &Value, span: Span) -> Value {
        let unknown =
            |name: &str| Value::new(ValueKind::Unknown(Unknown::Intrinsic(name.into())), span);
        match key.name.as_str() {
            "Ref" => match arg.as_str() {
                Some(name) => self.reference(name, span),
                None => {
                    let resolved = self.resolve(arg);
                    match resolved.as_str() {
                        Some(name) => self.reference(name, span),
                        None => unknown("Ref"),
                    }
                }
            },
            "Fn::GetAtt" => self
                .get_att(arg, span)
                .unwrap_or_else(|| unknown("Fn::GetAtt")),
            "Fn::Sub" => self.sub(arg, span).unwrap_or_else(|| unknown("Fn::Sub")),
            "Fn::Join" => self.join(arg, span).unwrap_or_else(|| unknown("Fn::Join")),
            "Fn::Select" => self.select(arg).unwrap_or_else(|| unknown("Fn::Select")),
            "Fn::Split" => self
                .split(arg, span)
                .unwrap_or_else(|| unknown("Fn::Split")),
            "Fn::FindInMap" => self
                .find_in_map(arg)
                .unwrap_or_else(|| unknown("Fn::FindInMap")),
            "Fn::ImportValue" => Value::new(ValueKind::Unknown(Unknown::Import), span),
            "Fn::If" => self.fn_if(arg, span).unwrap_or_else(|| unknown("Fn::If")),
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
                match self.condition_value(key.name.as_str(), arg, span, 0) {
                    Some(b) => Value::new(ValueKind::Bool(b), span),
                    None => unknown(&key.name),
                }
            }
            other => unknown(other),
        }
    }

    /// `Ref`: a pseudo parameter, a template parameter or a resource.
    fn reference(&self, name: &str, span: Span) -> Value {
        if name == "AWS::NoValue" {
            return Value::new(ValueKind::NoValue, span);
        }
        if let Some(p) = Pseudo::from_name(name) {
            return Value::new(ValueKind::Unknown(Unknown::Pseudo(p)), span);
        }
        if let Some(param) = self.parameters.get(name) {
            if let Some(given) = self.given.get(name) {
                return param_value(param.kind, given, span);
            }
            return Value::new(
                ValueKind::Unknown(Unknown::Parameter {
                    name: name.to_string(),
                    default: param
                        .default
                        .and_then(|d| d.as_scalar_str().map(|s| s.into_owned())),
                }),
                span,
            );
        }
        // A resource, or one the SAM transform generates that iamlint does not model:
        // either way a typed reference; rules look the resource up and stay silent if absent.
        Value::new(ValueKind::Ref(Reference::to_ref(name)), span)
    }

    fn get_att(&self, arg: &Value, span: Span) -> Option<Value> {
        let (resource, attribute) = match &arg.kind {
            ValueKind::String(s) => {
                let (r, a) = s.split_once('.')?;
                (r.to_string(), a.to_string())
            }
            ValueKind::List(items) if items.len() == 2 => {
                let r = items[0].as_str()?.to_string();
                let a = self.resolve(&items[1]);
                (r, a.as_scalar_str()?.into_owned())
            }
            _ => return None,
        };
        Some(Value::new(
            ValueKind::Ref(Reference::get_att(resource, attribute)),
            span,
        ))
    }

    fn sub(&self, arg: &Value, span: Span) -> Option<Value> {
        let (text, vars) = match &arg.kind {
            ValueKind::String(s) => (s.as_str(), None),
            ValueKind::List(items) if !items.is_empty() => {
                (items[0].as_str()?, items.get(1).and_then(Value::as_map))
            }
            _ => return None,
        };
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let (before, after) = rest.split_at(start);
            push_lit(&mut parts, before);
            let after = &after[2..];
            let Some(end) = after.find('}') else {
                push_lit(&mut parts, &rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            rest = &after[end + 1..];
            if let Some(literal) = name.strip_prefix('!') {
                // `${!Literal}` is the text `${Literal}`.
                push_lit(&mut parts, &format!("${{{literal}}}"));
                continue;
            }
            let name = name.trim();
            let value = match vars.and_then(|v| v.get(name)) {
                Some(v) => self.resolve(v),
                None => match name.split_once('.') {
                    Some((resource, attribute))
                        if !self.parameters.contains_key(name)
                            && Pseudo::from_name(name).is_none() =>
                    {
                        Value::new(
                            ValueKind::Ref(Reference::get_att(resource, attribute)),
                            span,
                        )
                    }
                    _ => self.reference(name, span),
                },
            };
            push_value(&mut parts, &value, "Fn::Sub");
        }
        push_lit(&mut parts, rest);
        Some(template_value(parts, span))
    }

    fn join(&self, arg: &Value, span: Span) -> Option<Value> {
        let items = arg.as_list()?;
        let [delimiter, list] = items else {
            return None;
        };
        let delimiter = self.resolve(delimiter);
        let delimiter = delimiter.as_scalar_str()?.into_owned();
        let list = self.resolve(list);
        let list = list.as_list()?;
        let mut parts = Vec::new();
        for (i, item) in list.iter().enumerate() {
            if i > 0 {
                push_lit(&mut parts, &delimiter);
            }
            push_value(&mut parts, item, "Fn::Join");
        }
        Some(template_value(parts, span))
    }

    fn select(&self, arg: &Value) -> Option<Value> {
        let items = arg.as_list()?;
        let [index, list] = items else {
            return None;
        };
        let index: usize = self.resolve(index).as_scalar_str()?.trim().parse().ok()?;
        let list = self.resolve(list);
        let picked = list.as_list()?.get(index)?.clone();
        Some(picked)
    }

    fn split(&self, arg: &Value, span: Span) -> Option<Value> {
        let items = arg.as_list()?;
        let [delimiter, source] = items else {
            return None;
        };
        let delimiter = self.resolve(delimiter).as_scalar_str()?.into_owned();
        if delimiter.is_empty() {
            return None;
        }
        let source = self.resolve(source);
        let text = source.as_scalar_str()?;
        Some(Value::new(
            ValueKind::List(
                text.split(delimiter.as_str())
                    .map(|s| Value::string(s, source.span))
                    .collect(),
            ),
            span,
        ))
    }

    fn find_in_map(&self, arg: &Value) -> Option<Value> {
        let items = arg.as_list()?;
        if items.len() < 3 {
            return None;
        }
        let keys: Vec<String> = items[..3]
            .iter()
            .map(|k| self.resolve(k).as_scalar_str().map(|s| s.into_owned()))
            .collect::<Option<_>>()?;
        let found = self
            .mappings?
            .get(&keys[0])
            .and_then(|m| m.get(&keys[1]))
            .and_then(|m| m.get(&keys[2]));
        match found {
            Some(v) => Some(self.resolve(v)),
            // Language extensions' default value.
            None => items
                .get(3)
                .and_then(|d| d.get("DefaultValue"))
                .map(|d| self.resolve(d)),
        }
    }

    fn fn_if(&self, arg: &Value, span: Span) -> Option<Value> {
        let items = arg.as_list()?;
        let [condition, if_true, if_false] = items else {
            return None;
        };
        let name = condition.as_str()?;
        match self.condition(name, condition.span) {
            Some(true) => Some(self.resolve(if_true)),
            Some(false) => Some(self.resolve(if_false)),
            None => Some(Value::new(
                ValueKind::Choice(Box::new(Choice {
                    condition: name.to_string(),
                    if_true: self.resolve(if_true),
                    if_false: self.resolve(if_false),
                })),
                span,
            )),
        }
    }

    /// The value of a named condition: `None` when it depends on something unknown.
    pub(crate) fn condition(&self, name: &str, span: Span) -> Option<bool> {
        self.condition_at(name, span, 0)
    }

    fn condition_at(&self, name: &str, span: Span, depth: usize) -> Option<bool> {
        if let Some(cached) = self.condition_cache.borrow().get(name) {
            return *cached;
        }
        if depth > MAX_CONDITION_DEPTH || self.condition_stack.borrow().iter().any(|c| c == name) {
            return None;
        }
        let Some(definition) = self.conditions.and_then(|c| c.get(name)) else {
            self.report(
                span,
                format!("condition `{name}` is not defined in Conditions"),
            );
            self.condition_cache
                .borrow_mut()
                .insert(name.to_string(), None);
            return None;
        };
        self.condition_stack.borrow_mut().push(name.to_string());
        let result = self.evaluate_condition(definition, depth + 1);
        self.condition_stack.borrow_mut().pop();
        self.condition_cache
            .borrow_mut()
            .insert(name.to_string(), result);
        result
    }

    fn evaluate_condition(&self, value: &Value, depth: usize) -> Option<bool> {
        match &value.kind {
            ValueKind::Map(map) => {
                if map.len() == 1
                    && let Some(name) = map.get("Condition")
                {
                    return self.condition_value("Condition", name, value.span, depth);
                }
                let (key, arg) = intrinsic(map)?;
                self.condition_value(&key.name, arg, value.span, depth)
            }
            ValueKind::Bool(b) => Some(*b),
            ValueKind::String(s) => match s.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    fn condition_value(
        &self,
        function: &str,
        arg: &Value,
        span: Span,
        depth: usize,
    ) -> Option<bool> {
        if depth > MAX_CONDITION_DEPTH {
            return None;
        }
        match function {
            "Condition" => self.condition_at(arg.as_str()?, span, depth),
            "Fn::Not" => {
                let items = arg.as_list()?;
                Some(!self.evaluate_condition(items.first()?, depth + 1)?)
            }
            "Fn::And" | "Fn::Or" => {
                let is_and = function == "Fn::And";
                let mut unknown = false;
                for item in arg.as_list()? {
                    match self.evaluate_condition(item, depth + 1) {
                        Some(b) if b != is_and => return Some(b),
                        Some(_) => {}
                        None => unknown = true,
                    }
                }
                if unknown { None } else { Some(is_and) }
            }
            "Fn::Equals" => {
                let items = arg.as_list()?;
                let [a, b] = items else {
                    return None;
                };
                let a = self.resolve(a);
                let b = self.resolve(b);
                equals(&a, &b)
            }
            _ => None,
        }
    }
}

/// Whether two resolved values are equal: `None` when it cannot be known.
fn equals(a: &Value, b: &Value) -> Option<bool> {
    match (&a.kind, &b.kind) {
        (ValueKind::Unknown(x), ValueKind::Unknown(y)) if x == y && is_stable(x) => Some(true),
        (ValueKind::Ref(x), ValueKind::Ref(y)) if x == y => Some(true),
        (ValueKind::List(x), ValueKind::List(y)) => {
            if x.len() != y.len() {
                return Some(false);
            }
            let mut all = Some(true);
            for (i, j) in x.iter().zip(y) {
                match equals(i, j) {
                    Some(false) => return Some(false),
                    None => all = None,
                    Some(true) => {}
                }
            }
            all
        }
        _ => {
            let x = a.as_scalar_str()?;
            let y = b.as_scalar_str()?;
            Some(x == y)
        }
    }
}

/// Unknowns that stand for one value throughout a deployment.
fn is_stable(u: &Unknown) -> bool {
    matches!(u, Unknown::Pseudo(_) | Unknown::Parameter { .. })
}

/// The single intrinsic-function entry of a map, if the map is a function call.
fn intrinsic(map: &Map) -> Option<(&Key, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (key, arg) = map.iter().next()?;
    let name = key.name.as_str();
    if name == "Ref" || name.starts_with("Fn::") {
        Some((key, arg))
    } else {
        None
    }
}

/// Whether `name` is an intrinsic function CloudFormation knows.
pub(crate) fn is_known_intrinsic(name: &str) -> bool {
    INTRINSICS.contains(&name) || name.starts_with("Fn::ForEach::")
}

/// A parameter value given on the command line, typed by the parameter's declared type.
fn param_value(kind: Option<&str>, given: &str, span: Span) -> Value {
    let is_list = kind.is_some_and(|k| k.starts_with("List<") || k == "CommaDelimitedList");
    if is_list {
        let items = if given.is_empty() {
            Vec::new()
        } else {
            given
                .split(',')
                .map(|s| Value::string(s.trim(), span))
                .collect()
        };
        Value::new(ValueKind::List(items), span)
    } else {
        Value::string(given, span)
    }
}

/// A string holding `{{resolve:...}}` dynamic references: each reference is unknown.
fn dynamic_reference(s: &str, span: Span) -> Value {
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{resolve:") {
        push_lit(&mut parts, &rest[..start]);
        match rest[start..].find("}}") {
            Some(end) => {
                parts.push(Part::Unknown(Unknown::Dynamic));
                rest = &rest[start + end + 2..];
            }
            None => {
                push_lit(&mut parts, &rest[start..]);
                rest = "";
            }
        }
    }
    push_lit(&mut parts, rest);
    if let [Part::Unknown(u)] = parts.as_slice() {
        return Value::new(ValueKind::Unknown(u.clone()), span);
    }
    template_value(parts, span)
}

fn push_lit(parts: &mut Vec<Part>, s: &str) {
    if s.is_empty() {
        return;
    }
    if let Some(Part::Lit(last)) = parts.last_mut() {
        last.push_str(s);
    } else {
        parts.push(Part::Lit(s.to_string()));
    }
}

/// Appends a resolved value to a string being built; what is not a string becomes unknown.
fn push_value(parts: &mut Vec<Part>, value: &Value, function: &str) {
    match &value.kind {
        ValueKind::String(s) | ValueKind::Number(s) => push_lit(parts, s),
        ValueKind::Bool(b) => push_lit(parts, if *b { "true" } else { "false" }),
        ValueKind::Ref(r) => parts.push(Part::Ref(r.clone())),
        ValueKind::Unknown(u) => parts.push(Part::Unknown(u.clone())),
        ValueKind::Template(inner) => {
            for part in inner {
                match part {
                    Part::Lit(s) => push_lit(parts, s),
                    other => parts.push(other.clone()),
                }
            }
        }
        _ => parts.push(Part::Unknown(Unknown::Intrinsic(function.to_string()))),
    }
}

/// A string value from parts: a plain string when every part is known.
fn template_value(parts: Vec<Part>, span: Span) -> Value {
    match parts.as_slice() {
        [] => Value::string("", span),
        [Part::Lit(s)] => Value::string(s.clone(), span),
        [Part::Ref(r)] => Value::new(ValueKind::Ref(r.clone()), span),
        _ => Value::new(ValueKind::Template(parts), span),
    }
}

/// Reports every map key that looks like an intrinsic function but is none CloudFormation
/// knows (`Fn::Sbu`), which CloudFormation rejects at deploy time.
pub(crate) fn check_intrinsics(value: &Value, diagnostics: &mut Vec<Diagnostic>) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match &v.kind {
            ValueKind::Map(map) => {
                for (k, child) in map.iter() {
                    if k.name.starts_with("Fn::") && !is_known_intrinsic(&k.name) {
                        diagnostics.push(Diagnostic::input_error(
                            k.span,
                            format!("unknown intrinsic function `{}`", k.name),
                        ));
                    }
                    stack.push(child);
                }
            }
            ValueKind::List(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
}
