//! Terragrunt configurations: the module folder a `terragrunt.hcl` deploys.
//!
//! A `terragrunt.hcl` names the module it deploys in `terraform { source = "…" }`, with the
//! syntax of a module `source` ("config blocks and attributes", `terraform` block:
//! <https://terragrunt.gruntwork.io/docs/reference/config-blocks-and-attributes/#terraform>),
//! and sets the module's variables from its `inputs` (and those of the configurations it
//! includes), which Terragrunt passes as `TF_VAR_` environment variables. So a module folder a
//! `terragrunt.hcl` of the tree deploys is a root module whose variables are set from outside
//! the Terraform configuration: unknown, never their defaults.

use crate::module::normalize;
use hcl_edit::expr::Expression;
use hcl_edit::template::Element;
use std::path::{Path, PathBuf};

/// Whether `path` is a Terragrunt configuration.
pub fn is_terragrunt_file(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "terragrunt.hcl")
}

/// The local module folder (normalised) that the configuration `text`, in folder `dir`,
/// deploys. `None` for a remote source (Git, a registry, `tfr://`…), a configuration without
/// `source` (the folder deploys its own `.tf` files), or a source iamlint cannot work out.
/// Understood: a literal path relative to `dir` (`../../modules//vpc`: what follows `//` is a
/// folder of what precedes it, which a path joins alike), an absolute path, and a path starting
/// with `${get_terragrunt_dir()}` (`dir`) or `${get_repo_root()}` (the nearest folder above with
/// `.git`).
pub fn deployed_folder(dir: &Path, text: &str) -> Option<PathBuf> {
    let body = hcl_edit::parser::parse_body(text.trim_start_matches('\u{feff}')).ok()?;
    let block = body.blocks().find(|b| b.ident.as_str() == "terraform")?;
    let source = block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "source")?;
    let (base, rest): (Option<PathBuf>, String) = match &source.value {
        Expression::String(s) => (None, s.value().to_string()),
        Expression::StringTemplate(t) => {
            let mut base = None;
            let mut rest = String::new();
            for (i, element) in t.iter().enumerate() {
                match element {
                    Element::Literal(lit) => rest.push_str(lit.as_str()),
                    Element::Interpolation(x) if i == 0 => {
                        let Expression::FuncCall(call) = &x.expr else {
                            return None;
                        };
                        if !call.args.is_empty() {
                            return None;
                        }
                        base = Some(match call.name.name.as_str() {
                            "get_terragrunt_dir" => dir.to_path_buf(),
                            "get_repo_root" => repo_root(dir)?,
                            _ => return None,
                        });
                    }
                    _ => return None,
                }
            }
            (base, rest)
        }
        _ => return None,
    };
    let path = match base {
        Some(base) => base.join(rest.trim_start_matches('/')),
        None if rest.starts_with("./") || rest.starts_with("../") => dir.join(&rest),
        None if Path::new(&rest).is_absolute() && !rest.contains("::") => PathBuf::from(&rest),
        None => return None,
    };
    Some(normalize(&path))
}

/// The nearest folder at or above `dir` that holds `.git`.
fn repo_root(dir: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(dir).ok()?;
    start
        .ancestors()
        .find(|a| a.join(".git").exists())
        .map(Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::deployed_folder;
    use std::path::Path;

    #[test]
    fn the_folder_a_configuration_deploys() {
        let dir = Path::new("live/prod/vpc");
        let folder = |text: &str| deployed_folder(dir, text);
        assert_eq!(
            folder(
                "terraform {\n  source = \"../../../modules//vpc\"\n}\ninputs = { cidr = \"10.0.0.0/16\" }\n"
            ),
            Some(Path::new("modules/vpc").to_path_buf())
        );
        assert_eq!(
            folder("terraform {\n  source = \"${get_terragrunt_dir()}/../../../modules/vpc\"\n}\n"),
            Some(Path::new("modules/vpc").to_path_buf())
        );
        assert_eq!(
            folder("terraform {\n  source = \"/srv/modules//vpc\"\n}\n"),
            Some(Path::new("/srv/modules/vpc").to_path_buf())
        );
        for remote in [
            "git::https://github.com/org/modules.git//vpc?ref=v1.2.0",
            "github.com/org/modules//vpc?ref=v1",
            "tfr:///terraform-aws-modules/vpc/aws?version=5.0.0",
        ] {
            assert_eq!(
                folder(&format!("terraform {{\n  source = \"{remote}\"\n}}\n")),
                None
            );
        }
        assert_eq!(
            folder("terraform {\n  source = \"${local.base}/vpc\"\n}\n"),
            None
        );
        assert_eq!(
            folder("include \"root\" {\n  path = find_in_parent_folders()\n}\n"),
            None
        );
        assert_eq!(folder("not { hcl"), None);
    }
}
