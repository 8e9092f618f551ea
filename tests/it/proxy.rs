//! Proxies (`proxy = …`), through the real binary: provider calls go through a real HTTP proxy (tinyproxy,
//! seen in its log) and a SOCKS5 proxy with username/password authentication (RFC 1928/1929, a small one
//! written here), detection never does, and a proxy that refuses its credentials is named as the one that
//! refused.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::support::{Case, FakeHttp, free_port};

/// tinyproxy on loopback with Basic credentials; `None` (skipped) where it is not installed, outside CI.
struct Tinyproxy {
    port: u16,
    log: std::path::PathBuf,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn tinyproxy() -> Option<Tinyproxy> {
    let Some(bin) = ["/usr/bin/tinyproxy", "/usr/sbin/tinyproxy"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must have tinyproxy (scripts/test.sh installs it)"
        );
        eprintln!("skipping: tinyproxy is not installed");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let log = dir.path().join("tinyproxy.log");
    let conf = dir.path().join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogLevel Info\nLogFile \"{}\"\nPidFile \"{}\"\nMaxClients 20\nAllow 127.0.0.1\nBasicAuth proxyuser proxy-pass-7\nDisableViaHeader Yes\n",
            log.display(),
            dir.path().join("pid").display()
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(bin)
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(Tinyproxy {
                port,
                log,
                child,
                _dir: dir,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("tinyproxy did not start");
}

/// A SOCKS5 proxy on loopback that takes only username/password authentication and CONNECT to IPv4
/// addresses, and records where each connection went.
struct Socks5 {
    port: u16,
    connects: Arc<Mutex<Vec<String>>>,
}

async fn socks5(user: &'static str, pass: &'static str) -> Socks5 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connects = Arc::new(Mutex::new(Vec::new()));
    let seen = connects.clone();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(Duration::from_secs(30), async {
                    // Greeting: version 5, methods; only 0x02 (username/password) is offered back.
                    let mut head = [0u8; 2];
                    c.read_exact(&mut head).await?;
                    let mut methods = vec![0u8; usize::from(head[1])];
                    c.read_exact(&mut methods).await?;
                    if !methods.contains(&2) {
                        c.write_all(&[5, 0xff]).await?;
                        return Ok::<(), std::io::Error>(());
                    }
                    c.write_all(&[5, 2]).await?;
                    // RFC 1929: version 1, ulen, user, plen, pass.
                    let mut v = [0u8; 2];
                    c.read_exact(&mut v).await?;
                    let mut u = vec![0u8; usize::from(v[1])];
                    c.read_exact(&mut u).await?;
                    let mut pl = [0u8; 1];
                    c.read_exact(&mut pl).await?;
                    let mut p = vec![0u8; usize::from(pl[0])];
                    c.read_exact(&mut p).await?;
                    if u != user.as_bytes() || p != pass.as_bytes() {
                        c.write_all(&[1, 1]).await?;
                        return Ok(());
                    }
                    c.write_all(&[1, 0]).await?;
                    // CONNECT to an IPv4 address.
                    let mut req = [0u8; 10];
                    c.read_exact(&mut req).await?;
                    if req[1] != 1 || req[3] != 1 {
                        c.write_all(&[5, 7, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
                        return Ok(());
                    }
                    let ip = std::net::Ipv4Addr::new(req[4], req[5], req[6], req[7]);
                    let dport = u16::from_be_bytes([req[8], req[9]]);
                    seen.lock().unwrap().push(format!("{ip}:{dport}"));
                    let mut up = tokio::net::TcpStream::connect((ip, dport)).await?;
                    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0]).await?;
                    tokio::io::copy_bidirectional(&mut c, &mut up).await?;
                    Ok(())
                })
                .await;
            });
        }
    });
    Socks5 { port, connects }
}

/// Runs `cmd` off the runtime's thread (the fakes answer on it).
async fn run(mut cmd: std::process::Command) -> crate::support::Run {
    crate::support::Run::from(
        tokio::task::spawn_blocking(move || cmd.output().unwrap())
            .await
            .unwrap(),
    )
}

fn config(proxy: &str, echo: &str, hook: &str) -> String {
    format!(
        "{proxy}\n[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n"
    )
}

/// Issue 21: provider calls go through the configured HTTP proxy (seen in its log), detection goes direct
/// (a detection through a proxy would publish the proxy's address), and a proxy that refuses its
/// credentials is said to be the one refusing.
#[tokio::test]
async fn provider_calls_go_through_an_http_proxy_and_detection_does_not() {
    let Some(proxy) = tinyproxy().await else {
        return;
    };
    let echo = FakeHttp::text("198.51.100.40").await;
    let hook = FakeHttp::text("ok").await;
    let line = format!(
        "proxy = {{ url = \"http://127.0.0.1:{}\", username = \"proxyuser\", password = {{ env = \"TEST_PROXY_PASSWORD\" }} }}",
        proxy.port
    );
    let case = Case::new(&config(&line, &echo.url("/ip"), &hook.url("/u?ip={ip}")));
    let mut cmd = case.command(&["once"]);
    cmd.env("TEST_PROXY_PASSWORD", "proxy-pass-7");
    let out = run(cmd).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.requests().len(), 1);
    let log = std::fs::read_to_string(&proxy.log).unwrap();
    assert!(
        log.contains(&format!(
            "GET http://127.0.0.1:{}/u?ip=198.51.100.40",
            hook.port
        )),
        "the provider call went through the proxy: {log}"
    );
    assert!(
        !log.contains(&format!("127.0.0.1:{}/ip", echo.port)),
        "detection went direct: {log}"
    );
    assert!(!out.stdout.contains("proxy-pass-7") && !out.stderr.contains("proxy-pass-7"));

    // Wrong credentials, to an https API (a CONNECT tunnel, as every real provider is reached): the error
    // names the proxy, not the provider, as the one that refused.
    let case = Case::new(&config(
        &line,
        &echo.url("/ip"),
        &format!("https://127.0.0.1:{}/u?ip={{ip}}", hook.port),
    ));
    let mut cmd = case.command(&["once"]);
    cmd.env("TEST_PROXY_PASSWORD", "wrong");
    let out = run(cmd).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("the proxy refused the connection"),
        "{out:?}"
    );
    assert!(!out.stdout.contains("credentials refused (HTTP"), "{out:?}");
}

/// Issue 21: the same through SOCKS5 with username and password, and `proxy = "none"` goes direct.
#[tokio::test]
async fn provider_calls_go_through_a_socks5_proxy() {
    let proxy = socks5("me", "socks-pass-9").await;
    let echo = FakeHttp::text("198.51.100.41").await;
    let hook = FakeHttp::text("ok").await;
    let line = |pass: &str| {
        format!(
            "proxy = {{ url = \"socks5://127.0.0.1:{}\", username = \"me\", password = \"{pass}\" }}",
            proxy.port
        )
    };
    let case = Case::new(&config(
        &line("socks-pass-9"),
        &echo.url("/"),
        &hook.url("/u?ip={ip}"),
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(hook.requests().len(), 1);
    assert_eq!(
        *proxy.connects.lock().unwrap(),
        [format!("127.0.0.1:{}", hook.port)],
        "only the provider call went through the proxy"
    );

    let case = Case::new(&config(
        &line("wrong"),
        &echo.url("/"),
        &hook.url("/u?ip={ip}"),
    ));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout.contains("the proxy refused the connection"),
        "{out:?}"
    );
    assert_eq!(hook.requests().len(), 1);

    let case = Case::new(&config(
        "proxy = \"none\"",
        &echo.url("/"),
        &hook.url("/u?ip={ip}"),
    ));
    let mut cmd = case.command(&["once"]);
    cmd.env("HTTP_PROXY", format!("http://127.0.0.1:{}", free_port()))
        .env("http_proxy", format!("http://127.0.0.1:{}", free_port()));
    let out = run(cmd).await;
    assert_eq!(
        out.code, 0,
        "proxy = \"none\" ignores the environment's proxy: {out:?}"
    );
    assert_eq!(hook.requests().len(), 2);
}

/// Proxy settings that cannot work are refused at load, each with the fix.
#[tokio::test]
async fn bad_proxy_settings_are_named_with_a_fix() {
    for (proxy, words) in [
        (
            "proxy = \"ftp://127.0.0.1:21\"",
            "`ftp` proxies are not supported",
        ),
        ("proxy = \"127.0.0.1:3128\"", "is not a proxy URL"),
        (
            "proxy = \"http://me:s3cret@127.0.0.1:3128\"",
            "has a password in its URL",
        ),
    ] {
        let case = Case::new(&config(
            proxy,
            "http://127.0.0.1:9/",
            "http://127.0.0.1:9/u",
        ));
        let out = case.run(&["check"]).await;
        assert_eq!(out.code, 2, "{proxy}: {out:?}");
        assert!(
            out.stdout.contains("proxy: ") && out.stdout.contains(words),
            "{proxy}: {out:?}"
        );
        assert!(!out.stdout.contains("s3cret"), "{out:?}");
    }
}

/// Issue 21: a proxy per provider, notifier and source. A provider's or notifier's own `proxy` wins over
/// the top-level one (here one nothing answers at); a source goes through a proxy only with
/// `allow_proxy = true`, and without it the config is refused with the reason.
#[tokio::test]
async fn each_provider_notifier_and_source_can_have_its_own_proxy() {
    let proxy = socks5("me", "socks-pass-9").await;
    let echo = FakeHttp::text("198.51.100.42").await;
    let hook = FakeHttp::text("ok").await;
    let alerts = FakeHttp::text("ok").await;
    let own = format!(
        "proxy = {{ url = \"socks5://127.0.0.1:{}\", username = \"me\", password = \"socks-pass-9\" }}",
        proxy.port
    );
    let dead = format!("proxy = \"http://127.0.0.1:{}\"", free_port());
    let text = |source_extra: &str| {
        format!(
            "{dead}\n[detect]\nipv4 = [ {{ kind = \"http\", url = \"{echo}\", allow_private = true{source_extra} }} ]\n[[provider]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"{hook}\"\n{own}\n[[notify]]\nname = \"wh\"\nkind = \"webhook\"\nurl = \"{alert}\"\n{own}\n[[record]]\nname = \"home.example.test\"\nprovider = \"hook\"\n",
            echo = echo.url("/"),
            hook = hook.url("/u?ip={ip}"),
            alert = alerts.url("/a"),
        )
    };
    let case = Case::new(&text(""));
    let out = case.run(&["once"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        hook.requests().len(),
        1,
        "the provider's own proxy, not the dead top-level one"
    );
    // The record's first publication is an alert, through the notifier's proxy too.
    assert_eq!(alerts.requests().len(), 1);
    let out = case.run(&["notify", "test"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(alerts.requests().len(), 2);
    let through: Vec<String> = proxy.connects.lock().unwrap().clone();
    assert_eq!(
        through,
        [
            format!("127.0.0.1:{}", hook.port),
            format!("127.0.0.1:{}", alerts.port),
            format!("127.0.0.1:{}", alerts.port)
        ],
        "provider and notifier through their proxy, detection direct"
    );

    // A source with a proxy: refused unless allowed, with the reason.
    let inline = format!(
        ", proxy = {{ url = \"socks5://127.0.0.1:{}\", username = \"me\", password = \"socks-pass-9\" }}",
        proxy.port
    );
    let case = Case::new(&text(&inline));
    let out = case.run(&["check"]).await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stdout.contains("detect.ipv4[0].proxy")
            && out.stdout.contains("sees the proxy's address"),
        "{out:?}"
    );
    let case = Case::new(&text(&format!("{inline}, allow_proxy = true")));
    let out = case.run(&["detect"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        proxy
            .connects
            .lock()
            .unwrap()
            .contains(&format!("127.0.0.1:{}", echo.port)),
        "the allowed source went through the proxy"
    );
}
