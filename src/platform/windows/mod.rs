//! Windows helpers, where the crate's Windows `unsafe` calls live (besides the console attach in `main.rs` and the
//! network-change callbacks in `netwatch`; the macOS interface flags ioctl is in `detect::interface`):
//!
//! - security descriptors from SDDL: named pipes (owner-only, or the service's control pipe) created here,
//!   and the service's `%ProgramData%\ddns-tray` with a protected DACL (SYSTEM and Administrators only), plus
//!   the check that a folder or file stays that way;
//! - a job object that kills a command source's whole process tree when it is closed;
//! - the event log line a service writes when it refuses to start;
//! - IPv6 address flags from `GetAdaptersAddresses` (temporary, tentative, deprecated), in `adapters`;
//! - whether this process is elevated, and running a command through the UAC prompt ("Run unattended").
//!
//! The SDDL strings are plain functions, unit-tested on every platform.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::os::windows::ffi::OsStrExt as _;
use std::path::Path;

use windows_sys::Win32::Foundation::{CloseHandle, HANDLE, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    GetNamedSecurityInfoW, SE_FILE_OBJECT,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACL, ACL_SIZE_INFORMATION, AclSizeInformation, DACL_SECURITY_INFORMATION,
    GetAce, GetAclInformation, GetTokenInformation, IsWellKnownSid, PSECURITY_DESCRIPTOR, PSID,
    SECURITY_ATTRIBUTES, TOKEN_QUERY, TOKEN_USER, TokenUser, WinBuiltinAdministratorsSid,
    WinCreatorOwnerSid, WinLocalSystemSid,
};
use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

pub use crate::platform::sddl::{owner_only, protected_dir};

mod adapters;
pub use adapters::{V6Address, ipv6_addresses, v6_flags};

/// NUL-terminated UTF-16.
fn wide(s: impl AsRef<std::ffi::OsStr>) -> Vec<u16> {
    s.as_ref().encode_wide().chain(std::iter::once(0)).collect()
}

/// Security attributes built from an SDDL string; the descriptor is freed on drop.
pub struct Attributes {
    descriptor: PSECURITY_DESCRIPTOR,
    attributes: SECURITY_ATTRIBUTES,
}

// SAFETY: the descriptor is owned memory (LocalAlloc) used only through this value.
unsafe impl Send for Attributes {}

impl Attributes {
    pub fn from_sddl(sddl: &str) -> std::io::Result<Self> {
        let text = wide(sddl);
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `text` is NUL-terminated; on success the system allocates the descriptor for us.
        let ok = unsafe {
            ConvertStringSecurityDescriptorToSecurityDescriptorW(
                text.as_ptr(),
                1,
                &raw mut descriptor,
                std::ptr::null_mut(),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        let attributes = SECURITY_ATTRIBUTES {
            nLength: u32::try_from(std::mem::size_of::<SECURITY_ATTRIBUTES>()).unwrap_or(0),
            lpSecurityDescriptor: descriptor,
            bInheritHandle: 0,
        };
        Ok(Self {
            descriptor,
            attributes,
        })
    }

    /// A pointer to the `SECURITY_ATTRIBUTES`, valid while `self` lives.
    pub fn as_mut_ptr(&mut self) -> *mut c_void {
        (&raw mut self.attributes).cast()
    }
}

impl Drop for Attributes {
    fn drop(&mut self) {
        // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW.
        unsafe {
            LocalFree(self.descriptor);
        }
    }
}

/// Attributes admitting only the current user (named pipes, files of the tray).
pub struct OwnerOnly;

impl OwnerOnly {
    #[allow(clippy::new_ret_no_self)] // a constructor of the attributes it describes
    pub fn new() -> std::io::Result<Attributes> {
        Attributes::from_sddl(&owner_only(&current_user_sid()?))
    }
}

/// Encrypts `data` with DPAPI under the calling process's account (for the service, LocalSystem): only a
/// process of that account on this machine can decrypt it.
pub fn dpapi_protect(data: &[u8]) -> std::io::Result<Vec<u8>> {
    dpapi(data, true)
}

/// Decrypts what [`dpapi_protect`] made.
pub fn dpapi_unprotect(data: &[u8]) -> std::io::Result<Vec<u8>> {
    dpapi(data, false)
}

fn dpapi(data: &[u8], protect: bool) -> std::io::Result<Vec<u8>> {
    use windows_sys::Win32::Foundation::LocalFree;
    use windows_sys::Win32::Security::Cryptography::{
        CRYPT_INTEGER_BLOB, CRYPTPROTECT_UI_FORBIDDEN, CryptProtectData, CryptUnprotectData,
    };
    let len = u32::try_from(data.len()).map_err(|_| std::io::Error::other("too large"))?;
    let input = CRYPT_INTEGER_BLOB {
        cbData: len,
        pbData: data.as_ptr().cast_mut(),
    };
    let mut output = CRYPT_INTEGER_BLOB {
        cbData: 0,
        pbData: std::ptr::null_mut(),
    };
    // SAFETY: `input` points at `data`, which outlives the call and is only read; `output` is filled by the
    // call with a buffer the system allocates, copied below and then freed with LocalFree.
    let ok = unsafe {
        if protect {
            CryptProtectData(
                &raw const input,
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &raw mut output,
            )
        } else {
            CryptUnprotectData(
                &raw const input,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
                std::ptr::null(),
                CRYPTPROTECT_UI_FORBIDDEN,
                &raw mut output,
            )
        }
    };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: on success `output` describes a buffer of `cbData` bytes the system allocated for us.
    let out = unsafe { std::slice::from_raw_parts(output.pbData, output.cbData as usize) }.to_vec();
    // SAFETY: the buffer came from the call above and is not used after this.
    unsafe {
        LocalFree(output.pbData.cast());
    }
    Ok(out)
}

/// Who may open a named pipe.
#[derive(Debug, Clone, Copy)]
pub enum PipeAccess<'a> {
    /// The current user only.
    OwnerOnly,
    /// As the SDDL string says (e.g. the service's control pipe).
    Sddl(&'a str),
}

/// Creates an instance of the named pipe `name`, local clients only, with a DACL that admits whom `access`
/// says; `first` makes creation fail when the pipe already exists (someone else serves it). The control
/// endpoint and the single-instance check both create their pipes here.
pub fn create_pipe(
    name: &str,
    access: PipeAccess<'_>,
    first: bool,
) -> std::io::Result<tokio::net::windows::named_pipe::NamedPipeServer> {
    let mut attrs = match access {
        PipeAccess::OwnerOnly => OwnerOnly::new()?,
        PipeAccess::Sddl(sddl) => Attributes::from_sddl(sddl)?,
    };
    let mut options = tokio::net::windows::named_pipe::ServerOptions::new();
    options
        .first_pipe_instance(first)
        .reject_remote_clients(true);
    // SAFETY: the security attributes live until the call returns; tokio copies nothing from them later.
    unsafe { options.create_with_security_attributes_raw(name, attrs.as_mut_ptr()) }
}

/// Whether the client of a connected named pipe is an administrator account (or `LocalSystem`): its token
/// has the Administrators group, enabled or, under UAC's filtered token, deny-only. So the tray of an
/// administrator drives the service without running elevated; other users cannot.
///
/// Call after reading from the pipe (Windows impersonates only a client that wrote).
pub fn pipe_client_is_admin(
    pipe: &impl std::os::windows::io::AsRawHandle,
) -> std::io::Result<bool> {
    use windows_sys::Win32::Security::{RevertToSelf, TOKEN_GROUPS, TokenGroups};
    use windows_sys::Win32::System::Pipes::ImpersonateNamedPipeClient;
    use windows_sys::Win32::System::Threading::{GetCurrentThread, OpenThreadToken};
    // SAFETY: `pipe` is a connected pipe handle; the impersonation is undone before returning, on this thread
    // (nothing awaits in between).
    if unsafe { ImpersonateNamedPipeClient(pipe.as_raw_handle()) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: opening the impersonation token of this thread (as ourselves), then reverting at once.
    let opened = unsafe { OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, 1, &raw mut token) };
    let open_error = std::io::Error::last_os_error();
    // SAFETY: ends the impersonation started above.
    if unsafe { RevertToSelf() } == 0 {
        // Still impersonating would be worse than failing: stop the process.
        std::process::abort();
    }
    if opened == 0 {
        return Err(open_error);
    }
    let result = (|| {
        let mut needed = 0u32;
        // SAFETY: asks for the size only.
        unsafe {
            GetTokenInformation(token, TokenGroups, std::ptr::null_mut(), 0, &raw mut needed)
        };
        let mut buffer = vec![0u64; (needed as usize).div_ceil(8).max(1)];
        // SAFETY: the buffer holds `needed` bytes, aligned for TOKEN_GROUPS.
        if unsafe {
            GetTokenInformation(
                token,
                TokenGroups,
                buffer.as_mut_ptr().cast(),
                u32::try_from(buffer.len() * 8).unwrap_or(0),
                &raw mut needed,
            )
        } == 0
        {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: on success the buffer starts with a TOKEN_GROUPS of GroupCount entries.
        let groups = unsafe { &*buffer.as_ptr().cast::<TOKEN_GROUPS>() };
        // SAFETY: Groups is a flexible array of GroupCount entries inside the buffer.
        let entries = unsafe {
            std::slice::from_raw_parts(groups.Groups.as_ptr(), groups.GroupCount as usize)
        };
        let mut user = vec![0u64; 64];
        // SAFETY: as in current_user_sid.
        let user_ok = unsafe {
            GetTokenInformation(
                token,
                TokenUser,
                user.as_mut_ptr().cast(),
                u32::try_from(user.len() * 8).unwrap_or(0),
                &raw mut needed,
            )
        } != 0;
        // SAFETY: checked for success; the buffer starts with a TOKEN_USER.
        let system = user_ok
            && unsafe {
                IsWellKnownSid(
                    (*user.as_ptr().cast::<TOKEN_USER>()).User.Sid,
                    WinLocalSystemSid,
                )
            } != 0;
        // SAFETY: every entry's SID points into the buffer.
        let admin = entries
            .iter()
            .any(|g| unsafe { IsWellKnownSid(g.Sid, WinBuiltinAdministratorsSid) } != 0);
        Ok(system || admin)
    })();
    // SAFETY: the handle came from OpenThreadToken.
    unsafe { CloseHandle(token) };
    result
}

/// The current process user's SID as a string (`S-1-5-21-…`).
pub fn current_user_sid() -> std::io::Result<String> {
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: querying our own process token; the handle is closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw mut token) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // u64 elements: aligned for TOKEN_USER.
    let mut buffer = vec![0u64; 64];
    let mut needed = 0u32;
    // SAFETY: the buffer is large enough for TOKEN_USER with a SID (checked by the call).
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenUser,
            buffer.as_mut_ptr().cast(),
            u32::try_from(buffer.len() * 8).unwrap_or(0),
            &raw mut needed,
        )
    };
    // SAFETY: the handle came from OpenProcessToken.
    unsafe { CloseHandle(token) };
    if ok == 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: on success the buffer starts with a TOKEN_USER.
    let user = unsafe { &*buffer.as_ptr().cast::<TOKEN_USER>() };
    sid_string(user.User.Sid)
}

fn sid_string(sid: PSID) -> std::io::Result<String> {
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: `sid` is a valid SID; the string is allocated by the system and freed below.
    if unsafe { ConvertSidToStringSidW(sid, &raw mut text) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let s = wide_to_string(text);
    // SAFETY: allocated by ConvertSidToStringSidW.
    unsafe { LocalFree(text.cast()) };
    Ok(s)
}

/// Creates `dir` (and parents) with a protected DACL: SYSTEM and Administrators full control, nobody else,
/// inherited by everything created inside. An existing folder is left as it is (see [`non_admin_writers`]).
pub fn create_protected_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut attrs = Attributes::from_sddl(protected_dir())?;
    let path = wide(dir);
    // SAFETY: a NUL-terminated path and attributes that live for the call.
    let ok = unsafe {
        windows_sys::Win32::Storage::FileSystem::CreateDirectoryW(
            path.as_ptr(),
            attrs.as_mut_ptr().cast(),
        )
    };
    if ok == 0 {
        let e = std::io::Error::last_os_error();
        if !dir.is_dir() {
            return Err(e);
        }
    }
    Ok(())
}

/// Write-like rights a non-administrator must not hold on the service's folder or config.
const WRITE_RIGHTS: u32 = 0x0000_0002 // FILE_WRITE_DATA / FILE_ADD_FILE
    | 0x0000_0004 // FILE_APPEND_DATA / FILE_ADD_SUBDIRECTORY
    | 0x0000_0040 // FILE_DELETE_CHILD
    | 0x0001_0000 // DELETE
    | 0x0004_0000 // WRITE_DAC
    | 0x0008_0000 // WRITE_OWNER
    | 0x1000_0000 // GENERIC_ALL
    | 0x4000_0000; // GENERIC_WRITE

/// Who other than SYSTEM, Administrators (and the creator-owner placeholder) may write `path`, as SID
/// strings; `Err` when the DACL cannot be read. A missing DACL means everyone may: reported as `Everyone`.
pub fn non_admin_writers(path: &Path) -> std::io::Result<Vec<String>> {
    let name = wide(path);
    let mut dacl: *mut ACL = std::ptr::null_mut();
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: a NUL-terminated path; the descriptor is freed below and `dacl` points into it.
    let err = unsafe {
        GetNamedSecurityInfoW(
            name.as_ptr(),
            SE_FILE_OBJECT,
            DACL_SECURITY_INFORMATION,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &raw mut dacl,
            std::ptr::null_mut(),
            &raw mut descriptor,
        )
    };
    if err != 0 {
        return Err(std::io::Error::from_raw_os_error(
            i32::try_from(err).unwrap_or(-1),
        ));
    }
    let result = (|| {
        if dacl.is_null() {
            return Ok(vec!["Everyone (no DACL)".to_owned()]);
        }
        let mut info = ACL_SIZE_INFORMATION {
            AceCount: 0,
            AclBytesInUse: 0,
            AclBytesFree: 0,
        };
        // SAFETY: `dacl` is a valid ACL of the descriptor.
        if unsafe {
            GetAclInformation(
                dacl,
                (&raw mut info).cast(),
                u32::try_from(std::mem::size_of::<ACL_SIZE_INFORMATION>()).unwrap_or(0),
                AclSizeInformation,
            )
        } == 0
        {
            return Err(std::io::Error::last_os_error());
        }
        let mut writers = Vec::new();
        for i in 0..info.AceCount {
            let mut ace: *mut c_void = std::ptr::null_mut();
            // SAFETY: `i` is below the ACE count.
            if unsafe { GetAce(dacl, i, &raw mut ace) } == 0 {
                continue;
            }
            // SAFETY: every ACE starts with its header; only allow ACEs (type 0) are read further.
            let header = unsafe { &*ace.cast::<windows_sys::Win32::Security::ACE_HEADER>() };
            if header.AceType != 0 {
                continue;
            }
            // SAFETY: an ACCESS_ALLOWED_ACE; the SID starts at `SidStart`.
            let allowed = unsafe { &*ace.cast::<ACCESS_ALLOWED_ACE>() };
            if allowed.Mask & WRITE_RIGHTS == 0 {
                continue;
            }
            let sid: PSID = (&raw const allowed.SidStart).cast_mut().cast();
            // SAFETY: `sid` is the ACE's SID.
            let trusted = [
                WinLocalSystemSid,
                WinBuiltinAdministratorsSid,
                WinCreatorOwnerSid,
            ]
            .iter()
            .any(|&w| unsafe { IsWellKnownSid(sid, w) } != 0);
            if !trusted {
                writers.push(sid_string(sid).unwrap_or_else(|_| "an unknown account".into()));
            }
        }
        Ok(writers)
    })();
    // SAFETY: allocated by GetNamedSecurityInfoW.
    unsafe { LocalFree(descriptor) };
    result
}

/// Writes an error line to the Windows event log (Application, source `ddns-tray`).
pub fn event_log_error(message: &str) {
    use windows_sys::Win32::System::EventLog::{
        DeregisterEventSource, EVENTLOG_ERROR_TYPE, RegisterEventSourceW, ReportEventW,
    };
    let source = wide("ddns-tray");
    let text = wide(message);
    let strings = [text.as_ptr()];
    // SAFETY: NUL-terminated strings that outlive the calls; the handle is deregistered.
    unsafe {
        let log = RegisterEventSourceW(std::ptr::null(), source.as_ptr());
        if log.is_null() {
            return;
        }
        ReportEventW(
            log,
            EVENTLOG_ERROR_TYPE,
            0,
            1,
            std::ptr::null_mut(),
            1,
            0,
            strings.as_ptr(),
            std::ptr::null(),
        );
        DeregisterEventSource(log);
    }
}

/// A job object whose processes all die when it is closed (dropped): a command source's grandchildren go
/// with it, so none holds its output open after a timeout.
pub struct KillOnClose(HANDLE);

// SAFETY: a kernel handle, used only through this value.
unsafe impl Send for KillOnClose {}
unsafe impl Sync for KillOnClose {}

impl KillOnClose {
    pub fn new() -> std::io::Result<Self> {
        use windows_sys::Win32::System::JobObjects::{
            CreateJobObjectW, JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE,
            JOBOBJECT_EXTENDED_LIMIT_INFORMATION, JobObjectExtendedLimitInformation,
            SetInformationJobObject,
        };
        // SAFETY: an unnamed job with default security.
        let job = unsafe { CreateJobObjectW(std::ptr::null(), std::ptr::null()) };
        if job.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        let job = Self(job);
        // SAFETY: a zeroed struct is a valid "no limits" value; we set one flag.
        let mut limits: JOBOBJECT_EXTENDED_LIMIT_INFORMATION = unsafe { std::mem::zeroed() };
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
        // SAFETY: the struct and its size match the information class.
        let ok = unsafe {
            SetInformationJobObject(
                job.0,
                JobObjectExtendedLimitInformation,
                (&raw const limits).cast(),
                u32::try_from(std::mem::size_of::<JOBOBJECT_EXTENDED_LIMIT_INFORMATION>())
                    .unwrap_or(0),
            )
        };
        if ok == 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(job)
    }

    /// Puts a child process (and so everything it starts) into the job.
    pub fn assign(&self, child: &tokio::process::Child) -> std::io::Result<()> {
        let Some(process) = child.raw_handle() else {
            return Ok(()); // it has already exited
        };
        // SAFETY: both are valid handles (the child is alive while borrowed); no ownership moves.
        if unsafe {
            windows_sys::Win32::System::JobObjects::AssignProcessToJobObject(self.0, process)
        } == 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for KillOnClose {
    fn drop(&mut self) {
        // SAFETY: our job handle; closing it kills the job's processes (KILL_ON_JOB_CLOSE).
        unsafe { CloseHandle(self.0) };
    }
}

/// A NUL-terminated UTF-16 string from the system (at most 32,767 units, the longest Windows path).
pub(super) fn wide_to_string(p: *const u16) -> String {
    if p.is_null() {
        return String::new();
    }
    let mut len = 0;
    // SAFETY: the string is NUL-terminated; the bound keeps a missing terminator from running away.
    while len < 32_767 && unsafe { *p.add(len) } != 0 {
        len += 1;
    }
    // SAFETY: `len` units were just read.
    String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(p, len) })
}

/// Whether this process runs with an elevated token (an administrator past UAC, or `LocalSystem`).
#[must_use]
pub fn is_elevated() -> bool {
    use windows_sys::Win32::Security::{TOKEN_ELEVATION, TokenElevation};
    let mut token: HANDLE = std::ptr::null_mut();
    // SAFETY: querying our own process token; the handle is closed below.
    if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &raw mut token) } == 0 {
        return false;
    }
    let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
    let mut needed = 0u32;
    // SAFETY: the out buffer is a TOKEN_ELEVATION of the size passed.
    let ok = unsafe {
        GetTokenInformation(
            token,
            TokenElevation,
            (&raw mut elevation).cast(),
            u32::try_from(std::mem::size_of::<TOKEN_ELEVATION>()).unwrap_or(0),
            &raw mut needed,
        )
    };
    // SAFETY: the handle came from OpenProcessToken.
    unsafe { CloseHandle(token) };
    ok != 0 && elevation.TokenIsElevated != 0
}

/// Runs `exe ARGS` through the UAC prompt (`ShellExecuteEx`, verb `runas`, no window) and waits at most
/// `timeout` for it; its exit code. The user dismissing the prompt is `ERROR_CANCELLED`.
pub fn run_elevated(
    exe: &Path,
    args: &[String],
    timeout: std::time::Duration,
) -> std::io::Result<i32> {
    use windows_sys::Win32::Foundation::WAIT_OBJECT_0;
    use windows_sys::Win32::System::Threading::{
        GetExitCodeProcess, TerminateProcess, WaitForSingleObject,
    };
    use windows_sys::Win32::UI::Shell::{
        SEE_MASK_NOASYNC, SEE_MASK_NOCLOSEPROCESS, SHELLEXECUTEINFOW, ShellExecuteExW,
    };
    let quoted: Vec<String> = args.iter().map(|a| quote_arg(a)).collect();
    let verb = wide("runas");
    let file = wide(exe.as_os_str());
    let params = wide(quoted.join(" "));
    // SAFETY: a zeroed SHELLEXECUTEINFOW is valid (all pointers null, no flags); the fields set below
    // point to buffers that outlive the call.
    let mut info: SHELLEXECUTEINFOW = unsafe { std::mem::zeroed() };
    info.cbSize = u32::try_from(std::mem::size_of::<SHELLEXECUTEINFOW>()).unwrap_or(0);
    info.fMask = SEE_MASK_NOCLOSEPROCESS | SEE_MASK_NOASYNC;
    info.lpVerb = verb.as_ptr();
    info.lpFile = file.as_ptr();
    info.lpParameters = params.as_ptr();
    info.nShow = 0; // SW_HIDE
    // SAFETY: `info` is initialised as the API asks; the strings live until it returns.
    if unsafe { ShellExecuteExW(&raw mut info) } == 0 {
        return Err(std::io::Error::last_os_error());
    }
    let process = info.hProcess;
    if process.is_null() {
        return Err(std::io::Error::other("no process was started"));
    }
    let millis = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX - 1);
    // SAFETY: `process` is the handle ShellExecuteExW returned (SEE_MASK_NOCLOSEPROCESS); closed below.
    let waited = unsafe { WaitForSingleObject(process, millis) };
    let mut code = 0u32;
    let result = if waited == WAIT_OBJECT_0 {
        // SAFETY: as above.
        if unsafe { GetExitCodeProcess(process, &raw mut code) } == 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(i32::from_ne_bytes(code.to_ne_bytes()))
        }
    } else {
        // SAFETY: as above; the command is ended rather than left running unseen.
        unsafe { TerminateProcess(process, 1) };
        Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
    };
    // SAFETY: the handle is ours and closed once.
    unsafe { CloseHandle(process) };
    result
}

/// One argument as `CommandLineToArgvW` reads it back: quoted when it has spaces or quotes, backslashes
/// before a quote doubled.
fn quote_arg(arg: &str) -> String {
    if !arg.is_empty() && !arg.contains([' ', '\t', '"']) {
        return arg.to_owned();
    }
    let mut out = String::from("\"");
    let mut backslashes = 0;
    for c in arg.chars() {
        match c {
            '\\' => backslashes += 1,
            '"' => {
                out.push_str(&"\\".repeat(backslashes * 2 + 1));
                out.push('"');
                backslashes = 0;
            }
            c => {
                out.push_str(&"\\".repeat(backslashes));
                out.push(c);
                backslashes = 0;
            }
        }
    }
    out.push_str(&"\\".repeat(backslashes * 2));
    out.push('"');
    out
}
