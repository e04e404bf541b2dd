//! The `iamlint` command: parses the command line, runs it, prints, and returns the exit
//! status. The binaries (`iamlint`, and `iamlint-pre-commit` built at the repository root for
//! pre-commit) call [`main`]; this module is the only place that prints.

use crate::cli::{CheckArgs, Cli, ColorChoice, Command, FailOn, SimulateArgs, SimulateFormat};
use crate::{report, run};
use clap::Parser;
use iamlint_core::Severity;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Exit status: no findings at or above the threshold.
const EXIT_CLEAN: u8 = 0;
/// Exit status: findings at or above the threshold.
const EXIT_FINDINGS: u8 = 1;
/// Exit status: the command was wrong or an input could not be read.
const EXIT_INPUT: u8 = 2;

/// Runs the command line of this process and returns its exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_INPUT
            } else {
                EXIT_CLEAN
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        None => check(&cli.check),
        Some(Command::Check(args)) => check(&args),
        Some(Command::Simulate(args)) => simulate(&args),
        Some(Command::Rules(args)) => rules(args.format),
        Some(Command::Explain { rule }) => explain(&rule),
        Some(Command::Lsp) => match crate::lsp::serve_stdio() {
            Ok(()) => EXIT_CLEAN,
            Err(e) => {
                eprintln!("error: language server: {e}");
                EXIT_INPUT
            }
        },
        Some(Command::Why(args)) => match crate::why::run(&args) {
            Ok(text) => print_or_fail(&text),
            Err(message) => {
                eprintln!("error: {message}");
                EXIT_INPUT
            }
        },
    };
    ExitCode::from(code)
}

fn check(args: &CheckArgs) -> u8 {
    let settings = match crate::config::resolve(args) {
        Ok(s) => s,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INPUT;
        }
    };
    if args.show_config {
        return print_or_fail(&settings.render());
    }
    let org = match crate::config::read_org_files(&settings) {
        Ok(org) => org,
        Err(message) => {
            eprintln!("error: {message}");
            return EXIT_INPUT;
        }
    };
    let selection = match iamlint_rules::Selection::new(&settings.select, &settings.ignored()) {
        Ok(s) => s,
        Err(unknown) => {
            eprintln!(
                "error: unknown rule `{unknown}` (see `iamlint rules` for the codes and names)"
            );
            return EXIT_INPUT;
        }
    };
    let options = run::RunOptions {
        paths: args.paths.clone(),
        parameters: args.params.iter().cloned().collect(),
        terraform: iamlint_terraform::Options {
            vars: args.vars.iter().cloned().collect(),
            var_files: args.var_files.clone(),
            ..iamlint_terraform::Options::default()
        },
        rules: selection,
        exclude: match crate::discover::Exclude::new(&settings.root(), &settings.exclude) {
            Ok(exclude) => (!settings.exclude.is_empty()).then_some(exclude),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_INPUT;
            }
        },
        severity: settings.severities(),
        max_file_size: settings.max_file_size,
    };
    let baseline = match &args.baseline {
        Some(path) => match crate::baseline::Baseline::read(path) {
            Ok(b) => Some(b),
            Err(message) => {
                eprintln!("error: {message}");
                return EXIT_INPUT;
            }
        },
        None => None,
    };
    // Findings go to stdout as each unit is checked; on a terminal they are the progress.
    let mut progress = (!std::io::stdout().is_terminal()).then(crate::progress::Progress::start);
    let mut fixed = None;
    let mut fixed_output = None;
    if args.fix || args.diff {
        let result = crate::apply::fix(&options, &org);
        if let Some(progress) = progress.take() {
            progress.finish();
        }
        if args.diff {
            for error in &result.output.path_errors {
                eprintln!("error: {error}");
            }
            if print_or_fail(&crate::apply::unified_diff(&result.changes)) != EXIT_CLEAN {
                return EXIT_INPUT;
            }
            let n = result.fixed;
            eprintln!(
                "Would fix {n} finding{} ({} remaining).",
                if n == 1 { "" } else { "s" },
                result.output.diagnostics.len()
            );
            return if result.changes.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_FINDINGS
            };
        }
        if let Err(e) = crate::apply::write(&result.changes) {
            eprintln!("error: cannot write the fixed file: {e}");
            return EXIT_INPUT;
        }
        fixed = Some(result.fixed);
        fixed_output = Some(result.output);
    }
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut emit = Emit {
        stream: report::Stream::new(args.format, &report::Options { color }),
        root: settings.root(),
        show_suppressed: args.show_suppressed,
        baseline,
        recorder: args
            .write_baseline
            .as_ref()
            .map(|_| crate::baseline::Recorder::default()),
        seen: Seen::default(),
        written: Ok(()),
        output_time: std::time::Duration::ZERO,
        flush: std::io::stdout().is_terminal(),
    };
    emit.written = emit.stream.begin(&mut out);
    let (files, path_errors, timings) = match fixed_output {
        Some(output) => {
            let summary = (output.files, output.path_errors, output.timings);
            emit.unit(
                run::Unit {
                    sources: output.sources,
                    diagnostics: output.diagnostics,
                    suppressed: output.suppressed,
                    templates: output.templates,
                },
                &mut out,
            );
            summary
        }
        None => {
            let summary = run::run_units(
                &options,
                &org,
                &run::Overlay::new(),
                run::Keep::Findings,
                &mut |unit| emit.unit(unit, &mut out),
            );
            (summary.files, summary.path_errors, summary.timings)
        }
    };
    if let Some(progress) = progress {
        progress.finish();
    }
    let Emit {
        stream,
        recorder,
        seen,
        written,
        mut output_time,
        ..
    } = emit;
    let end_started = std::time::Instant::now();
    let written = written
        .and_then(|()| stream.end(files, seen.templates, seen.baselined, &mut out))
        .and_then(|()| out.flush());
    output_time += end_started.elapsed();
    if let (Some(path), Some(recorder)) = (&args.write_baseline, &recorder) {
        if let Err(e) = std::fs::write(path, recorder.render()) {
            eprintln!("error: cannot write baseline {}: {e}", path.display());
            return EXIT_INPUT;
        }
        eprintln!(
            "iamlint: wrote {} to {}",
            plural_findings(seen.baselined),
            path.display()
        );
    }
    for error in &path_errors {
        eprintln!("error: {error}");
    }
    if std::env::var_os("IAMLINT_TIMINGS").is_some() {
        // For `cargo xtask bench`: parse and rules are summed over threads; output is the
        // time spent writing the report.
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        eprintln!(
            "iamlint timings: walk={:.0}ms parse={:.0}ms rules={:.0}ms output={:.0}ms",
            ms(timings.walk),
            ms(timings.parse),
            ms(timings.rules),
            ms(output_time)
        );
    }
    if let Err(e) = written {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write the report: {e}");
        }
        return EXIT_INPUT;
    }
    if let Some(n) = fixed {
        eprintln!(
            "Fixed {n} finding{} ({} remaining).",
            if n == 1 { "" } else { "s" },
            seen.reported
        );
    } else if args.format == crate::cli::OutputFormat::Human && seen.fixable > 0 {
        let fixable = seen.fixable;
        eprintln!(
            "{fixable} finding{} can be fixed with `iamlint --fix` (`--diff` shows the change first).",
            if fixable == 1 { "" } else { "s" }
        );
    }
    if !path_errors.is_empty() || seen.input_errors {
        return EXIT_INPUT;
    }
    let threshold = match settings.fail_on.unwrap_or(FailOn::Warning) {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Note => Severity::Note,
    };
    if seen.worst.is_some_and(|worst| worst >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}

/// What the report has seen of the units so far.
#[derive(Default)]
struct Seen {
    templates: usize,
    /// Findings reported (after the baseline).
    reported: usize,
    /// Findings the baseline left out, or written to a new baseline.
    baselined: usize,
    /// Reported findings with a safe fix.
    fixable: usize,
    input_errors: bool,
    /// The highest severity reported.
    worst: Option<Severity>,
}

/// Writes each unit's findings as it comes, through the baseline.
struct Emit {
    stream: report::Stream,
    root: std::path::PathBuf,
    show_suppressed: bool,
    baseline: Option<crate::baseline::Baseline>,
    /// `--write-baseline`: the findings go to the new baseline, not to the report.
    recorder: Option<crate::baseline::Recorder>,
    seen: Seen,
    /// The first error writing the report (nothing more is written after it).
    written: std::io::Result<()>,
    output_time: std::time::Duration,
    /// Whether to flush after each unit with findings (a terminal).
    flush: bool,
}

impl Emit {
    fn unit(&mut self, mut unit: run::Unit, out: &mut dyn Write) {
        let started = std::time::Instant::now();
        self.seen.templates += unit.templates;
        if let Some(recorder) = &mut self.recorder {
            self.seen.baselined += recorder.add(&unit.sources, &self.root, &unit.diagnostics);
            unit.diagnostics
                .retain(iamlint_core::Diagnostic::is_input_error);
        } else if let Some(baseline) = &mut self.baseline {
            self.seen.baselined +=
                baseline.filter(&unit.sources, &self.root, &mut unit.diagnostics);
        }
        let seen = &mut self.seen;
        seen.reported += unit.diagnostics.len();
        for d in &unit.diagnostics {
            seen.input_errors |= d.is_input_error();
            seen.worst = seen.worst.max(Some(d.severity));
            seen.fixable += usize::from(d.fix.as_ref().is_some_and(|f| f.is_safe()));
        }
        if self.written.is_ok() {
            let shows = !unit.diagnostics.is_empty()
                || (self.show_suppressed && !unit.suppressed.is_empty());
            let filtered = report::Filtered {
                suppressed: std::mem::take(&mut unit.suppressed),
                show_suppressed: self.show_suppressed,
                baselined: 0,
                root: self.root.clone(),
            };
            let report = report::Report {
                sources: &unit.sources,
                diagnostics: &unit.diagnostics,
                files: 0,
                templates: 0,
                filtered: &filtered,
            };
            self.written = self.stream.unit(&report, out);
            if self.flush && shows && self.written.is_ok() {
                self.written = out.flush();
            }
        }
        self.output_time += started.elapsed();
    }
}

fn plural_findings(n: usize) -> String {
    if n == 1 {
        "1 finding".to_string()
    } else {
        format!("{n} findings")
    }
}

fn simulate(args: &SimulateArgs) -> u8 {
    let text = match std::fs::read_to_string(&args.request) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", args.request.display());
            return EXIT_INPUT;
        }
    };
    let simulation = match iamlint_policy::simulate::simulate(&text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", args.request.display());
            return EXIT_INPUT;
        }
    };
    let rendered = match args.format {
        SimulateFormat::Json => {
            serde_json::to_string_pretty(&simulation.to_json()).unwrap_or_default() + "\n"
        }
        SimulateFormat::Human => simulation.render_human(),
    };
    print_or_fail(&rendered)
}

fn rules(format: SimulateFormat) -> u8 {
    let registry = iamlint_rules::registry();
    let text = match format {
        SimulateFormat::Json => {
            let rows: Vec<_> = registry
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "name": r.name,
                        "severity": r.severity.as_str(),
                        "summary": r.summary,
                    })
                })
                .collect();
            serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
        }
        SimulateFormat::Human => {
            let mut text = String::new();
            for r in registry {
                text.push_str(&format!(
                    "{:<7} {:<44} {:<8} {}\n",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.summary
                ));
            }
            text
        }
    };
    print_or_fail(&text)
}

fn explain(rule: &str) -> u8 {
    match iamlint_rules::find_rule(rule) {
        Some(meta) => print_or_fail(&iamlint_rules::docs::render_markdown(meta)),
        None => {
            eprintln!("error: unknown rule `{rule}` (see `iamlint rules` for the codes and names)");
            EXIT_INPUT
        }
    }
}

fn print_or_fail(text: &str) -> u8 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_CLEAN,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => EXIT_CLEAN,
        Err(e) => {
            eprintln!("error: cannot write output: {e}");
            EXIT_INPUT
        }
    }
}
