//! A policy's statements with an index by action, so that deciding a request costs the
//! statements that can match it rather than every statement of the policy (issue 9: one role of
//! 20,000 statements shared by 2,000 functions).
//!
//! The index is built on first use and kept with the statements: a role's policies are parsed
//! once per check, so it is built once per role. Every way to change the statements goes
//! through `&mut`, which drops the index, so it never answers for statements it was not built
//! from.

use super::Statement;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Below this many statements a scan is as cheap as looking the action up.
const INDEX_FROM: usize = 16;

/// The statements of a policy, in document order (a slice through `Deref`).
#[derive(Default)]
pub struct Statements {
    list: Vec<Statement>,
    /// Built on the first request; `None` inside when the policy is too small to index.
    index: OnceLock<Option<ActionIndex>>,
}

impl Statements {
    pub fn push(&mut self, statement: Statement) {
        self.index = OnceLock::new();
        self.list.push(statement);
    }

    /// The indices, ascending, of the statements whose `Action`/`NotAction` may match the
    /// lower-cased `action`; `None` when every statement must be looked at.
    pub(crate) fn candidates(&self, action: &str) -> Option<Candidates<'_>> {
        let index = self
            .index
            .get_or_init(|| {
                // Statement numbers are kept as `u32`; a larger policy is simply scanned.
                let size = self.list.len();
                (size >= INDEX_FROM && u32::try_from(size).is_ok())
                    .then(|| ActionIndex::new(&self.list))
            })
            .as_ref()?;
        index.candidates(action)
    }
}

impl std::ops::Deref for Statements {
    type Target = [Statement];

    fn deref(&self) -> &[Statement] {
        &self.list
    }
}

impl std::ops::DerefMut for Statements {
    /// Handing out the statements mutably drops the index: it is rebuilt from them as they
    /// are when next asked.
    fn deref_mut(&mut self) -> &mut [Statement] {
        self.index = OnceLock::new();
        &mut self.list
    }
}

impl From<Vec<Statement>> for Statements {
    fn from(list: Vec<Statement>) -> Self {
        Statements {
            list,
            index: OnceLock::new(),
        }
    }
}

impl Clone for Statements {
    fn clone(&self) -> Self {
        // A clone is usually made to be edited: let it build its own index when asked.
        Statements::from(self.list.clone())
    }
}

impl std::fmt::Debug for Statements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.list.fmt(f)
    }
}

impl PartialEq for Statements {
    fn eq(&self, other: &Self) -> bool {
        self.list == other.list
    }
}

impl<'a> IntoIterator for &'a Statements {
    type Item = &'a Statement;
    type IntoIter = std::slice::Iter<'a, Statement>;

    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl<'a> IntoIterator for &'a mut Statements {
    type Item = &'a mut Statement;
    type IntoIter = std::slice::IterMut<'a, Statement>;

    fn into_iter(self) -> Self::IntoIter {
        self.index = OnceLock::new();
        self.list.iter_mut()
    }
}

/// Statement indices by what their lower-cased action patterns can match. A statement is filed
/// under every key one of its patterns needs; a key that is looked up but was never filed costs
/// one hash lookup. A statement may appear under a key and still not match (`s3:g*t` is filed
/// under `s3:g`): the evaluator matches every candidate in full, the index only leaves out
/// statements that cannot match.
#[derive(Debug, Default)]
struct ActionIndex {
    /// Patterns without a wildcard, by their whole text (`s3:getobject`).
    exact: HashMap<Box<str>, Vec<u32>>,
    /// Patterns whose action name starts with a literal character, by service and that
    /// character (`s3:g` for `s3:get*`).
    first: HashMap<Box<str>, Vec<u32>>,
    /// Patterns whose action name starts with a wildcard, by service (`s3` for `s3:*`).
    service: HashMap<Box<str>, Vec<u32>>,
    /// Statements that can match any action: `NotAction`, `*`, a wildcard in the service, a
    /// symbolic pattern, patterns edited since their set was built.
    always: Vec<u32>,
}

impl ActionIndex {
    fn new(statements: &[Statement]) -> Self {
        let mut index = ActionIndex::default();
        for (i, st) in statements.iter().enumerate() {
            // `candidates` only indexes policies whose statement numbers fit.
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let keys = match (st.actions.negated, st.actions.lowered()) {
                (false, Some(lowered)) => lowered
                    .iter()
                    .map(|g| g.as_ref().and_then(|g| Key::of(g.text())))
                    .collect::<Option<Vec<Key<'_>>>>(),
                _ => None,
            };
            let Some(keys) = keys else {
                index.always.push(i);
                continue;
            };
            for key in keys {
                let (map, text) = match key {
                    Key::Exact(t) => (&mut index.exact, t),
                    Key::First(t) => (&mut index.first, t),
                    Key::Service(t) => (&mut index.service, t),
                };
                let list = map.entry(text.into()).or_default();
                // Patterns of one statement under the same key file it once.
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        index
    }

    fn candidates(&self, action: &str) -> Option<Candidates<'_>> {
        // An action with wildcards of its own (only a hand-written simulation has one) is
        // matched against every statement, as before there was an index.
        if action.contains(['*', '?']) {
            return None;
        }
        let (service, name) = action.split_once(':')?;
        let first = name
            .chars()
            .next()
            .map(|c| &action[..service.len() + 1 + c.len_utf8()]);
        fn get<'m>(map: &'m HashMap<Box<str>, Vec<u32>>, key: Option<&str>) -> &'m [u32] {
            key.and_then(|k| map.get(k)).map_or(&[], Vec::as_slice)
        }
        Some(Candidates {
            lists: [
                get(&self.exact, Some(action)),
                get(&self.first, first),
                get(&self.service, Some(service)),
                &self.always,
            ],
        })
    }
}

/// Where an action pattern is filed.
enum Key<'a> {
    Exact(&'a str),
    First(&'a str),
    Service(&'a str),
}

impl<'a> Key<'a> {
    /// The key of a lower-cased literal pattern; `None` when it can match any service.
    fn of(pattern: &'a str) -> Option<Key<'a>> {
        let (service, name) = pattern.split_once(':')?;
        if service.contains(['*', '?']) {
            return None;
        }
        if !name.contains(['*', '?']) {
            return Some(Key::Exact(pattern));
        }
        match name.chars().next() {
            Some(c) if c != '*' && c != '?' => {
                Some(Key::First(&pattern[..service.len() + 1 + c.len_utf8()]))
            }
            _ => Some(Key::Service(service)),
        }
    }
}

/// The union of a few ascending lists of statement indices, ascending and without repeats, so
/// that statements are visited (and traced) in document order.
pub(crate) struct Candidates<'a> {
    lists: [&'a [u32]; 4],
}

impl Iterator for Candidates<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let next = self.lists.iter().filter_map(|l| l.first()).min().copied()?;
        for list in &mut self.lists {
            if list.first() == Some(&next) {
                *list = &list[1..];
            }
        }
        usize::try_from(next).ok()
    }
}

#[cfg(test)]
mod tests {
    use crate::policy::{LiteralResolver, PolicyKind, parse_policy};
    use iamlint_core::{FileId, Span, Value};

    #[test]
    fn candidates_are_the_statements_that_can_match() {
        let mut statements: Vec<serde_json::Value> = (0..20)
            .map(|i| serde_json::json!({"Effect": "Allow", "Action": format!("sqs:Op{i}"), "Resource": "*"}))
            .collect();
        statements[3] = serde_json::json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:Get*"], "Resource": "*"});
        statements[5] = serde_json::json!({"Effect": "Allow", "Action": "S3:*", "Resource": "*"});
        statements[9] =
            serde_json::json!({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"});
        statements[11] =
            serde_json::json!({"Effect": "Allow", "Action": "s3:Put*", "Resource": "*"});
        statements[12] = serde_json::json!({"Effect": "Allow", "Action": "*", "Resource": "*"});
        let doc = serde_json::json!({"Version": "2012-10-17", "Statement": statements});
        let v = Value::from_json(&doc, Span::file_start(FileId(0)));
        let (p, problems) = parse_policy(&v, PolicyKind::Identity, &LiteralResolver);
        assert!(problems.is_empty(), "{problems:?}");
        let got = |a: &str| p.statements.candidates(a).map(Iterator::collect::<Vec<_>>);
        assert_eq!(got("s3:getobject"), Some(vec![3, 5, 9, 12]));
        assert_eq!(got("s3:putobject"), Some(vec![5, 9, 11, 12]));
        assert_eq!(got("sqs:op7"), Some(vec![7, 9, 12]));
        assert_eq!(got("sns:publish"), Some(vec![9, 12]));
        // No index for actions with wildcards of their own.
        assert_eq!(got("s3:*"), None);
    }
}
