//! DNS on the wire: one message to one server over UDP, retried over TCP when the answer is truncated.
//! Shared by the `dns` IP source and the `rfc2136` provider; both take the server from config so tests point
//! them at loopback.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub use crate::config::check::{ServerAddr, parse_server};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Why an exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot resolve {0}")]
    Resolve(String),
    #[error("no answer from {0} within {1:?}")]
    Timeout(String, Duration),
    #[error("network error talking to {0}: {1}")]
    Io(String, std::io::Error),
    #[error("malformed answer from {0}: {1}")]
    Malformed(String, String),
}

impl WireError {
    /// True when the request may have reached the server (its effect is unknown).
    #[must_use]
    pub fn maybe_delivered(&self) -> bool {
        matches!(self, Self::Timeout(..) | Self::Malformed(..))
    }
}

/// Resolves the server to one socket address.
pub async fn resolve(server: &ServerAddr) -> Result<SocketAddr, WireError> {
    if let Ok(ip) = server.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, server.port));
    }
    tokio::net::lookup_host((server.host.as_str(), server.port))
        .await
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| WireError::Resolve(server.to_string()))
}

/// Sends `request` (a complete DNS message whose id is `id`) and returns the raw answer with the same id.
/// UDP first; a truncated answer (TC bit) is retried over TCP. The whole exchange is bounded by `timeout`.
pub async fn exchange(
    addr: SocketAddr,
    request: &[u8],
    id: u16,
    timeout: Duration,
) -> Result<Vec<u8>, WireError> {
    exchange_from(addr, request, id, timeout, &Local::default()).await
}

/// Where a query's sockets are bound: a local address, and (Linux) a device (`SO_BINDTODEVICE`).
#[derive(Debug, Clone, Default)]
pub struct Local {
    pub ip: Option<std::net::IpAddr>,
    pub device: Option<String>,
}

/// [`exchange`] from a bound socket (detection through a `[[line]]`).
pub async fn exchange_from(
    addr: SocketAddr,
    request: &[u8],
    id: u16,
    timeout: Duration,
    local: &Local,
) -> Result<Vec<u8>, WireError> {
    let peer = addr.to_string();
    tokio::time::timeout(timeout, async {
        let answer = udp(addr, request, id, local)
            .await
            .map_err(|e| WireError::Io(peer.clone(), e))?;
        if answer.len() >= 3 && answer[2] & 0x02 != 0 {
            return tcp(addr, request, id, local)
                .await
                .map_err(|e| WireError::Io(peer.clone(), e));
        }
        Ok(answer)
    })
    .await
    .map_err(|_| WireError::Timeout(peer.clone(), timeout))?
}

fn local_addr(addr: SocketAddr, local: &Local) -> SocketAddr {
    match local.ip {
        Some(ip) => (ip, 0).into(),
        None if addr.is_ipv4() => (Ipv4Addr::UNSPECIFIED, 0).into(),
        None => (Ipv6Addr::UNSPECIFIED, 0).into(),
    }
}

async fn udp(addr: SocketAddr, request: &[u8], id: u16, local: &Local) -> std::io::Result<Vec<u8>> {
    let socket = UdpSocket::bind(local_addr(addr, local)).await?;
    #[cfg(target_os = "linux")]
    if let Some(device) = &local.device {
        socket.bind_device(Some(device.as_bytes()))?;
    }
    socket.connect(addr).await?;
    socket.send(request).await?;
    let mut buf = vec![0u8; 65535];
    loop {
        let n = socket.recv(&mut buf).await?;
        // Answers with another id are stray or spoofed: keep waiting for ours.
        if n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            buf.truncate(n);
            return Ok(buf);
        }
    }
}

async fn tcp(addr: SocketAddr, request: &[u8], id: u16, local: &Local) -> std::io::Result<Vec<u8>> {
    let mut stream = if local.ip.is_none() && local.device.is_none() {
        TcpStream::connect(addr).await?
    } else {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        #[cfg(target_os = "linux")]
        if let Some(device) = &local.device {
            socket.bind_device(Some(device.as_bytes()))?;
        }
        socket.bind(local_addr(addr, local))?;
        socket.connect(addr).await?
    };
    let len =
        u16::try_from(request.len()).map_err(|_| std::io::Error::other("request too large"))?;
    let mut framed = Vec::with_capacity(request.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(request);
    stream.write_all(&framed).await?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await?;
    if buf.len() < 12 || u16::from_be_bytes([buf[0], buf[1]]) != id {
        return Err(std::io::Error::other(
            "answer id does not match the request",
        ));
    }
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_addresses() {
        let ok = [
            ("127.0.0.1:5353", "127.0.0.1", 5353),
            ("127.0.0.1", "127.0.0.1", 53),
            ("[::1]:5300", "::1", 5300),
            ("::1", "::1", 53),
            ("ns1.example.com:53", "ns1.example.com", 53),
            ("ns1.example.com", "ns1.example.com", 53),
        ];
        for (text, host, port) in ok {
            assert_eq!(
                parse_server(text),
                Ok(ServerAddr {
                    host: host.into(),
                    port
                }),
                "{text}"
            );
        }
        for bad in ["", "host:notaport", "127.0.0.1:0", "bad host:53", "a:99999"] {
            assert!(parse_server(bad).is_err(), "{bad}");
        }
    }
}
