//! How results reach the user: one human sentence per result, or with
//! `--script` one compact JSON document per line.

use std::io::Write as _;

use serde_json::{Value, json};

/// The output channel of one command.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    /// Machine mode.
    pub script: bool,
}

impl Output {
    /// Report an action on a descriptor, e.g. `Locally saved user "alice".`
    pub fn report(&self, event: &str, kind: &str, name: &str, sentence: &str) {
        if self.script {
            self.json(&json!({"event": event, "kind": kind, "name": name}));
        } else {
            self.line(sentence);
        }
    }

    /// Print one item: `human` normally, `value` in script mode.
    pub fn item(&self, human: &str, value: &Value) {
        if self.script {
            self.json(value);
        } else {
            self.line(human);
        }
    }

    /// Print one compact JSON document on its own line.
    pub fn json(&self, value: &Value) {
        self.line(&value.to_string());
    }

    /// Print one line on stdout (a closed pipe is not an error worth a panic).
    pub fn line(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }

    /// A warning for people on stderr; silent in script mode.
    pub fn warn(&self, text: &str) {
        if !self.script {
            eprintln!("infinit: warning: {text}");
        }
    }
}
