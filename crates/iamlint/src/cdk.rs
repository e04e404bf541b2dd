//! CDK cloud assemblies (`cdk.out`): the CloudFormation templates `cdk synth` wrote, read
//! through the assembly's `manifest.json` rather than by walking the folder, so the `asset.*`
//! folders (Lambda code, Docker contexts, files to upload) are never mistaken for templates.
//!
//! What the manifest lists (the cloud assembly schema, `aws-cdk-lib/cloud-assembly-schema`):
//! artifacts of type `aws:cloudformation:stack` name their template in
//! `properties.templateFile`; artifacts of type `cdk:cloud-assembly` are nested assemblies
//! (a `Stage`, as CDK Pipelines deploys it) in `properties.directoryName`. Nested stacks are
//! not artifacts: their parent template holds an `AWS::CloudFormation::Stack` resource whose
//! `Metadata` `aws:asset:path` names the `*.nested.template.json` file beside it.

use std::path::{Component, Path, PathBuf};

/// The name `cdk synth` gives its output folder, and the version file it writes in it.
pub const CDK_OUT: &str = "cdk.out";

/// How deep nested assemblies and nested stacks are followed (CDK Pipelines nests one level;
/// a cycle in a hand-edited manifest must not loop).
const MAX_DEPTH: usize = 16;

/// Whether `dir` is a cloud assembly: it holds a `manifest.json` and is named `cdk.out` or
/// holds the `cdk.out` version file (`cdk synth --output other-dir`, nested assemblies).
pub fn is_cloud_assembly(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
        && (dir.file_name().is_some_and(|n| n == CDK_OUT) || dir.join(CDK_OUT).is_file())
}

/// The cloud assembly that `cdk synth` wrote beside `dir` (`dir/cdk.out`), if any.
pub fn assembly_in(dir: &Path) -> Option<PathBuf> {
    let candidate = dir.join(CDK_OUT);
    candidate
        .join("manifest.json")
        .is_file()
        .then_some(candidate)
}

/// Every stack template of the assembly in `dir`, nested assemblies and nested stacks
/// included, in manifest order. An error names the file that could not be read.
pub fn templates(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    collect_assembly(dir, 0, &mut out)?;
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(p.clone()));
    Ok(out)
}

fn collect_assembly(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let manifest_path = dir.join("manifest.json");
    let manifest = read_json(&manifest_path)?;
    let Some(artifacts) = manifest.get("artifacts").and_then(|a| a.as_object()) else {
        return Ok(());
    };
    for (id, artifact) in artifacts {
        let kind = artifact.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let properties = artifact.get("properties");
        let file = |key: &str| {
            properties
                .and_then(|p| p.get(key))
                .and_then(|f| f.as_str())
                .and_then(|f| inside(dir, f))
        };
        match kind {
            "aws:cloudformation:stack" => {
                let Some(template) = file("templateFile") else {
                    return Err(format!(
                        "{}: stack artifact `{id}` names no template file inside the assembly",
                        manifest_path.display()
                    ));
                };
                collect_stack(dir, &template, depth, out)?;
            }
            "cdk:cloud-assembly" => {
                if let Some(nested) = file("directoryName") {
                    collect_assembly(&nested, depth + 1, out)?;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The template and the nested-stack templates it names, depth first.
fn collect_stack(
    dir: &Path,
    template: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    // A template that cannot be read is still checked: reading it reports the problem at
    // the template, as for any other.
    out.push(template.to_path_buf());
    let Ok(json) = read_json(template) else {
        return Ok(());
    };
    let Some(resources) = json.get("Resources").and_then(|r| r.as_object()) else {
        return Ok(());
    };
    for resource in resources.values() {
        if resource.get("Type").and_then(|t| t.as_str()) != Some("AWS::CloudFormation::Stack") {
            continue;
        }
        let nested = resource
            .get("Metadata")
            .and_then(|m| m.get("aws:asset:path"))
            .and_then(|p| p.as_str())
            .filter(|p| p.ends_with(".nested.template.json"))
            .and_then(|p| inside(dir, p));
        if let Some(nested) = nested
            && nested.is_file()
        {
            collect_stack(dir, &nested, depth + 1, out)?;
        }
    }
    Ok(())
}

/// `relative` under `dir`, when it is a relative path that stays inside `dir`.
fn inside(dir: &Path, relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        .then(|| dir.join(path))
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: cannot read the CDK cloud assembly: {e}",
            path.display()
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not valid JSON (run `cdk synth` again): {e}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cdk/orders/cdk.out")
    }

    fn names(paths: &[PathBuf], base: &Path) -> Vec<String> {
        paths
            .iter()
            .map(|p| {
                p.strip_prefix(base)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect()
    }

    #[test]
    fn lists_stacks_nested_stacks_and_stage_assemblies_but_no_assets() {
        let dir = fixture();
        assert!(is_cloud_assembly(&dir));
        assert!(is_cloud_assembly(&dir.join("assembly-Prod")));
        let found = templates(&dir).unwrap();
        assert_eq!(
            names(&found, &dir),
            [
                "assembly-Prod/ProdWorkerE3809C6F.template.json",
                "OrdersStack.template.json",
                "OrdersStackStorage3AD7B3B3.nested.template.json",
            ]
        );
    }

    #[test]
    fn a_broken_manifest_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join(format!("iamlint-cdk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("cdk.out")).unwrap();
        std::fs::write(dir.join("cdk.out/manifest.json"), "{").unwrap();
        let err = templates(&dir.join("cdk.out")).unwrap_err();
        assert!(err.contains("manifest.json"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn paths_outside_the_assembly_are_not_followed() {
        assert!(inside(Path::new("a"), "../etc/passwd").is_none());
        assert!(inside(Path::new("a"), "/etc/passwd").is_none());
        assert_eq!(
            inside(Path::new("a"), "S.template.json"),
            Some(PathBuf::from("a/S.template.json"))
        );
    }
}
