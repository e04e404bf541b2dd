//! The `iamlint` command.

fn main() -> std::process::ExitCode {
    iamlint::app::main()
}
