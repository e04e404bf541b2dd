//! `iamlint --version`: the program's version and the sources and dates of the AWS data it
//! carries.

pub fn short() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

pub fn long() -> String {
    let mut out = env!("CARGO_PKG_VERSION").to_string();
    for line in iamlint_rules::data_sources() {
        out.push('\n');
        out.push_str(&line);
    }
    out
}
