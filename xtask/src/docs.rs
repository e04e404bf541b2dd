//! `cargo xtask docs [--check]`: writes `docs/rules/` from the rules' doc comments, or checks
//! that it is up to date (CI).

use std::path::Path;

pub fn run(root: &Path, check: bool) -> Result<(), String> {
    let dir = root.join("docs/rules");
    let pages = iamlint_rules::docs::generated_pages();
    let mut stale = Vec::new();
    for (name, content) in &pages {
        let path = dir.join(name);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != *content {
            stale.push(name.clone());
            if !check {
                std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
                std::fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    // Pages of rules that no longer exist.
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".md") && !pages.iter().any(|(n, _)| *n == name) {
                stale.push(name.clone());
                if !check {
                    std::fs::remove_file(entry.path()).map_err(|e| format!("{name}: {e}"))?;
                }
            }
        }
    }
    if check && !stale.is_empty() {
        return Err(format!(
            "docs/rules is stale ({}); run `cargo xtask docs`",
            stale.join(", ")
        ));
    }
    if !check {
        println!("docs/rules: {} pages, {} updated", pages.len(), stale.len());
    }
    Ok(())
}
