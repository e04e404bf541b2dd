//! Finding the files to check: a parallel, .gitignore-aware walk of the given paths.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folders that hold generated or vendored copies of templates, never the user's sources.
/// A CDK `cdk.out` is not walked either: its stacks are read through its manifest
/// ([`crate::cdk`]).
const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".terraform",
    "node_modules",
    ".aws-sam",
    "cdk.out",
    ".serverless",
];

/// Extensions of files that may hold a CloudFormation or SAM template, or Terraform.
const TEMPLATE_EXTENSIONS: &[&str] = &["yaml", "yml", "json", "template", "tf"];

/// A file to check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Candidate {
    pub path: PathBuf,
    /// Named on the command line (checked even when it does not look like a template).
    pub explicit: bool,
}

/// A path the user gave that does not exist or cannot be read.
#[derive(Debug)]
pub struct WalkError {
    pub path: PathBuf,
    pub message: String,
}

pub fn is_candidate_name(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        TEMPLATE_EXTENSIONS
            .iter()
            .any(|t| e.eq_ignore_ascii_case(t))
    })
}

/// The `exclude` patterns of a config file: .gitignore syntax, relative to the file's folder.
/// They apply to files named on the command line too (so a pre-commit hook, which names the
/// changed files, leaves them out as a walk does).
#[derive(Debug, Clone)]
pub struct Exclude {
    root: PathBuf,
    matcher: ignore::gitignore::Gitignore,
}

impl Exclude {
    /// Builds the matcher; `Err` names the first pattern that is not a valid glob.
    pub fn new(root: &Path, patterns: &[String]) -> Result<Exclude, String> {
        let root = absolute(root);
        let mut builder = ignore::gitignore::GitignoreBuilder::new(&root);
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|e| format!("exclude pattern `{pattern}`: {e}"))?;
        }
        let matcher = builder
            .build()
            .map_err(|e| format!("exclude patterns: {e}"))?;
        Ok(Exclude { root, matcher })
    }

    /// Whether `path` (a file, or a folder when `is_dir`) is excluded.
    pub fn excludes(&self, path: &Path, is_dir: bool) -> bool {
        let path = absolute(path);
        path.starts_with(&self.root)
            && path != self.root
            && self
                .matcher
                .matched_path_or_any_parents(&path, is_dir)
                .is_ignore()
    }
}

/// `path` made absolute without touching the file system, with `.` and `..` folded away.
fn absolute(path: &Path) -> PathBuf {
    use std::path::Component;
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Walks `roots` and returns the candidate files, sorted, without duplicates.
pub fn discover(roots: &[PathBuf]) -> (Vec<Candidate>, Vec<WalkError>) {
    discover_excluding(roots, None)
}

/// [`discover`], leaving out what `exclude` names.
pub fn discover_excluding(
    roots: &[PathBuf],
    exclude: Option<&Exclude>,
) -> (Vec<Candidate>, Vec<WalkError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut dirs = Vec::new();
    let mut assemblies = Vec::new();
    for root in roots {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() && crate::cdk::is_cloud_assembly(root) => {
                assemblies.push(root.clone());
            }
            Ok(meta) if meta.is_dir() => dirs.push(root.clone()),
            Ok(_) => {
                if !exclude.is_some_and(|x| x.excludes(root, false)) {
                    files.push(Candidate {
                        path: root.clone(),
                        explicit: true,
                    });
                }
            }
            Err(e) => errors.push(WalkError {
                path: root.clone(),
                message: e.to_string(),
            }),
        }
    }
    if let Some((first, rest)) = dirs.split_first() {
        let found = Mutex::new(Vec::new());
        let found_assemblies = Mutex::new(Vec::new());
        let walk_errors = Mutex::new(Vec::new());
        let mut builder = ignore::WalkBuilder::new(first);
        let exclude = exclude.cloned();
        for dir in rest {
            builder.add(dir);
        }
        builder
            .hidden(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .follow_links(false)
            .filter_entry(move |entry| {
                let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                let skipped = is_dir
                    && entry.depth() > 0
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n));
                let excluded = exclude
                    .as_ref()
                    .is_some_and(|x| x.excludes(entry.path(), is_dir));
                !skipped && !excluded
            });
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                match entry {
                    Ok(entry) => {
                        // `cdk synth` output beside a walked folder is read even when
                        // .gitignore names it (`cdk init` ignores `cdk.out`): it is the only
                        // CloudFormation a CDK app has.
                        if entry.file_type().is_some_and(|t| t.is_dir())
                            && let Some(assembly) = crate::cdk::assembly_in(entry.path())
                            && let Ok(mut found) = found_assemblies.lock()
                        {
                            found.push(assembly);
                        }
                        if entry.file_type().is_some_and(|t| t.is_file())
                            && is_candidate_name(entry.path())
                            && let Ok(mut found) = found.lock()
                        {
                            found.push(Candidate {
                                path: entry.into_path(),
                                explicit: false,
                            });
                        }
                    }
                    Err(err) => {
                        // Unreadable folders below a root are skipped; a root the user named
                        // that cannot be read was already reported above.
                        if let Ok(mut errs) = walk_errors.lock() {
                            errs.push(err.to_string());
                        }
                    }
                }
                ignore::WalkState::Continue
            })
        });
        files.extend(found.into_inner().unwrap_or_default());
        assemblies.extend(found_assemblies.into_inner().unwrap_or_default());
    }
    assemblies.sort();
    assemblies.dedup();
    for assembly in assemblies {
        match crate::cdk::templates(&assembly) {
            // The manifest says these are templates: check them as if named.
            Ok(templates) => files.extend(templates.into_iter().map(|path| Candidate {
                path,
                explicit: true,
            })),
            Err(message) => errors.push(WalkError {
                path: assembly,
                message,
            }),
        }
    }
    files.sort();
    files.dedup_by(|a, b| {
        if a.path == b.path {
            b.explicit |= a.explicit;
            true
        } else {
            false
        }
    });
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths of `found` relative to `dir`, with `/` separators.
    fn relative_names(found: &[Candidate], dir: &std::path::Path) -> Vec<String> {
        found
            .iter()
            .map(|c| {
                c.path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect()
    }

    #[test]
    fn skips_asset_folders_and_gitignored_files() {
        let dir = std::env::temp_dir().join(format!("iamlint-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in [
            "src",
            "node_modules/x",
            ".aws-sam/build",
            "cdk.out/asset.0123",
            "ignored",
        ] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for f in [
            "src/a.yaml",
            "template.yml",
            "node_modules/x/t.yaml",
            "cdk.out/asset.0123/template.yaml",
            ".aws-sam/build/template.yaml",
            "cdk.out/Stack.template.json",
            "ignored/t.yaml",
            "notes.txt",
        ] {
            std::fs::write(dir.join(f), "x: 1").unwrap();
        }
        std::fs::write(dir.join(".gitignore"), "ignored/\ncdk.out\n").unwrap();
        // A cloud assembly is read through its manifest, even when .gitignore names it; its
        // asset folders are never walked.
        std::fs::write(
            dir.join("cdk.out/manifest.json"),
            r#"{"version":"55.0.0","artifacts":{"Stack":{"type":"aws:cloudformation:stack","properties":{"templateFile":"Stack.template.json"}}}}"#,
        )
        .unwrap();
        let (found, errors) = discover(std::slice::from_ref(&dir));
        assert!(errors.is_empty());
        let names = relative_names(&found, &dir);
        assert_eq!(
            names,
            ["cdk.out/Stack.template.json", "src/a.yaml", "template.yml"]
        );
        assert!(found[0].explicit);

        // A file named explicitly is checked even when ignored.
        let explicit = dir.join("ignored/t.yaml");
        let (found, _) = discover(std::slice::from_ref(&explicit));
        assert_eq!(found.len(), 1);
        assert!(found[0].explicit);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn excludes_patterns_relative_to_their_folder() {
        let dir = std::env::temp_dir().join(format!("iamlint-exclude-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["src/generated", "generated", "src/more"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for f in [
            "src/generated/a.yaml",
            "generated/b.yaml",
            "src/more/c.test.yaml",
            "src/more/d.yaml",
        ] {
            std::fs::write(dir.join(f), "x: 1").unwrap();
        }
        // `/generated/` is anchored at the config file's folder; `*.test.yaml` matches at any
        // depth, as in .gitignore.
        let exclude = Exclude::new(&dir, &["/generated/".into(), "*.test.yaml".into()]).unwrap();
        let (found, _) = discover_excluding(std::slice::from_ref(&dir), Some(&exclude));
        let names = relative_names(&found, &dir);
        assert_eq!(names, ["src/generated/a.yaml", "src/more/d.yaml"]);
        // A file named on the command line is excluded too.
        let named = dir.join("src/more/c.test.yaml");
        let (found, _) = discover_excluding(std::slice::from_ref(&named), Some(&exclude));
        assert!(found.is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_root_is_an_error() {
        let (found, errors) = discover(&[PathBuf::from("/no/such/iamlint/path")]);
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
