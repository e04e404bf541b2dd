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
    /// Where the time went (`IAMLINT_TIMINGS`, `cargo xtask bench`).
    pub timings: Timings,
}

/// Time spent per stage, summed over the threads that ran it (so parse and rules can add up
/// to more than the wall time).
#[derive(Debug, Default)]
pub struct Timings {
    pub walk: std::time::Duration,
    /// Reading and parsing files and building each unit's graph (both front ends).
    pub parse: std::time::Duration,
    /// Running the rules: working out requests and evaluating them.
    pub rules: std::time::Duration,
}

/// A stage's time, added from many threads.
#[derive(Default)]
struct Clock(std::sync::atomic::AtomicU64);

impl Clock {
    fn time<T>(&self, f: impl FnOnce() -> T) -> T {
        let started = std::time::Instant::now();
        let out = f();
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.0
            .fetch_add(nanos, std::sync::atomic::Ordering::Relaxed);
        out
    }

    fn total(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.0.load(std::sync::atomic::Ordering::Relaxed))
    }
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
    run_overlay(options, org, &Overlay::new())
}

/// Texts to check instead of the files at these paths (an editor's unsaved buffers, or a
/// `--diff` round's fixed files); every other file is read from disk.
pub type Overlay = HashMap<PathBuf, Arc<str>>;

/// [`run_with`] reading the texts of `overlay` instead of the files at their paths.
pub fn run_overlay(
    options: &RunOptions,
    org: &crate::config::OrgFiles,
    overlay: &Overlay,
) -> RunOutput {
    let walk_started = std::time::Instant::now();
    let (terraform, candidates, path_errors) = walk(options);
    let walk = walk_started.elapsed();
    let (parse_clock, rules_clock) = (Clock::default(), Clock::default());
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
    let check = |stack: &Stack, sources: &[Arc<SourceFile>]| {
        guarded("running the rules on this file", || {
            rules_clock.time(|| {
                iamlint_rules::check_stack_with_sources(
                    stack,
                    &options.rules,
                    &org_options,
                    sources,
                )
            })
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
                        parse_clock.time(|| check_file(id, candidate, &parse_options, overlay))
                    })
                    .unwrap_or_else(|message| FileResult {
                        file: Arc::new(SourceFile::new(id, candidate.path.clone(), "")),
                        sites: Vec::new(),
                        is_template: true,
                        stack: None,
                        diagnostics: vec![Diagnostic::input_error(Span::file_start(id), message)],
                    });
                    if let Some(stack) = result.stack.take() {
                        result
                            .diagnostics
                            .extend(check(&stack, std::slice::from_ref(&result.file)));
                        result.sites = crate::suppress::sites(&stack);
                    }
                    crate::progress::advance();
                    result
                })
                .collect::<Vec<FileResult>>()
        },
        || {
            let tf_sites = std::sync::Mutex::new(Vec::new());
            let mut tf = terraform_units(
                &terraform,
                next_id,
                &options.terraform,
                overlay,
                &parse_clock,
                &|stack, files| {
                    let found = check(&stack, files);
                    tf_sites
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(crate::suppress::sites(&stack));
                    crate::progress::advance();
                    found
                },
            );
            tf.sites = tf_sites.into_inner().unwrap_or_else(|e| e.into_inner());
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
        path_errors,
        suppressed,
        timings: Timings {
            walk,
            parse: parse_clock.total(),
            rules: rules_clock.total(),
        },
    }
}

/// Every stack under the paths of `options`, read as a check would read them, with the files
/// they came from (for `iamlint why`, which asks about one request rather than running the
/// rules). Files that are not templates or cannot be parsed give no stack.
pub struct Loaded {
    pub sources: SourceMap,
    pub stacks: Vec<Stack>,
    /// The organisation's policies, parsed with spans in `sources`.
    pub org: iamlint_rules::context::Options,
    pub path_errors: Vec<String>,
}

pub fn load_stacks(options: &RunOptions, org: &crate::config::OrgFiles) -> Loaded {
    let (terraform, candidates, path_errors) = walk(options);
    let parse_options = iamlint_cfn::Options {
        parameters: options.parameters.clone(),
    };
    let results: Vec<FileResult> = candidates
        .par_iter()
        .enumerate()
        .filter_map(|(i, candidate)| {
            let id = FileId(u32::try_from(i).unwrap_or(u32::MAX));
            guarded("reading this file", || {
                check_file(id, candidate, &parse_options, &Overlay::new())
            })
            .ok()
        })
        .collect();
    let tf_stacks = std::sync::Mutex::new(Vec::new());
    let tf = terraform_units(
        &terraform,
        candidates.len(),
        &options.terraform,
        &Overlay::new(),
        &Clock::default(),
        &|stack, _| {
            tf_stacks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(stack);
            Vec::new()
        },
    );
    let mut tf_stacks = tf_stacks.into_inner().unwrap_or_else(|e| e.into_inner());
    tf_stacks.sort_by_key(|s: &Stack| s.file);
    let mut next_id = candidates.len() + tf.files.len();
    let mut org_sources = Vec::new();
    let org = iamlint_rules::context::Options {
        scps: org_levels(&org.scps, false, &mut next_id, &mut org_sources),
        rcps: org_levels(&org.rcps, true, &mut next_id, &mut org_sources),
    };
    let mut sources = SourceMap::new();
    let mut stacks = Vec::new();
    for result in results {
        sources.insert(result.file);
        stacks.extend(result.stack);
    }
    for file in tf.files.into_iter().chain(org_sources) {
        sources.insert(file);
    }
    stacks.extend(tf_stacks);
    Loaded {
        sources,
        stacks,
        org,
        path_errors,
    }
}

/// The files under the paths of `options` (less the excluded ones): the Terraform files and
/// variable definitions files, the other candidates, and the paths that could not be walked.
/// Terraform files belong to module folders, analysed as units; a variable definitions file
/// named on the command line stands for its folder.
fn walk(options: &RunOptions) -> (Vec<Candidate>, Vec<Candidate>, Vec<String>) {
    let (all_candidates, walk_errors) =
        discover::discover_excluding(&options.paths, options.exclude.as_ref());
    let (terraform, candidates) = all_candidates
        .into_iter()
        .partition(|c| iamlint_terraform::is_terraform_file(&c.path) || is_tfvars(&c.path));
    let path_errors = walk_errors
        .into_iter()
        .map(|e| format!("{}: {}", e.path.display(), e.message))
        .collect();
    (terraform, candidates, path_errors)
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

/// What is done with each Terraform root's stack once built (given the unit's files): the
/// findings it gives.
type UnitCheck<'a> = dyn Fn(Stack, &[Arc<SourceFile>]) -> Vec<Diagnostic> + Sync + 'a;

/// What the Terraform units of a run gave.
struct TerraformUnits {
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
/// parallel; each root's stack is checked with `check` as soon as it is built, and dropped.
/// File ids start at `base`.
fn terraform_units(
    files: &[Candidate],
    base: usize,
    options: &iamlint_terraform::Options,
    overlay: &Overlay,
    parse_clock: &Clock,
    check: &UnitCheck<'_>,
) -> TerraformUnits {
    let walked: Vec<PathBuf> = files
        .iter()
        .filter(|c| iamlint_terraform::is_terraform_file(&c.path))
        .map(|c| c.path.clone())
        .collect();
    let ws = iamlint_terraform::Workspace::new(u32::try_from(base).unwrap_or(u32::MAX), &walked)
        .with_overlay(overlay);
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
        let _ = parse_clock.time(|| guarded("reading this module", || ws.scan(d)));
    });
    let roots = iamlint_terraform::root_modules(&ws, &dirs, &explicit);
    crate::progress::add_total(roots.len());
    // A parsed module is kept while a root that calls it has still to be analysed, so that
    // memory follows the units in flight rather than the size of the tree.
    let closures: Vec<Vec<PathBuf>> = roots.iter().map(|r| ws.local_closure(r)).collect();
    let mut users: HashMap<PathBuf, std::sync::atomic::AtomicUsize> = HashMap::new();
    for dir in closures.iter().flatten() {
        users
            .entry(dir.clone())
            .or_default()
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    let release = |root: usize| {
        for dir in &closures[root] {
            if users
                .get(dir)
                .is_some_and(|n| n.fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1)
            {
                ws.release(dir);
            }
        }
    };
    // One task per root: analysed, checked, and its stack dropped.
    let analysed: Vec<Option<Vec<Diagnostic>>> = roots
        .par_iter()
        .enumerate()
        .map(|(i, r)| {
            let analysed = parse_clock.time(|| {
                guarded("analysing this Terraform module", || {
                    iamlint_terraform::analyse_root(&ws, r, options)
                })
            });
            let out = match analysed {
                Ok(None) => None,
                Ok(Some(a)) => {
                    let mut diagnostics = a.diagnostics;
                    // The unit's files, from which rules make fixes: its modules' files.
                    let files: Vec<Arc<SourceFile>> = closures[i]
                        .iter()
                        .filter_map(|d| ws.module(d))
                        .flat_map(|m| m.files.clone())
                        .collect();
                    diagnostics.extend(check(a.stack, &files));
                    Some(diagnostics)
                }
                Err(message) => {
                    let file = walked
                        .iter()
                        .find(|p| parent_dir(p) == *r)
                        .and_then(|p| ws.read(p))
                        .map_or(FileId(u32::MAX), |f| f.id);
                    Some(vec![Diagnostic::input_error(
                        Span::file_start(file),
                        message,
                    )])
                }
            };
            release(i);
            out
        })
        .collect();
    let mut out = TerraformUnits {
        diagnostics: ws.parse_diagnostics(),
        files: Vec::new(),
        units: analysed.iter().filter(|a| a.is_some()).count(),
        sites: Vec::new(),
    };
    out.diagnostics
        .extend(analysed.into_iter().flatten().flatten());
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

fn check_file(
    id: FileId,
    candidate: &Candidate,
    options: &iamlint_cfn::Options,
    overlay: &Overlay,
) -> FileResult {
    let path = candidate.path.clone();
    if let Some(text) = overlay.get(&candidate.path) {
        return check_text(id, candidate, options, text.to_string(), None);
    }
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
    check_text(id, candidate, options, text, utf8_error)
}

/// Checks the text of one candidate (read from disk, or given by an overlay).
fn check_text(
    id: FileId,
    candidate: &Candidate,
    options: &iamlint_cfn::Options,
    text: String,
    utf8_error: Option<usize>,
) -> FileResult {
    let file = Arc::new(SourceFile::new(id, candidate.path.clone(), text));
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
