//! Typing a secret at a terminal without it being shown: the terminal's echo is off while an [`EchoOff`]
//! lives (termios on Unix, the console mode on Windows), and back as it was when it is dropped, also when
//! the reading fails, and when Ctrl-C ends the program meanwhile ([`restore_on_interrupt`]). Not a
//! terminal: nothing changes.

#![allow(unsafe_code, reason = "termios and the console mode are C APIs")]

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the echo is off now (read by the interrupt handler).
static OFF: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
type Saved = libc::termios;
#[cfg(windows)]
type Saved = (usize, u32);

/// The terminal's settings before the first [`EchoOff`].
static SAVED: OnceLock<Saved> = OnceLock::new();

/// The terminal's echo, off until dropped.
pub struct EchoOff {
    active: bool,
}

impl EchoOff {
    /// Turns the echo of standard input off when it is a terminal.
    #[must_use]
    pub fn new() -> Self {
        let active = off();
        OFF.store(active, Ordering::SeqCst);
        Self { active }
    }
}

impl Default for EchoOff {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if self.active {
            OFF.store(false, Ordering::SeqCst);
            restore();
            #[cfg(windows)]
            println!(); // the Enter that ended the line was not shown either
        }
    }
}

#[cfg(unix)]
fn off() -> bool {
    // SAFETY: tcgetattr fills the zeroed struct for fd 0 or fails (not a terminal); tcsetattr gets a
    // struct tcgetattr filled.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &raw mut t) != 0 {
            return false;
        }
        let _ = SAVED.set(t);
        t.c_lflag &= !libc::ECHO;
        t.c_lflag |= libc::ECHONL;
        libc::tcsetattr(0, libc::TCSANOW, &raw const t) == 0
    }
}

#[cfg(unix)]
fn restore() {
    if let Some(saved) = SAVED.get() {
        // SAFETY: restores attributes tcgetattr read from the same fd; async-signal-safe.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, saved);
        }
    }
}

#[cfg(windows)]
fn off() -> bool {
    use windows_sys::Win32::System::Console::{
        ENABLE_ECHO_INPUT, GetConsoleMode, GetStdHandle, STD_INPUT_HANDLE, SetConsoleMode,
    };
    // SAFETY: the standard input handle is the process's own; the mode is read before it is changed.
    unsafe {
        let handle = GetStdHandle(STD_INPUT_HANDLE);
        let mut mode = 0u32;
        if GetConsoleMode(handle, &raw mut mode) == 0 {
            return false;
        }
        let _ = SAVED.set((handle as usize, mode));
        SetConsoleMode(handle, mode & !ENABLE_ECHO_INPUT) != 0
    }
}

#[cfg(windows)]
fn restore() {
    if let Some(&(handle, mode)) = SAVED.get() {
        // SAFETY: restores the mode read from the same handle.
        unsafe {
            windows_sys::Win32::System::Console::SetConsoleMode(handle as _, mode);
        }
    }
}

/// From now on, Ctrl-C ends the program at once with exit code 130, the terminal's echo back on first if
/// an [`EchoOff`] had it off. (A question in progress is simply abandoned: nothing is written before the
/// last step.)
pub fn restore_on_interrupt() {
    #[cfg(unix)]
    {
        extern "C" fn on_interrupt(_: libc::c_int) {
            if OFF.load(Ordering::SeqCst) {
                restore();
            }
            // SAFETY: write and _exit are async-signal-safe.
            unsafe {
                libc::write(1, b"\n".as_ptr().cast(), 1);
                libc::_exit(130);
            }
        }
        let handler: extern "C" fn(libc::c_int) = on_interrupt;
        // SAFETY: installs a handler that only calls async-signal-safe functions.
        unsafe {
            libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        }
    }
    #[cfg(windows)]
    {
        unsafe extern "system" fn on_interrupt(_: u32) -> windows_sys::Win32::Foundation::BOOL {
            if OFF.load(Ordering::SeqCst) {
                restore();
            }
            0 // not handled: the default handler ends the process
        }
        // SAFETY: registers a handler that only restores the console mode.
        unsafe {
            windows_sys::Win32::System::Console::SetConsoleCtrlHandler(Some(on_interrupt), 1);
        }
    }
}
