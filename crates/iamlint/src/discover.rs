//! Finding the files to check: .gitignore-aware walks of the given paths, either in path order,
//! one file at a time ([`walk_sorted`]), or in parallel in any order ([`walk_unordered`]).

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

/// Extensions of files that may hold a CloudFormation or SAM template, or Terraform (and
/// Terragrunt's `terragrunt.hcl`, by name).
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
    }) || iamlint_terraform::terragrunt::is_terragrunt_file(path)
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
    let errors = walk_sorted(roots, exclude, &mut |c| files.push(c));
    (files, errors)
}

/// The paths the user gave, sorted out by what they are.
struct Roots {
    /// Folders to walk.
    dirs: Vec<PathBuf>,
    /// Files named (less the excluded ones).
    files: Vec<Candidate>,
    /// Cloud assemblies named.
    assemblies: Vec<PathBuf>,
    errors: Vec<WalkError>,
}

fn sort_out(roots: &[PathBuf], exclude: Option<&Exclude>) -> Roots {
    let mut out = Roots {
        dirs: Vec::new(),
        files: Vec::new(),
        assemblies: Vec::new(),
        errors: Vec::new(),
    };
    for root in roots {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() && crate::cdk::is_cloud_assembly(root) => {
                out.assemblies.push(root.clone());
            }
            Ok(meta) if meta.is_dir() => out.dirs.push(root.clone()),
            Ok(_) => {
                if !exclude.is_some_and(|x| x.excludes(root, false)) {
                    out.files.push(Candidate {
                        path: root.clone(),
                        explicit: true,
                    });
                }
            }
            Err(e) => out.errors.push(WalkError {
                path: root.clone(),
                message: e.to_string(),
            }),
        }
    }
    out.dirs.sort();
    out.dirs.dedup();
    // A folder inside another one given is walked with it.
    let all = out.dirs.clone();
    out.dirs
        .retain(|d| !all.iter().any(|o| o != d && d.starts_with(o)));
    out
}

/// The walk of `dirs`: .gitignore-aware, hidden files and asset folders skipped, `exclude`
/// applied. `None` when there is no folder to walk.
fn walker(dirs: &[PathBuf], exclude: Option<&Exclude>) -> Option<ignore::WalkBuilder> {
    let (first, rest) = dirs.split_first()?;
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
    Some(builder)
}

/// What one entry of a walk gives: `cdk synth` output beside a walked folder is read even when
/// .gitignore names it (`cdk init` ignores `cdk.out`), since it is the only CloudFormation a
/// CDK app has; a file is a candidate by its name.
enum Found {
    Assembly(PathBuf),
    File(Candidate),
    Nothing,
}

fn found(entry: ignore::DirEntry) -> Found {
    match entry.file_type() {
        Some(t) if t.is_dir() => {
            crate::cdk::assembly_in(entry.path()).map_or(Found::Nothing, Found::Assembly)
        }
        Some(t) if t.is_file() && is_candidate_name(entry.path()) => Found::File(Candidate {
            path: entry.into_path(),
            explicit: false,
        }),
        _ => Found::Nothing,
    }
}

/// The templates of a cloud assembly, checked as if named: its manifest says they are.
fn assembly_templates(assembly: &Path, errors: &mut Vec<WalkError>) -> Vec<Candidate> {
    match crate::cdk::templates(assembly) {
        Ok(templates) => templates
            .into_iter()
            .map(|path| Candidate {
                path,
                explicit: true,
            })
            .collect(),
        Err(message) => {
            errors.push(WalkError {
                path: assembly.to_path_buf(),
                message,
            });
            Vec::new()
        }
    }
}

/// Walks `roots` and gives each candidate file to `each`, one at a time, in path order
/// (component by component, as [`Path`] orders paths) and without duplicates: a file named
/// and also found by the walk comes once, as named. Only the folders being walked are held,
/// never the list of files, so a walk of any size takes the same memory.
pub fn walk_sorted(
    roots: &[PathBuf],
    exclude: Option<&Exclude>,
    each: &mut dyn FnMut(Candidate),
) -> Vec<WalkError> {
    use std::cmp::Reverse;
    let Roots {
        dirs,
        files,
        assemblies,
        mut errors,
    } = sort_out(roots, exclude);
    // Files named, and the templates of assemblies, go where their paths sort among the files
    // the walk finds.
    let mut pending: std::collections::BinaryHeap<Reverse<Candidate>> =
        files.into_iter().map(Reverse).collect();
    for assembly in &assemblies {
        pending.extend(
            assembly_templates(assembly, &mut errors)
                .into_iter()
                .map(Reverse),
        );
    }
    let mut last: Option<Candidate> = None;
    let mut emit = |c: Candidate| match &mut last {
        Some(l) if l.path == c.path => l.explicit |= c.explicit,
        _ => {
            if let Some(l) = last.replace(c) {
                each(l);
            }
        }
    };
    if let Some(mut builder) = walker(&dirs, exclude) {
        builder.sort_by_file_name(|a, b| a.cmp(b));
        // Unreadable folders below a root are skipped; a root the user named that cannot be
        // read was reported above.
        for entry in builder.build().flatten() {
            match found(entry) {
                Found::Assembly(assembly) => pending.extend(
                    assembly_templates(&assembly, &mut errors)
                        .into_iter()
                        .map(Reverse),
                ),
                Found::File(c) => {
                    while pending.peek().is_some_and(|Reverse(p)| *p <= c) {
                        if let Some(Reverse(p)) = pending.pop() {
                            emit(p);
                        }
                    }
                    emit(c);
                }
                Found::Nothing => {}
            }
        }
    }
    while let Some(Reverse(c)) = pending.pop() {
        emit(c);
    }
    if let Some(l) = last {
        each(l);
    }
    errors
}

/// Walks `roots` in parallel and gives each candidate file to `each`, in no particular order
/// (a file named and also found by the walk may come twice). For a first look at a tree whose
/// order does not matter.
pub fn walk_unordered(
    roots: &[PathBuf],
    exclude: Option<&Exclude>,
    each: &(dyn Fn(Candidate) + Sync),
) -> Vec<WalkError> {
    let Roots {
        dirs,
        files,
        assemblies,
        mut errors,
    } = sort_out(roots, exclude);
    // Files named (pre-commit names every changed file) are as many parallel visits.
    {
        use rayon::prelude::*;
        files.into_par_iter().for_each(each);
    }
    for assembly in &assemblies {
        assembly_templates(assembly, &mut errors)
            .into_iter()
            .for_each(each);
    }
    if let Some(builder) = walker(&dirs, exclude) {
        let found_assemblies = Mutex::new(Vec::new());
        builder.build_parallel().run(|| {
            Box::new(|entry| {
                if let Ok(entry) = entry {
                    match found(entry) {
                        Found::Assembly(a) => {
                            if let Ok(mut found) = found_assemblies.lock() {
                                found.push(a);
                            }
                        }
                        Found::File(c) => each(c),
                        Found::Nothing => {}
                    }
                }
                ignore::WalkState::Continue
            })
        });
        for assembly in found_assemblies.into_inner().unwrap_or_default() {
            assembly_templates(&assembly, &mut errors)
                .into_iter()
                .for_each(each);
        }
    }
    errors
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

    /// The ordered walk gives each candidate once, in path order component by component (a
    /// folder's files before a file whose name extends the folder's), a file named and also
    /// walked as named; the parallel walk finds the same files.
    #[test]
    fn the_ordered_walk_gives_path_order_once() {
        let dir = std::env::temp_dir().join(format!("iamlint-order-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("a/sub")).unwrap();
        for f in [
            "b.yaml",
            "a.yaml",
            "a/x.yaml",
            "a/sub/y.json",
            "a/main.tf",
            "notes.txt",
        ] {
            std::fs::write(dir.join(f), "x: 1").unwrap();
        }
        let roots = [dir.clone(), dir.join("a/x.yaml"), dir.join("a")];
        let (found, errors) = discover(&roots);
        assert!(errors.is_empty());
        assert_eq!(
            relative_names(&found, &dir),
            ["a/main.tf", "a/sub/y.json", "a/x.yaml", "a.yaml", "b.yaml"]
        );
        let explicit: Vec<bool> = found.iter().map(|c| c.explicit).collect();
        assert_eq!(explicit, [false, false, true, false, false]);
        let unordered = Mutex::new(Vec::new());
        walk_unordered(&roots, None, &|c| unordered.lock().unwrap().push(c.path));
        let mut unordered = unordered.into_inner().unwrap();
        unordered.sort();
        unordered.dedup();
        let walked: Vec<PathBuf> = found.into_iter().map(|c| c.path).collect();
        assert_eq!(unordered, walked);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_root_is_an_error() {
        let (found, errors) = discover(&[PathBuf::from("/no/such/iamlint/path")]);
        assert!(found.is_empty());
        assert_eq!(errors.len(), 1);
    }
}
