//! Baselines: switch iamlint on in a repository that already has findings, and report only new
//! ones.
//!
//! `--write-baseline FILE` records today's findings; `--baseline FILE` leaves out the findings
//! it records. A finding is recorded by its fingerprint: its code, its file (relative to the
//! config file's folder, else the current one), its resource and its message with the
//! whitespace normalised — the message quotes what the finding is about (principal, action,
//! resource ARN) — and never its line, so a baseline survives moved lines and reformatting.
//! Several findings may share a fingerprint; the baseline counts them (a multiset), so a new
//! copy of a recorded finding is still reported.
//!
//! The file is JSON, sorted and stable, for review in a pull request:
//!
//! ```json
//! {
//!   "version": 1,
//!   "findings": [
//!     {"fingerprint": "…", "code": "IAM001", "file": "stacks/api.yaml", "resource": "Worker",
//!      "message": "…", "count": 1}
//!   ]
//! }
//! ```
//!
//! Input errors (`IAM000` errors) are never recorded: an unreadable input is always reported.

use iamlint_core::{Diagnostic, SourceMap};
use serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// The version of the baseline file format and of the fingerprints (`iamlint/v1` in SARIF).
pub const VERSION: u64 = 1;

/// What a finding's fingerprint is made of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Key {
    pub file: String,
    pub code: &'static str,
    pub resource: String,
    pub message: String,
}

impl Key {
    pub fn of(sources: &SourceMap, root: &Path, d: &Diagnostic) -> Key {
        Key {
            file: sources
                .get(d.span.file)
                .map(|f| relative_path(root, &f.path))
                .unwrap_or_default(),
            code: d.code,
            resource: d.resource.clone().unwrap_or_default(),
            message: d.message.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }

    /// The fingerprint: 16 hex digits of a 64-bit FNV-1a hash of the key's parts, stable
    /// across platforms and releases of the same format version.
    pub fn fingerprint(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for part in [
            "iamlint/v1",
            &self.file,
            self.code,
            &self.resource,
            &self.message,
        ] {
            for byte in part.bytes().chain(std::iter::once(0)) {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
        format!("{hash:016x}")
    }
}

/// A finding's fingerprint.
pub fn fingerprint(sources: &SourceMap, root: &Path, d: &Diagnostic) -> String {
    Key::of(sources, root, d).fingerprint()
}

/// Each finding's fingerprint followed by its occurrence among the findings sharing it
/// (`…:1`, `…:2`), in report order: the SARIF `partialFingerprints` value.
pub fn occurrences(sources: &SourceMap, root: &Path, diagnostics: &[&Diagnostic]) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    diagnostics
        .iter()
        .map(|d| occurrence(sources, root, d, &mut seen))
        .collect()
}

/// One finding's fingerprint and occurrence (see [`occurrences`]), `seen` counting the
/// fingerprints of the findings before it.
pub fn occurrence(
    sources: &SourceMap,
    root: &Path,
    d: &Diagnostic,
    seen: &mut HashMap<String, usize>,
) -> String {
    let fp = fingerprint(sources, root, d);
    let n = seen.entry(fp.clone()).or_default();
    *n += 1;
    format!("{fp}:{n}")
}

/// `path` relative to `root` with `/` separators when it is below it, else as given.
fn relative_path(root: &Path, path: &Path) -> String {
    let absolute = normalise(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let root = normalise(&std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf()));
    let shown = absolute
        .strip_prefix(&root)
        .map_or_else(|_| normalise(path), Path::to_path_buf);
    shown.to_string_lossy().replace('\\', "/")
}

fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a finding may be recorded in a baseline.
fn recordable(d: &Diagnostic) -> bool {
    !d.is_input_error()
}

/// The baseline file for `diagnostics`: sorted by file, code, resource and message.
pub fn render(sources: &SourceMap, root: &Path, diagnostics: &[Diagnostic]) -> String {
    let mut recorder = Recorder::default();
    recorder.add(sources, root, diagnostics);
    recorder.render()
}

/// A baseline being written: the findings of each unit added as the run goes.
#[derive(Debug, Default)]
pub struct Recorder {
    counts: BTreeMap<Key, usize>,
}

impl Recorder {
    /// Records the findings of `diagnostics` (input errors are never recorded); how many.
    pub fn add(&mut self, sources: &SourceMap, root: &Path, diagnostics: &[Diagnostic]) -> usize {
        let mut n = 0;
        for d in diagnostics.iter().filter(|d| recordable(d)) {
            *self.counts.entry(Key::of(sources, root, d)).or_default() += 1;
            n += 1;
        }
        n
    }

    /// The baseline file.
    pub fn render(&self) -> String {
        let findings: Vec<_> = self
            .counts
            .iter()
            .map(|(key, count)| {
                json!({
                    "fingerprint": key.fingerprint(),
                    "code": key.code,
                    "file": key.file,
                    "resource": key.resource,
                    "message": key.message,
                    "count": count,
                })
            })
            .collect();
        let value = json!({"version": VERSION, "findings": findings});
        serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
    }
}

#[derive(Debug, Default, Clone)]
pub struct Baseline {
    counts: HashMap<String, usize>,
}

impl Baseline {
    /// Reads a baseline file. `Err` is a message for the user (exit status 2).
    pub fn read(path: &Path) -> Result<Baseline, String> {
        let shown = path.display();
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read baseline {shown}: {e}"))?;
        Baseline::parse(&text).map_err(|e| format!("baseline {shown}: {e}"))
    }

    pub fn parse(text: &str) -> Result<Baseline, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            format!(
                "not valid JSON (line {}, column {}): {e}",
                e.line(),
                e.column()
            )
        })?;
        match value.get("version").and_then(serde_json::Value::as_u64) {
            Some(VERSION) => {}
            Some(v) => {
                return Err(format!(
                    "version {v} is not one this iamlint reads (it reads version {VERSION}); write it again with --write-baseline"
                ));
            }
            None => return Err("not an iamlint baseline (no `version`)".to_string()),
        }
        let mut counts = HashMap::new();
        for entry in value
            .get("findings")
            .and_then(serde_json::Value::as_array)
            .ok_or("not an iamlint baseline (no `findings` list)")?
        {
            let fingerprint = entry
                .get("fingerprint")
                .and_then(serde_json::Value::as_str)
                .ok_or("a finding has no `fingerprint`")?;
            let count = entry
                .get("count")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(1);
            *counts.entry(fingerprint.to_string()).or_default() +=
                usize::try_from(count).unwrap_or(usize::MAX);
        }
        Ok(Baseline { counts })
    }

    /// Leaves out of `diagnostics` the findings the baseline records (each fingerprint as
    /// many times as recorded, the first in report order) and returns how many it left out.
    /// Leaves out of `diagnostics` the findings the baseline holds (each copy once: a
    /// finding left out here is not left out again by a later call); how many.
    pub fn filter(
        &mut self,
        sources: &SourceMap,
        root: &Path,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> usize {
        let left = &mut self.counts;
        let before = diagnostics.len();
        diagnostics.retain(|d| {
            if !recordable(d) {
                return true;
            }
            match left.get_mut(&fingerprint(sources, root, d)) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            }
        });
        before - diagnostics.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use iamlint_core::{Severity, Span};

    fn finding(sources: &SourceMap, offset: usize, message: &str) -> Diagnostic {
        let file = sources.files().next().unwrap().id;
        Diagnostic::new(
            "IAM001",
            "lambda-vpc-eni-permissions",
            Severity::Error,
            Span::point(file, offset),
            message,
        )
        .with_resource("Worker")
    }

    #[test]
    fn fingerprints_ignore_lines_and_spacing_and_count_copies() {
        let mut sources = SourceMap::new();
        sources.add("stacks/api.yaml", "a\nb\nc\n");
        let root = std::env::current_dir().unwrap();
        let a = finding(&sources, 0, "role R cannot call ec2:CreateNetworkInterface");
        let moved = finding(
            &sources,
            4,
            "role R  cannot call\nec2:CreateNetworkInterface",
        );
        assert_eq!(
            fingerprint(&sources, &root, &a),
            fingerprint(&sources, &root, &moved)
        );
        let other = finding(&sources, 0, "role S cannot call ec2:CreateNetworkInterface");
        assert_ne!(
            fingerprint(&sources, &root, &a),
            fingerprint(&sources, &root, &other)
        );
        // Relative to the root: `./stacks/api.yaml` and `stacks/api.yaml` are one file.
        assert_eq!(Key::of(&sources, &root, &a).file, "stacks/api.yaml");

        let text = render(&sources, &root, &[a.clone(), a.clone()]);
        assert!(text.contains("\"count\": 2"), "{text}");
        let mut baseline = Baseline::parse(&text).unwrap();
        let mut now = vec![moved.clone(), a.clone(), a.clone(), other.clone()];
        assert_eq!(baseline.filter(&sources, &root, &mut now), 2);
        assert_eq!(now.len(), 2, "the third copy and the new finding stay");
        assert_eq!(
            occurrences(&sources, &root, &[&a, &moved, &other])
                .iter()
                .map(|o| o.rsplit(':').next().unwrap().to_string())
                .collect::<Vec<_>>(),
            ["1", "2", "1"]
        );
    }

    #[test]
    fn refuses_what_is_not_a_baseline() {
        assert!(Baseline::parse("[]").unwrap_err().contains("no `version`"));
        assert!(
            Baseline::parse("{\"version\": 9, \"findings\": []}")
                .unwrap_err()
                .contains("version 9")
        );
        assert!(Baseline::parse("{").unwrap_err().contains("not valid JSON"));
    }
}
