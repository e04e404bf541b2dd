//! `--fix` and `--diff`: applying the safe fixes of a run to the files it checked.
//!
//! Fixes are applied to the texts in memory, round after round (a fix that overlaps one
//! already taken waits for the next round, checked against the text the first one made),
//! until no safe fix is left; the last round's findings are what remains. Only then does
//! `--fix` write the files, or `--diff` print the patch. A file is written only when it lies
//! under a path the user named, and only when its text changed.

use crate::run::{Overlay, RunOptions, RunOutput, run_overlay};
use iamlint_core::{Diagnostic, Edit, Fix, SourceMap};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rounds of fixing before giving up (every round must fix something, so this bounds only a
/// pathological chain of overlapping fixes).
const MAX_ROUNDS: usize = 10;

/// The result of fixing: the last run (on the fixed texts) and what changed.
pub struct Fixed {
    /// The check of the fixed texts: the findings that remain.
    pub output: RunOutput,
    /// Findings fixed, over all rounds.
    pub fixed: usize,
    /// Each changed file: its path, the text on disk, the fixed text (ordered by path).
    pub changes: Vec<Change>,
}

pub struct Change {
    pub path: PathBuf,
    pub before: Arc<str>,
    pub after: Arc<str>,
}

/// The safe fixes chosen in one round, applied to their files' texts.
pub struct Round {
    pub fixed: usize,
    /// The new text of each file the round changed.
    pub texts: Vec<(PathBuf, String)>,
}

/// Runs the check, applies every safe fix in files under `options.paths` in memory, and checks
/// again until nothing more can be fixed. Writes nothing.
pub fn fix(options: &RunOptions, org: &crate::config::OrgFiles) -> Fixed {
    let roots: Vec<PathBuf> = options.paths.iter().map(|p| comparable(p)).collect();
    let mut overlay = Overlay::new();
    let mut originals: BTreeMap<PathBuf, Arc<str>> = BTreeMap::new();
    let mut fixed = 0;
    let mut output = run_overlay(options, org, &overlay);
    for _ in 0..MAX_ROUNDS {
        let round = plan(&output.sources, &output.diagnostics, |path| {
            under_roots(path, &roots)
        });
        if round.fixed == 0 {
            break;
        }
        fixed += round.fixed;
        for (path, text) in round.texts {
            if !originals.contains_key(&path) {
                let before = output
                    .sources
                    .files()
                    .find(|f| f.path == path)
                    .map(|f| Arc::clone(&f.text))
                    .unwrap_or_else(|| Arc::from(""));
                originals.insert(path.clone(), before);
            }
            overlay.insert(path, Arc::from(text));
        }
        output = run_overlay(options, org, &overlay);
    }
    let changes = originals
        .into_iter()
        .filter_map(|(path, before)| {
            let after = overlay.get(&path)?.clone();
            (after != before).then_some(Change {
                path,
                before,
                after,
            })
        })
        .collect();
    Fixed {
        output,
        fixed,
        changes,
    }
}

/// Chooses the safe fixes of `diagnostics` (in report order; a fix touching bytes an earlier
/// one touches waits for the next round) in files `allowed` accepts, and applies them.
pub fn plan(
    sources: &SourceMap,
    diagnostics: &[Diagnostic],
    allowed: impl Fn(&Path) -> bool,
) -> Round {
    let mut chosen: Vec<&Fix> = Vec::new();
    for fix in diagnostics.iter().filter_map(|d| d.fix.as_ref()) {
        if !fix.is_safe() || fix.edits.is_empty() || chosen.iter().any(|c| c.overlaps(fix)) {
            continue;
        }
        let files_ok = fix.edits.iter().all(|e| {
            sources
                .get(e.span.file)
                .is_some_and(|f| !f.text.is_empty() && allowed(&f.path))
        });
        if files_ok {
            chosen.push(fix);
        }
    }
    let mut by_file: BTreeMap<u32, Vec<&Edit>> = BTreeMap::new();
    for fix in &chosen {
        for edit in &fix.edits {
            by_file.entry(edit.span.file.0).or_default().push(edit);
        }
    }
    let mut texts = Vec::new();
    let mut failed = false;
    for (id, edits) in by_file {
        let Some(file) = sources.get(iamlint_core::FileId(id)) else {
            continue;
        };
        match iamlint_core::fix::apply_edits(&file.text, &edits) {
            Some(text) => texts.push((file.path.clone(), text)),
            None => failed = true,
        }
    }
    if failed {
        // Edits the rules made wrongly (outside the text, overlapping): change nothing.
        return Round {
            fixed: 0,
            texts: Vec::new(),
        };
    }
    Round {
        fixed: chosen.len(),
        texts,
    }
}

/// Writes the fixed texts to their files.
pub fn write(changes: &[Change]) -> std::io::Result<()> {
    for change in changes {
        std::fs::write(&change.path, change.after.as_bytes()).map_err(|e| {
            std::io::Error::new(e.kind(), format!("{}: {e}", change.path.display()))
        })?;
    }
    Ok(())
}

/// A unified diff of every change (`--- a/PATH`, `+++ b/PATH`), in path order.
pub fn unified_diff(changes: &[Change]) -> String {
    let mut out = String::new();
    for change in changes {
        let path = change.path.to_string_lossy().replace('\\', "/");
        let path = path.trim_start_matches('/');
        let diff = similar::TextDiff::from_lines(&*change.before, &*change.after);
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    out
}

/// A path in a form that compares with others: canonical when it exists, else as given.
fn comparable(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `path` is one of `roots` or lies below one of them.
fn under_roots(path: &Path, roots: &[PathBuf]) -> bool {
    let path = comparable(path);
    roots
        .iter()
        .any(|root| path == *root || path.starts_with(root))
}

#[cfg(test)]
mod tests {
    use super::*;
    use iamlint_core::{FileId, Severity, SourceFile, Span};

    fn finding(file: FileId, at: usize, text: &str, safe: bool) -> Diagnostic {
        let edit = Edit::insert(Span::point(file, at), text);
        let fix = if safe {
            Fix::safe("f", vec![edit])
        } else {
            Fix::unsafe_("f", vec![edit])
        };
        Diagnostic::new("IAM012", "x", Severity::Error, Span::point(file, at), "m")
            .with_fix(Some(fix))
    }

    #[test]
    fn only_safe_fits_and_allowed_fixes_are_taken() {
        let mut sources = SourceMap::new();
        sources.insert(Arc::new(SourceFile::new(FileId(0), "in/a.yaml", "abc")));
        sources.insert(Arc::new(SourceFile::new(FileId(1), "out/b.yaml", "xyz")));
        let diagnostics = vec![
            finding(FileId(0), 1, "1", true),
            finding(FileId(0), 1, "2", true),
            finding(FileId(0), 3, "3", false),
            finding(FileId(1), 0, "4", true),
        ];
        let round = plan(&sources, &diagnostics, |p| p.starts_with("in"));
        assert_eq!(round.fixed, 1);
        assert_eq!(
            round.texts,
            vec![(PathBuf::from("in/a.yaml"), "a1bc".to_string())]
        );
    }

    #[test]
    fn a_diff_names_both_sides() {
        let change = Change {
            path: PathBuf::from("t.yaml"),
            before: Arc::from("a\nb\n"),
            after: Arc::from("a\nb-??????\n"),
        };
        let diff = unified_diff(&[change]);
        assert!(diff.starts_with("--- a/t.yaml\n+++ b/t.yaml\n"), "{diff}");
        assert!(diff.contains("-b\n+b-??????\n"), "{diff}");
    }
}
