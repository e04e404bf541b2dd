//! `cargo xtask update-data`: regenerates the AWS data from registry packages.

pub fn run(args: &[String]) -> Result<(), String> {
    let _ = args;
    Err("update-data is not available yet".into())
}
