//! Loaders: one per input format, each producing normalized [`Resource`]s.
//!
//! This module is the only place that knows a file format. Detection is by content (an
//! `--input-format` flag overrides); a directory is walked for `*.json` (and gzipped
//! `*.json.gz`, as AWS Config delivers them); `-` is stdin.

mod aws_config;
pub mod config_diff;
mod envelope;
mod excerpt;
mod hcl;
mod ignores;
mod json_path;
pub mod policy_document;
mod projected;
mod read;
pub mod snapshot;
pub mod tags;
mod terraform_config;
mod terraform_plan;
pub mod testdoc;
mod walk;

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use miette::{Diagnostic, SourceSpan};
use rayon::prelude::*;

use crate::model::Resource;
use crate::source::SourceFile;
use excerpt::RedactedExcerpt;

pub use aws_config::resource_from_item;
pub use hcl::TerraformSources;
pub use read::{decode_text, display_name, normalize as normalize_path, read_source};
pub use walk::{Expanded, InputFile, SkipPaths, WalkedDir, expand_paths, parse_skip_glob};

/// Default bound on the size of one input (1 GiB); `--max-input-size` raises it.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 1 << 30;

/// Which loader to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputFormat {
    /// Decide by content.
    #[default]
    Auto,
    TerraformPlan,
    AwsConfig,
}

/// What the loaders need to know beyond the bytes.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub format: InputFormat,
    pub max_bytes: u64,
    /// Terraform resource types whose `configuration` references are needed (for relationship
    /// checks). `None` resolves references for every resource.
    pub reference_types: Option<Arc<BTreeSet<String>>>,
    /// Where the `.tf` sources of plans are, to locate findings on their `resource` blocks.
    pub terraform_sources: TerraformSources,
    /// `--skip-path`: what a directory walk leaves out.
    pub skip_paths: SkipPaths,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            format: InputFormat::Auto,
            max_bytes: DEFAULT_MAX_INPUT_BYTES,
            reference_types: None,
            terraform_sources: TerraformSources::Auto,
            skip_paths: SkipPaths::default(),
        }
    }
}

/// Resources loaded from one input, plus anything worth a warning.
#[derive(Debug, Default)]
pub struct Loaded {
    pub resources: Vec<Resource>,
    pub warnings: Vec<LoadWarning>,
    /// Errors that do not stop the input's resources being used (a snapshot saved by an
    /// incomplete audit): the run still exits 2.
    pub errors: Vec<LoadError>,
}

/// An input that could not be read or understood. Each names the file and, where possible, the
/// line and column.
#[derive(Debug, thiserror::Error, Diagnostic)]
pub enum LoadError {
    #[error("{path}: {source}")]
    #[diagnostic(code(load::io))]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error(
        "{path}: {size} bytes is above the input size limit of {limit} bytes; nothing was read"
    )]
    #[diagnostic(
        code(load::too_large),
        help("if this input is expected, raise the limit with --max-input-size BYTES")
    )]
    TooLarge { path: String, size: u64, limit: u64 },

    /// Stdin or a gzipped file, whose size is known only by reading: reading stopped at the
    /// limit.
    #[error(
        "{path}: {} more than {limit} bytes, above the input size limit; it was not loaded",
        if *compressed { "decompresses to" } else { "holds" }
    )]
    #[diagnostic(
        code(load::too_large),
        help("if this input is expected, raise the limit with --max-input-size BYTES")
    )]
    StreamTooLarge {
        path: String,
        limit: u64,
        compressed: bool,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(load::encoding))]
    Encoding { path: String, message: String },

    /// A problem at a place in an input file (a JSON syntax error, or valid JSON of the wrong
    /// shape).
    #[error(transparent)]
    #[diagnostic(transparent)]
    Located(Box<Located>),

    #[error("{name}: {message}")]
    #[diagnostic(code(load::unrecognized))]
    Unrecognized {
        name: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    #[error("{path}: {message}")]
    #[diagnostic(code(load::walk))]
    Walk { path: String, message: String },

    /// An input of another kind than the command reads (a plan given to `diff`).
    #[error("{name}: {message}")]
    #[diagnostic(code(load::wrong_kind))]
    WrongKind {
        name: String,
        message: String,
        #[help]
        help: Option<String>,
    },

    /// Part of an AWS Config pull failed: what was pulled is evaluated, the rest is missing.
    #[error("{name}: {message}")]
    #[diagnostic(code(load::incomplete))]
    Incomplete {
        name: String,
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl LoadError {
    /// The file the error is about, as users named it.
    pub fn file_name(&self) -> &str {
        match self {
            LoadError::Io { path, .. }
            | LoadError::TooLarge { path, .. }
            | LoadError::StreamTooLarge { path, .. }
            | LoadError::Encoding { path, .. }
            | LoadError::Walk { path, .. } => path,
            LoadError::Located(located) => located.name(),
            LoadError::Unrecognized { name, .. }
            | LoadError::Incomplete { name, .. }
            | LoadError::WrongKind { name, .. } => name,
        }
    }

    /// 1-based line and column, where known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        match self {
            LoadError::Located(located) => {
                let at = located.line_col();
                Some((at.line, at.column))
            }
            _ => None,
        }
    }

    /// A structural error at a byte offset of `file`.
    pub(crate) fn invalid_at(
        file: &Arc<SourceFile>,
        offset: usize,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) -> LoadError {
        LoadError::Located(Box::new(Located {
            kind: LocatedKind::Invalid,
            file: Arc::clone(file),
            offset,
            path: OnceLock::new(),
            message: message.into(),
            src: RedactedExcerpt::new(file, offset),
            span: SourceSpan::new(offset.into(), usize::from(offset < file.text().len())),
            label: label.into(),
            help,
        }))
    }

    /// A JSON syntax error from serde_json, located in `file` (`base` is the offset of the text
    /// serde_json parsed, for errors inside an embedded part).
    pub(crate) fn from_json(
        file: &Arc<SourceFile>,
        base: usize,
        error: &serde_json::Error,
    ) -> LoadError {
        let text = file.text();
        let local = file_offset_of(text.get(base..).unwrap_or(""), error.line(), error.column());
        let offset = (base + local).min(text.len());
        let raw = error.to_string();
        let message = raw
            .rsplit_once(" at line ")
            .map_or(raw.as_str(), |(m, _)| m)
            .to_owned();
        // Valid JSON of the wrong shape (`"resources": "oops"`) is not a syntax error.
        let kind = match error.classify() {
            serde_json::error::Category::Data => LocatedKind::Invalid,
            _ => LocatedKind::Syntax,
        };
        let (message, help) = match kind {
            LocatedKind::Invalid => (describe_shape_error(&message), None),
            LocatedKind::Syntax => describe_json_error(&message, error, text.trim().is_empty()),
        };
        // A syntax error ends what is known to be JSON; a data error (a value of the wrong
        // type) is about JSON that parsed whole.
        let src = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                RedactedExcerpt::at_syntax_error(file, offset)
            }
            serde_json::error::Category::Data | serde_json::error::Category::Io => {
                RedactedExcerpt::new(file, offset)
            }
        };
        LoadError::Located(Box::new(Located {
            kind,
            file: Arc::clone(file),
            offset,
            path: OnceLock::new(),
            message,
            src,
            span: SourceSpan::new(offset.into(), usize::from(offset < text.len())),
            label: "here".to_owned(),
            help,
        }))
    }
}

/// Whether a located error is about JSON syntax or about the shape of valid JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocatedKind {
    Syntax,
    Invalid,
}

/// An input error at a line and column and a JSON path, with an excerpt of the file.
///
/// The line, column and path are computed when asked for: in a one-line plan that costs a scan
/// of the line (of the file, for the path), and a hostile input can make millions of these
/// errors before the first is shown.
#[derive(Debug)]
pub struct Located {
    pub kind: LocatedKind,
    file: Arc<SourceFile>,
    offset: usize,
    path: OnceLock<String>,
    pub message: String,
    src: RedactedExcerpt,
    span: SourceSpan,
    label: String,
    help: Option<String>,
}

impl Located {
    /// The file the error is in, as users named it.
    pub fn name(&self) -> &str {
        self.file.name()
    }

    /// 1-based line and column of the error.
    pub fn line_col(&self) -> crate::source::LineCol {
        self.file.line_col(self.offset)
    }

    /// The JSON path of the value the error is about (`$.resource_changes[3].change.after`).
    pub fn json_path(&self) -> &str {
        self.path
            .get_or_init(|| json_path::path_at(self.file.text(), self.offset))
    }
}

impl std::fmt::Display for Located {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = self.line_col();
        write!(
            f,
            "{}:{}:{}: {}",
            self.name(),
            at.line,
            at.column,
            self.message
        )?;
        match self.json_path() {
            "$" => Ok(()),
            path => write!(f, " (at {path})"),
        }
    }
}

impl std::error::Error for Located {}

impl Diagnostic for Located {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(match self.kind {
            LocatedKind::Syntax => "load::syntax",
            LocatedKind::Invalid => "load::invalid",
        }))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_with_span(Some(self.label.clone()), self.span),
        )))
    }
}

/// serde_json reports 1-based line and column (bytes); turn them into an offset in `text`.
fn file_offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, piece) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            return offset + column.saturating_sub(1).min(piece.len());
        }
        offset += piece.len();
    }
    text.len()
}

/// serde's message for valid JSON of the wrong shape, without the value it quotes (`invalid
/// type: string "hunter2", expected a sequence` → `expected a list, found a string`): the value
/// may be a secret, and the path and excerpt say where it is.
fn describe_shape_error(message: &str) -> String {
    let found_expected = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "))
        .and_then(|rest| rest.rsplit_once(", expected "));
    if let Some((found, expected)) = found_expected {
        let kind = found
            .split(['`', '"'])
            .next()
            .unwrap_or(found)
            .trim()
            .trim_end_matches(" value");
        let kind = match kind {
            "string" | "integer" | "boolean" | "map" | "sequence" | "floating point" => {
                match kind {
                    "string" => "a string",
                    "integer" | "floating point" => "a number",
                    "boolean" => "a boolean",
                    "map" => "an object",
                    _ => "a list",
                }
            }
            "unit" | "null" => "null",
            _ => "a value of another type",
        };
        return format!("expected {}, found {kind}", plain_expectation(expected));
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        return format!("unknown value, expected {expected}");
    }
    message.to_owned()
}

/// serde's words for what a typed field wants, in JSON's.
fn plain_expectation(expected: &str) -> &str {
    match expected {
        "a sequence" => "a list",
        "a map" => "an object",
        "a borrowed string" | "a string" => "a string",
        e if e.starts_with("struct ") => "an object",
        e => e,
    }
}

fn describe_json_error(
    message: &str,
    error: &serde_json::Error,
    empty: bool,
) -> (String, Option<String>) {
    if empty {
        return (
            "the file is empty".to_owned(),
            Some(
                "expected a Terraform plan (`terraform show -json plan.out`) or AWS Config data"
                    .to_owned(),
            ),
        );
    }
    if message.contains("recursion limit exceeded") {
        return (
            "JSON nested too deeply (more than 128 levels)".to_owned(),
            Some("no Terraform plan or AWS Config item nests this deep; the input is damaged or hostile".to_owned()),
        );
    }
    if error.is_eof() {
        return (
            format!("the JSON ends early ({message})"),
            Some(
                "the file looks truncated: was it cut off while being written or copied?"
                    .to_owned(),
            ),
        );
    }
    (format!("invalid JSON: {message}"), None)
}

/// A problem worth telling users that does not stop the run.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{name}: {message}")]
#[diagnostic(code(load::warning), severity(Warning))]
pub struct LoadWarning {
    pub name: String,
    pub message: String,
    #[help]
    pub help: Option<String>,
}

/// Parses one source into resources.
pub fn load_source(file: &Arc<SourceFile>, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let text = file.text();
    let first = text.trim_start().chars().next();
    match first {
        None => Err(LoadError::from_json(
            file,
            0,
            &serde_json::from_str::<serde_json::Value>("")
                .err()
                .unwrap_or_else(|| serde_json::Error::io(io::Error::other("empty"))),
        )),
        Some('[') if text.trim_start().starts_with("[command]") => Err(LoadError::Unrecognized {
            name: file.name().to_owned(),
            message: "the file starts with `[command]…`: it holds the output of hashicorp/setup-terraform's wrapper, not the plan JSON alone".to_owned(),
            help: Some("set `terraform_wrapper: false` on the hashicorp/setup-terraform step (or run `terraform-bin show -json plan.out > plan.json`)".to_owned()),
        }),
        Some('[') => aws_config::load_item_array(file),
        Some('{') => {
            let env = envelope::Envelope::parse(file)?;
            let kind = match options.format {
                InputFormat::TerraformPlan => Detected::Plan,
                InputFormat::AwsConfig => Detected::AwsConfig,
                InputFormat::Auto => env.detect(file)?,
            };
            match kind {
                Detected::Plan => terraform_plan::load(file, &env, options),
                Detected::AwsConfig => aws_config::load(file, &env),
            }
        }
        Some(_) if is_terraform_source(file.name(), text) => Err(LoadError::Unrecognized {
            name: file.name().to_owned(),
            message: "this is Terraform source (HCL), not a plan".to_owned(),
            help: Some(walk::PLAN_RECIPE.to_owned()),
        }),
        Some(_) => Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(error) => LoadError::from_json(file, 0, &error),
            Ok(_) => LoadError::Unrecognized {
                name: file.name().to_owned(),
                message: "the JSON is a single value, neither a Terraform plan nor AWS Config data"
                    .to_owned(),
                help: Some(HELP_FORMATS.to_owned()),
            },
        }),
    }
}

/// Whether a text that is not JSON is Terraform source: named `*.tf`, `*.tfvars` or `*.hcl`,
/// or opening with a top-level block or a comment followed by one.
fn is_terraform_source(name: &str, text: &str) -> bool {
    const BLOCKS: [&str; 10] = [
        "terraform",
        "resource",
        "module",
        "provider",
        "variable",
        "output",
        "locals",
        "data",
        "import",
        "moved",
    ];
    if [".tf", ".tfvars", ".hcl"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return true;
    }
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !(l.is_empty() || l.starts_with('#') || l.starts_with("//")));
    first.is_some_and(|line| {
        let word = line
            .split(|c: char| c.is_whitespace() || c == '{' || c == '"')
            .next()
            .unwrap_or("");
        BLOCKS.contains(&word) && (line.ends_with('{') || line.contains('"'))
    })
}

/// What kind of JSON value a (valid) JSON text is, for messages: "a string", "a list", ….
pub(crate) fn json_kind(text: &str) -> &'static str {
    match text.trim_start().as_bytes().first() {
        Some(b'{') => "an object",
        Some(b'[') => "a list",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}

/// Elements converted per parallel batch by [`convert_in_order`].
const BATCH: usize = 1 << 14;

/// Converts list elements in parallel and keeps their order; stops after the first batch that
/// holds an error and returns the first error in order. A list of millions of bad elements
/// thus costs one batch of errors, not one error per element.
pub(crate) fn convert_in_order<I: Sync, T: Send>(
    items: &[I],
    convert: impl Fn(&I) -> Result<T, LoadError> + Sync + Send,
) -> Result<Vec<T>, LoadError> {
    let mut out = Vec::with_capacity(items.len());
    convert_into(&mut out, items, convert)?;
    Ok(out)
}

/// [`convert_in_order`], appending to `out`: a caller that knows the total of several lists
/// sizes one vector for all of them (at 100k resources, growing it would copy 40 MB and hold
/// both copies at once).
pub(crate) fn convert_into<I: Sync, T: Send>(
    out: &mut Vec<T>,
    items: &[I],
    convert: impl Fn(&I) -> Result<T, LoadError> + Sync + Send,
) -> Result<(), LoadError> {
    for batch in items.chunks(BATCH) {
        let converted: Vec<Result<T, LoadError>> = batch.par_iter().map(&convert).collect();
        for item in converted {
            out.push(item?);
        }
    }
    Ok(())
}

pub(crate) const HELP_FORMATS: &str = "resilix reads Terraform/OpenTofu plans (`terraform show -json plan.out > plan.json`) \
and AWS Config data: snapshot or history files (`configurationItems`), BatchGetResourceConfig or \
GetResourceConfigHistory results, SelectResourceConfig results (`Results`), rule events and single items";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Detected {
    Plan,
    AwsConfig,
}

/// Everything loaded from a list of paths: resources in path order, and what went wrong.
#[derive(Debug, Default)]
pub struct LoadOutcome {
    pub resources: Vec<Resource>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<LoadWarning>,
    /// What was left out of a directory walk and why (not warnings: nothing is wrong).
    pub notes: Vec<LoadNote>,
    /// Number of input files read.
    pub files: usize,
}

/// Something users should know about the run that is not a problem.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(load::skipped), severity(Advice))]
pub struct LoadNote {
    pub message: String,
    #[help]
    pub help: Option<String>,
}

/// At most this many skipped files are named in the note.
const SKIPPED_NAMED: usize = 10;

/// Loads every path; a bad input is reported and the others are still loaded. A JSON file
/// found by walking a directory that is neither a plan nor AWS Config data (`*.tfvars.json`,
/// `package.json`) is skipped, with a note; named on the command line, it is an error.
pub fn load_paths(paths: &[PathBuf], options: &LoadOptions) -> LoadOutcome {
    let Expanded {
        files,
        dirs,
        mut errors,
        mut warnings,
    } = expand_paths(paths, &options.skip_paths);
    let results: Vec<Result<Loaded, LoadError>> = files
        .par_iter()
        .map(|input| {
            let file = read_source(&input.path, options.max_bytes)?;
            load_source(&file, options)
        })
        .collect();
    // Per walked directory: inputs loaded or failed, and files skipped.
    let mut used = vec![0usize; dirs.len()];
    let mut skipped: Vec<(Option<usize>, String)> = Vec::new();
    let mut resources = Vec::new();
    for (input, result) in files.iter().zip(results) {
        let counted = input.found_in.and_then(|d| used.get_mut(d));
        match result {
            Err(LoadError::Unrecognized { name, .. }) if input.found_in.is_some() => {
                skipped.push((input.found_in, name));
                continue;
            }
            Ok(loaded) if resources.is_empty() => {
                resources = loaded.resources;
                warnings.extend(loaded.warnings);
                errors.extend(loaded.errors);
            }
            Ok(loaded) => {
                resources.extend(loaded.resources);
                warnings.extend(loaded.warnings);
                errors.extend(loaded.errors);
            }
            Err(error) => errors.push(error),
        }
        if let Some(count) = counted {
            *count += 1;
        }
    }
    let mut notes = Vec::new();
    if !skipped.is_empty() {
        let mut names: Vec<&str> = skipped
            .iter()
            .take(SKIPPED_NAMED)
            .map(|(_, name)| name.as_str())
            .collect();
        let more = skipped.len().saturating_sub(SKIPPED_NAMED);
        let more = format!("and {more} more");
        if skipped.len() > SKIPPED_NAMED {
            names.push(&more);
        }
        notes.push(LoadNote {
            message: format!(
                "skipped {} JSON file(s) that are neither a Terraform plan nor AWS Config data: {}",
                skipped.len(),
                names.join(", ")
            ),
            help: Some(
                "leave them out with --skip-path GLOB; a file named on the command line is always read"
                    .to_owned(),
            ),
        });
    }
    for (index, dir) in dirs.iter().enumerate() {
        let skipped_here = skipped.iter().filter(|(d, _)| *d == Some(index)).count();
        if skipped_here > 0 && used.get(index) == Some(&0) {
            errors.push(LoadError::Unrecognized {
                name: display_name(&dir.path),
                message: format!(
                    "no Terraform plan or AWS Config data in this directory: its {skipped_here} JSON file(s) are neither"
                ),
                help: Some(if dir.tf_files > 0 {
                    walk::PLAN_RECIPE.to_owned()
                } else {
                    HELP_FORMATS.to_owned()
                }),
            });
        }
    }
    LoadOutcome {
        resources,
        errors,
        warnings,
        notes,
        files: files.len().saturating_sub(skipped.len()),
    }
}

/// Loads one in-memory text (tests, inline policy cases).
pub fn load_text(name: &str, text: &str, options: &LoadOptions) -> Result<Loaded, LoadError> {
    let file = SourceFile::new(name, text);
    load_source(&file, options)
}

/// Whether a path looks like something `scan` can read (used to tell users about typos).
pub fn is_input_path(path: &Path) -> bool {
    path.as_os_str() == "-" || path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of serde_json's error deserializing `json` as `T`, as `from_json` makes it.
    fn message_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        let file = SourceFile::new("t.json", json);
        let error = serde_json::from_str::<T>(json).unwrap_err();
        LoadError::from_json(&file, 0, &error).to_string()
    }

    #[test]
    fn data_errors_name_the_kind_of_a_value_never_the_value() {
        for (message, kind) in [
            (
                message_of::<Vec<String>>(r#""hunter2, expected x""#),
                "a string",
            ),
            (message_of::<Vec<String>>("86753091"), "a number"),
            (message_of::<Vec<String>>("-86753091"), "a number"),
            (message_of::<Vec<String>>("8675.3091"), "a number"),
            (message_of::<bool>(r#""hunter2""#), "a string"),
            (message_of::<char>(r#""hunter2""#), "a string"),
        ] {
            assert!(message.contains(&format!("found {kind}")), "{message}");
            assert!(
                !message.contains("hunter2") && !message.contains("8675"),
                "{message}"
            );
        }
        #[derive(Debug, serde::Deserialize)]
        enum Mode {
            #[allow(dead_code)]
            Managed,
        }
        let message = message_of::<Mode>(r#""hunter2""#);
        assert!(
            message.contains("unknown value, expected `Managed`"),
            "{message}"
        );
        assert!(!message.contains("hunter2"), "{message}");
    }
}
