//! `cargo xtask corpus`: runs iamlint (release build) over each folder of ../shared/corpus
//! and prints, per corpus, files, templates, wall time and findings by code. Skips cleanly when
//! the corpus is absent.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run(root: &Path, args: &[String]) -> Result<(), String> {
    // `--list CODE`: also print every finding of that code, for review.
    let list = args
        .iter()
        .position(|a| a == "--list")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let corpus = root.join("../shared/corpus");
    if !corpus.is_dir() {
        println!("corpus absent ({}), skipped", corpus.display());
        return Ok(());
    }
    let status = Command::new(env!("CARGO"))
        .args(["build", "--release", "--quiet", "--package", "iamlint"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build --release failed".into());
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let exe = target.join("release/iamlint");
    let mut dirs: Vec<_> = std::fs::read_dir(&corpus)
        .map_err(|e| format!("{}: {e}", corpus.display()))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs.push(corpus.clone());
    println!(
        "{:<26} {:>6} {:>9} {:>9}  findings by code",
        "corpus", "files", "templates", "wall ms"
    );
    for dir in dirs {
        let started = Instant::now();
        let output = Command::new(&exe)
            .args(["--format", "json", "--color", "never"])
            .arg(&dir)
            .output()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let elapsed = started.elapsed();
        if !matches!(output.status.code(), Some(0..=2)) {
            return Err(format!(
                "iamlint crashed on {} ({}): {}",
                dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let report: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("{}: invalid JSON report: {e}", dir.display()))?;
        let mut by_code: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
        for d in report["diagnostics"].as_array().into_iter().flatten() {
            let entry = by_code
                .entry(d["code"].as_str().unwrap_or("?").to_string())
                .or_default();
            match d["severity"].as_str() {
                Some("error") => entry.0 += 1,
                Some("warning") => entry.1 += 1,
                _ => entry.2 += 1,
            }
        }
        if let Some(code) = &list
            && dir != corpus
        {
            for d in report["diagnostics"].as_array().into_iter().flatten() {
                if d["code"].as_str() == Some(code.as_str()) {
                    println!(
                        "    {}:{}:{}: {} {}",
                        d["file"].as_str().unwrap_or("?"),
                        d["line"],
                        d["column"],
                        d["severity"].as_str().unwrap_or("?"),
                        d["message"].as_str().unwrap_or("?")
                    );
                }
            }
        }
        let findings = by_code
            .iter()
            .map(|(code, (e, w, n))| format!("{code} {e}e/{w}w/{n}n"))
            .collect::<Vec<_>>()
            .join(", ");
        let name = if dir == corpus {
            "(all)".to_string()
        } else {
            dir.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        println!(
            "{:<26} {:>6} {:>9} {:>9}  {}",
            name,
            report["summary"]["files"],
            report["summary"]["templates"],
            elapsed.as_millis(),
            if findings.is_empty() {
                "-".to_string()
            } else {
                findings
            }
        );
    }
    Ok(())
}
