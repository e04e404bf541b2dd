//! The command line.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "iamlint",
    version = crate::version::short(),
    long_version = crate::version::long(),
    about = "Finds the requests AWS would deny (AccessDenied) in CloudFormation, SAM and Terraform, before deploy.",
    args_conflicts_with_subcommands = true,
    after_help = "Exit status: 0 no findings at or above --fail-on, 1 findings, 2 an input could not be read or the command was wrong."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub check: CheckArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check templates (the default when no subcommand is given).
    Check(Box<CheckArgs>),
    /// Evaluate one request against the policies in a request file, the way AWS would.
    Simulate(SimulateArgs),
    /// List the rules with their codes, names and default severities.
    Rules(RulesArgs),
    /// Explain an AccessDenied message: find the principal in the templates, evaluate the
    /// request with every policy layer, and show the statement that denies or the one to add.
    Why(crate::why::WhyArgs),
    /// Print a rule's documentation.
    Explain {
        /// A rule code (IAM001) or name (lambda-vpc-eni-permissions).
        rule: String,
    },
    /// Run a language server over stdin/stdout: diagnostics and quick fixes for open
    /// CloudFormation, SAM and Terraform files (see docs/editors.md).
    Lsp,
}

#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Files or directories to check. Directories are walked (honouring .gitignore); a file
    /// named here is checked even when ignored. Terraform is checked per root module (a
    /// folder of .tf files no other folder calls), with the local modules it calls and those
    /// `terraform init` downloaded; a .tf file named here stands for its folder. A
    /// `terraform show -json` plan is recognised by its content.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,

    /// Only report these rules (codes or names, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub select: Vec<String>,

    /// Do not report these rules (codes or names, comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "RULE")]
    pub ignore: Vec<String>,

    /// The lowest severity that makes the exit status 1 [default: warning].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,

    /// Files larger than this are skipped with a note: bytes, or a size such as `500KB` or
    /// `20MiB` [default: 10MiB].
    #[arg(long, value_name = "SIZE", value_parser = crate::config::parse_size)]
    pub max_file_size: Option<u64>,

    /// A service control policy file: one organisation level, root first when repeated
    /// (`--scp root.json --scp ou.json`). The file holds a policy document, or a JSON array of
    /// the documents attached at that level. A level without any Allow keeps AWS's default
    /// FullAWSAccess. Without --scp, SCPs are not checked.
    #[arg(long = "scp", value_name = "FILE")]
    pub scps: Vec<PathBuf>,

    /// A resource control policy file: one organisation level, root first when repeated
    /// (same shape as --scp; RCPFullAWSAccess is always attached).
    #[arg(long = "rcp", value_name = "FILE")]
    pub rcps: Vec<PathBuf>,

    /// The config file to read, instead of the nearest iamlint.toml or .iamlint.toml in the
    /// current directory or its ancestors. Flags given here win over the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// A template parameter value, KEY=VALUE (repeatable). Parameters not given are unknown.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    pub params: Vec<(String, String)>,

    /// A Terraform input variable of the root modules, NAME=VALUE (repeatable), like
    /// `terraform plan -var`. Lists and maps are written in HCL (`--var 'ids=["a","b"]'`).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_key_value)]
    pub vars: Vec<(String, String)>,

    /// A Terraform variable definitions file (repeatable, later files win), like
    /// `terraform plan -var-file`; `terraform.tfvars` and `*.auto.tfvars` are read anyway.
    /// Without it, variables set by the root module's other `.tfvars` files (`prod.tfvars`,
    /// `envs/dev.tfvars`) are unknown.
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,

    /// Apply the safe fixes to the files checked, then report what remains.
    #[arg(long, conflicts_with = "diff")]
    pub fix: bool,

    /// Print the safe fixes as a unified diff instead of writing them (exit status 1 when
    /// there is something to fix).
    #[arg(long)]
    pub diff: bool,

    /// When to use colour in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Also show the findings suppressed in the templates (`# iamlint: ignore[CODE] reason`
    /// or resource `Metadata`), marked as suppressed; they never fail the run.
    #[arg(long)]
    pub show_suppressed: bool,

    /// Report only the findings this baseline file does not record (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record today's findings in FILE (JSON, sorted), then report as with --baseline FILE:
    /// only what is new from then on.
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    pub write_baseline: Option<PathBuf>,

    /// Print the settings in force (config file and command line) and where each came from,
    /// then exit.
    #[arg(long)]
    pub show_config: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The request file (JSON): the request and the policies around it.
    #[arg(long, value_name = "FILE")]
    pub request: PathBuf,

    #[arg(long, value_enum, default_value_t = SimulateFormat::Human)]
    pub format: SimulateFormat,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    #[arg(long, value_enum, default_value_t = SimulateFormat::Human)]
    pub format: SimulateFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Rich, annotated output for people.
    Human,
    /// One line per finding: path:line:col: severity[CODE] message.
    Compact,
    /// Machine-readable JSON.
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// A GitLab code-quality report (JSON), for merge requests.
    Gitlab,
    /// JUnit XML, for CI test reports.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimulateFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Note,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got `{s}`")),
    }
}
