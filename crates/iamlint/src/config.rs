//! Settings of a check: the command line, and `iamlint.toml` (or `.iamlint.toml`) found in the
//! current directory or its ancestors, or named with `--config`. Flags given on the command
//! line win over the file.
//!
//! ```toml
//! select = ["IAM001", "IAM029"]
//! ignore = ["IAM003"]
//! fail-on = "error"
//! # Service control policies, one organisation level per entry, root first. An entry is one
//! # file (a policy document, or a JSON array of the documents attached at that level) or a
//! # list of files that together make one level. Paths are relative to this file.
//! scp = ["scp/root.json", ["scp/workloads-a.json", "scp/workloads-b.json"]]
//! rcp = ["rcp/root.json"]
//! # Files and folders not to check, in .gitignore syntax, relative to this file.
//! exclude = ["generated/", "*.test.yaml"]
//! # Files larger than this are skipped with a note (bytes, or "500KB", "20MiB"; default 10MiB).
//! max-file-size = "20MiB"
//!
//! [severity]           # per rule, by code or name: "error", "warning", "note" or "off"
//! IAM003 = "note"
//! lambda-xray-permissions = "off"
//! ```

use crate::cli::{CheckArgs, FailOn};
use iamlint_core::Severity;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The names looked for, in this order, in each directory from the current one up.
pub const CONFIG_NAMES: &[&str] = &["iamlint.toml", ".iamlint.toml"];

/// Files larger than this are not read: CloudFormation itself accepts templates of at most
/// 1 MB (template body in S3), so a larger file is rarely a template anyone deploys.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// A size in bytes: a number, optionally followed by `B`, `KB`/`MB`/`GB` (powers of 1000) or
/// `KiB`/`MiB`/`GiB` (powers of 1024), case-insensitive, spaces allowed before the unit.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let bad =
        || format!("`{text}` is not a size (a number of bytes, or a size such as 500KB or 20MiB)");
    let number: u64 = text[..digits].parse().map_err(|_| bad())?;
    let unit = match text[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1000,
        "mb" | "m" => 1000 * 1000,
        "gb" | "g" => 1000 * 1000 * 1000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        _ => return Err(bad()),
    };
    number.checked_mul(unit).ok_or_else(bad)
}

/// A size as `parse_size` reads it back, in the largest binary unit it is a whole number of.
pub fn show_size(bytes: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if bytes >= size && bytes.is_multiple_of(size) {
            return format!("{}{unit}", bytes / size);
        }
    }
    format!("{bytes}B")
}

/// The settings of one check, after the command line and the config file are merged.
#[derive(Debug, Default)]
pub struct Settings {
    pub select: Vec<String>,
    pub ignore: Vec<String>,
    pub fail_on: Option<FailOn>,
    /// SCP levels, root first; each level the files whose documents are attached there.
    pub scps: Vec<Vec<PathBuf>>,
    /// RCP levels, root first.
    pub rcps: Vec<Vec<PathBuf>>,
    /// The config file read, if any.
    pub config: Option<PathBuf>,
    /// Patterns of files and folders not to check (.gitignore syntax, relative to `config`).
    pub exclude: Vec<String>,
    /// Files larger than this many bytes are skipped with a note (default
    /// [`DEFAULT_MAX_FILE_SIZE`]).
    pub max_file_size: Option<u64>,
    /// Per-rule severities, by rule code; `None` turns the rule off.
    pub severity: BTreeMap<&'static str, Option<Severity>>,
    /// Where each setting given came from (a setting not named here has its default):
    /// `"command line"` or the config file's path.
    pub origins: BTreeMap<&'static str, String>,
}

impl Settings {
    /// The rules to ignore: `ignore` and every rule whose severity is `"off"`.
    pub fn ignored(&self) -> Vec<String> {
        let mut ignored = self.ignore.clone();
        ignored.extend(
            self.severity
                .iter()
                .filter(|(_, s)| s.is_none())
                .map(|(code, _)| (*code).to_string()),
        );
        ignored
    }

    /// The severity overrides that keep a rule on.
    pub fn severities(&self) -> Vec<(&'static str, Severity)> {
        self.severity
            .iter()
            .filter_map(|(code, s)| s.map(|s| (*code, s)))
            .collect()
    }

    /// The folder paths in fingerprints and baselines are taken relative to: the config
    /// file's folder, else the current one.
    pub fn root(&self) -> PathBuf {
        let cwd = std::env::current_dir().unwrap_or_default();
        match self.config.as_deref().and_then(Path::parent) {
            Some(dir) if !dir.as_os_str().is_empty() => cwd.join(dir),
            _ => cwd,
        }
    }

    /// The settings in force, as TOML, each with where it came from (`iamlint --show-config`).
    pub fn render(&self) -> String {
        let origin = |key: &str| {
            self.origins
                .get(key)
                .map_or("default", String::as_str)
                .to_string()
        };
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        let list = |items: &[String]| {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| quoted(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let levels = |levels: &[Vec<PathBuf>]| {
            let shown: Vec<String> = levels
                .iter()
                .map(|files| {
                    let names: Vec<String> = files
                        .iter()
                        .map(|p| quoted(&p.to_string_lossy().replace('\\', "/")))
                        .collect();
                    match names.as_slice() {
                        [one] => one.clone(),
                        _ => format!("[{}]", names.join(", ")),
                    }
                })
                .collect();
            format!("[{}]", shown.join(", "))
        };
        let fail_on = match self.fail_on.unwrap_or(FailOn::Warning) {
            FailOn::Error => "error",
            FailOn::Warning => "warning",
            FailOn::Note => "note",
        };
        let mut rows = vec![
            ("select", list(&self.select)),
            ("ignore", list(&self.ignore)),
            ("fail-on", quoted(fail_on)),
            ("exclude", list(&self.exclude)),
            (
                "max-file-size",
                quoted(&show_size(
                    self.max_file_size.unwrap_or(DEFAULT_MAX_FILE_SIZE),
                )),
            ),
            ("scp", levels(&self.scps)),
            ("rcp", levels(&self.rcps)),
        ];
        let mut text = match &self.config {
            Some(path) => format!("# config file: {}\n", path.display()),
            None => "# config file: none found (iamlint.toml or .iamlint.toml in this folder or above)\n".to_string(),
        };
        let width = rows
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .max()
            .unwrap_or(0)
            + 3;
        for (key, value) in rows.drain(..) {
            let line = format!("{key} = {value}");
            text.push_str(&format!("{line:<width$} # {}\n", origin(key)));
        }
        text.push_str("\n[severity]\n");
        for (code, severity) in &self.severity {
            let name = iamlint_rules::find_rule(code).map_or("", |m| m.name);
            let value = severity.map_or("off", Severity::as_str);
            let line = format!("{code} = {}", quoted(value));
            text.push_str(&format!(
                "{line:<width$} # {name}, {}\n",
                origin("severity")
            ));
        }
        text
    }
}

/// Merges the command line with the config file (`--config`, else the nearest
/// `iamlint.toml`/`.iamlint.toml`). `Err` is a message for the user: exit status 2.
pub fn resolve(args: &CheckArgs) -> Result<Settings, String> {
    let path = match &args.config {
        Some(p) => {
            if !p.is_file() {
                return Err(format!(
                    "cannot read config file {}: not found",
                    p.display()
                ));
            }
            Some(p.clone())
        }
        None => std::env::current_dir().ok().and_then(|d| find_config(&d)),
    };
    let mut settings = match &path {
        Some(p) => read_config(p)?,
        None => Settings::default(),
    };
    settings.config = path;
    let cli = "command line".to_string();
    if !args.select.is_empty() {
        settings.select.clone_from(&args.select);
        settings.origins.insert("select", cli.clone());
    }
    if !args.ignore.is_empty() {
        settings.ignore.clone_from(&args.ignore);
        settings.origins.insert("ignore", cli.clone());
    }
    if args.fail_on.is_some() {
        settings.fail_on = args.fail_on;
        settings.origins.insert("fail-on", cli.clone());
    }
    if args.max_file_size.is_some() {
        settings.max_file_size = args.max_file_size;
        settings.origins.insert("max-file-size", cli.clone());
    }
    if !args.scps.is_empty() {
        settings.scps = args.scps.iter().map(|p| vec![p.clone()]).collect();
        settings.origins.insert("scp", cli.clone());
    }
    if !args.rcps.is_empty() {
        settings.rcps = args.rcps.iter().map(|p| vec![p.clone()]).collect();
        settings.origins.insert("rcp", cli);
    }
    Ok(settings)
}

/// The nearest config file in `dir` or its ancestors.
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .flat_map(|d| CONFIG_NAMES.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Reads a config file. Unknown keys are errors, with their line, so that a misspelt key is
/// not silently ignored.
pub fn read_config(path: &Path) -> Result<Settings, String> {
    use toml_edit::{Document, Item, Value};
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
    let doc = Document::parse(text.as_str())
        .map_err(|e| format!("config file {shown} is not valid TOML: {e}"))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let origin = path.display().to_string();
    let mut settings = Settings::default();
    // `config file iamlint.toml, line 3: …`, the line of the key (or of the file's start).
    let at = |span: Option<std::ops::Range<usize>>| {
        let line = span.map_or(1, |r| {
            text.get(..r.start)
                .map_or(1, |before| before.matches('\n').count() + 1)
        });
        format!("config file {shown}, line {line}")
    };
    let strings = |key: &str, item: &Item, place: &str| -> Result<Vec<String>, String> {
        let bad = || format!("{place}: `{key}` must be a list of strings");
        match item.as_value() {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.value().clone()]),
            _ => Err(bad()),
        }
    };
    let levels = |key: &str, item: &Item, place: &str| -> Result<Vec<Vec<PathBuf>>, String> {
        let bad = || {
            format!(
                "{place}: `{key}` must be a list of files (or lists of files), one organisation level each, root first"
            )
        };
        let Some(Value::Array(items)) = item.as_value() else {
            return Err(bad());
        };
        items
            .iter()
            .map(|level| match level {
                Value::String(s) => Ok(vec![relative_to(base, s.value())]),
                Value::Array(files) => files
                    .iter()
                    .map(|f| f.as_str().map(|s| relative_to(base, s)).ok_or_else(bad))
                    .collect(),
                _ => Err(bad()),
            })
            .collect()
    };
    let table = doc.as_table();
    for (key, item) in table.iter() {
        let place = at(table.key(key).and_then(toml_edit::Key::span));
        match key {
            "select" => settings.select = strings(key, item, &place)?,
            "ignore" => settings.ignore = strings(key, item, &place)?,
            "exclude" => settings.exclude = strings(key, item, &place)?,
            "fail-on" => {
                settings.fail_on = Some(match item.as_str() {
                    Some("error") => FailOn::Error,
                    Some("warning") => FailOn::Warning,
                    Some("note") => FailOn::Note,
                    _ => {
                        return Err(format!(
                            "{place}: `fail-on` must be \"error\", \"warning\" or \"note\""
                        ));
                    }
                });
            }
            "max-file-size" => {
                let size = match item.as_value() {
                    Some(toml_edit::Value::Integer(n)) => u64::try_from(*n.value())
                        .map_err(|_| format!("`{}` is not a size", n.value())),
                    Some(toml_edit::Value::String(s)) => parse_size(s.value()),
                    _ => Err(
                        "`max-file-size` must be a number of bytes or a size such as \"20MiB\""
                            .to_string(),
                    ),
                };
                settings.max_file_size = Some(size.map_err(|e| format!("{place}: {e}"))?);
            }
            "scp" => settings.scps = levels(key, item, &place)?,
            "rcp" => settings.rcps = levels(key, item, &place)?,
            "severity" => {
                let Some(rules) = item.as_table_like() else {
                    return Err(format!(
                        "{place}: `severity` must be a table of rules (`[severity]` then `IAM003 = \"note\"`)"
                    ));
                };
                for (rule, value) in rules.iter() {
                    let place = at(rules.key(rule).and_then(toml_edit::Key::span));
                    let Some(meta) = iamlint_rules::find_rule(rule) else {
                        return Err(format!(
                            "{place}: unknown rule `{rule}` in [severity] (see `iamlint rules` for the codes and names)"
                        ));
                    };
                    if iamlint_rules::registry::is_front_end(meta.code) {
                        return Err(format!(
                            "{place}: {} (input errors) cannot be re-graded; `ignore` it to hide input notes",
                            meta.code
                        ));
                    }
                    let severity = match value.as_str() {
                        Some("off") => None,
                        Some(s) if Severity::parse(s).is_some() => Severity::parse(s),
                        _ => {
                            return Err(format!(
                                "{place}: the severity of `{rule}` must be \"error\", \"warning\", \"note\" or \"off\""
                            ));
                        }
                    };
                    settings.severity.insert(meta.code, severity);
                }
            }
            other => {
                return Err(format!(
                    "{place}: unknown key `{other}` (expected select, ignore, fail-on, exclude, max-file-size, scp, rcp, [severity])"
                ));
            }
        }
        settings.origins.insert(known_key(key), origin.clone());
    }
    Ok(settings)
}

/// The static name of a key `read_config` accepted.
fn known_key(key: &str) -> &'static str {
    [
        "select",
        "ignore",
        "exclude",
        "fail-on",
        "max-file-size",
        "scp",
        "rcp",
        "severity",
    ]
    .into_iter()
    .find(|k| *k == key)
    .unwrap_or("")
}

/// `path` relative to the config file's folder, with `.` and `..` folded away where they can
/// be (so messages name `org/root.json`, not `config/../org/root.json`).
fn relative_to(base: &Path, path: &str) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in base.join(path).components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// One organisation-policy file, read and checked: its text, and the policy documents it
/// holds.
#[derive(Debug, Clone)]
pub struct OrgFile {
    pub path: PathBuf,
    pub text: String,
}

/// The SCP and RCP files of a check, read and checked, level by level.
#[derive(Debug, Clone, Default)]
pub struct OrgFiles {
    pub scps: Vec<Vec<OrgFile>>,
    pub rcps: Vec<Vec<OrgFile>>,
}

/// Reads and checks every SCP and RCP file. `Err` is a message for the user (exit status 2):
/// a file that cannot be read, is not JSON, is not a policy document or a list of them, or
/// holds a policy AWS would reject.
pub fn read_org_files(settings: &Settings) -> Result<OrgFiles, String> {
    let read = |levels: &[Vec<PathBuf>], kind: &str| -> Result<Vec<Vec<OrgFile>>, String> {
        levels
            .iter()
            .map(|files| files.iter().map(|p| read_org_file(p, kind)).collect())
            .collect()
    };
    Ok(OrgFiles {
        scps: read(&settings.scps, "SCP")?,
        rcps: read(&settings.rcps, "RCP")?,
    })
}

fn read_org_file(path: &Path, kind: &str) -> Result<OrgFile, String> {
    use iamlint_policy::policy::{LiteralResolver, PolicyKind, parse_policy};
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {kind} file {shown}: {e}"))?;
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{kind} file {shown} is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let docs: Vec<&serde_json::Value> = match &json {
        serde_json::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let policy_kind = if kind == "SCP" {
        PolicyKind::ServiceControl
    } else {
        PolicyKind::ResourceControl
    };
    for (i, doc) in docs.iter().enumerate() {
        let place = if json.is_array() {
            format!("{kind} file {shown}, document {}", i + 1)
        } else {
            format!("{kind} file {shown}")
        };
        if !doc.is_object() {
            return Err(format!(
                "{place}: expected a policy document (a JSON object) or a JSON array of them"
            ));
        }
        let value = iamlint_core::Value::from_json(
            doc,
            iamlint_core::Span::file_start(iamlint_core::FileId(0)),
        );
        let (_, problems) = parse_policy(&value, policy_kind, &LiteralResolver);
        if let Some(problem) = problems.first() {
            return Err(format!("{place}: {}", problem.message));
        }
    }
    Ok(OrgFile {
        path: path.to_path_buf(),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("iamlint-config-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
        dir
    }

    #[test]
    fn reads_levels_relative_to_the_file() {
        let dir = scratch("levels");
        let path = dir.join("iamlint.toml");
        std::fs::write(
            &path,
            "select = [\"IAM029\"]\nignore = \"IAM003\"\nfail-on = \"note\"\nscp = [\"root.json\", [\"a.json\", \"b.json\"]]\nrcp = [\"r.json\"]\n",
        )
        .unwrap();
        let s = read_config(&path).unwrap();
        assert_eq!(s.select, ["IAM029"]);
        assert_eq!(s.ignore, ["IAM003"]);
        assert_eq!(s.fail_on, Some(FailOn::Note));
        assert_eq!(
            s.scps,
            vec![
                vec![dir.join("root.json")],
                vec![dir.join("a.json"), dir.join("b.json")]
            ]
        );
        assert_eq!(s.rcps, vec![vec![dir.join("r.json")]]);
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        let dir = scratch("refuses");
        let path = dir.join("iamlint.toml");
        for (text, message) in [
            ("fail-on = \"always\"", "`fail-on` must be"),
            ("scp = \"root.json\"", "`scp` must be a list"),
            ("select = [1]", "`select` must be a list of strings"),
            ("[rules]\nselect = []", "line 1: unknown key `rules`"),
            (
                "select = []\n\nfial-on = \"note\"",
                "line 3: unknown key `fial-on`",
            ),
            (
                "[severity]\nIAM003 = \"loud\"",
                "line 2: the severity of `IAM003` must be",
            ),
            (
                "[severity]\nIAM999 = \"note\"",
                "line 2: unknown rule `IAM999`",
            ),
            ("[severity]\nIAM000 = \"note\"", "cannot be re-graded"),
            ("severity = \"note\"", "`severity` must be a table"),
            ("select = [", "not valid TOML"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_config(&path).unwrap_err();
            assert!(err.contains(message), "{text}: {err}");
        }
    }

    #[test]
    fn reads_severities_and_excludes() {
        let dir = scratch("severity");
        let path = dir.join("iamlint.toml");
        std::fs::write(
            &path,
            "exclude = [\"generated/\"]\n\n[severity]\nIAM003 = \"note\"\nlambda-xray-permissions = \"off\"\n",
        )
        .unwrap();
        let s = read_config(&path).unwrap();
        assert_eq!(s.exclude, ["generated/"]);
        assert_eq!(s.severities(), [("IAM003", Severity::Note)]);
        let xray = iamlint_rules::find_rule("lambda-xray-permissions")
            .unwrap()
            .code;
        assert!(s.ignored().iter().any(|c| c == xray));
        assert_eq!(s.origins["severity"], path.display().to_string());
        let shown = s.render();
        assert!(shown.contains("IAM003 = \"note\""), "{shown}");
        assert!(shown.contains(&format!("{xray} = \"off\"")), "{shown}");
        assert!(shown.contains("fail-on = \"warning\""), "{shown}");
    }

    #[test]
    fn finds_the_nearest_file() {
        let dir = scratch("nearest");
        std::fs::write(dir.join(".iamlint.toml"), "").unwrap();
        std::fs::write(dir.join("sub/iamlint.toml"), "").unwrap();
        assert_eq!(
            find_config(&dir.join("sub/deeper")),
            Some(dir.join("sub/iamlint.toml"))
        );
        assert_eq!(find_config(&dir), Some(dir.join(".iamlint.toml")));
    }
}
