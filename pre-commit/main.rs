//! `iamlint-pre-commit`: the iamlint command, built from the repository root.
//!
//! pre-commit's `language: rust` installs a hook with `cargo install --bins --path .` at the
//! root of the hook's repository, which must therefore be a package, not only a workspace. The
//! root package is this binary, which is the `iamlint` command under another name (two
//! binaries named `iamlint` in one workspace would overwrite each other's output).

fn main() -> std::process::ExitCode {
    iamlint::app::main()
}
