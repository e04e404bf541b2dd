//! The CloudFormation and SAM front end: reads YAML and JSON templates with spans, resolves
//! intrinsic functions into the format-neutral value tree, and expands the SAM transform.
//!
//! The pipeline for one file: [`detect`] (is this a template at all?), [`syntax`] (YAML or
//! JSON into a spanned [`Value`]), the `AWS::LanguageExtensions` loops, [`sam::expand`] (the SAM
//! transform, on the raw document as AWS runs it), then the template layer (parameters, conditions, intrinsic functions) into a
//! [`Stack`].

mod dependencies;
mod language_extensions;
pub mod sam;
pub mod syntax;
mod template;

use iamlint_core::{Diagnostic, Format, SourceFile, Span, Stack, Value};
use std::collections::HashMap;
use std::path::Path;

/// What the user told iamlint about the deployment.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Parameter values (`--param Name=Value`), as CloudFormation would receive them.
    pub parameters: HashMap<String, String>,
}

/// The result of reading one template.
#[derive(Debug)]
pub struct Parsed {
    /// `None` when the file could not be read as a template.
    pub stack: Option<Stack>,
    /// Input errors (`IAM000`): the file could not be parsed, or uses something CloudFormation
    /// would reject; and the note (`IAM000` at note severity) that part of it is not expanded.
    pub diagnostics: Vec<Diagnostic>,
}

/// Whether a file's content is a CloudFormation or SAM template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    Template,
    NotTemplate,
}

/// Recognises a template by its content, cheaply and without parsing: the
/// `AWSTemplateFormatVersion` key, the SAM transform, or a `Resources` section whose types are
/// `AWS::…`. Workflows, docker-compose files and package.json are not templates.
pub fn detect(path: &Path, text: &str) -> Detection {
    let _ = path;
    let json = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{');
    let has_key = |key: &str| {
        if json {
            return text.contains(&format!("\"{key}\""));
        }
        // A top-level YAML key (quoted or not).
        text.lines().any(|line| {
            let l = line.trim_start_matches('\u{feff}');
            l.starts_with(&format!("{key}:"))
                || l.starts_with(&format!("\"{key}\":"))
                || l.starts_with(&format!("'{key}':"))
        })
    };
    if has_key("AWSTemplateFormatVersion") || text.contains("AWS::Serverless-2016-10-31") {
        return Detection::Template;
    }
    if has_key("Resources")
        && (text.contains("Type: AWS::")
            || text.contains("Type: 'AWS::")
            || text.contains("Type: \"AWS::")
            || text.contains("\"Type\": \"AWS::")
            || text.contains("\"Type\":\"AWS::"))
    {
        return Detection::Template;
    }
    Detection::NotTemplate
}

/// Reads one template into a stack: parses it (JSON when it starts with `{`, YAML otherwise),
/// expands SAM, and resolves parameters, conditions and intrinsic functions.
pub fn parse_template(file: &SourceFile, options: &Options) -> Parsed {
    let text = file.text.trim_start_matches('\u{feff}').trim_start();
    let parsed = if text.starts_with('{') {
        syntax::parse_json(file)
    } else {
        syntax::parse_yaml(file)
    };
    let mut root = match parsed {
        Ok(root) => root,
        Err(e) => {
            return Parsed {
                stack: None,
                diagnostics: vec![Diagnostic::input_error(e.span, e.message)],
            };
        }
    };
    parse_document(&mut root, file, options)
}

/// Builds the stack of a document already parsed into `root`.
pub fn parse_document(root: &mut Value, file: &SourceFile, options: &Options) -> Parsed {
    let mut diagnostics = Vec::new();
    let Some(map) = root.as_map() else {
        return Parsed {
            stack: None,
            diagnostics: vec![Diagnostic::input_error(
                Span::file_start(file.id),
                "a template must be a map with a `Resources` section",
            )],
        };
    };
    if map.get("Resources").and_then(Value::as_map).is_none() {
        if let Some((key, _)) = map.get_entry("Resources") {
            diagnostics.push(Diagnostic::input_error(
                key.span,
                "`Resources` must be a map of logical ids to resources",
            ));
        } else if map.get("AWSTemplateFormatVersion").is_none() {
            // Not a template after all (detection is textual): say nothing.
            return Parsed {
                stack: None,
                diagnostics,
            };
        }
    }
    template::check_intrinsics(root, &mut diagnostics);
    diagnostics.extend(template::unexpanded_input_note(root));
    // The language extensions run first: CloudFormation requires them before the SAM transform.
    let extensions = language_extensions::expand(root, &options.parameters, &mut diagnostics);
    let is_sam = sam::is_sam(root);
    let generated: HashMap<String, (String, Span)> = if is_sam {
        // Where a finding about a generated resource should point: the SAM resource's
        // `Policies` (where permissions are added), else its logical id.
        let anchors: HashMap<String, (Span, Span)> = root
            .get("Resources")
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let policies = v
                            .get("Properties")
                            .and_then(Value::as_map)
                            .and_then(|p| p.get_entry("Policies"))
                            .map_or(k.span, |(key, _)| key.span);
                        (k.name.clone(), (k.span, policies))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let expansion = sam::expand(root, &mut diagnostics);
        inline_definition_files(root, file);
        expansion
            .generated
            .into_iter()
            .map(|(id, source)| {
                let start = Span::file_start(file.id);
                let (id_span, policies_span) =
                    anchors.get(&source).copied().unwrap_or((start, start));
                // The replacement of the SAM resource points at its logical id; what it
                // generates (the role) at its `Policies`.
                let span = if id == source { id_span } else { policies_span };
                (id, (source, span))
            })
            .collect()
    } else {
        HashMap::new()
    };
    let format = if is_sam {
        Format::Sam
    } else {
        Format::CloudFormation
    };
    let (stack, more) = template::build_stack(
        root,
        file.id,
        format,
        &options.parameters,
        &generated,
        extensions,
    );
    diagnostics.extend(more);
    Parsed {
        stack: Some(stack),
        diagnostics,
    }
}

/// A SAM state machine's `DefinitionUri` that is a file of the repository (not `s3://…`, not
/// a `Bucket`/`Key` map) read as its `Definition`, every node pointing at the `DefinitionUri`
/// (the file is not one of the checked sources). Unreadable files leave it as it is.
fn inline_definition_files(root: &mut Value, file: &SourceFile) {
    let Some(resources) = root
        .as_map_mut()
        .and_then(|m| m.get_mut("Resources"))
        .and_then(Value::as_map_mut)
    else {
        return;
    };
    for (_, resource) in &mut resources.entries {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::StepFunctions::StateMachine")
        {
            continue;
        }
        let Some(props) = resource
            .as_map_mut()
            .and_then(|m| m.get_mut("Properties"))
            .and_then(Value::as_map_mut)
        else {
            continue;
        };
        if props.get("Definition").is_some() {
            continue;
        }
        let Some((key, location)) = props.get_entry("DefinitionS3Location") else {
            continue;
        };
        let Some(path) = location.as_str().filter(|p| !p.starts_with("s3://")) else {
            continue;
        };
        let span = location.span;
        let key_span = key.span;
        let full = file
            .path
            .parent()
            .unwrap_or_else(|| std::path::Path::new("."))
            .join(path);
        let Ok(text) = std::fs::read_to_string(&full) else {
            continue;
        };
        let source = SourceFile::new(file.id, full, text);
        let Ok(mut definition) = syntax::parse_yaml(&source) else {
            continue;
        };
        if definition.as_map().is_none() {
            continue;
        }
        respan(&mut definition, span, 0);
        props.insert(
            iamlint_core::Key {
                name: "Definition".to_string(),
                span: key_span,
            },
            definition,
        );
    }
}

/// Points every node of `value` at `span`.
fn respan(value: &mut Value, span: Span, depth: usize) {
    value.span = span;
    if depth > 64 {
        return;
    }
    match &mut value.kind {
        iamlint_core::ValueKind::List(items) => {
            for item in items {
                respan(item, span, depth + 1);
            }
        }
        iamlint_core::ValueKind::Map(map) => {
            for (k, v) in &mut map.entries {
                k.span = span;
                respan(v, span, depth + 1);
            }
        }
        _ => {}
    }
}
