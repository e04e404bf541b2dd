//! Every rule has good and bad fixtures in `testdata/rules/<rule-name>/`, in each format it
//! covers: good fixtures must produce nothing for the rule, bad fixtures are snapshotted.
//!
//! Fixture names: `bad*.cfn.yaml`, `bad*.cfn.json`, `bad*.sam.yaml`, `bad*.tfplan.json`,
//! `good*.…` likewise. A Terraform fixture is a folder, `bad*.tf/` or `good*.tf/`: a root
//! module (its `.tf` files), with any local child modules in subfolders.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint::report::{self, Report};
use iamlint::run::{RunOptions, run};
use iamlint_rules::Selection;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn testdata() -> PathBuf {
    // Canonical: the Terraform front end reports paths without `..`.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/rules")
        .canonicalize()
        .unwrap()
}

/// Runs one rule on one file and renders the findings as people see them (no colour).
fn check(file: &Path, code: &str) -> (Vec<iamlint_core::Diagnostic>, String) {
    let options = RunOptions {
        paths: vec![file.to_path_buf()],
        parameters: HashMap::new(),
        terraform: Default::default(),
        rules: Selection::new(&[code.to_string(), "IAM000".to_string()], &[]).unwrap(),
        ..Default::default()
    };
    let output = run(&options);
    let mut text = Vec::new();
    report::write(
        iamlint::cli::OutputFormat::Human,
        &Report {
            sources: &output.sources,
            diagnostics: &output.diagnostics,
            files: output.files,
            templates: output.templates,
            filtered: &Default::default(),
        },
        &report::Options { color: false },
        &mut text,
    )
    .unwrap();
    let root = format!("{}/", testdata().display());
    // Terraform units name their files by the module folder's canonical path.
    let canonical = format!("{}/", testdata().canonicalize().unwrap().display());
    let text = String::from_utf8(text)
        .unwrap()
        .replace(&root, "")
        .replace(&canonical, "");
    (output.diagnostics, text)
}

fn fixtures(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() || (p.is_dir() && p.extension().is_some_and(|e| e == "tf")))
        .collect();
    files.sort();
    files
}

#[test]
fn every_rule_has_fixtures_and_every_fixture_names_a_rule() {
    let registry = iamlint_rules::registry();
    for meta in registry
        .iter()
        .filter(|m| !iamlint_rules::registry::is_front_end(m.code))
    {
        let dir = testdata().join(meta.name);
        assert!(
            dir.is_dir(),
            "rule {} has no fixtures in {}",
            meta.code,
            dir.display()
        );
        let files = fixtures(&dir);
        let names: Vec<String> = files
            .iter()
            .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("bad")),
            "{} has no bad fixture",
            meta.code
        );
        assert!(
            names.iter().any(|n| n.starts_with("good")),
            "{} has no good fixture",
            meta.code
        );
        for name in &names {
            assert!(
                (name.starts_with("bad") || name.starts_with("good"))
                    && [
                        ".cfn.yaml",
                        ".cfn.json",
                        ".sam.yaml",
                        ".sam.json",
                        ".tf",
                        ".tfplan.json"
                    ]
                    .iter()
                    .any(|ext| name.ends_with(ext)),
                "fixture {name} of {} is not named bad*/good* with a format extension",
                meta.code
            );
        }
    }
    for entry in std::fs::read_dir(testdata()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            registry.iter().any(|m| m.name == name),
            "testdata/rules/{name} names no rule"
        );
    }
}

#[test]
fn good_fixtures_are_clean() {
    for meta in iamlint_rules::registry()
        .iter()
        .filter(|m| !iamlint_rules::registry::is_front_end(m.code))
    {
        for file in fixtures(&testdata().join(meta.name)) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("good") {
                continue;
            }
            let (diagnostics, text) = check(&file, meta.code);
            assert!(diagnostics.is_empty(), "{name} should be clean:\n{text}");
        }
    }
}

#[test]
fn bad_fixtures_report_the_rule() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for meta in iamlint_rules::registry()
            .iter()
            .filter(|m| !iamlint_rules::registry::is_front_end(m.code))
        {
            for file in fixtures(&testdata().join(meta.name)) {
                let name = file.file_name().unwrap().to_string_lossy().into_owned();
                if !name.starts_with("bad") {
                    continue;
                }
                let (diagnostics, text) = check(&file, meta.code);
                assert!(
                    diagnostics.iter().any(|d| d.code == meta.code),
                    "{name} should report {}:\n{text}",
                    meta.code
                );
                assert!(
                    !diagnostics.iter().any(|d| d.code == "IAM000"),
                    "{name} should parse:\n{text}"
                );
                insta::assert_snapshot!(format!("{}__{}", meta.name, name), text);
            }
        }
    });
}
