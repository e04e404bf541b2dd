//! `iamlint lsp`: a language server over stdin/stdout (LSP 3.17, synchronous).
//!
//! It checks each open CloudFormation, SAM or Terraform document on open, change and save,
//! using the editor's text, not the file on disk: a template is checked alone; a Terraform
//! file is checked with its folder (the root module), the other files of the folder read from
//! disk unless they are open too. Findings are published as diagnostics (the help in the
//! message, the other places involved as related information); safe fixes are offered as
//! quick-fix code actions. Settings come from the nearest `iamlint.toml` above the document,
//! as for `iamlint` run in that folder.

use crate::run::{Overlay, RunOptions, run_overlay};
use iamlint_core::{Diagnostic, Severity, SourceFile, SourceMap, Span};
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams,
    CodeActionProviderCapability, DiagnosticRelatedInformation, DiagnosticSeverity,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, InitializeResult, Location, NumberOrString, Position,
    PublishDiagnosticsParams, Range, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri,
    WorkspaceEdit,
};
use std::collections::{BTreeSet, HashMap};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

type Result<T> = std::result::Result<T, Box<dyn Error + Sync + Send>>;

/// Serves on stdin/stdout until the client says `exit`.
pub fn serve_stdio() -> Result<()> {
    let (connection, io_threads) = Connection::stdio();
    serve(&connection)?;
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// The capabilities iamlint offers.
fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..Default::default()
    }
}

/// Serves one connection: the handshake, then messages until `shutdown` and `exit`.
pub fn serve(connection: &Connection) -> Result<()> {
    let (id, _params) = connection.initialize_start()?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "iamlint".to_string(),
            version: Some(env!("CARGO_PKG_VERSION").to_string()),
        }),
    };
    connection.initialize_finish(id, serde_json::to_value(result)?)?;
    let mut server = Server::default();
    while let Ok(message) = connection.receiver.recv() {
        // Messages that arrived meanwhile are taken together, so a burst of changes is checked
        // once, with the last text.
        let mut batch = vec![message];
        while let Ok(more) = connection.receiver.try_recv() {
            batch.push(more);
        }
        let mut dirty: BTreeSet<String> = BTreeSet::new();
        for message in batch {
            match message {
                Message::Request(request) => {
                    // Requests see the findings of the text they follow.
                    server.publish(connection, std::mem::take(&mut dirty))?;
                    if connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    let response = server.request(request);
                    connection.sender.send(Message::Response(response))?;
                }
                Message::Notification(notification) => {
                    if let Some(uri) = server.notification(notification) {
                        dirty.insert(uri);
                    }
                }
                Message::Response(_) => {}
            }
        }
        server.publish(connection, dirty)?;
    }
    Ok(())
}

/// One open document.
struct Document {
    uri: Uri,
    path: PathBuf,
    text: Arc<str>,
}

/// A quick fix offered for a published diagnostic.
struct Offered {
    range: Range,
    title: String,
    changes: HashMap<Uri, Vec<TextEdit>>,
    diagnostic: lsp_types::Diagnostic,
}

#[derive(Default)]
struct Server {
    /// Open documents by URI text.
    documents: HashMap<String, Document>,
    /// The quick fixes of each document's last check.
    fixes: HashMap<String, Vec<Offered>>,
}

impl Server {
    /// Applies a notification; returns the URI of a document to check again.
    fn notification(&mut self, notification: Notification) -> Option<String> {
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let params: DidOpenTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let uri = params.text_document.uri;
                let path = path_of(&uri)?;
                let key = uri.as_str().to_string();
                self.documents.insert(
                    key.clone(),
                    Document {
                        uri,
                        path,
                        text: Arc::from(params.text_document.text),
                    },
                );
                Some(key)
            }
            "textDocument/didChange" => {
                let params: DidChangeTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let key = params.text_document.uri.as_str().to_string();
                let document = self.documents.get_mut(&key)?;
                // Full synchronisation: the last change holds the whole text.
                let change = params.content_changes.into_iter().last()?;
                document.text = Arc::from(change.text);
                Some(key)
            }
            "textDocument/didSave" => {
                let params: DidSaveTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let key = params.text_document.uri.as_str().to_string();
                if let (Some(document), Some(text)) = (self.documents.get_mut(&key), params.text) {
                    document.text = Arc::from(text);
                }
                self.documents.contains_key(&key).then_some(key)
            }
            "textDocument/didClose" => {
                let params: DidCloseTextDocumentParams =
                    serde_json::from_value(notification.params).ok()?;
                let key = params.text_document.uri.as_str().to_string();
                self.documents.remove(&key);
                self.fixes.remove(&key);
                None
            }
            _ => None,
        }
    }

    fn request(&self, request: Request) -> Response {
        match request.method.as_str() {
            "textDocument/codeAction" => {
                let params: CodeActionParams = match serde_json::from_value(request.params) {
                    Ok(p) => p,
                    Err(e) => return Response::new_err(request.id, -32602, e.to_string()),
                };
                let key = params.text_document.uri.as_str();
                let actions: Vec<CodeActionOrCommand> = self
                    .fixes
                    .get(key)
                    .into_iter()
                    .flatten()
                    .filter(|f| overlaps(f.range, params.range))
                    .map(|f| {
                        CodeActionOrCommand::CodeAction(CodeAction {
                            title: f.title.clone(),
                            kind: Some(CodeActionKind::QUICKFIX),
                            diagnostics: Some(vec![f.diagnostic.clone()]),
                            edit: Some(WorkspaceEdit {
                                changes: Some(f.changes.clone()),
                                ..Default::default()
                            }),
                            is_preferred: Some(true),
                            ..Default::default()
                        })
                    })
                    .collect();
                Response::new_ok(request.id, actions)
            }
            _ => Response::new_err(
                request.id,
                -32601,
                format!("iamlint does not serve {}", request.method),
            ),
        }
    }

    /// Checks the documents of `dirty` and publishes their diagnostics (and those of the
    /// other open documents of a Terraform module checked with them).
    fn publish(&mut self, connection: &Connection, dirty: BTreeSet<String>) -> Result<()> {
        let mut done: BTreeSet<String> = BTreeSet::new();
        for key in dirty {
            if done.contains(&key) {
                continue;
            }
            let Some(document) = self.documents.get(&key) else {
                continue;
            };
            let (target, unit_documents) = self.unit_of(document);
            let published = self.check(&target, &unit_documents);
            for (key, diagnostics, offered) in published {
                let Some(document) = self.documents.get(&key) else {
                    continue;
                };
                let params = PublishDiagnosticsParams {
                    uri: document.uri.clone(),
                    diagnostics,
                    version: None,
                };
                connection
                    .sender
                    .send(Message::Notification(Notification::new(
                        "textDocument/publishDiagnostics".to_string(),
                        params,
                    )))?;
                self.fixes.insert(key.clone(), offered);
                done.insert(key);
            }
        }
        Ok(())
    }

    /// What to check for a document: the file itself, or its folder for Terraform, with the
    /// open documents that the check covers.
    fn unit_of(&self, document: &Document) -> (PathBuf, Vec<String>) {
        if iamlint_terraform::is_terraform_file(&document.path) {
            let dir = document
                .path
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            let open = self
                .documents
                .iter()
                .filter(|(_, d)| d.path.parent() == Some(dir.as_path()))
                .map(|(k, _)| k.clone())
                .collect();
            (dir, open)
        } else {
            (
                document.path.clone(),
                vec![document.uri.as_str().to_string()],
            )
        }
    }

    /// Runs the check of `target` with the open documents' texts; returns, for each open
    /// document of `unit`, its diagnostics and quick fixes.
    fn check(
        &self,
        target: &Path,
        unit: &[String],
    ) -> Vec<(String, Vec<lsp_types::Diagnostic>, Vec<Offered>)> {
        let overlay: Overlay = self
            .documents
            .values()
            .map(|d| (d.path.clone(), Arc::clone(&d.text)))
            .collect();
        let dir = if target.is_dir() {
            target.to_path_buf()
        } else {
            target
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        };
        let settings = crate::config::find_config(&dir)
            .and_then(|path| crate::config::read_config(&path).ok())
            .unwrap_or_default();
        let org = crate::config::read_org_files(&settings).unwrap_or_default();
        let rules = iamlint_rules::Selection::new(&settings.select, &settings.ignore)
            .or_else(|_| iamlint_rules::Selection::new(&[], &[]));
        let Ok(rules) = rules else {
            return Vec::new();
        };
        let options = RunOptions {
            paths: vec![target.to_path_buf()],
            parameters: HashMap::new(),
            terraform: iamlint_terraform::Options::default(),
            rules,
            severity: settings.severities(),
            max_file_size: settings.max_file_size,
            ..RunOptions::default()
        };
        let output = run_overlay(&options, &org, &overlay);
        unit.iter()
            .filter_map(|key| {
                let document = self.documents.get(key)?;
                let (diagnostics, offered) =
                    self.convert(&output.sources, &output.diagnostics, &document.path);
                Some((key.clone(), diagnostics, offered))
            })
            .collect()
    }

    /// The findings of the file at `path` as LSP diagnostics, with their safe fixes.
    #[expect(
        clippy::mutable_key_type,
        reason = "lsp-types keys WorkspaceEdit changes by Uri, whose cache is never mutated through a key"
    )]
    fn convert(
        &self,
        sources: &SourceMap,
        findings: &[Diagnostic],
        path: &Path,
    ) -> (Vec<lsp_types::Diagnostic>, Vec<Offered>) {
        let mut diagnostics = Vec::new();
        let mut offered = Vec::new();
        for finding in findings {
            let Some(file) = sources.get(finding.span.file) else {
                continue;
            };
            if !same_path(&file.path, path) {
                continue;
            }
            let range = range(file, finding.span);
            let mut message = finding.message.clone();
            if let Some(help) = &finding.help {
                message.push_str("\n\nHow to fix: ");
                message.push_str(help);
            }
            let related: Vec<DiagnosticRelatedInformation> = finding
                .labels
                .iter()
                .take(16)
                .filter_map(|label| {
                    let file = sources.get(label.span.file)?;
                    Some(DiagnosticRelatedInformation {
                        location: Location::new(
                            self.uri_of(&file.path)?,
                            range_of(file, label.span),
                        ),
                        message: label.message.clone(),
                    })
                })
                .collect();
            let diagnostic = lsp_types::Diagnostic {
                range,
                severity: Some(match finding.severity {
                    Severity::Error => DiagnosticSeverity::ERROR,
                    Severity::Warning => DiagnosticSeverity::WARNING,
                    Severity::Note => DiagnosticSeverity::INFORMATION,
                }),
                code: Some(NumberOrString::String(finding.code.to_string())),
                source: Some("iamlint".to_string()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..Default::default()
            };
            if let Some(fix) = finding.fix.as_ref().filter(|f| f.is_safe()) {
                let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                let mut complete = true;
                for edit in &fix.edits {
                    match sources
                        .get(edit.span.file)
                        .and_then(|f| Some((f, self.uri_of(&f.path)?)))
                    {
                        Some((f, uri)) => changes.entry(uri).or_default().push(TextEdit {
                            range: range_of(f, edit.span),
                            new_text: edit.replacement.clone(),
                        }),
                        None => complete = false,
                    }
                }
                if complete {
                    offered.push(Offered {
                        range,
                        title: format!("{} ({})", capitalised(&fix.message), finding.code),
                        changes,
                        diagnostic: diagnostic.clone(),
                    });
                }
            }
            diagnostics.push(diagnostic);
        }
        (diagnostics, offered)
    }

    /// The URI of a file: the open document's own URI when it is open.
    fn uri_of(&self, path: &Path) -> Option<Uri> {
        self.documents
            .values()
            .find(|d| same_path(&d.path, path))
            .map(|d| d.uri.clone())
            .or_else(|| uri_from_path(path))
    }
}

fn range(file: &SourceFile, span: Span) -> Range {
    range_of(file, span)
}

/// An LSP range (zero-based lines, UTF-16 columns) of a span.
fn range_of(file: &SourceFile, span: Span) -> Range {
    Range {
        start: position(file, span.start as usize),
        end: position(file, span.end as usize),
    }
}

fn position(file: &SourceFile, offset: usize) -> Position {
    let text = &*file.text;
    let offset = offset.min(text.len());
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..line_start].matches('\n').count();
    let character = text
        .get(line_start..offset)
        .map_or(0, |s| s.encode_utf16().count());
    Position {
        line: u32::try_from(line).unwrap_or(u32::MAX),
        character: u32::try_from(character).unwrap_or(u32::MAX),
    }
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Whether two paths name the same file (compared as given, then canonically).
fn same_path(a: &Path, b: &Path) -> bool {
    a == b
        || iamlint_terraform_normalised(a) == iamlint_terraform_normalised(b)
        || matches!(
            (std::fs::canonicalize(a), std::fs::canonicalize(b)),
            (Ok(x), Ok(y)) if x == y
        )
}

fn iamlint_terraform_normalised(p: &Path) -> PathBuf {
    p.components().collect()
}

/// The local path of a `file:` URI.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    // `file:///C:/x` on Windows; `file:///x` elsewhere; a host part is not a local file.
    let path = rest.strip_prefix('/').map(|p| format!("/{p}"))?;
    let decoded = percent_decode(&path)?;
    if cfg!(windows) && decoded.len() > 2 && decoded.as_bytes()[2] == b':' {
        return Some(PathBuf::from(&decoded[1..]));
    }
    Some(PathBuf::from(decoded))
}

/// The `file:` URI of an absolute path.
pub fn uri_from_path(path: &Path) -> Option<Uri> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    let text = absolute.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        let uri = uri_from_path(Path::new("/tmp/my dir/t.yaml")).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/my%20dir/t.yaml");
        assert_eq!(path_of(&uri).unwrap(), PathBuf::from("/tmp/my dir/t.yaml"));
    }

    #[test]
    fn positions_count_utf16_units() {
        let file = SourceFile::new(iamlint_core::FileId(0), "t", "a: é😀x\nb");
        let at_x = "a: é😀".len();
        assert_eq!(
            position(&file, at_x),
            Position {
                line: 0,
                character: 6
            }
        );
        assert_eq!(
            position(&file, at_x + 2),
            Position {
                line: 1,
                character: 0
            }
        );
    }
}
