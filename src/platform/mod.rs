//! What only one OS has, kept small and out of the core: Windows security descriptors, job objects, event
//! log and adapter flags (`windows`), and the SDDL strings they use (`sddl`, plain text, tested everywhere);
//! a terminal's echo turned off while a secret is typed (`echo`).

pub mod echo;
pub mod sddl;
#[cfg(windows)]
pub mod windows;
