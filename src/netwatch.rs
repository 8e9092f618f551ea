//! Network-change and wake-from-sleep events, so a new address reaches DNS in about a second instead of at the
//! next scheduled check.
//!
//! - Linux: an rtnetlink socket subscribed to address and route changes, awaited by tokio (no thread, no
//!   polling). Windows: `NotifyUnicastIpAddressChange` / `NotifyRouteChange2` callbacks and the power
//!   manager's resume notification. macOS: the routing socket (`PF_ROUTE`).
//! - Only changes that can move the public address count: an address that is not loopback, link-local,
//!   multicast or still tentative (duplicate-address detection), and default routes. Each change names the
//!   family it affects.
//! - Wake from sleep: tokio's timers do not count suspended time on Linux and macOS, so after a resume the next
//!   check could be a whole interval away. Besides the OS's own signal (Windows), [`SleepDetector`] notices the
//!   wall clock running ahead of the monotonic one, which is what a suspend looks like from inside.
//!
//! What the engine does with a change (debounce, rate limit, which family it checks) is the engine's business:
//! this module only reports.

use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use crate::config::Family;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An address or default route of this family changed.
    Network(Family),
    /// The machine woke from sleep (or the clock jumped): every family may have changed.
    Wake,
}

/// Whether an address change can move the public address: not loopback, link-local, multicast or
/// unspecified, and not tentative.
#[must_use]
pub fn relevant_address(ip: IpAddr, tentative: bool) -> bool {
    if tentative || ip.is_loopback() || ip.is_multicast() || ip.is_unspecified() {
        return false;
    }
    match ip {
        IpAddr::V4(v4) => !v4.is_link_local(),
        IpAddr::V6(v6) => !v6.is_unicast_link_local(),
    }
}

/// Notices a suspend from inside: between two looks, the wall clock moved further than the monotonic clock
/// (which stops while the machine sleeps on Linux and macOS). A wall clock stepped forward by more than the
/// slack looks the same; checking once more then is harmless.
#[derive(Debug, Clone)]
pub struct SleepDetector {
    wall: SystemTime,
    mono: Instant,
    slack: Duration,
}

impl SleepDetector {
    #[must_use]
    pub fn new(wall: SystemTime, mono: Instant, slack: Duration) -> Self {
        Self { wall, mono, slack }
    }

    /// Takes a new look; true when the machine slept (or the clock jumped ahead) since the last.
    pub fn observe(&mut self, wall: SystemTime, mono: Instant) -> bool {
        let walked = wall.duration_since(self.wall).unwrap_or(Duration::ZERO);
        let ran = mono.saturating_duration_since(self.mono);
        self.wall = wall;
        self.mono = mono;
        walked > ran + self.slack
    }
}

/// How often the fallback looks at the clocks: a minute's sleep costs nothing measurable, and a resume is
/// noticed within a minute even when the OS says nothing.
pub const SLEEP_LOOK_EVERY: Duration = Duration::from_mins(1);

/// Starts watching. Changes arrive on the returned channel until it is dropped; `Err` says why this system
/// cannot be watched (the caller keeps its schedule and says so).
///
/// # Errors
/// Watching is not supported here, or the OS refused (permissions, no netlink in a sandbox).
pub fn watch() -> Result<mpsc::Receiver<Change>, String> {
    let (tx, rx) = mpsc::channel(64);
    os::start(tx.clone())?;
    tokio::spawn(look_for_sleep(tx));
    Ok(rx)
}

/// The clock-jump fallback for a missed resume.
async fn look_for_sleep(tx: mpsc::Sender<Change>) {
    let mut detector =
        SleepDetector::new(SystemTime::now(), Instant::now(), Duration::from_secs(20));
    loop {
        tokio::time::sleep(SLEEP_LOOK_EVERY).await;
        if detector.observe(SystemTime::now(), Instant::now()) {
            tracing::info!("the machine was asleep (the wall clock ran ahead); checking now");
            if tx.send(Change::Wake).await.is_err() {
                return;
            }
        } else if tx.is_closed() {
            return;
        }
    }
}

/// Sends without waiting; a full queue already holds a change that will cause a check.
fn report(tx: &mpsc::Sender<Change>, change: Change) {
    let _ = tx.try_send(change);
}

#[cfg(target_os = "linux")]
mod os {
    //! rtnetlink's address, route and link messages, read here: only their fixed headers and the address
    //! attributes matter, and netlink-packet-route's parser of every message and attribute the kernel has
    //! (traffic control, every kind of link) was 0.2 MB of the static binary. The tests build the messages
    //! with that crate.

    use netlink_sys::{
        AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket, protocols::NETLINK_ROUTE,
    };
    use std::net::IpAddr;
    use tokio::sync::mpsc;

    use super::{Change, report};
    use crate::config::Family;

    // rtnetlink multicast groups (linux/rtnetlink.h).
    const RTMGRP_LINK: u32 = 0x1;
    const RTMGRP_IPV4_IFADDR: u32 = 0x10;
    const RTMGRP_IPV4_ROUTE: u32 = 0x40;
    const RTMGRP_IPV6_IFADDR: u32 = 0x100;
    const RTMGRP_IPV6_ROUTE: u32 = 0x400;
    // Message types (linux/rtnetlink.h).
    const RTM_NEWLINK: u16 = 16;
    const RTM_DELLINK: u16 = 17;
    const RTM_NEWADDR: u16 = 20;
    const RTM_DELADDR: u16 = 21;
    const RTM_NEWROUTE: u16 = 24;
    const RTM_DELROUTE: u16 = 25;
    /// `struct nlmsghdr`: length, type, flags, sequence, port.
    const NLMSG_HDRLEN: usize = 16;
    const AF_INET: u8 = 2;
    const AF_INET6: u8 = 10;
    /// `IFF_LOOPBACK` in `struct ifinfomsg`'s flags (linux/if.h).
    const IFF_LOOPBACK: u32 = 0x8;
    // Address attributes (linux/if_addr.h); the top two bits of a type are flags.
    const IFA_ADDRESS: u16 = 1;
    const IFA_LOCAL: u16 = 2;
    const IFA_FLAGS: u16 = 8;
    const NLA_TYPE_MASK: u16 = 0x3fff;
    /// `IFA_F_TENTATIVE`, in `struct ifaddrmsg`'s flags and in the 32-bit `IFA_FLAGS` attribute.
    const IFA_F_TENTATIVE: u32 = 0x40;
    const RT_TABLE_LOCAL: u8 = 255;
    const RTN_UNICAST: u8 = 1;

    pub fn start(tx: mpsc::Sender<Change>) -> Result<(), String> {
        let mut socket = TokioSocket::new(NETLINK_ROUTE)
            .map_err(|e| format!("cannot open a netlink socket: {e}"))?;
        // Links too: when a link goes down the kernel flushes its IPv4 routes without a route message.
        let groups = RTMGRP_LINK
            | RTMGRP_IPV4_IFADDR
            | RTMGRP_IPV4_ROUTE
            | RTMGRP_IPV6_IFADDR
            | RTMGRP_IPV6_ROUTE;
        socket
            .socket_mut()
            .bind(&SocketAddr::new(0, groups))
            .map_err(|e| format!("cannot subscribe to address and route changes: {e}"))?;
        tokio::spawn(async move {
            loop {
                match socket.recv_from_full().await {
                    Ok((data, _)) => {
                        for change in changes(&data) {
                            report(&tx, change);
                        }
                    }
                    // The kernel dropped messages (ENOBUFS): something changed, we do not know what.
                    Err(e) if e.raw_os_error() == Some(105) => {
                        report(&tx, Change::Network(Family::V4));
                        report(&tx, Change::Network(Family::V6));
                    }
                    Err(e) => {
                        tracing::warn!("network change events stopped: {e}");
                        return;
                    }
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(())
    }

    fn u16_at(data: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_ne_bytes(data.get(at..at + 2)?.try_into().ok()?))
    }

    fn u32_at(data: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(data.get(at..at + 4)?.try_into().ok()?))
    }

    /// The relevant changes in one datagram (which may hold several messages, each 4-byte aligned). A
    /// message whose length does not fit ends the reading; one too short for its header is skipped.
    pub fn changes(mut data: &[u8]) -> Vec<Change> {
        let mut out = Vec::new();
        while let Some(len) = u32_at(data, 0) {
            let len = usize::try_from(len).unwrap_or(usize::MAX);
            let (Some(kind), Some(body)) = (u16_at(data, 4), data.get(NLMSG_HDRLEN..len)) else {
                break;
            };
            match kind {
                // A link up or down (not loopback) can change either family's routes. `struct
                // ifinfomsg`: family, pad, type (u16), index (i32), flags (u32), change (u32).
                RTM_NEWLINK | RTM_DELLINK
                    if u32_at(body, 8).is_some_and(|flags| flags & IFF_LOOPBACK == 0) =>
                {
                    out.push(Change::Network(Family::V4));
                    out.push(Change::Network(Family::V6));
                }
                RTM_NEWADDR | RTM_DELADDR => out.extend(address(body)),
                RTM_NEWROUTE | RTM_DELROUTE => out.extend(route(body)),
                _ => {}
            }
            data = data.get(len.next_multiple_of(4)..).unwrap_or_default();
        }
        out
    }

    fn family_of(family: u8) -> Option<Family> {
        match family {
            AF_INET => Some(Family::V4),
            AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }

    /// The attributes after a message's fixed header: (type, value); a malformed one ends the list.
    fn attributes(mut data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
        std::iter::from_fn(move || {
            let len = usize::from(u16_at(data, 0)?);
            let kind = u16_at(data, 2)? & NLA_TYPE_MASK;
            let value = data.get(4..len)?;
            data = data.get(len.next_multiple_of(4)..).unwrap_or_default();
            Some((kind, value))
        })
    }

    fn ip_of(value: &[u8]) -> Option<IpAddr> {
        match value.len() {
            4 => <[u8; 4]>::try_from(value).ok().map(IpAddr::from),
            16 => <[u8; 16]>::try_from(value).ok().map(IpAddr::from),
            _ => None,
        }
    }

    /// `struct ifaddrmsg`: family, prefix length, flags (u8), scope, index (u32); then attributes. The
    /// local address names the interface's own one (on point-to-point links `IFA_ADDRESS` is the peer's).
    fn address(body: &[u8]) -> Option<Change> {
        let family = family_of(*body.first()?)?;
        let mut tentative = u32::from(*body.get(2)?) & IFA_F_TENTATIVE != 0;
        let (mut local, mut address) = (None, None);
        for (kind, value) in attributes(body.get(8..)?) {
            match kind {
                IFA_FLAGS => tentative |= u32_at(value, 0).unwrap_or(0) & IFA_F_TENTATIVE != 0,
                IFA_LOCAL => local = ip_of(value).or(local),
                IFA_ADDRESS => address = address.or(ip_of(value)),
                _ => {}
            }
        }
        super::relevant_address(local.or(address)?, tentative).then_some(Change::Network(family))
    }

    /// `struct rtmsg`: family, destination length, source length, tos, table, protocol, scope, type (u8
    /// each), flags (u32). A default route of a main or other table, not the local one.
    fn route(body: &[u8]) -> Option<Change> {
        let header = body.get(..12)?;
        let family = family_of(header[0])?;
        let default = header[1] == 0 && header[4] != RT_TABLE_LOCAL && header[7] == RTN_UNICAST;
        default.then_some(Change::Network(family))
    }
}

#[cfg(windows)]
mod os {
    //! `NotifyUnicastIpAddressChange` and `NotifyRouteChange2` call back on a system thread with the changed
    //! row; the callbacks only filter and forward. The registrations live as long as the process.
    #![allow(unsafe_code)]

    use std::ffi::c_void;
    use std::sync::OnceLock;

    use tokio::sync::mpsc;
    use windows_sys::Win32::Foundation::HANDLE;
    use windows_sys::Win32::NetworkManagement::IpHelper::{
        MIB_IPFORWARD_ROW2, MIB_NOTIFICATION_TYPE, MIB_UNICASTIPADDRESS_ROW, NotifyRouteChange2,
        NotifyUnicastIpAddressChange,
    };
    use windows_sys::Win32::Networking::WinSock::{AF_INET, AF_INET6, AF_UNSPEC, SOCKADDR_INET};

    use super::{Change, report};
    use crate::config::Family;

    static SENDER: OnceLock<mpsc::Sender<Change>> = OnceLock::new();
    /// `IpDadStateTentative`.
    const DAD_TENTATIVE: i32 = 1;

    fn family(sa: &SOCKADDR_INET) -> Option<(Family, std::net::IpAddr)> {
        // SAFETY: si_family says which member of the union is set.
        unsafe {
            match sa.si_family {
                AF_INET => Some((
                    Family::V4,
                    std::net::Ipv4Addr::from(u32::from_be(sa.Ipv4.sin_addr.S_un.S_addr)).into(),
                )),
                AF_INET6 => Some((
                    Family::V6,
                    std::net::Ipv6Addr::from(sa.Ipv6.sin6_addr.u.Byte).into(),
                )),
                _ => None,
            }
        }
    }

    unsafe extern "system" fn on_address(
        _context: *const c_void,
        row: *const MIB_UNICASTIPADDRESS_ROW,
        _kind: MIB_NOTIFICATION_TYPE,
    ) {
        let Some(tx) = SENDER.get() else { return };
        // SAFETY: Windows passes a valid row (or null for the initial notification, not requested).
        let Some(row) = (unsafe { row.as_ref() }) else {
            return;
        };
        if let Some((fam, ip)) = family(&row.Address)
            && super::relevant_address(ip, row.DadState == DAD_TENTATIVE)
        {
            report(tx, Change::Network(fam));
        }
    }

    unsafe extern "system" fn on_route(
        _context: *const c_void,
        row: *const MIB_IPFORWARD_ROW2,
        _kind: MIB_NOTIFICATION_TYPE,
    ) {
        let Some(tx) = SENDER.get() else { return };
        // SAFETY: as above.
        let Some(row) = (unsafe { row.as_ref() }) else {
            return;
        };
        if row.DestinationPrefix.PrefixLength == 0
            && let Some((fam, _)) = family(&row.DestinationPrefix.Prefix)
        {
            report(tx, Change::Network(fam));
        }
    }

    pub fn start(tx: mpsc::Sender<Change>) -> Result<(), String> {
        if SENDER.set(tx).is_err() {
            return Ok(()); // registered once per process
        }
        let mut address: HANDLE = std::ptr::null_mut();
        let mut route: HANDLE = std::ptr::null_mut();
        // SAFETY: the callbacks are 'static functions; the handles are kept for the process's life.
        let a = unsafe {
            NotifyUnicastIpAddressChange(
                AF_UNSPEC,
                Some(on_address),
                std::ptr::null(),
                0,
                &raw mut address,
            )
        };
        if a != 0 {
            return Err(format!(
                "NotifyUnicastIpAddressChange failed: {}",
                std::io::Error::from_raw_os_error(a.cast_signed())
            ));
        }
        // SAFETY: as above.
        let r = unsafe {
            NotifyRouteChange2(
                AF_UNSPEC,
                Some(on_route),
                std::ptr::null(),
                0,
                &raw mut route,
            )
        };
        if r != 0 {
            tracing::warn!(
                "route change events unavailable ({}); address changes still count",
                std::io::Error::from_raw_os_error(r.cast_signed())
            );
        }
        register_resume();
        Ok(())
    }

    /// `PBT_APMRESUMEAUTOMATIC` and `PBT_APMRESUMESUSPEND`.
    const RESUMED: [u32; 2] = [18, 7];
    /// `DEVICE_NOTIFY_CALLBACK`.
    const DEVICE_NOTIFY_CALLBACK: u32 = 2;

    unsafe extern "system" fn on_power(
        _context: *const c_void,
        kind: u32,
        _setting: *const c_void,
    ) -> u32 {
        if RESUMED.contains(&kind)
            && let Some(tx) = SENDER.get()
        {
            report(tx, Change::Wake);
        }
        0
    }

    /// Wake from sleep, from the power manager (services and apps alike, no window needed).
    fn register_resume() {
        use windows_sys::Win32::System::Power::{
            DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS, PowerRegisterSuspendResumeNotification,
        };
        // Lives for the process: the power manager keeps the pointer.
        let params = Box::leak(Box::new(DEVICE_NOTIFY_SUBSCRIBE_PARAMETERS {
            Callback: Some(on_power),
            Context: std::ptr::null_mut(),
        }));
        let mut registration: *mut c_void = std::ptr::null_mut();
        // SAFETY: `params` is 'static; the registration handle is kept for the process's life.
        let e = unsafe {
            PowerRegisterSuspendResumeNotification(
                DEVICE_NOTIFY_CALLBACK,
                std::ptr::from_mut(params).cast(),
                &raw mut registration,
            )
        };
        if e != 0 {
            tracing::info!(
                "no resume notifications ({}); a resume is noticed by the clock instead",
                std::io::Error::from_raw_os_error(e.cast_signed())
            );
        }
    }
}

#[cfg(target_os = "macos")]
mod os {
    //! The routing socket reports address (`RTM_NEWADDR` / `RTM_DELADDR`) and route (`RTM_ADD` /
    //! `RTM_DELETE` / `RTM_CHANGE`) changes; the message header says which. Both families are checked.
    #![allow(unsafe_code)]

    use std::os::fd::{FromRawFd as _, OwnedFd};

    use tokio::io::unix::AsyncFd;
    use tokio::sync::mpsc;

    use super::{Change, report};
    use crate::config::Family;

    const RTM_ADD: u8 = 0x1;
    const RTM_DELETE: u8 = 0x2;
    const RTM_CHANGE: u8 = 0x3;
    const RTM_NEWADDR: u8 = 0xc;
    const RTM_DELADDR: u8 = 0xd;

    pub fn start(tx: mpsc::Sender<Change>) -> Result<(), String> {
        // SAFETY: plain socket(2); the descriptor is owned below.
        let fd = unsafe { libc::socket(libc::PF_ROUTE, libc::SOCK_RAW, libc::AF_UNSPEC) };
        if fd < 0 {
            return Err(format!(
                "cannot open the routing socket: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: fcntl on our descriptor.
        unsafe {
            let flags = libc::fcntl(fd, libc::F_GETFL);
            libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
        }
        // SAFETY: `owned` is a descriptor we own and hand over; nothing else closes or registers it.
        let afd = unsafe { AsyncFd::register(owned) }.map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok(mut guard) = afd.readable().await else {
                    return;
                };
                // SAFETY: reading into our buffer.
                let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
                let Ok(n) = usize::try_from(n) else {
                    guard.clear_ready();
                    continue;
                };
                let msg = &buf[..n];
                // rt_msghdr / ifa_msghdr: u16 length, u8 version, u8 type, ...
                let Some(&kind) = msg.get(3) else { continue };
                if matches!(
                    kind,
                    RTM_ADD | RTM_DELETE | RTM_CHANGE | RTM_NEWADDR | RTM_DELADDR
                ) {
                    // The family is not worth the parsing: check both.
                    report(&tx, Change::Network(Family::V4));
                    report(&tx, Change::Network(Family::V6));
                }
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(())
    }
}

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
mod os {
    pub fn start(_tx: tokio::sync::mpsc::Sender<super::Change>) -> Result<(), String> {
        Err("network change events are not supported on this system".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_that_can_be_public_count() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(relevant_address(ip("198.51.100.7"), false));
        assert!(
            relevant_address(ip("10.0.0.2"), false),
            "a private LAN address can front a public one"
        );
        assert!(relevant_address(ip("2001:db8::5"), false));
        assert!(
            !relevant_address(ip("2001:db8::5"), true),
            "tentative (DAD running)"
        );
        assert!(!relevant_address(ip("127.0.0.1"), false));
        assert!(!relevant_address(ip("::1"), false));
        assert!(!relevant_address(ip("169.254.3.4"), false));
        assert!(!relevant_address(ip("fe80::1"), false));
        assert!(!relevant_address(ip("ff02::1"), false));
    }

    #[test]
    fn a_suspend_is_the_wall_clock_running_ahead() {
        let s = Duration::from_secs;
        let wall = SystemTime::UNIX_EPOCH + s(1_800_000_000);
        let mono = Instant::now();
        let mut d = SleepDetector::new(wall, mono, s(20));
        // Awake: both clocks move together (a little drift is not a suspend).
        assert!(!d.observe(wall + s(60), mono + s(60)));
        assert!(!d.observe(wall + s(125), mono + s(120)));
        // Suspended for an hour: the monotonic clock moved a minute, the wall clock an hour.
        assert!(d.observe(wall + s(3725), mono + s(180)));
        // A wall clock stepped back is no suspend.
        assert!(!d.observe(wall, mono + s(240)));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn netlink_messages_are_filtered() {
        use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NetlinkPayload};
        use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
        use netlink_packet_route::route::{RouteMessage, RouteType};
        use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

        fn bytes(m: RouteNetlinkMessage) -> Vec<u8> {
            let mut msg =
                NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(m));
            msg.finalize();
            let mut buf = vec![0; msg.buffer_len()];
            msg.serialize(&mut buf);
            buf
        }
        let addr = |ip: &str, scope| {
            let mut a = AddressMessage::default();
            let ip: IpAddr = ip.parse().unwrap();
            a.header.family = if ip.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            };
            a.header.scope = scope;
            a.attributes.push(AddressAttribute::Address(ip));
            RouteNetlinkMessage::NewAddress(a)
        };
        let mut data = bytes(addr("198.51.100.7", AddressScope::Universe));
        data.extend(bytes(addr("127.0.0.1", AddressScope::Host)));
        data.extend(bytes(addr("fe80::1", AddressScope::Link)));
        data.extend(bytes(addr("2001:db8::1", AddressScope::Universe)));
        let mut default = RouteMessage::default();
        default.header.address_family = AddressFamily::Inet6;
        default.header.table = 254;
        default.header.kind = RouteType::Unicast;
        data.extend(bytes(RouteNetlinkMessage::DelRoute(default.clone())));
        let mut host = default.clone();
        host.header.destination_prefix_length = 128;
        data.extend(bytes(RouteNetlinkMessage::NewRoute(host)));
        // A link going down (its IPv4 routes are flushed without a route message): both families; the
        // loopback link: nothing.
        let mut link = netlink_packet_route::link::LinkMessage::default();
        link.header.index = 3;
        data.extend(bytes(RouteNetlinkMessage::NewLink(link.clone())));
        link.header.flags = netlink_packet_route::link::LinkFlags::Loopback;
        data.extend(bytes(RouteNetlinkMessage::NewLink(link)));
        assert_eq!(
            os::changes(&data),
            [
                Change::Network(Family::V4),
                Change::Network(Family::V6),
                Change::Network(Family::V6),
                Change::Network(Family::V4),
                Change::Network(Family::V6),
            ]
        );
        assert!(os::changes(&[1, 2, 3]).is_empty(), "garbage is ignored");

        // A point-to-point link's address: IFA_LOCAL is ours, IFA_ADDRESS the peer's (here a private
        // one, which alone would be no change); a tentative address is not there yet.
        let mut ppp = AddressMessage::default();
        ppp.header.family = AddressFamily::Inet;
        ppp.attributes
            .push(AddressAttribute::Address("10.64.0.1".parse().unwrap()));
        ppp.attributes
            .push(AddressAttribute::Local("198.51.100.9".parse().unwrap()));
        assert_eq!(
            os::changes(&bytes(RouteNetlinkMessage::NewAddress(ppp.clone()))),
            [Change::Network(Family::V4)]
        );
        ppp.attributes.push(AddressAttribute::Flags(
            netlink_packet_route::address::AddressFlags::Tentative,
        ));
        assert!(os::changes(&bytes(RouteNetlinkMessage::NewAddress(ppp))).is_empty());

        // Lengths that do not fit: a zero length, one past the datagram, a truncated attribute. Nothing
        // is read past the end and the reading ends.
        let good = bytes(addr("198.51.100.7", AddressScope::Universe));
        let mut zero = good.clone();
        zero[..4].copy_from_slice(&0u32.to_ne_bytes());
        assert!(os::changes(&zero).is_empty());
        assert!(os::changes(&good[..good.len() - 1]).is_empty());
        let mut cut = good.clone();
        let attr_len = 16 + 8;
        cut[attr_len..attr_len + 2].copy_from_slice(&200u16.to_ne_bytes());
        assert!(
            os::changes(&cut).is_empty(),
            "an attribute longer than its message is not read"
        );
    }
}
