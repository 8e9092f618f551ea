//! The questions of `init`, asked of a person at a terminal (a pipe works too) or answered from flags.

use std::io::{BufRead, Write};

/// The user quit (end of input) or a flag is missing: nothing is written.
#[derive(Debug)]
pub(super) struct Quit(pub(super) Option<String>);

/// The questions, asked of a person or answered from flags.
pub(super) trait Ask {
    fn say(&mut self, text: &str);
    /// One line; `None` when the input ended.
    fn line(&mut self, prompt: &str) -> Option<String>;
    /// One line typed without echo.
    fn secret(&mut self, prompt: &str) -> Option<String>;
}

/// A person at a terminal (or a pipe).
pub(super) struct Console<R: BufRead, W: Write> {
    pub(super) input: R,
    pub(super) out: W,
}

impl<R: BufRead, W: Write> Console<R, W> {
    fn read(&mut self) -> Option<String> {
        let mut line = String::new();
        // One answer is a line, not a file: at most 4 KiB.
        match std::io::Read::take(&mut self.input, 4096).read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).trim().to_owned()),
        }
    }
}

impl<R: BufRead, W: Write> Ask for Console<R, W> {
    fn say(&mut self, text: &str) {
        let _ = writeln!(self.out, "{text}");
    }

    fn line(&mut self, prompt: &str) -> Option<String> {
        let _ = write!(self.out, "{prompt} ");
        let _ = self.out.flush();
        self.read()
    }

    fn secret(&mut self, prompt: &str) -> Option<String> {
        // The echo goes off before the prompt shows: what is typed as soon as it shows is not echoed.
        let _echo = crate::platform::echo::EchoOff::new();
        let _ = write!(self.out, "{prompt} ");
        let _ = self.out.flush();
        self.read()
    }
}

/// The answers of `--non-interactive`: everything comes from the flags; a question is a missing flag.
pub(super) struct Flags;

impl Ask for Flags {
    fn say(&mut self, text: &str) {
        println!("{text}");
    }

    fn line(&mut self, _: &str) -> Option<String> {
        None
    }

    fn secret(&mut self, _: &str) -> Option<String> {
        None
    }
}
