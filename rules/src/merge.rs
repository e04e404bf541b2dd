//! One root cause, one finding: diagnostics of the same rule that point at the same place with
//! the same fix (two functions in a VPC sharing one role that lacks the ENI actions) are merged
//! into the first, which gains the others' labels and names the other resources.

use iamlint_core::{Diagnostic, Span};
use std::collections::{HashMap, HashSet};

/// Merges diagnostics of `out` with the same code, primary span and help, keeping the order of
/// first occurrence. Linear in the number of findings: a role shared by thousands of
/// functions makes one finding with thousands of labels.
pub fn merge_same_fix(out: &mut Vec<Diagnostic>) {
    struct Merged {
        diagnostic: Diagnostic,
        /// The other resources the finding holds for, in order.
        also: Vec<String>,
        /// Labels already held, to add each once.
        labels: HashSet<(Span, String)>,
    }
    let mut merged: Vec<Merged> = Vec::with_capacity(out.len());
    let mut index: HashMap<(&'static str, Span, String), usize> = HashMap::new();
    for diagnostic in out.drain(..) {
        let key = diagnostic
            .help
            .as_ref()
            .map(|help| (diagnostic.code, diagnostic.span, help.clone()));
        let Some(&i) = key.as_ref().and_then(|k| index.get(k)) else {
            if let Some(key) = key {
                index.insert(key, merged.len());
            }
            let labels = diagnostic
                .labels
                .iter()
                .map(|l| (l.span, l.message.clone()))
                .collect();
            merged.push(Merged {
                diagnostic,
                also: Vec::new(),
                labels,
            });
            continue;
        };
        let first = &mut merged[i];
        first.diagnostic.severity = first.diagnostic.severity.max(diagnostic.severity);
        for label in diagnostic.labels {
            if first.labels.insert((label.span, label.message.clone())) {
                first.diagnostic.labels.push(label);
            }
        }
        if let Some(resource) = diagnostic.resource
            && first.diagnostic.resource.as_ref() != Some(&resource)
            && !first.also.contains(&resource)
        {
            first.also.push(resource);
        }
    }
    *out = merged
        .into_iter()
        .map(|mut m| {
            if !m.also.is_empty() {
                m.diagnostic.message.push_str(&format!(
                    " The same fix also resolves this for {}.",
                    m.also.join(", ")
                ));
            }
            m.diagnostic
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{FileId, Severity, Span};

    fn finding(resource: &str, start: u32, help: &str, severity: Severity) -> Diagnostic {
        Diagnostic::new(
            "IAM001",
            "lambda-vpc-eni-permissions",
            severity,
            Span::new(FileId(0), start as usize, start as usize + 5),
            format!("{resource} lacks it."),
        )
        .with_secondary(
            Span::new(FileId(0), 100 + start as usize, 110),
            format!("{resource} here"),
        )
        .with_help(help)
        .with_resource(resource)
    }

    #[test]
    fn same_place_and_fix_merge_into_the_first() {
        let mut out = vec![
            finding("A", 1, "add x", Severity::Warning),
            finding("B", 1, "add x", Severity::Error),
            finding("C", 1, "add y", Severity::Error),
            finding("D", 2, "add x", Severity::Error),
        ];
        merge_same_fix(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].resource.as_deref(), Some("A"));
        assert_eq!(out[0].severity, Severity::Error);
        assert_eq!(out[0].labels.len(), 2);
        assert_eq!(
            out[0].message,
            "A lacks it. The same fix also resolves this for B."
        );
        assert_eq!(out[1].resource.as_deref(), Some("C"));
        assert_eq!(out[2].resource.as_deref(), Some("D"));
    }
}
