//! `resilix completions SHELL` (clap_complete) and `resilix man [COMMAND]` (clap_mangen): both
//! generated from the one command-line definition, so they never drift from `--help`.

use std::io::{self, Write};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, UsageError};
use crate::{Diagnostics, ExitStatus};

/// Arguments of `resilix completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `resilix completions bash > /etc/bash_completion.d/resilix`
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `resilix man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// A command (`scan`, `baseline create`, …) whose page to print instead of resilix(1)
    #[arg(value_name = "COMMAND", num_args = 0..)]
    pub command: Vec<String>,
}

pub(crate) fn completions(args: &CompletionsArgs, diagnostics: &mut Diagnostics) -> ExitStatus {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "resilix", &mut out);
    write_stdout(&out, diagnostics)
}

pub(crate) fn man(args: &ManArgs, diagnostics: &mut Diagnostics) -> ExitStatus {
    let mut command = Cli::command();
    command.build();
    let mut name = "resilix".to_owned();
    for word in &args.command {
        let Some(sub) = command.find_subcommand(word).cloned() else {
            let names: Vec<String> = command
                .get_subcommands()
                .map(|c| c.get_name().to_owned())
                .collect();
            diagnostics.push(Box::new(UsageError {
                message: format!("`{name}` has no command `{word}`"),
                help: Some(if names.is_empty() {
                    format!("`{name}` has no commands")
                } else {
                    format!("its commands: {}", names.join(", "))
                }),
            }));
            return ExitStatus::Error;
        };
        name = format!("{name}-{}", sub.get_name());
        command = sub;
    }
    let page = command.name(name.clone()).bin_name(name.replace('-', " "));
    let mut out = Vec::new();
    if let Err(error) = clap_mangen::Man::new(page).render(&mut out) {
        diagnostics.push(Box::new(crate::output::OutputError::Io {
            path: "<stdout>".to_owned(),
            source: error,
        }));
        return ExitStatus::Error;
    }
    write_stdout(&out, diagnostics)
}

fn write_stdout(bytes: &[u8], diagnostics: &mut Diagnostics) -> ExitStatus {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitStatus::Clean,
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => ExitStatus::Clean,
        Err(error) => {
            diagnostics.push(Box::new(crate::output::OutputError::Io {
                path: "<stdout>".to_owned(),
                source: error,
            }));
            ExitStatus::Error
        }
    }
}
