//! One check run: read, parse and check each unit (a template, a plan, a Terraform root module
//! with the modules it calls) in parallel, in batches in report order; each unit's findings go
//! to the caller as soon as its batch is done, with only the files they point into.
//!
//! The tree is walked twice and never listed: a first walk, in parallel and in any order, reads
//! each Terraform folder to learn which folders are root modules (a folder another one calls is
//! not), keeping a few bytes per folder; a second walk, in path order, hands each unit to the
//! workers as it reaches it. So memory follows the batch in flight, not the repository.

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
    /// A CloudFormation/SAM template, plan, or other candidate, with the id of its file.
    File(FileId, Candidate),
    /// A Terraform root module (its folder), and whether a Terragrunt configuration deploys it
    /// (its variables are then set from outside).
    Root(PathBuf, bool),
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
    let run = Run::new(options, org, overlay, None);
    run.units(keep, sink)
}

/// What every unit of a run shares.
struct Run<'a> {
    options: &'a RunOptions,
    overlay: &'a Overlay,
    parse_options: iamlint_cfn::Options,
    /// File ids, given out as files are read: the organisation's policy files first.
    ids: iamlint_terraform::FileIds,
    org_options: iamlint_rules::context::Options,
    org_sources: Vec<Arc<SourceFile>>,
    parse_clock: Clock,
    rules_clock: Clock,
    /// Keep each stack (with the unit's place in the run) instead of running the rules on it.
    stacks: Option<&'a std::sync::Mutex<Vec<(usize, Stack)>>>,
}

impl<'a> Run<'a> {
    fn new(
        options: &'a RunOptions,
        org: &crate::config::OrgFiles,
        overlay: &'a Overlay,
        stacks: Option<&'a std::sync::Mutex<Vec<(usize, Stack)>>>,
    ) -> Self {
        let mut next_id = 0;
        let mut org_sources = Vec::new();
        let org_options = iamlint_rules::context::Options {
            scps: org_levels(&org.scps, false, &mut next_id, &mut org_sources),
            rcps: org_levels(&org.rcps, true, &mut next_id, &mut org_sources),
        };
        Run {
            options,
            overlay,
            parse_options: iamlint_cfn::Options {
                parameters: options.parameters.clone(),
            },
            ids: Arc::new(std::sync::atomic::AtomicU32::new(
                u32::try_from(next_id).unwrap_or(u32::MAX),
            )),
            org_options,
            org_sources,
            parse_clock: Clock::default(),
            rules_clock: Clock::default(),
            stacks,
        }
    }

    fn next_id(&self) -> FileId {
        FileId(self.ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }

    /// Reads the tree twice: once in parallel and in any order, to learn which Terraform
    /// folders are root modules (a folder other folders call is not one); then in path order,
    /// handing each unit to the workers as the walk reaches it. Neither walk keeps the list
    /// of files.
    fn units(&self, keep: Keep, sink: &mut dyn FnMut(Unit)) -> Summary {
        // The first walk's time is counted with parse: it reads every Terraform folder.
        let index = TerraformIndex::read(self);
        crate::progress::add_total(index.units);
        let batch = rayon::current_num_threads().max(1) * 128;
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Job>(batch);
        let ((files, path_errors), walk) = std::thread::scope(|scope| {
            let walker = scope.spawn(|| {
                let started = std::time::Instant::now();
                let (files, path_errors, waited) = self.stream(&index, &sender);
                drop(sender);
                (
                    (files, path_errors),
                    started.elapsed().saturating_sub(waited),
                )
            });
            let mut jobs = Vec::with_capacity(batch);
            let mut seq = 0;
            while let Ok(first) = receiver.recv() {
                jobs.push(first);
                while jobs.len() < batch {
                    match receiver.recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                for unit in self.batch(&mut jobs, &index, keep, seq) {
                    sink(unit);
                }
                seq += batch;
            }
            match walker.join() {
                Ok((out, took)) => (out, took),
                Err(_) => (
                    (
                        0,
                        vec!["internal error while walking the tree (this is a bug in iamlint: please report it)".to_string()],
                    ),
                    std::time::Duration::ZERO,
                ),
            }
        });
        Summary {
            files,
            path_errors,
            timings: Timings {
                walk,
                parse: self.parse_clock.total(),
                rules: self.rules_clock.total(),
            },
        }
    }

    /// Walks the tree in path order and sends each unit as the walk reaches it: a template
    /// or other candidate at its path, a Terraform root module at its first file, a Terraform
    /// file's input errors at the file. Gives the number of files, the paths that could not be
    /// walked, and the time spent waiting for the workers to take a unit.
    fn stream(
        &self,
        index: &TerraformIndex,
        sender: &std::sync::mpsc::SyncSender<Job>,
    ) -> (usize, Vec<String>, std::time::Duration) {
        let mut errors = index.errors.iter().peekable();
        let mut files = 0;
        let mut reached = std::collections::HashSet::new();
        let waited = std::cell::Cell::new(std::time::Duration::ZERO);
        let send = |job: Job| {
            let started = std::time::Instant::now();
            // The receiver stops only when this run is over.
            let _ = sender.send(job);
            waited.set(waited.get() + started.elapsed());
        };
        let walk_errors = discover::walk_sorted(
            &self.options.paths,
            self.options.exclude.as_ref(),
            &mut |c| {
                while let Some((_, file, list)) = errors.next_if(|(at, ..)| *at < c.path) {
                    send(Job::TerraformErrors(Arc::clone(file), list.clone()));
                }
                files += 1;
                if iamlint_terraform::terragrunt::is_terragrunt_file(&c.path) {
                    // Read by the first walk, for the folder it deploys.
                    return;
                }
                let terraform = iamlint_terraform::is_terraform_file(&c.path);
                if terraform || is_tfvars(&c.path) {
                    // A folder is one unit, reached with the first of its files; a variable
                    // definitions file named on the command line stands for its folder.
                    if terraform || c.explicit {
                        let dir = parent_dir(&c.path);
                        let key = folder_key(&dir);
                        if index.is_root(key) && reached.insert(key) {
                            send(Job::Root(dir, index.deployed.contains(&key)));
                        }
                    }
                } else {
                    send(Job::File(self.next_id(), c));
                }
            },
        );
        for (_, file, list) in errors {
            send(Job::TerraformErrors(Arc::clone(file), list.clone()));
        }
        let path_errors = walk_errors
            .into_iter()
            .map(|e| format!("{}: {}", e.path.display(), e.message))
            .collect();
        (files, path_errors, waited.get())
    }

    /// Checks one batch of units in parallel; `seq` is the place of its first unit in the run.
    fn batch(
        &self,
        jobs: &mut Vec<Job>,
        index: &TerraformIndex,
        keep: Keep,
        seq: usize,
    ) -> Vec<Unit> {
        let roots: Vec<PathBuf> = jobs
            .iter()
            .filter_map(|j| match j {
                Job::Root(dir, _) => Some(dir.clone()),
                _ => None,
            })
            .collect();
        let terraform = (!roots.is_empty()).then(|| Terraform::new(self, index, roots));
        let mut root = 0;
        let work: Vec<(usize, Job, usize)> = jobs
            .drain(..)
            .enumerate()
            .map(|(i, job)| {
                let r = root;
                if matches!(job, Job::Root(..)) {
                    root += 1;
                }
                (seq + i, job, r)
            })
            .collect();
        work.into_par_iter()
            .map(|(seq, job, root)| self.job(seq, job, terraform.as_ref(), root, keep))
            .collect()
    }

    /// The findings of `stack`, or (for `why`) none, the stack being kept.
    fn check(
        &self,
        seq: usize,
        stack: Stack,
        sources: &[Arc<SourceFile>],
    ) -> (Vec<Diagnostic>, Vec<Site>) {
        let sites = crate::suppress::sites(&stack);
        if let Some(stacks) = self.stacks {
            stacks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((seq, stack));
            return (Vec::new(), sites);
        }
        let found = guarded("running the rules on this file", || {
            self.rules_clock.time(|| {
                iamlint_rules::check_stack_with_sources(
                    &stack,
                    &self.options.rules,
                    &self.org_options,
                    sources,
                )
            })
        })
        .unwrap_or_else(|message| {
            vec![Diagnostic::input_error(
                Span::file_start(stack.file),
                message,
            )]
        });
        (found, sites)
    }

    fn job(
        &self,
        seq: usize,
        job: Job,
        terraform: Option<&Terraform>,
        root: usize,
        keep: Keep,
    ) -> Unit {
        let finish = |files, diagnostics, sites: Vec<Site>, templates| {
            finish_unit(
                self.options,
                keep,
                &self.org_sources,
                files,
                diagnostics,
                &sites,
                templates,
            )
        };
        match job {
            Job::File(id, candidate) => {
                let max = self.options.max_file_size();
                let mut result = guarded("reading this file", || {
                    self.parse_clock
                        .time(|| check_file(id, &candidate, &self.parse_options, self.overlay, max))
                })
                .unwrap_or_else(|message| FileResult {
                    file: Arc::new(SourceFile::new(id, candidate.path.clone(), "")),
                    sites: Vec::new(),
                    is_template: true,
                    stack: None,
                    diagnostics: vec![Diagnostic::input_error(Span::file_start(id), message)],
                });
                if let Some(stack) = result.stack.take() {
                    let (found, sites) = self.check(seq, stack, std::slice::from_ref(&result.file));
                    result.diagnostics.extend(found);
                    result.sites = sites;
                }
                crate::progress::advance();
                finish(
                    vec![result.file],
                    result.diagnostics,
                    result.sites,
                    usize::from(result.is_template),
                )
            }
            Job::Root(_, deployed) => {
                let Some(terraform) = terraform else {
                    return finish(Vec::new(), Vec::new(), Vec::new(), 0);
                };
                let options = iamlint_terraform::Options {
                    inputs_from_outside: deployed,
                    ..self.options.terraform.clone()
                };
                let unit = terraform.analyse(root, &options, &self.parse_clock, |stack, files| {
                    self.check(seq, stack, files)
                });
                crate::progress::advance();
                finish(unit.files, unit.diagnostics, unit.sites, unit.templates)
            }
            Job::TerraformErrors(file, errors) => finish(vec![file], errors, Vec::new(), 0),
        }
    }
}

/// A folder as the Terraform index knows it: its normalised path, hashed (two 64-bit hashes,
/// so that two folders of one run never share a key in practice).
fn folder_key(dir: &std::path::Path) -> u128 {
    use std::hash::{Hash, Hasher};
    let dir = iamlint_terraform::normalize(dir);
    let half = |salt: u8| {
        let mut h = std::hash::DefaultHasher::new();
        salt.hash(&mut h);
        dir.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
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
    let diagnostics = merge_instances(diagnostics);
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

/// One finding for the instances of one Terraform declaration. The instances a `count` or
/// `for_each` makes of a resource, or of the module that declares it, share its lines, so
/// findings of one rule at one place about instances of one declaration have one cause and one
/// change to make: the first (in report order) is kept, and its help names the others.
fn merge_instances(diagnostics: Vec<Diagnostic>) -> Vec<Diagnostic> {
    /// `module.c["a"].aws_sqs_queue.q[0]` → `module.c.aws_sqs_queue.q`.
    fn declaration(address: &str) -> Option<String> {
        if !address.contains('[') {
            return None;
        }
        let mut out = String::new();
        let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
        for c in address.chars() {
            if depth == 0 {
                if c == '[' {
                    depth = 1;
                } else {
                    out.push(c);
                }
                continue;
            }
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => depth += 1,
                ']' if !quoted => depth -= 1,
                _ => {}
            }
        }
        Some(out)
    }
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    let mut first: HashMap<(&'static str, Span, Severity, String), usize> = HashMap::new();
    let mut others: Vec<Vec<String>> = Vec::new();
    for d in diagnostics {
        let key = d
            .resource
            .as_deref()
            .and_then(declaration)
            .map(|decl| (d.code, d.span, d.severity, decl));
        if let Some(key) = key {
            if let Some(&i) = first.get(&key) {
                others[i].extend(d.resource);
                continue;
            }
            first.insert(key, out.len());
        }
        others.push(Vec::new());
        out.push(d);
    }
    for (d, others) in out.iter_mut().zip(others) {
        if others.is_empty() {
            continue;
        }
        let also = format!(
            "The same holds for {} more instance{} of this declaration ({}): the same change fixes {}.",
            others.len(),
            if others.len() == 1 { "" } else { "s" },
            others.join(", "),
            if others.len() == 1 { "it" } else { "them" },
        );
        d.help = Some(match d.help.take() {
            Some(help) => format!("{help}\n{also}"),
            None => also,
        });
    }
    out
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
    let kept = std::sync::Mutex::new(Vec::new());
    let overlay = Overlay::new();
    let run = Run::new(options, org, &overlay, Some(&kept));
    let mut sources = SourceMap::new();
    let summary = run.units(Keep::All, &mut |unit: Unit| {
        for file in unit.sources.files() {
            sources.insert(Arc::clone(file));
        }
    });
    let Run { org_options, .. } = run;
    let mut stacks = kept.into_inner().unwrap_or_else(|e| e.into_inner());
    stacks.sort_by_key(|(seq, _)| *seq);
    Loaded {
        sources,
        stacks: stacks.into_iter().map(|(_, stack)| stack).collect(),
        org: org_options,
        path_errors: summary.path_errors,
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

/// What the first walk learns of the Terraform in the tree: which folders are root modules,
/// what the folders call, and their input errors. Folders are known by [`folder_key`], so the
/// index takes a few bytes per folder and nothing per file.
struct TerraformIndex {
    /// Folders named through one of their files: root modules whatever calls them.
    explicit: std::collections::HashSet<u128>,
    /// Folders that a folder of the tree calls as a local module, and whether the walk read
    /// them (a module outside the tree is read by the units that call it).
    called: HashMap<u128, bool>,
    /// The local module folders each folder that calls any calls.
    calls: HashMap<u128, Box<[PathBuf]>>,
    /// Module folders a Terragrunt configuration of the tree deploys.
    deployed: std::collections::HashSet<u128>,
    /// The input errors of each file (and the notes for files too large to read), sorted by
    /// the file's path as the walk gives it.
    errors: Vec<(PathBuf, Arc<SourceFile>, Vec<Diagnostic>)>,
    /// How many units the run has (for the progress line).
    units: usize,
    /// Folders outside the tree whose input errors a unit has reported.
    reported: std::sync::Mutex<std::collections::HashSet<u128>>,
}

impl TerraformIndex {
    /// Walks the tree in parallel and reads every Terraform folder once, keeping only what it
    /// calls and its input errors.
    fn read(run: &Run) -> Self {
        use std::sync::Mutex;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let folders = Mutex::new(std::collections::HashSet::new());
        let explicit = Mutex::new(std::collections::HashSet::new());
        let calls = Mutex::new(HashMap::new());
        let errors = Mutex::new(Vec::new());
        let deployed = Mutex::new(std::collections::HashSet::new());
        let others = AtomicUsize::new(0);
        let max = run.options.max_file_size();
        discover::walk_unordered(
            &run.options.paths,
            run.options.exclude.as_ref(),
            &|c: Candidate| {
                if iamlint_terraform::terragrunt::is_terragrunt_file(&c.path) {
                    let folder = std::fs::metadata(&c.path)
                        .is_ok_and(|m| m.len() <= max)
                        .then(|| std::fs::read_to_string(&c.path).ok())
                        .flatten()
                        .and_then(|text| {
                            iamlint_terraform::terragrunt::deployed_folder(
                                &parent_dir(&c.path),
                                &text,
                            )
                        });
                    if let Some(folder) = folder {
                        deployed
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(folder_key(&folder));
                    }
                    return;
                }
                let terraform = iamlint_terraform::is_terraform_file(&c.path);
                if !terraform && !is_tfvars(&c.path) {
                    others.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                let dir = parent_dir(&c.path);
                let key = folder_key(&dir);
                if c.explicit {
                    explicit
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key);
                }
                if !terraform {
                    return;
                }
                if let Ok(meta) = std::fs::metadata(&c.path)
                    && meta.len() > max
                    && !run.overlay.contains_key(&c.path)
                {
                    let id = run.next_id();
                    let file = Arc::new(SourceFile::new(
                        id,
                        iamlint_terraform::normalize(&c.path),
                        "",
                    ));
                    let note = too_large(id, meta.len(), max, false);
                    errors.lock().unwrap_or_else(|e| e.into_inner()).push((
                        c.path.clone(),
                        file,
                        vec![note],
                    ));
                }
                if !folders
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key)
                {
                    return;
                }
                let scanned = run.parse_clock.time(|| scan(run, &dir));
                if !scanned.calls.is_empty() {
                    calls
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, scanned.calls.into_boxed_slice());
                }
                let mut errors = errors.lock().unwrap_or_else(|e| e.into_inner());
                for (file, list) in scanned.errors {
                    let name = file.path.file_name().map(PathBuf::from).unwrap_or_default();
                    errors.push((dir.join(name), file, list));
                }
            },
        );
        let calls: HashMap<u128, Box<[PathBuf]>> =
            calls.into_inner().unwrap_or_else(|e| e.into_inner());
        let folders = folders.into_inner().unwrap_or_else(|e| e.into_inner());
        let explicit = explicit.into_inner().unwrap_or_else(|e| e.into_inner());
        let called: HashMap<u128, bool> = calls
            .values()
            .flat_map(|c| c.iter().map(|d| folder_key(d)))
            .map(|k| (k, folders.contains(&k)))
            .collect();
        let is_root = |k: &u128| explicit.contains(k) || !called.contains_key(k);
        let units = others.into_inner()
            + folders.iter().filter(|k| is_root(k)).count()
            + explicit.difference(&folders).count();
        let mut errors = errors.into_inner().unwrap_or_else(|e| e.into_inner());
        errors.sort_by(|a, b| a.0.cmp(&b.0));
        TerraformIndex {
            explicit,
            called,
            calls,
            deployed: deployed.into_inner().unwrap_or_else(|e| e.into_inner()),
            errors,
            units,
            reported: Mutex::new(std::collections::HashSet::new()),
        }
    }

    /// Whether the folder of `key` is a root module: named through one of its files, or called
    /// by no folder of the tree.
    fn is_root(&self, key: u128) -> bool {
        self.explicit.contains(&key) || !self.called.contains_key(&key)
    }
}

/// What reading one module folder, without keeping it, gave.
struct Scanned {
    /// The local module folders it calls (normalised).
    calls: Vec<PathBuf>,
    /// Its input errors, by file.
    errors: FileErrors,
}

/// Input errors, by file.
type FileErrors = Vec<(Arc<SourceFile>, Vec<Diagnostic>)>;

/// Reads the module in `dir` to learn what it calls and its input errors.
fn scan(run: &Run, dir: &std::path::Path) -> Scanned {
    let ws = iamlint_terraform::Workspace::sharing(&run.ids, &[])
        .with_overlay(run.overlay)
        .with_max_file_size(run.options.max_file_size());
    // A panic here is reported when a unit that uses the module analyses it.
    if !guarded("reading this module", || ws.scan(dir)).unwrap_or(false) {
        return Scanned {
            calls: Vec::new(),
            errors: Vec::new(),
        };
    }
    Scanned {
        calls: ws.local_calls(dir),
        errors: errors_by_file(&ws, ws.parse_diagnostics()),
    }
}

/// `diagnostics` (sorted by span) grouped by file, with the files from `ws`.
fn errors_by_file(ws: &iamlint_terraform::Workspace, diagnostics: Vec<Diagnostic>) -> FileErrors {
    let mut out: FileErrors = Vec::new();
    for d in diagnostics {
        match out.last_mut() {
            Some((file, list)) if file.id == d.span.file => list.push(d),
            _ => {
                if let Some(file) = ws.file(d.span.file) {
                    out.push((file, vec![d]));
                }
            }
        }
    }
    out
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

/// The Terraform root modules of one batch, each analysed with its child modules. A module
/// called by several roots of the batch is parsed once, and kept only while a root that calls
/// it has still to be analysed; the batch's files get their ids before any is read, so the
/// ids are the same whatever order the threads read them in.
struct Terraform {
    ws: iamlint_terraform::Workspace,
    roots: Vec<PathBuf>,
    /// The folders of the roots' closures, each once.
    folders: Vec<PathBuf>,
    /// Each root's folder and the local module folders it calls (in `folders`).
    closures: Vec<Vec<u32>>,
    /// How many roots still to analyse use each folder (by index in `folders`).
    users: Vec<std::sync::atomic::AtomicUsize>,
    /// Input errors of modules outside the walked tree, reported with the first root of the
    /// run that calls them (by index in `roots`).
    outside_errors: HashMap<usize, FileErrors>,
}

/// What one Terraform root gave.
struct RootUnit {
    files: Vec<Arc<SourceFile>>,
    diagnostics: Vec<Diagnostic>,
    sites: Vec<Site>,
    templates: usize,
}

impl Terraform {
    fn new(run: &Run, index: &TerraformIndex, roots: Vec<PathBuf>) -> Self {
        let ws = iamlint_terraform::Workspace::sharing(&run.ids, &[])
            .with_overlay(run.overlay)
            .with_max_file_size(run.options.max_file_size());
        let mut at: HashMap<PathBuf, u32> = HashMap::new();
        let mut folders: Vec<PathBuf> = Vec::new();
        let mut users: Vec<std::sync::atomic::AtomicUsize> = Vec::new();
        let mut outside_errors: HashMap<usize, FileErrors> = HashMap::new();
        let mut closures = Vec::with_capacity(roots.len());
        for (r, root) in roots.iter().enumerate() {
            let mut closure: Vec<u32> = Vec::new();
            let mut queue = vec![iamlint_terraform::normalize(root)];
            let mut i = 0;
            while i < queue.len() {
                let dir = queue[i].clone();
                i += 1;
                let n = match at.get(&dir) {
                    Some(&n) => n,
                    None => {
                        // Ids in the order the roots reach the folders.
                        ws.register(&iamlint_terraform::module_files(&dir));
                        folders.push(dir.clone());
                        users.push(std::sync::atomic::AtomicUsize::new(0));
                        let n = u32::try_from(folders.len() - 1).unwrap_or(u32::MAX);
                        at.insert(dir.clone(), n);
                        n
                    }
                };
                if closure.contains(&n) {
                    continue;
                }
                closure.push(n);
                users[n as usize].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let key = folder_key(&dir);
                // The root itself was read by the first walk.
                let read = i == 1 || index.called.get(&key).copied().unwrap_or(false);
                let calls: Vec<PathBuf> = if read {
                    index
                        .calls
                        .get(&key)
                        .map(|c| c.to_vec())
                        .unwrap_or_default()
                } else {
                    // A module outside the walked tree: read it now, and report its input
                    // errors once in the run.
                    let _ = run
                        .parse_clock
                        .time(|| guarded("reading this module", || ws.scan(&dir)));
                    if index
                        .reported
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key)
                    {
                        let errors: Vec<Diagnostic> = ws
                            .parse_diagnostics()
                            .into_iter()
                            .filter(|d| {
                                ws.file(d.span.file)
                                    .is_some_and(|f| f.path.parent() == Some(dir.as_path()))
                            })
                            .collect();
                        outside_errors
                            .entry(r)
                            .or_default()
                            .extend(errors_by_file(&ws, errors));
                    }
                    ws.local_calls(&dir)
                };
                for c in calls {
                    if !queue.contains(&c) {
                        queue.push(c);
                    }
                }
            }
            closures.push(closure);
        }
        Terraform {
            ws,
            roots,
            folders,
            closures,
            users,
            outside_errors,
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
        for (file, errors) in self.outside_errors.get(&i).into_iter().flatten() {
            unit.files.push(Arc::clone(file));
            unit.diagnostics.extend(errors.iter().cloned());
        }
        // Files a finding points into beyond the modules' own (variable definitions files,
        // files read by `file()`), while the workspace still has them.
        let mut have: Vec<FileId> = unit.files.iter().map(|f| f.id).collect();
        have.sort();
        have.dedup();
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
