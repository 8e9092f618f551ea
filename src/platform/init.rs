//! Running as PID 1 (a container's entry point): the kernel gives PID 1 every orphaned process to reap, and
//! sends it no signal it has no handler for. A `command` source's program that leaves children behind (they
//! are killed with its process group) would leave zombies under a daemon that never reaps them, so as PID 1
//! the binary becomes a minimal init, as tini or catatonit are: it runs itself, with the same arguments, as
//! its one child; forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it; reaps every process
//! that ends; and exits with the child's exit code (128 + the signal if a signal ended it). Anywhere but
//! PID 1 nothing changes.
#![allow(unsafe_code)]

use std::ffi::OsString;
use std::process::Command;

/// The signals passed on to the child.
const FORWARD: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

/// As PID 1: runs this program again as a child and supervises it until it ends, returning its exit code.
/// Otherwise `None`, at once. Call first thing in `main`, before any thread starts.
#[must_use]
pub fn supervise_if_pid1() -> Option<u8> {
    if std::process::id() != 1 {
        return None;
    }
    // SAFETY: an all-zero sigset_t is a valid value; sigemptyset and sigaddset initialise it in place.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, exclusively borrowed sigset_t; the signal numbers are valid.
    unsafe {
        libc::sigemptyset(&raw mut set);
        for s in FORWARD.iter().chain([libc::SIGCHLD].iter()) {
            libc::sigaddset(&raw mut set, *s);
        }
    }
    // Blocked, they wait for sigtimedwait below (none is lost between the spawn and the first wait). The
    // child unblocks them before exec (a mask is inherited; std does not reset it on every libc).
    // SAFETY: `set` is initialised; the old mask is not asked for (null).
    unsafe {
        libc::pthread_sigmask(libc::SIG_BLOCK, &raw const set, std::ptr::null_mut());
    }
    let exe = std::env::current_exe().map_or_else(
        |_| std::env::args_os().next().unwrap_or_default(),
        OsString::from,
    );
    let mut command = Command::new(&exe);
    command.args(std::env::args_os().skip(1));
    // SAFETY: pthread_sigmask is async-signal-safe, and `set` is a copy owned by the closure.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut command, move || {
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &raw const set, std::ptr::null_mut());
            Ok(())
        });
    }
    let child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!(
                "ddns-tray (PID 1): cannot start {}: {e}",
                exe.to_string_lossy()
            );
            return Some(1);
        }
    };
    let Ok(child_pid) = libc::pid_t::try_from(child.id()) else {
        return Some(1);
    };
    let second = libc::timespec {
        tv_sec: 1,
        tv_nsec: 0,
    };
    loop {
        // SAFETY: `set` and `second` are valid for the call; the siginfo is not asked for (null).
        let sig =
            unsafe { libc::sigtimedwait(&raw const set, std::ptr::null_mut(), &raw const second) };
        if sig > 0 && sig != libc::SIGCHLD {
            // SAFETY: kill(2) on our own child's id; no memory is involved.
            unsafe {
                libc::kill(child_pid, sig);
            }
        }
        // Whatever ended since: the child, or orphans handed to PID 1.
        loop {
            let mut status: libc::c_int = 0;
            // SAFETY: waitpid writes the status into a valid, exclusively borrowed c_int.
            let pid = unsafe { libc::waitpid(-1, &raw mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == child_pid {
                return Some(exit_code(status));
            }
        }
    }
}

/// The exit code a shell would report for a wait status.
fn exit_code(status: libc::c_int) -> u8 {
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        1
    };
    u8::try_from(code).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    /// Exit codes as a shell reports them (the statuses as waitpid encodes them on Linux).
    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(super::exit_code(0), 0);
        assert_eq!(super::exit_code(2 << 8), 2);
        assert_eq!(super::exit_code(libc::SIGKILL), 137);
        assert_eq!(super::exit_code(libc::SIGTERM), 143);
    }
}
