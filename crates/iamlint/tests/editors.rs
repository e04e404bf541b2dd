//! The editor snippets of docs/editors.md, read from the page and applied to real
//! `iamlint --format compact` output: the VS Code problem matcher's regular expression, and the
//! Vim `errorformat` (run in Vim when it is installed).
//! Problem matchers: https://code.visualstudio.com/docs/editor/tasks#_defining-a-problem-matcher
//! errorformat: https://vimhelp.org/quickfix.txt.html#errorformat

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::{iamlint, stdout, workspace};
use std::path::Path;

fn page() -> String {
    std::fs::read_to_string(workspace().join("docs/editors.md")).unwrap()
}

/// The fenced blocks of a language in the page.
fn blocks(page: &str, language: &str) -> Vec<String> {
    let fence = format!("```{language}\n");
    page.split(&fence)
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap().to_string())
        .collect()
}

/// Compact output with errors, warnings and notes: the bundled examples and rule fixtures.
fn compact_output() -> String {
    let root = workspace().canonicalize().unwrap();
    let out = iamlint(
        &[
            "--format",
            "compact",
            "--fail-on",
            "error",
            "examples/cloudformation",
            "examples/sam",
            "examples/terraform",
            "testdata/rules/action-resource-type-mismatch/bad.cfn.yaml",
            "testdata/rules/lambda-efs-permissions/bad-read-only.cfn.yaml",
        ],
        &root,
    );
    let text = stdout(&out);
    for severity in [": error[", ": warning[", ": note["] {
        assert!(text.contains(severity), "{text}");
    }
    text
}

#[test]
fn the_vs_code_problem_matcher_reads_every_compact_line() {
    let page = page();
    let tasks = blocks(&page, "json")
        .into_iter()
        .find(|b| b.contains("problemMatcher"))
        .expect("a tasks.json block");
    let tasks: serde_json::Value = serde_json::from_str(&tasks).unwrap();
    let matcher = &tasks["tasks"][0]["problemMatcher"];
    assert_eq!(matcher["fileLocation"][0], "relative");
    let pattern = &matcher["pattern"];
    let regex = regex::Regex::new(pattern["regexp"].as_str().unwrap()).unwrap();
    let group = |name: &str| pattern[name].as_u64().unwrap() as usize;
    let root = workspace().canonicalize().unwrap();
    for line in compact_output().lines() {
        let captures = regex
            .captures(line)
            .unwrap_or_else(|| panic!("no match: {line}"));
        let file = &captures[group("file")];
        assert!(root.join(file).is_file(), "{file}");
        let line_number: u32 = captures[group("line")].parse().unwrap();
        let column: u32 = captures[group("column")].parse().unwrap();
        assert!(line_number >= 1 && column >= 1);
        assert!(["error", "warning", "note"].contains(&&captures[group("severity")]));
        assert!(captures[group("code")].starts_with("IAM"));
        assert!(!captures[group("message")].is_empty());
        assert!(line.contains(&format!(
            "[{}] {}",
            &captures[group("code")],
            &captures[group("message")]
        )));
    }
}

#[test]
fn the_vim_errorformat_fills_the_quickfix_list() {
    let Ok(vim) = which("vim") else {
        eprintln!("vim is not installed: errorformat not run");
        return;
    };
    let page = page();
    let vim_block = blocks(&page, "vim").into_iter().next().unwrap();
    let errorformat = vim_block
        .lines()
        .find_map(|l| l.strip_prefix("setlocal errorformat="))
        .unwrap();
    let output = compact_output();
    let dir = std::env::temp_dir().join(format!("iamlint-efm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let errors = dir.join("errors.txt");
    let listed = dir.join("quickfix.txt");
    std::fs::write(&errors, &output).unwrap();
    let status = std::process::Command::new(vim)
        .current_dir(workspace())
        .args(["-Nu", "NONE", "-i", "NONE", "-es"])
        .arg("-c")
        .arg(format!("set errorformat={errorformat}"))
        .arg("-c")
        .arg(format!("cgetfile {}", errors.display()))
        .arg("-c")
        .arg(format!(
            "call writefile(map(getqflist(), {{_, e -> e.valid . '|' . bufname(e.bufnr) . '|' . e.lnum . '|' . e.col . '|' . e.type . '|' . e.text}}), '{}')",
            listed.display()
        ))
        .arg("-c")
        .arg("qa!")
        .status()
        .unwrap();
    assert!(status.success());
    let listed = std::fs::read_to_string(&listed).unwrap();
    let expected: Vec<&str> = output.lines().collect();
    let entries: Vec<&str> = listed.lines().collect();
    assert_eq!(entries.len(), expected.len(), "{listed}");
    for (entry, line) in entries.iter().zip(&expected) {
        let fields: Vec<&str> = entry.splitn(6, '|').collect();
        assert_eq!(fields[0], "1", "{entry}");
        assert!(line.starts_with(&format!("{}:{}:{}: ", fields[1], fields[2], fields[3])));
        let kind = match fields[4] {
            "e" => "error",
            "w" => "warning",
            "n" => "note",
            other => panic!("type {other}: {entry}"),
        };
        assert!(line.contains(&format!(": {kind}[")), "{entry} / {line}");
        assert!(fields[5].starts_with("[IAM"), "{entry}");
    }
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| Path::new(p).is_file())
        .ok_or(())
}
