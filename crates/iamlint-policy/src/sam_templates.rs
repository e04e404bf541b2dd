//! SAM policy templates and the managed policy names the SAM translator knows (generated
//! data from the `aws-sam-translator` package).

use std::collections::BTreeMap;
use std::sync::OnceLock;

static TEMPLATES: &str = include_str!("../data/sam/policy_templates.json");
static MANAGED_NAMES: &str = include_str!("../data/sam/managed_policy_names.tsv");

/// One SAM policy template (`SQSPollerPolicy`...).
#[derive(Clone, Debug)]
pub struct SamTemplate {
    /// The template's name as written under `Policies` (`SQSPollerPolicy`).
    pub name: String,
    /// What the template grants, in the translator's words.
    pub description: String,
    /// The parameters the template takes (`QueueName`).
    pub parameters: Vec<String>,
    /// The `{"Statement": [...]}` definition, with `Ref`s to the parameters.
    pub definition: serde_json::Value,
}

fn templates() -> &'static BTreeMap<String, SamTemplate> {
    static DECODED: OnceLock<BTreeMap<String, SamTemplate>> = OnceLock::new();
    DECODED.get_or_init(|| {
        let json: serde_json::Value = serde_json::from_str(TEMPLATES).unwrap_or_default();
        json["Templates"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, t)| {
                (
                    name.clone(),
                    SamTemplate {
                        name: name.clone(),
                        description: t["Description"].as_str().unwrap_or_default().to_string(),
                        parameters: t["Parameters"]
                            .as_object()
                            .map(|p| p.keys().cloned().collect())
                            .unwrap_or_default(),
                        definition: t["Definition"].clone(),
                    },
                )
            })
            .collect()
    })
}

/// The policy template with this name.
pub fn template(name: &str) -> Option<&'static SamTemplate> {
    templates().get(name)
}

/// Every template name, sorted.
pub fn names() -> impl Iterator<Item = &'static str> {
    templates().keys().map(String::as_str)
}

/// The ARN (in the `aws` partition) the SAM translator gives an AWS managed policy written by
/// name in `Policies`; `None` for names it does not know (it keeps those as written).
pub fn managed_policy_arn(name: &str) -> Option<&'static str> {
    MANAGED_NAMES.lines().find_map(|line| {
        let (n, arn) = line.split_once('\t')?;
        (n == name).then_some(arn)
    })
}
