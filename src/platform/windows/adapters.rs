//! The IPv6 addresses of a network adapter with what Windows says about them (`GetAdaptersAddresses`):
//! temporary, tentative and deprecated addresses are marked so that they are never published.

#![allow(unsafe_code)]

use std::net::Ipv6Addr;

use super::wide_to_string;

/// An IPv6 address of an interface with what Windows says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Address {
    pub ip: Ipv6Addr,
    /// Why it must not be published (temporary, tentative, deprecated), if so.
    pub unusable: Option<&'static str>,
}

/// The IPv6 addresses of the adapter named `name` (friendly name, e.g. "Ethernet", or adapter name), with
/// their flags; `None` when no adapter has that name.
pub fn ipv6_addresses(name: &str) -> std::io::Result<Option<Vec<V6Address>>> {
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        GAA_FLAG_SKIP_ANYCAST, GAA_FLAG_SKIP_DNS_SERVER, GAA_FLAG_SKIP_MULTICAST,
        GetAdaptersAddresses, IP_ADAPTER_ADDRESSES_LH,
    };
    use windows_sys::Win32::Networking::WinSock::{AF_INET6, SOCKADDR_IN6};
    let mut size: u32 = 16 * 1024;
    let mut buffer: Vec<u64> = Vec::new();
    let flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
    let mut filled = false;
    for _ in 0..3 {
        buffer = vec![0u64; (size as usize).div_ceil(8)];
        // SAFETY: the buffer holds `size` bytes, 8-aligned as the structures need.
        let err = unsafe {
            GetAdaptersAddresses(
                u32::from(AF_INET6),
                flags,
                std::ptr::null(),
                buffer.as_mut_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>(),
                &raw mut size,
            )
        };
        match err {
            0 => {
                filled = true;
                break;
            }
            // ERROR_BUFFER_OVERFLOW: `size` now says how much is needed; try again.
            111 => {}
            232 => return Ok(None), // ERROR_NO_DATA: no adapters
            e => {
                return Err(std::io::Error::from_raw_os_error(
                    i32::try_from(e).unwrap_or(-1),
                ));
            }
        }
    }
    if !filled {
        return Err(std::io::Error::other("the adapter list kept growing"));
    }
    let mut adapter = buffer.as_ptr().cast::<IP_ADAPTER_ADDRESSES_LH>();
    while !adapter.is_null() {
        // SAFETY: a node of the list GetAdaptersAddresses filled in `buffer`.
        let a = unsafe { &*adapter };
        let friendly = wide_to_string(a.FriendlyName);
        // SAFETY: AdapterName is a NUL-terminated ANSI string.
        let raw_name = unsafe { std::ffi::CStr::from_ptr(a.AdapterName.cast()) }
            .to_string_lossy()
            .into_owned();
        if friendly == name || raw_name == name {
            let mut out = Vec::new();
            let mut unicast = a.FirstUnicastAddress;
            while !unicast.is_null() {
                // SAFETY: a node of the adapter's unicast list.
                let u = unsafe { &*unicast };
                let sockaddr = u.Address.lpSockaddr;
                // SAFETY: for AF_INET6 entries the sockaddr is a SOCKADDR_IN6 (read unaligned: the list
                // makes no alignment promise beyond SOCKADDR's).
                if !sockaddr.is_null() && unsafe { (*sockaddr).sa_family } == AF_INET6 {
                    let sin6 = unsafe { std::ptr::read_unaligned(sockaddr.cast::<SOCKADDR_IN6>()) };
                    // SAFETY: the address union is plain bytes.
                    let ip = Ipv6Addr::from(unsafe { sin6.sin6_addr.u.Byte });
                    out.push(V6Address {
                        ip,
                        unusable: v6_flags(u.SuffixOrigin, u.DadState, u.PreferredLifetime),
                    });
                }
                unicast = u.Next;
            }
            return Ok(Some(out));
        }
        adapter = a.Next;
    }
    Ok(None)
}

/// Temporary (random suffix), not yet or no longer preferred (DAD state), or deprecated (no preferred
/// lifetime left).
#[must_use]
pub fn v6_flags(
    suffix_origin: i32,
    dad_state: i32,
    preferred_lifetime: u32,
) -> Option<&'static str> {
    const IP_SUFFIX_ORIGIN_RANDOM: i32 = 4;
    const IP_DAD_STATE_PREFERRED: i32 = 4;
    const IP_DAD_STATE_DEPRECATED: i32 = 3;
    if suffix_origin == IP_SUFFIX_ORIGIN_RANDOM {
        Some("temporary")
    } else if dad_state == IP_DAD_STATE_DEPRECATED || preferred_lifetime == 0 {
        Some("deprecated")
    } else if dad_state != IP_DAD_STATE_PREFERRED {
        Some("tentative")
    } else {
        None
    }
}
