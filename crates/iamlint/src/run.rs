//! One check run: discover, then read, parse and check each unit (a template, a plan, a
//! Terraform root module with the modules it calls) in parallel, in batches in report order;
//! each unit's findings go to the caller as soon as its batch is done, with only the files
//! they point into, so memory follows the batch in flight rather than the repository.

use crate::discover::{self, Candidate};
use crate::suppress::{Site, Suppressed};
use iamlint_core::{Diagnostic, FileId, Severity, SourceFile, SourceMap, Span, Stack};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

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
    /// Files larger than this are skipped with a note (`max-file-size`; `None`: the default).
    pub max_file_size: Option<u64>,
}

impl RunOptions {
    fn max_file_size(&self) -> u64 {
        self.max_file_size
            .unwrap_or(crate::config::DEFAULT_MAX_FILE_SIZE)
    }
}

/// The note for a file skipped for its size.
fn too_large(id: FileId, bytes: u64, max: u64, plan: bool) -> Diagnostic {
    let what = if plan { "Terraform plan" } else { "file" };
    Diagnostic::input_not_expanded(
        Span::file_start(id),
        format!(
            "{what} not checked: it is {bytes} bytes, more than max-file-size ({}). Raise `max-file-size` in iamlint.toml (or --max-file-size) to check it{}",
            crate::config::show_size(max),
            if plan {
                ""
            } else {
                "; CloudFormation accepts templates of at most 1 MB"
            }
        ),
    )
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

/// [`run_with`] reading the texts of `overlay` instead of the files at their paths, with every
/// unit's findings and every file read kept (for `--fix`, `--diff` and the language server,
/// which edit or publish per file).
pub fn run_overlay(
    options: &RunOptions,
    org: &crate::config::OrgFiles,
    overlay: &Overlay,
) -> RunOutput {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut suppressed = Vec::new();
    let mut templates = 0;
    let summary = run_units(options, org, overlay, Keep::All, &mut |unit: Unit| {
        for file in unit.sources.files() {
            sources.insert(Arc::clone(file));
        }
        diagnostics.extend(unit.diagnostics);
        suppressed.extend(unit.suppressed);
        templates += unit.templates;
    });
    crate::report::sort(&sources, &mut diagnostics);
    suppressed.sort_by_cached_key(|s| crate::report::sort_key(&sources, &s.diagnostic));
    RunOutput {
        sources,
        diagnostics,
        files: summary.files,
        templates,
        path_errors: summary.path_errors,
        suppressed,
        timings: summary.timings,
    }
}

/// What one unit — a template, a plan, or a Terraform root module with the modules it calls —
/// gave once checked: its findings in report order, and the files they point into.
pub struct Unit {
    /// The files the findings point into ([`Keep::Findings`]), or every file of the unit
    /// ([`Keep::All`]); the organisation's policy files when a finding points into them.
    pub sources: SourceMap,
    /// Reported findings (the rule selection, `[severity]` and suppressions applied), sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings suppressed in the unit's files, sorted.
    pub suppressed: Vec<Suppressed>,
    /// Templates (or root modules) it counts as: 0 for a file that is not one.
    pub templates: usize,
}

/// Which files a [`Unit`] keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Only those its findings point into: a unit's other files are dropped as soon as it is
    /// checked, so a run holds the units in flight, not the repository.
    Findings,
    /// Every file read.
    All,
}

/// What a run gave beside its units.
pub struct Summary {
    /// Files read (candidates by name).
    pub files: usize,
    pub path_errors: Vec<String>,
    pub timings: Timings,
}

/// One unit to check, in report order.
enum Job {
    /// A CloudFormation/SAM template, plan, or other candidate (by index).
    File(usize),
    /// A Terraform root module (by index).
    Root(usize),
    /// The input errors of one Terraform file, found while reading the tree.
    TerraformErrors(Arc<SourceFile>, Vec<Diagnostic>),
}

/// Checks every unit under the paths of `options` and gives each to `sink`, in report order
/// (by path), as soon as it and the units before it are done. Units are checked in parallel in
/// batches, so memory follows the batch in flight rather than the size of the repository.
pub fn run_units(
    options: &RunOptions,
    org: &crate::config::OrgFiles,
    overlay: &Overlay,
    keep: Keep,
    sink: &mut dyn FnMut(Unit),
) -> Summary {
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
    let tf = Terraform::read(
        &terraform,
        next_id,
        overlay,
        options.max_file_size(),
        &parse_clock,
    );
    // The Terraform files are the workspace's now.
    let terraform_files = terraform.len();
    drop(terraform);
    crate::progress::add_total(tf.roots.len());

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
    let finish = |files: Vec<Arc<SourceFile>>,
                  diagnostics: Vec<Diagnostic>,
                  sites: Vec<Site>,
                  templates: usize| {
        finish_unit(
            options,
            keep,
            &org_sources,
            files,
            diagnostics,
            &sites,
            templates,
        )
    };

    let mut jobs: Vec<Job> = (0..candidates.len()).map(Job::File).collect();
    jobs.extend((0..tf.roots.len()).map(Job::Root));
    for (file, errors) in tf
        .errors
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .drain(..)
    {
        jobs.push(Job::TerraformErrors(file, errors));
    }
    fn place<'a>(
        job: &'a Job,
        candidates: &'a [Candidate],
        roots: &'a [PathBuf],
    ) -> (&'a std::path::Path, bool) {
        match job {
            Job::File(i) => (&candidates[*i].path, false),
            Job::Root(i) => (&roots[*i], true),
            Job::TerraformErrors(file, _) => (&file.path, false),
        }
    }
    jobs.sort_by(|a, b| {
        report_order(
            place(a, &candidates, &tf.roots),
            place(b, &candidates, &tf.roots),
        )
    });

    let run_job = |job: &Job| -> Unit {
        match job {
            Job::File(i) => {
                let candidate = &candidates[*i];
                let id = FileId(u32::try_from(*i).unwrap_or(u32::MAX));
                let mut result = guarded("reading this file", || {
                    parse_clock.time(|| {
                        check_file(
                            id,
                            candidate,
                            &parse_options,
                            overlay,
                            options.max_file_size(),
                        )
                    })
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
                finish(
                    vec![result.file],
                    result.diagnostics,
                    result.sites,
                    usize::from(result.is_template),
                )
            }
            Job::Root(i) => {
                let unit = tf.analyse(*i, &options.terraform, &parse_clock, |stack, files| {
                    let found = check(&stack, files);
                    (found, crate::suppress::sites(&stack))
                });
                crate::progress::advance();
                finish(unit.files, unit.diagnostics, unit.sites, unit.templates)
            }
            Job::TerraformErrors(file, errors) => {
                finish(vec![Arc::clone(file)], errors.clone(), Vec::new(), 0)
            }
        }
    };
    // A unit's stack and files are dropped as soon as it is checked; a checked unit waiting
    // for its batch to finish holds only its findings (and the files they point into). Large
    // batches keep every thread busy (a batch ends when its slowest unit does).
    let batch = rayon::current_num_threads().max(1) * 128;
    for chunk in jobs.chunks(batch) {
        let units: Vec<Unit> = chunk.par_iter().map(run_job).collect();
        for unit in units {
            sink(unit);
        }
    }
    Summary {
        files: candidates.len() + terraform_files,
        path_errors,
        timings: Timings {
            walk,
            parse: parse_clock.total(),
            rules: rules_clock.total(),
        },
    }
}

/// Where units go in the report: by their paths as shown (`/` separators), so that findings
/// come out in the order of their files; a Terraform root module (a folder) goes where its
/// files would.
fn report_order(
    (a, a_folder): (&std::path::Path, bool),
    (b, b_folder): (&std::path::Path, bool),
) -> std::cmp::Ordering {
    fn shown(path: &std::path::Path, folder: bool) -> impl Iterator<Item = u8> + '_ {
        let text = path.as_os_str().as_encoded_bytes();
        let slash = folder && !text.ends_with(b"/");
        text.iter()
            .map(|&b| if b == b'\\' { b'/' } else { b })
            .chain(slash.then_some(b'/'))
    }
    shown(a, a_folder).cmp(shown(b, b_folder))
}

/// Applies the run's rule selection, `[severity]` and the unit's suppressions to its findings,
/// sorts them, and keeps the files `keep` says.
fn finish_unit(
    options: &RunOptions,
    keep: Keep,
    org_sources: &[Arc<SourceFile>],
    files: Vec<Arc<SourceFile>>,
    mut diagnostics: Vec<Diagnostic>,
    sites: &[Site],
    templates: usize,
) -> Unit {
    diagnostics.retain(|d| options.rules.reports(d));
    for d in &mut diagnostics {
        if let Some((_, severity)) = options.severity.iter().find(|(code, _)| *code == d.code) {
            d.severity = *severity;
        }
    }
    let mut sources = SourceMap::new();
    for file in files {
        sources.insert(file);
    }
    let (mut diagnostics, mut suppressed) =
        crate::suppress::apply(&sources, sites, &options.rules, diagnostics);
    for file in org_sources {
        sources.insert(Arc::clone(file));
    }
    crate::report::sort(&sources, &mut diagnostics);
    suppressed.sort_by_cached_key(|s| crate::report::sort_key(&sources, &s.diagnostic));
    let sources = match keep {
        Keep::All => sources,
        Keep::Findings => {
            let mut used: Vec<FileId> = diagnostics
                .iter()
                .chain(suppressed.iter().map(|s| &s.diagnostic))
                .flat_map(referenced_files)
                .chain(suppressed.iter().map(|s| s.span.file))
                .collect();
            used.sort();
            used.dedup();
            let mut kept = SourceMap::new();
            for id in used {
                if let Some(file) = sources.get(id) {
                    kept.insert(Arc::clone(file));
                }
            }
            kept
        }
    };
    Unit {
        sources,
        diagnostics,
        suppressed,
        templates,
    }
}

/// The files a finding points into: its span, its labels' and its fix's edits'.
fn referenced_files(d: &Diagnostic) -> impl Iterator<Item = FileId> + '_ {
    std::iter::once(d.span.file)
        .chain(d.labels.iter().map(|l| l.span.file))
        .chain(
            d.fix
                .iter()
                .flat_map(|f| f.edits.iter().map(|e| e.span.file)),
        )
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
                check_file(
                    id,
                    candidate,
                    &parse_options,
                    &Overlay::new(),
                    options.max_file_size(),
                )
            })
            .ok()
        })
        .collect();
    let mut next_id = candidates.len();
    let mut org_sources = Vec::new();
    let org = iamlint_rules::context::Options {
        scps: org_levels(&org.scps, false, &mut next_id, &mut org_sources),
        rcps: org_levels(&org.rcps, true, &mut next_id, &mut org_sources),
    };
    let tf = Terraform::read(
        &terraform,
        next_id,
        &Overlay::new(),
        options.max_file_size(),
        &Clock::default(),
    );
    let tf_units: Vec<(Option<Stack>, Vec<Arc<SourceFile>>)> = (0..tf.roots.len())
        .into_par_iter()
        .map(|i| {
            let kept = std::sync::Mutex::new(None);
            let unit = tf.analyse(i, &options.terraform, &Clock::default(), |stack, _| {
                *kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(stack);
                (Vec::new(), Vec::new())
            });
            (
                kept.into_inner().unwrap_or_else(|e| e.into_inner()),
                unit.files,
            )
        })
        .collect();
    let mut sources = SourceMap::new();
    let mut stacks = Vec::new();
    for result in results {
        sources.insert(result.file);
        stacks.extend(result.stack);
    }
    for file in org_sources {
        sources.insert(file);
    }
    for (stack, files) in tf_units {
        for file in files {
            sources.insert(file);
        }
        stacks.extend(stack);
    }
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

/// The Terraform side of a run: the tree read once to find the root modules (a folder named
/// through one of its files is a root whatever calls it), then each root analysed with its
/// child modules. A parsed module is kept while a root that calls it has still to be analysed,
/// so that memory follows the units in flight rather than the size of the tree.
struct Terraform {
    ws: iamlint_terraform::Workspace,
    roots: Vec<PathBuf>,
    /// The folders of the roots' closures, each once.
    folders: Vec<PathBuf>,
    /// Each root's folder and the local module folders it calls (in `folders`).
    closures: Vec<Vec<u32>>,
    /// How many roots still to analyse use each folder (by index in `folders`).
    users: Vec<std::sync::atomic::AtomicUsize>,
    /// The input errors found while reading the tree, by file (taken by the run).
    errors: std::sync::Mutex<Vec<(Arc<SourceFile>, Vec<Diagnostic>)>>,
}

/// What one Terraform root gave.
struct RootUnit {
    files: Vec<Arc<SourceFile>>,
    diagnostics: Vec<Diagnostic>,
    sites: Vec<Site>,
    templates: usize,
}

impl Terraform {
    /// Reads the Terraform files (file ids from `base` on) and finds the root modules.
    fn read(
        files: &[Candidate],
        base: usize,
        overlay: &Overlay,
        max_file_size: u64,
        parse_clock: &Clock,
    ) -> Self {
        let walked: Vec<PathBuf> = files
            .iter()
            .filter(|c| iamlint_terraform::is_terraform_file(&c.path))
            .map(|c| c.path.clone())
            .collect();
        let ws =
            iamlint_terraform::Workspace::new(u32::try_from(base).unwrap_or(u32::MAX), &walked)
                .with_overlay(overlay)
                .with_max_file_size(max_file_size);
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
        let mut index: HashMap<PathBuf, u32> = HashMap::new();
        let mut folders = Vec::new();
        let mut users: Vec<std::sync::atomic::AtomicUsize> = Vec::new();
        let closures: Vec<Vec<u32>> = roots
            .iter()
            .map(|r| {
                ws.local_closure(r)
                    .into_iter()
                    .map(|dir| {
                        let i = *index.entry(dir).or_insert_with_key(|dir| {
                            folders.push(dir.clone());
                            users.push(std::sync::atomic::AtomicUsize::new(0));
                            u32::try_from(folders.len() - 1).unwrap_or(u32::MAX)
                        });
                        users[i as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        i
                    })
                    .collect()
            })
            .collect();
        drop(index);
        let mut errors: Vec<(Arc<SourceFile>, Vec<Diagnostic>)> = Vec::new();
        for d in ws.parse_diagnostics() {
            match errors.last_mut() {
                Some((file, list)) if file.id == d.span.file => list.push(d),
                _ => {
                    if let Some(file) = ws.file(d.span.file) {
                        errors.push((file, vec![d]));
                    }
                }
            }
        }
        // Files the workspace would not read for their size.
        for path in &walked {
            let Ok(meta) = std::fs::metadata(path) else {
                continue;
            };
            if meta.len() > max_file_size
                && !overlay.contains_key(path)
                && let Some(id) = ws.id(path)
            {
                let file = Arc::new(SourceFile::new(id, path.clone(), ""));
                let note = too_large(id, meta.len(), max_file_size, false);
                errors.push((file, vec![note]));
            }
        }
        // Every file was read once to find the roots; each root reads its own again.
        ws.forget_texts();
        Terraform {
            ws,
            roots,
            folders,
            closures,
            users,
            errors: std::sync::Mutex::new(errors),
        }
    }

    /// Analyses root `i`, hands its stack (with the unit's files) to `check`, which gives the
    /// findings and suppression sites, and releases the modules no other root still needs.
    fn analyse(
        &self,
        i: usize,
        options: &iamlint_terraform::Options,
        parse_clock: &Clock,
        check: impl FnOnce(Stack, &[Arc<SourceFile>]) -> (Vec<Diagnostic>, Vec<Site>),
    ) -> RootUnit {
        let root = &self.roots[i];
        let analysed = parse_clock.time(|| {
            guarded("analysing this Terraform module", || {
                iamlint_terraform::analyse_root(&self.ws, root, options)
            })
        });
        let mut unit = RootUnit {
            files: Vec::new(),
            diagnostics: Vec::new(),
            sites: Vec::new(),
            templates: 0,
        };
        match analysed {
            Ok(None) => {}
            Ok(Some(a)) => {
                unit.templates = 1;
                unit.diagnostics = a.diagnostics;
                // The unit's files, from which rules make fixes: its modules' files.
                unit.files = self.closures[i]
                    .iter()
                    .filter_map(|&d| self.ws.module(&self.folders[d as usize]))
                    .flat_map(|m| m.files.clone())
                    .collect();
                let (found, sites) = check(a.stack, &unit.files);
                unit.diagnostics.extend(found);
                unit.sites = sites;
            }
            Err(message) => {
                let file = self.ws.first_file_in(root);
                let id = file.as_ref().map_or(FileId(u32::MAX), |f| f.id);
                unit.files.extend(file);
                unit.diagnostics
                    .push(Diagnostic::input_error(Span::file_start(id), message));
            }
        }
        // Files a finding points into beyond the modules' own (variable definitions files,
        // files read by `file()`), while the workspace still has them.
        let mut have: Vec<FileId> = unit.files.iter().map(|f| f.id).collect();
        have.sort();
        let missing: Vec<FileId> = unit
            .diagnostics
            .iter()
            .flat_map(referenced_files)
            .filter(|id| have.binary_search(id).is_err())
            .collect();
        for id in missing {
            if let Some(file) = self.ws.file(id)
                && let Err(at) = have.binary_search(&id)
            {
                have.insert(at, id);
                unit.files.push(file);
            }
        }
        for &dir in &self.closures[i] {
            if self.users[dir as usize].fetch_sub(1, std::sync::atomic::Ordering::AcqRel) == 1 {
                self.ws.release(&self.folders[dir as usize]);
            }
        }
        unit
    }
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
    max_file_size: u64,
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
        Ok(meta) if meta.len() > max_file_size => {
            // Too large to read: say so only when the file's head shows it is a template, so
            // a large data file in a repository produces no output.
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
                    vec![too_large(id, meta.len(), max_file_size, plan)]
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
