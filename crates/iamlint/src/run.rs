//! One check run: discover, read, parse (in parallel), run the rules (in parallel), collect.

use crate::discover::{self, Candidate};
use crate::suppress::{Site, Suppressed};
use iamlint_core::{Diagnostic, FileId, Severity, SourceFile, SourceMap, Span, Stack};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Files larger than this are not parsed: CloudFormation itself accepts at most 1 MB
/// (template body in S3), so a larger file is not a template anyone deploys.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

#[derive(Default)]
pub struct RunOptions {
    pub paths: Vec<PathBuf>,
    pub parameters: HashMap<String, String>,
    /// Terraform variables (`--var`, `--var-file`).
    pub terraform: iamlint_terraform::Options,
    pub rules: iamlint_rules::Selection,
    /// What the config file's `exclude` leaves out.
    pub exclude: Option<discover::Exclude>,
    /// The config file's `[severity]`: each rule's findings reported at this severity.
    pub severity: Vec<(&'static str, Severity)>,
}

pub struct RunOutput {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    pub files: usize,
    pub templates: usize,
    /// A path the user named could not be read or walked.
    pub path_errors: Vec<String>,
    /// Findings suppressed in the templates (not in `diagnostics`), sorted.
    pub suppressed: Vec<Suppressed>,
}

/// What reading and parsing one file gave.
struct FileResult {
    file: Arc<SourceFile>,
    is_template: bool,
    stack: Option<Stack>,
    diagnostics: Vec<Diagnostic>,
    /// Where the stack's resources are declared, for suppressions.
    sites: Vec<Site>,
}

pub fn run(options: &RunOptions) -> RunOutput {
    run_with(options, &crate::config::OrgFiles::default())
}

/// [`run`] with the organisation's SCP and RCP files (read and checked by
/// [`crate::config::read_org_files`]), which every rule sees.
pub fn run_with(options: &RunOptions, org: &crate::config::OrgFiles) -> RunOutput {
    let (all_candidates, walk_errors) =
        discover::discover_excluding(&options.paths, options.exclude.as_ref());
    // Terraform files belong to module folders, analysed as units below; a variable
    // definitions file named on the command line stands for its folder.
    let (terraform, candidates): (Vec<Candidate>, Vec<Candidate>) = all_candidates
        .into_iter()
        .partition(|c| iamlint_terraform::is_terraform_file(&c.path) || is_tfvars(&c.path));
    crate::progress::add_total(candidates.len());
    let parse_options = iamlint_cfn::Options {
        parameters: options.parameters.clone(),
    };
    // File ids: the CloudFormation candidates first, then the organisation's policy files,
    // then the Terraform files (whose number is known only once their units are read).
    let mut next_id = candidates.len();
    let mut org_sources = Vec::new();
    let org_options = iamlint_rules::context::Options {
        scps: org_levels(&org.scps, false, &mut next_id, &mut org_sources),
        rcps: org_levels(&org.rcps, true, &mut next_id, &mut org_sources),
    };
    // Each unit is read and checked in one task, with no barrier between reading and
    // checking, and the Terraform units run beside the CloudFormation files; a unit's stack
    // is dropped once its findings are made.
    let check = |stack: &Stack| {
        guarded("running the rules on this file", || {
            iamlint_rules::check_stack_with(stack, &options.rules, &org_options)
        })
        .unwrap_or_else(|message| {
            vec![Diagnostic::input_error(
                Span::file_start(stack.file),
                message,
            )]
        })
    };
    let (results, tf) = rayon::join(
        || {
            candidates
                .par_iter()
                .enumerate()
                .map(|(i, candidate)| {
                    let id = FileId(u32::try_from(i).unwrap_or(u32::MAX));
                    let mut result = guarded("reading this file", || {
                        check_file(id, candidate, &parse_options)
                    })
                    .unwrap_or_else(|message| FileResult {
                        file: Arc::new(SourceFile::new(id, candidate.path.clone(), "")),
                        sites: Vec::new(),
                        is_template: true,
                        stack: None,
                        diagnostics: vec![Diagnostic::input_error(Span::file_start(id), message)],
                    });
                    if let Some(stack) = result.stack.take() {
                        result.diagnostics.extend(check(&stack));
                        result.sites = crate::suppress::sites(&stack);
                    }
                    crate::progress::advance();
                    result
                })
                .collect::<Vec<FileResult>>()
        },
        || {
            let mut tf = terraform_units(&terraform, next_id, &options.terraform);
            crate::progress::add_total(tf.stacks.len());
            let findings: Vec<Vec<Diagnostic>> = tf
                .stacks
                .par_iter()
                .map(|stack| {
                    let found = check(stack);
                    crate::progress::advance();
                    found
                })
                .collect();
            tf.sites = tf.stacks.iter().flat_map(crate::suppress::sites).collect();
            tf.stacks.clear();
            tf.diagnostics.extend(findings.into_iter().flatten());
            tf
        },
    );

    let mut diagnostics = Vec::new();
    let mut sites = Vec::new();
    let mut templates = 0;
    let mut sources = SourceMap::new();
    for result in results {
        sources.insert(result.file);
        if result.is_template {
            templates += 1;
        }
        diagnostics.extend(result.diagnostics);
        sites.extend(result.sites);
    }
    for file in org_sources {
        sources.insert(file);
    }
    templates += tf.units;
    diagnostics.extend(tf.diagnostics);
    for file in tf.files {
        sources.insert(file);
    }
    sites.extend(tf.sites);
    diagnostics.retain(|d| options.rules.reports(d));
    for d in &mut diagnostics {
        if let Some((_, severity)) = options.severity.iter().find(|(code, _)| *code == d.code) {
            d.severity = *severity;
        }
    }
    let (mut diagnostics, mut suppressed) =
        crate::suppress::apply(&sources, &sites, &options.rules, diagnostics);
    crate::report::sort(&sources, &mut diagnostics);
    suppressed.sort_by_cached_key(|s| crate::report::sort_key(&sources, &s.diagnostic));
    RunOutput {
        sources,
        diagnostics,
        files: candidates.len() + terraform.len(),
        templates,
        path_errors: walk_errors
            .into_iter()
            .map(|e| format!("{}: {}", e.path.display(), e.message))
            .collect(),
        suppressed,
    }
}

/// Runs one stage of one unit; a panic in it becomes the message of an internal-error
/// diagnostic for that unit, and the run goes on with the others.
fn guarded<T>(stage: &str, f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".to_string());
        format!(
            "internal error while {stage}: {what} (this is a bug in iamlint: please report it; every other file was checked)"
        )
    })
}

/// What the Terraform units of a run gave.
struct TerraformUnits {
    stacks: Vec<Stack>,
    diagnostics: Vec<Diagnostic>,
    /// Every Terraform file read, with ids from the `base` given on.
    files: Vec<Arc<SourceFile>>,
    units: usize,
    sites: Vec<Site>,
}

fn is_tfvars(path: &std::path::Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".tfvars") || name.ends_with(".tfvars.json")
}

fn parent_dir(path: &std::path::Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Finds the root modules among the folders of `files` (a folder named through one of its
/// files is a root whatever calls it), and analyses each with its child modules, in
/// parallel. File ids start at `base`.
fn terraform_units(
    files: &[Candidate],
    base: usize,
    options: &iamlint_terraform::Options,
) -> TerraformUnits {
    let walked: Vec<PathBuf> = files
        .iter()
        .filter(|c| iamlint_terraform::is_terraform_file(&c.path))
        .map(|c| c.path.clone())
        .collect();
    let ws = iamlint_terraform::Workspace::new(u32::try_from(base).unwrap_or(u32::MAX), &walked);
    let mut dirs: Vec<PathBuf> = files.iter().map(|c| parent_dir(&c.path)).collect();
    dirs.sort();
    dirs.dedup();
    let explicit: Vec<PathBuf> = files
        .iter()
        .filter(|c| c.explicit)
        .map(|c| parent_dir(&c.path))
        .collect();
    dirs.par_iter().for_each(|d| {
        // A panic here is reported when the module's unit is analysed below.
        let _ = guarded("reading this module", || ws.module(d));
    });
    let roots = iamlint_terraform::root_modules(&ws, &dirs, &explicit);
    let analysed: Vec<_> = roots
        .par_iter()
        .filter_map(|r| {
            guarded("analysing this Terraform module", || {
                iamlint_terraform::analyse_root(&ws, r, options)
            })
            .map_err(|message| {
                let file = walked
                    .iter()
                    .find(|p| parent_dir(p) == *r)
                    .and_then(|p| ws.read(p))
                    .map_or(FileId(u32::MAX), |f| f.id);
                Diagnostic::input_error(Span::file_start(file), message)
            })
            .transpose()
        })
        .collect();
    let mut out = TerraformUnits {
        stacks: Vec::new(),
        diagnostics: ws.parse_diagnostics(),
        files: Vec::new(),
        units: analysed.len(),
        sites: Vec::new(),
    };
    for a in analysed {
        match a {
            Ok(a) => {
                out.stacks.push(a.stack);
                out.diagnostics.extend(a.diagnostics);
            }
            Err(d) => out.diagnostics.push(d),
        }
    }
    out.files = ws.into_files();
    out
}

/// The organisation levels of `levels`, parsed with spans in files pushed to `sources` (so
/// findings can point into them), with ids from `next_id` on.
fn org_levels(
    levels: &[Vec<crate::config::OrgFile>],
    rcp: bool,
    next_id: &mut usize,
    sources: &mut Vec<Arc<SourceFile>>,
) -> Vec<iamlint_rules::context::OrgLevel> {
    use iamlint_policy::policy::{LiteralResolver, PolicyKind, parse_policy};
    let kind = if rcp {
        PolicyKind::ResourceControl
    } else {
        PolicyKind::ServiceControl
    };
    levels
        .iter()
        .map(|files| {
            let mut policies = Vec::new();
            let mut first_span = None;
            for org_file in files {
                let id = FileId(u32::try_from(*next_id).unwrap_or(u32::MAX));
                *next_id += 1;
                let file = Arc::new(SourceFile::new(
                    id,
                    org_file.path.clone(),
                    org_file.text.as_str(),
                ));
                first_span.get_or_insert(Span::file_start(id));
                // The file was checked when read; a parse failure here leaves the level empty
                // rather than guessing.
                if let Ok(root) = iamlint_cfn::syntax::parse_json(&file) {
                    for doc in root.as_one_or_many() {
                        policies.push(parse_policy(doc, kind, &LiteralResolver).0);
                    }
                }
                sources.push(file);
            }
            let name = files
                .iter()
                .map(|f| f.path.display().to_string())
                .collect::<Vec<_>>()
                .join(" + ");
            let span = first_span.unwrap_or_else(|| Span::file_start(FileId(u32::MAX)));
            if rcp {
                iamlint_rules::context::OrgLevel::rcp(name, policies, span)
            } else {
                iamlint_rules::context::OrgLevel::scp(name, policies, span)
            }
        })
        .collect()
}

fn check_file(id: FileId, candidate: &Candidate, options: &iamlint_cfn::Options) -> FileResult {
    let path = candidate.path.clone();
    let unreadable = |message: String| {
        let file = Arc::new(SourceFile::new(id, path.clone(), ""));
        FileResult {
            file,
            sites: Vec::new(),
            is_template: true,
            stack: None,
            diagnostics: vec![Diagnostic::input_error(Span::file_start(id), message)],
        }
    };
    match std::fs::metadata(&candidate.path) {
        Ok(meta) if meta.len() > MAX_FILE_BYTES => {
            // Too large to parse: say so only when the file's head shows it is a template,
            // so a large data file in a repository produces no output.
            let head = read_head(&candidate.path);
            let file = Arc::new(SourceFile::new(id, path.clone(), ""));
            let plan = is_json(&candidate.path) && iamlint_terraform::detect_plan(&head);
            let is_template = candidate.explicit
                || plan
                || matches!(
                    iamlint_cfn::detect(&candidate.path, &head),
                    iamlint_cfn::Detection::Template
                );
            return FileResult {
                file,
                sites: Vec::new(),
                is_template,
                stack: None,
                diagnostics: if is_template {
                    vec![Diagnostic::input_error(
                        Span::file_start(id),
                        if plan {
                            format!(
                                "Terraform plan is {} bytes, more than the {} MiB iamlint reads",
                                meta.len(),
                                MAX_FILE_BYTES / 1024 / 1024
                            )
                        } else {
                            format!(
                                "file is {} bytes, more than the {} MiB iamlint reads (CloudFormation accepts templates of at most 1 MB)",
                                meta.len(),
                                MAX_FILE_BYTES / 1024 / 1024
                            )
                        },
                    )]
                } else {
                    Vec::new()
                },
            };
        }
        Ok(_) => {}
        Err(e) => return unreadable(format!("cannot read file: {e}")),
    }
    let bytes = match std::fs::read(&candidate.path) {
        Ok(b) => b,
        Err(e) => return unreadable(format!("cannot read file: {e}")),
    };
    let (text, utf8_error) = match String::from_utf8(bytes) {
        Ok(text) => (text, None),
        Err(e) => {
            let valid_up_to = e.utf8_error().valid_up_to();
            (
                String::from_utf8_lossy(e.as_bytes()).into_owned(),
                Some(valid_up_to),
            )
        }
    };
    let file = Arc::new(SourceFile::new(id, path, text));
    if is_json(&candidate.path) && iamlint_terraform::detect_plan(&file.text) {
        return check_plan(file, utf8_error);
    }
    let is_template = matches!(
        iamlint_cfn::detect(&candidate.path, &file.text),
        iamlint_cfn::Detection::Template
    ) || (candidate.explicit && !looks_like_other_config(&file.text));
    if !is_template {
        return FileResult {
            file,
            sites: Vec::new(),
            is_template: false,
            stack: None,
            diagnostics: Vec::new(),
        };
    }
    if let Some(offset) = utf8_error {
        let span = Span::point(id, offset);
        return FileResult {
            diagnostics: vec![Diagnostic::input_error(
                span,
                "file is not valid UTF-8 (CloudFormation templates must be UTF-8)",
            )],
            file,
            sites: Vec::new(),
            is_template: true,
            stack: None,
        };
    }
    let parsed = iamlint_cfn::parse_template(&file, options);
    FileResult {
        file,
        sites: Vec::new(),
        is_template: true,
        stack: parsed.stack,
        diagnostics: parsed.diagnostics,
    }
}

fn is_json(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A Terraform plan in JSON (`terraform show -json`): one unit of its own.
fn check_plan(file: Arc<SourceFile>, utf8_error: Option<usize>) -> FileResult {
    if let Some(offset) = utf8_error {
        return FileResult {
            diagnostics: vec![Diagnostic::input_error(
                Span::point(file.id, offset),
                "file is not valid UTF-8 (Terraform writes plans in UTF-8)",
            )],
            file,
            sites: Vec::new(),
            is_template: true,
            stack: None,
        };
    }
    let (stack, diagnostics) = match iamlint_terraform::analyse_plan(&file) {
        Ok(stack) => (Some(stack), Vec::new()),
        Err(d) => (None, vec![*d]),
    };
    FileResult {
        file,
        sites: Vec::new(),
        is_template: true,
        stack,
        diagnostics,
    }
}

/// The first 64 KiB of a file, as text (enough to recognise a template).
fn read_head(path: &std::path::Path) -> String {
    use std::io::Read;
    let mut head = Vec::new();
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.take(64 * 1024).read_to_end(&mut head);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A file named on the command line is checked even when the content check does not
/// recognise it, unless it is plainly something else (an empty file or a document without
/// any CloudFormation section).
fn looks_like_other_config(text: &str) -> bool {
    !(text.contains("Resources") || text.contains("AWSTemplateFormatVersion"))
}

#[cfg(test)]
mod tests {
    use super::guarded;

    #[test]
    fn a_panic_in_one_stage_becomes_a_message() {
        assert_eq!(guarded("x", || 1), Ok(1));
        let err = guarded("reading this file", || -> u8 { panic!("boom") }).unwrap_err();
        assert!(
            err.contains("internal error while reading this file: boom"),
            "{err}"
        );
    }
}
