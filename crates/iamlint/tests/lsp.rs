//! `iamlint lsp`, driven over stdio as an editor drives it: initialize, didOpen, the published
//! diagnostics, a quick fix, didChange, shutdown and exit.
//! Protocol: https://microsoft.github.io/language-server-protocol/specifications/lsp/3.17/specification/

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers fail loudly"
)]

mod common;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    fn start(cwd: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_iamlint"))
            .arg("lsp")
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start iamlint lsp");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut client = Client {
            child,
            stdin,
            stdout,
            next_id: 1,
        };
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": {}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "iamlint");
        assert_eq!(init["result"]["capabilities"]["codeActionProvider"], true);
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its response (notifications received meanwhile are
    /// dropped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == id {
                return message;
            }
        }
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).unwrap() > 0,
                "server closed"
            );
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).unwrap();
        serde_json::from_slice(&body).unwrap()
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn open(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    fn stop(mut self) {
        let response = self.request("shutdown", Value::Null);
        assert!(response["error"].is_null(), "{response}");
        self.notify("exit", Value::Null);
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
    }
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("lsp", name)
}

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// Applies LSP text edits (zero-based lines, UTF-16 columns; ASCII here) to a text.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap() as usize;
        let character = p["character"].as_u64().unwrap() as usize;
        text.split_inclusive('\n')
            .take(line)
            .map(str::len)
            .sum::<usize>()
            + character
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort();
    let mut out = text.to_string();
    for (start, end, new) in edits.into_iter().rev() {
        out.replace_range(start..end, new);
    }
    out
}

const SECRET_TEMPLATE: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: secrets
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: secretsmanager:GetSecretValue
                # the database password
                Resource: arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db
";

#[test]
fn publishes_the_buffer_s_findings_offers_the_fix_and_clears_after_the_change() {
    let dir = scratch("cfn");
    let path = dir.join("template.yaml");
    // On disk the template is clean: the server must check the editor's text.
    let fixed = SECRET_TEMPLATE.replace("prod/db\n", "prod/db-??????\n");
    std::fs::write(&path, &fixed).unwrap();
    let uri = uri(&path);
    let mut client = Client::start(&dir);

    client.open(&uri, "yaml", SECRET_TEMPLATE);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["IAM012"], "{diagnostics:#?}");
    let d = &diagnostics[0];
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "iamlint");
    assert_eq!(d["range"]["start"]["line"], 19);
    assert!(
        d["message"].as_str().unwrap().contains("How to fix:"),
        "{d}"
    );

    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": d["range"],
            "context": {"diagnostics": [d]},
        }),
    );
    let actions = actions["result"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{actions:#?}");
    assert_eq!(actions[0]["kind"], "quickfix");
    let edits = actions[0]["edit"]["changes"][&uri].as_array().unwrap();
    let after = apply(SECRET_TEMPLATE, edits);
    assert_eq!(after, fixed);

    let started = Instant::now();
    client.change(&uri, 2, &after);
    let diagnostics = client.diagnostics(&uri);
    let elapsed = started.elapsed();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    eprintln!("didChange to publishDiagnostics: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(10));
    client.stop();
}

#[test]
fn a_terraform_buffer_is_checked_with_the_rest_of_its_folder_from_disk() {
    let dir = scratch("tf");
    std::fs::write(
        dir.join("main.tf"),
        r#"resource "aws_iam_role" "app" {
  name = "app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "lambda.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
}
"#,
    )
    .unwrap();
    let policy = dir.join("policy.tf");
    std::fs::write(&policy, "").unwrap();
    let text = r#"resource "aws_iam_role_policy" "secrets" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "secretsmanager:GetSecretValue"
      Resource = "arn:aws:secretsmanager:us-east-1:111122223333:secret:prod/db"
    }]
  })
}
"#;
    let uri = uri(&policy);
    let mut client = Client::start(&dir);
    client.open(&uri, "terraform", text);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["IAM012"], "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 7);
    let actions = client.request(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": diagnostics[0]["range"],
            "context": {"diagnostics": []},
        }),
    );
    let edits = actions["result"][0]["edit"]["changes"][&uri]
        .as_array()
        .unwrap()
        .clone();
    let after = apply(text, &edits);
    assert!(after.contains("secret:prod/db-??????\""), "{after}");
    client.change(&uri, 2, &after);
    assert!(client.diagnostics(&uri).is_empty());
    client.stop();
}

/// The figure the README quotes: a change in the largest bundled example to its published
/// diagnostics.
#[test]
fn time_from_a_change_to_diagnostics_on_the_bundled_examples() {
    let root = common::workspace().canonicalize().unwrap();
    for example in [
        "examples/cloudformation/orders-broken.yaml",
        "examples/terraform/broken/main.tf",
    ] {
        let path = root.join(example);
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = uri(&path);
        let mut client = Client::start(&root);
        client.open(&uri, "yaml", &text);
        let first = client.diagnostics(&uri);
        assert!(!first.is_empty(), "{example}");
        let mut times = Vec::new();
        for version in 2..7 {
            let started = Instant::now();
            client.change(&uri, version, &format!("{text}\n"));
            let again = client.diagnostics(&uri);
            times.push(started.elapsed());
            assert_eq!(codes(&again), codes(&first));
        }
        times.sort();
        eprintln!(
            "{example}: didChange to publishDiagnostics, median {:?}",
            times[2]
        );
        client.stop();
    }
}
