//! The Terraform of ../shared/corpus (real modules and patterns written by others), when it is
//! there: every root module is analysed without an input error, and how many Lambda functions
//! and IAM roles iamlint can see whole (closed) versus only in part (open) is printed.
//!
//! `cargo test -p iamlint --test terraform_corpus -- --nocapture` prints the figures; the test
//! is skipped when the corpus is absent (a user's clone does not have it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

use iamlint_rules::principal::{RoleRef, resolve_role, role_ref};
use std::path::{Path, PathBuf};

fn terraform_dirs(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let mut has_tf = false;
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !name.starts_with('.') {
                terraform_dirs(&p, out);
            }
        } else if iamlint_terraform::is_terraform_file(&p) {
            has_tf = true;
        }
    }
    if has_tf {
        out.push(root.to_path_buf());
    }
}

#[test]
fn terraform_corpus_roles_and_functions() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if !corpus.is_dir() {
        eprintln!("skipped: {} is absent", corpus.display());
        return;
    }
    let mut dirs = Vec::new();
    terraform_dirs(&corpus, &mut dirs);
    dirs.sort();
    let ws = iamlint_terraform::Workspace::new(0, &[]);
    let roots = iamlint_terraform::root_modules(&ws, &dirs, &[]);
    let options = iamlint_terraform::Options::default();
    let (mut roles, mut roles_closed, mut functions, mut functions_closed) = (0, 0, 0, 0);
    let mut input_errors = Vec::new();
    for root in &roots {
        let Some(a) = iamlint_terraform::analyse_root(&ws, root, &options) else {
            continue;
        };
        input_errors.extend(a.diagnostics.iter().map(|d| d.message.clone()));
        let stack = &a.stack;
        for r in stack.resources_of("AWS::IAM::Role") {
            roles += 1;
            if resolve_role(stack, r).is_closed() {
                roles_closed += 1;
            }
        }
        for f in stack.resources_of("AWS::Lambda::Function") {
            functions += 1;
            if let Some(role) = f.property("Role")
                && let RoleRef::InStack(r) = role_ref(stack, role)
                && resolve_role(stack, r).is_closed()
            {
                functions_closed += 1;
            }
        }
    }
    input_errors.extend(ws.parse_diagnostics().iter().map(|d| d.message.clone()));
    println!(
        "Terraform corpus: {} folders, {} root modules; roles {roles_closed} closed / {} open; \
         functions {functions_closed} with a closed role / {} with an open or external role",
        dirs.len(),
        roots.len(),
        roles - roles_closed,
        functions - functions_closed,
    );
    assert!(input_errors.is_empty(), "{input_errors:#?}");
    assert!(roots.len() > 10 && roles > 10, "the corpus was not read");
}
