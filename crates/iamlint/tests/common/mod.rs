//! Running the built `iamlint` binary from integration tests.

#![allow(dead_code, reason = "each test crate uses the helpers it needs")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs iamlint with `args` in `cwd`, without colour.
pub fn iamlint(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_iamlint"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run iamlint")
}

/// The repository's root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
