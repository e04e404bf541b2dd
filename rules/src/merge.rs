//! One root cause, one finding: diagnostics of the same rule that point at the same place with
//! the same fix (two functions in a VPC sharing one role that lacks the ENI actions) are merged
//! into the first, which gains the others' labels and names the other resources.

use iamlint_core::Diagnostic;

/// Merges diagnostics of `out` with the same code, primary span and help, keeping the order of
/// first occurrence.
pub fn merge_same_fix(out: &mut Vec<Diagnostic>) {
    let mut merged: Vec<Diagnostic> = Vec::with_capacity(out.len());
    let mut also: Vec<Vec<String>> = Vec::new();
    for diagnostic in out.drain(..) {
        let same = diagnostic.help.is_some().then(|| {
            merged.iter().position(|m| {
                m.code == diagnostic.code && m.span == diagnostic.span && m.help == diagnostic.help
            })
        });
        let Some(Some(i)) = same else {
            merged.push(diagnostic);
            also.push(Vec::new());
            continue;
        };
        let (first, names) = (&mut merged[i], &mut also[i]);
        first.severity = first.severity.max(diagnostic.severity);
        for label in diagnostic.labels {
            if !first.labels.contains(&label) {
                first.labels.push(label);
            }
        }
        if let Some(resource) = diagnostic.resource
            && first.resource.as_ref() != Some(&resource)
            && !names.contains(&resource)
        {
            names.push(resource);
        }
    }
    for (diagnostic, names) in merged.iter_mut().zip(&also) {
        if !names.is_empty() {
            diagnostic.message.push_str(&format!(
                " The same fix also resolves this for {}.",
                names.join(", ")
            ));
        }
    }
    *out = merged;
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
