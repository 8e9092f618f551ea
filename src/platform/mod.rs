//! What only one OS has, kept small and out of the core: Windows security descriptors, job objects, event
//! log and adapter flags (`windows`), and the SDDL strings they use (`sddl`, plain text, tested everywhere);
//! a terminal's echo turned off while a secret is typed (`echo`); on Linux, a minimal init when the binary
//! runs as PID 1 in a container (`init`).

pub mod echo;
#[cfg(target_os = "linux")]
pub mod init;
pub mod sddl;
#[cfg(windows)]
pub mod windows;
