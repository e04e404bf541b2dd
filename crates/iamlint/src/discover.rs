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

/// Walks `roots` and returns the candidate files, sorted, without duplicates.
pub fn discover(roots: &[PathBuf]) -> (Vec<Candidate>, Vec<WalkError>) {
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
            Ok(_) => files.push(Candidate {
                path: root.clone(),
                explicit: true,
            }),
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
            .filter_entry(|entry| {
                !(entry.file_type().is_some_and(|t| t.is_dir())
                    && entry.depth() > 0
                    && entry
                        .file_name()
                        .to_str()
                        .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
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
        let names: Vec<_> = found
            .iter()
            .map(|c| {
                c.path
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
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
    fn missing_root_is_an_error() {
        let (found, errors) = discover(&[PathBuf::from("/no/such/iamlint/path")]);
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
