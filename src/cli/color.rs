//! When to colour output: `--color`, then the conventions terminals and CI systems share.
//!
//! The detection is anstream's (a terminal, `CLICOLOR`, `CLICOLOR_FORCE`, CI), with `NO_COLOR`
//! honoured only when set to something (<https://no-color.org>), `FORCE_COLOR`
//! (<https://force-color.org>; `0` or `false` turn colour off) and `TERM=dumb`.

use anstream::ColorChoice;
use anstream::stream::RawStream;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorArg {
    /// Colour on a terminal, as the environment allows
    #[default]
    Auto,
    /// Always colour (text output on stdout, diagnostics on stderr)
    Always,
    /// Never colour
    Never,
}

/// Records the choice for the whole process (read by [`enabled`]).
pub fn init(arg: ColorArg) {
    let choice = match arg {
        ColorArg::Auto => ColorChoice::Auto,
        ColorArg::Always => ColorChoice::Always,
        ColorArg::Never => ColorChoice::Never,
    };
    choice.write_global();
}

/// Whether what is written to `stream` should be coloured.
pub fn enabled<S: RawStream>(stream: &S) -> bool {
    match ColorChoice::global() {
        ColorChoice::Always | ColorChoice::AlwaysAnsi => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if anstyle_query::no_color() {
                return false;
            }
            if let Some(force) = std::env::var_os("FORCE_COLOR").filter(|v| !v.is_empty()) {
                return !(force == "0" || force == "false");
            }
            if anstyle_query::clicolor_force() {
                return true;
            }
            if std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
                return false;
            }
            anstream::AutoStream::choice(stream) != ColorChoice::Never
        }
    }
}
