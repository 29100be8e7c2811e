//! Policy (and config file) errors: each points at its place in the YAML.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use super::yaml::Span;
use crate::source::{SourceFile, read_excerpt};

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.start.into(), span.len)
    }
}

/// One problem in a policy or config file.
#[derive(Debug, Clone)]
pub struct PolicyError {
    /// Stable code suffix: `policy::<code>` (or `config::<code>` for config files).
    pub code: &'static str,
    pub scope: &'static str,
    pub message: String,
    pub label: String,
    pub help: Option<String>,
    pub file: Arc<SourceFile>,
    pub span: Option<Span>,
    /// A warning (an expired waiver, say), not an error.
    pub warning: bool,
}

impl PolicyError {
    pub fn new(
        file: &Arc<SourceFile>,
        code: &'static str,
        span: Option<Span>,
        message: impl Into<String>,
    ) -> PolicyError {
        PolicyError {
            code,
            scope: "policy",
            message: message.into(),
            label: "here".to_owned(),
            help: None,
            file: Arc::clone(file),
            span,
            warning: false,
        }
    }

    /// A policy or config file that could not be read (too large, binary, not text, missing):
    /// the reader's message and help, on the file.
    pub fn unreadable(error: &crate::input::LoadError) -> PolicyError {
        let name = error.file_name();
        let full = error.to_string();
        let message = full
            .strip_prefix(&format!("{name}: "))
            .map_or_else(|| full.clone(), str::to_owned);
        let mut out = PolicyError::new(&SourceFile::new(name, ""), "io", None, message);
        out.help = Diagnostic::help(error).map(|h| h.to_string());
        out
    }

    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = label.into();
        self
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, for one-line summaries.
    pub fn location(&self) -> String {
        match self.span {
            Some(span) => {
                let at = self.file.line_col(span.start);
                format!("{}:{}:{}", self.file.name(), at.line, at.column)
            }
            None => self.file.name().to_owned(),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)
    }
}

impl std::error::Error for PolicyError {}

impl Diagnostic for PolicyError {
    fn severity(&self) -> Option<miette::Severity> {
        self.warning.then_some(miette::Severity::Warning)
    }

    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("{}::{}", self.scope, self.code)))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.span.map(|_| self as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            span,
        ))))
    }
}

impl SourceCode for PolicyError {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        read_excerpt(&self.file, span, before, after)
    }
}

/// All errors found in a set of policy files, reported together.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} error(s) in {}; nothing was evaluated", errors.len(), what)]
pub struct PolicyErrors {
    pub what: &'static str,
    pub errors: Vec<PolicyError>,
}

impl Diagnostic for PolicyErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "{}::invalid",
            self.errors.first().map_or("policy", |e| e.scope)
        )))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}
