//! Every HTTP provider against a loopback server that answers whatever the fuzzer says: the first byte picks
//! the provider, the second the HTTP status, the third the record type; the rest is the answer bodies
//! (separated by `\n--\n`, one per request, the last repeated). An update must end in an outcome or a
//! classified error — never a panic — and a failure's message must not carry a secret.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "fuzz-s3cret-value-42";
const STATUSES: [u16; 12] = [200, 201, 204, 400, 401, 403, 404, 409, 422, 429, 500, 503];

struct Server {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    /// (status, bodies) for the current input; the request counter picks the body.
    reply: &'static Mutex<(u16, Vec<Vec<u8>>, usize)>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    static REPLY: Mutex<(u16, Vec<Vec<u8>>, usize)> = Mutex::new((200, Vec::new(), 0));
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let mut got = 0;
                    // Read the head and a body of the announced length (bounded).
                    loop {
                        let Ok(n) = stream.read(&mut buf[got..]).await else { return };
                        if n == 0 {
                            return;
                        }
                        got += n;
                        let text = String::from_utf8_lossy(&buf[..got]).to_ascii_lowercase();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if got >= end + 4 + len || got == buf.len() {
                                break;
                            }
                        }
                    }
                    let (status, body) = {
                        let mut r = REPLY.lock().unwrap();
                        let i = r.2;
                        r.2 += 1;
                        let body = r.1.get(i).or(r.1.last()).cloned().unwrap_or_default();
                        (r.0, body)
                    };
                    let head = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = stream.write_all(head.as_bytes()).await;
                    let _ = stream.write_all(&body).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        Server {
            runtime,
            addr,
            reply: &REPLY,
        }
    })
}

/// Every provider kind that speaks HTTP, from the kind table: its example entry with its API pointed at the
/// fake (and the secret the answers may echo), and the record name to update.
fn kind_config(kind: u8, url: &str) -> (String, String, &'static ddns_tray::provider::KindInfo) {
    let http: Vec<&'static ddns_tray::provider::KindInfo> = ddns_tray::provider::KINDS
        .iter()
        .filter(|k| !k.api.is_empty())
        .collect();
    let k = http[usize::from(kind) % http.len()];
    let example = k.example.replace("-secret-value", SECRET).replace("-token-value", SECRET);
    let text = format!("kind = \"{}\"\n{} = \"{url}\"\n{example}", k.kind, k.api);
    let name = if k.example_record.is_empty() {
        "home.example.com".to_owned()
    } else {
        k.example_record.to_owned()
    };
    (text, name, k)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let [kind, status, rtype, rest @ ..] = data else {
        return;
    };
    let server = server();
    let bodies: Vec<Vec<u8>> = {
        let mut out = Vec::new();
        let mut rest = rest;
        while let Some(i) = rest.windows(4).position(|w| w == b"\n--\n") {
            out.push(rest[..i].to_vec());
            rest = &rest[i + 4..];
        }
        out.push(rest.to_vec());
        out
    };
    *server.reply.lock().unwrap() = (STATUSES[usize::from(*status) % STATUSES.len()], bodies, 0);
    let url = format!("http://{}", server.addr);
    let (text, name, info) = kind_config(*kind, &url);
    let text = format!("[[provider]]\nname = \"p\"\n{text}\n");
    let Ok((_, settings)) = ddns_tray::settings::load_str(&text, &|_: &str| None) else {
        panic!("the fuzz config for kind {kind} is invalid:\n{text}");
    };
    let provider = ddns_tray::provider::build(&settings.providers[0]);
    let record_type = ddns_tray::fuzzing::record_type(*rtype);
    // Namecheap updates A records only (refused at load otherwise); keep to what each kind supports.
    let record_type = if info.kind == "namecheap" { ddns_tray::config::RecordType::A } else { record_type };
    let addr: std::net::IpAddr = match record_type {
        ddns_tray::config::RecordType::A => "198.51.100.7".parse().unwrap(),
        ddns_tray::config::RecordType::Aaaa => "2001:db8::7".parse().unwrap(),
    };
    let result = server.runtime.block_on(async {
        provider.begin_round();
        tokio::time::timeout(
            Duration::from_millis(500),
            provider.update(&ddns_tray::provider::UpdateRequest {
                name: &name,
                record_type,
                addrs: &[addr],
                ttl: None,
                line: None,
                record_id: None,
                previous: None,
            }),
        )
        .await
    });
    if let Ok(Err(e)) = result {
        assert!(!e.message.contains(SECRET), "secret in {e:?}");
    }
});
