//! The same input gives byte-identical output, in every format, whatever the number of
//! threads and however often it runs (issue: robust and lean at any size, determinism).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use common::workspace;
use std::process::Command;

fn run(format: &str, threads: &str) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_iamlint"))
        .args([
            "--format",
            format,
            "--color",
            "never",
            "examples",
            "testdata/rules",
        ])
        .current_dir(workspace())
        .env("NO_COLOR", "1")
        .env("RAYON_NUM_THREADS", threads)
        .output()
        .expect("run iamlint");
    assert!(o.status.code().is_some_and(|c| c <= 2), "{o:?}");
    o.stdout
}

#[test]
fn output_is_identical_across_thread_counts_and_runs() {
    // Repeated runs with two threads, then each format with one and eight.
    let compact = run("compact", "2");
    assert!(
        run("compact", "2") == compact,
        "compact output differs between runs"
    );
    for format in [
        "human", "compact", "json", "sarif", "github", "gitlab", "junit",
    ] {
        let first = run(format, "1");
        assert!(!first.is_empty(), "{format} printed nothing");
        assert!(
            run(format, "8") == first,
            "{format} output differs with RAYON_NUM_THREADS=8"
        );
    }
}
