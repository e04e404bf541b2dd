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
//! ```

use crate::cli::{CheckArgs, FailOn};
use std::path::{Path, PathBuf};

/// The names looked for, in this order, in each directory from the current one up.
pub const CONFIG_NAMES: &[&str] = &["iamlint.toml", ".iamlint.toml"];

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
    if !args.select.is_empty() {
        settings.select.clone_from(&args.select);
    }
    if !args.ignore.is_empty() {
        settings.ignore.clone_from(&args.ignore);
    }
    if args.fail_on.is_some() {
        settings.fail_on = args.fail_on;
    }
    if !args.scps.is_empty() {
        settings.scps = args.scps.iter().map(|p| vec![p.clone()]).collect();
    }
    if !args.rcps.is_empty() {
        settings.rcps = args.rcps.iter().map(|p| vec![p.clone()]).collect();
    }
    Ok(settings)
}

/// The nearest config file in `dir` or its ancestors.
pub fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .flat_map(|d| CONFIG_NAMES.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

/// Reads a config file. Unknown keys are errors, so that a misspelt key is not silently
/// ignored.
pub fn read_config(path: &Path) -> Result<Settings, String> {
    use toml_edit::{Document, Item, Value};
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read config file {shown}: {e}"))?;
    let doc =
        Document::parse(text).map_err(|e| format!("config file {shown} is not valid TOML: {e}"))?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut settings = Settings::default();
    let strings = |key: &str, item: &Item| -> Result<Vec<String>, String> {
        let bad = || format!("config file {shown}: `{key}` must be a list of strings");
        match item.as_value() {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(bad))
                .collect(),
            Some(Value::String(s)) => Ok(vec![s.value().clone()]),
            _ => Err(bad()),
        }
    };
    let levels = |key: &str, item: &Item| -> Result<Vec<Vec<PathBuf>>, String> {
        let bad = || {
            format!(
                "config file {shown}: `{key}` must be a list of files (or lists of files), one organisation level each, root first"
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
    for (key, item) in doc.as_table().iter() {
        match key {
            "select" => settings.select = strings(key, item)?,
            "ignore" => settings.ignore = strings(key, item)?,
            "fail-on" => {
                settings.fail_on = Some(match item.as_str() {
                    Some("error") => FailOn::Error,
                    Some("warning") => FailOn::Warning,
                    Some("note") => FailOn::Note,
                    _ => {
                        return Err(format!(
                            "config file {shown}: `fail-on` must be \"error\", \"warning\" or \"note\""
                        ));
                    }
                });
            }
            "scp" => settings.scps = levels(key, item)?,
            "rcp" => settings.rcps = levels(key, item)?,
            other => {
                return Err(format!(
                    "config file {shown}: unknown key `{other}` (expected select, ignore, fail-on, scp, rcp)"
                ));
            }
        }
    }
    Ok(settings)
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
            ("[rules]\nselect = []", "unknown key `rules`"),
            ("select = [", "not valid TOML"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = read_config(&path).unwrap_err();
            assert!(err.contains(message), "{text}: {err}");
        }
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
