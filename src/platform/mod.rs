//! What only one OS has, kept small and out of the core: Windows security descriptors, job objects, event
//! log and adapter flags (`windows`), and the SDDL strings they use (`sddl`, plain text, tested everywhere);
//! on Linux, a minimal init when the binary runs as PID 1 in a container (`init`).

#[cfg(target_os = "linux")]
pub mod init;
pub mod sddl;
#[cfg(windows)]
pub mod windows;
