use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::client::*;
use super::server::*;
use super::*;
use crate::engine::{Command, Status};

fn control() -> (Control, mpsc::Receiver<Command>, watch::Sender<Status>) {
    let (tx, rx) = mpsc::channel(8);
    let (status_tx, status) = watch::channel(Status::default());
    let control = Control {
        status,
        commands: tx,
        reload: Arc::new(|| Err("the file is gone".into())),
        events: None,
        backend: None,
    };
    (control, rx, status_tx)
}

/// Watchers that speak protocol 2 get the engine's events after the status; a client from before versions
/// (no `version` in its line) gets the status only, as it always did.
#[tokio::test]
async fn events_reach_new_watchers_only() {
    use tokio::io::AsyncBufReadExt as _;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = Endpoint::user(dir.path());
    let (mut control, _commands, _status) = control();
    let (events, _keep) = tokio::sync::broadcast::channel(8);
    control.events = Some(events.clone());
    let stop = CancellationToken::new();
    serve(&endpoint, control, stop.clone()).unwrap();

    let mut new = Client::connect(&endpoint).await.unwrap();
    new.send(Request::Watch).await.unwrap();
    assert!(matches!(new.next().await.unwrap(), Some(Reply::Status(_))));
    let mut old = tokio::net::UnixStream::connect(dir.path().join("control.sock"))
        .await
        .unwrap();
    old.write_all(b"{\"request\":\"watch\"}\n").await.unwrap();
    let mut old = tokio::io::BufReader::new(old);
    let mut line = String::new();
    old.read_line(&mut line).await.unwrap();
    assert!(line.contains("\"status\""), "{line}");

    let event = crate::engine::Event::Paused;
    events.send(event.clone()).unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), new.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, Some(Reply::Event(Box::new(event))));
    line.clear();
    let more = tokio::time::timeout(Duration::from_millis(300), old.read_line(&mut line)).await;
    assert!(more.is_err(), "an old client got {line}");
    stop.cancel();
}

#[tokio::test]
async fn commands_reach_the_engine_and_watchers_see_every_change() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = Endpoint::user(dir.path());
    let (control, mut commands, status) = control();
    let stop = CancellationToken::new();
    let task = serve(&endpoint, control, stop.clone()).unwrap();
    let mode = std::fs::metadata(dir.path().join("control.sock")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );

    // A stand-in engine: applies Pause/Resume to the status, as the real one does.
    let engine_status = status.clone();
    let engine = tokio::spawn(async move {
        while let Some(command) = commands.recv().await {
            match command {
                Command::Pause => engine_status.send_modify(|s| s.paused = true),
                Command::Resume => engine_status.send_modify(|s| s.paused = false),
                Command::Ping(reply) => {
                    let _ = reply.send(());
                }
                _ => {}
            }
        }
    });
    let mut watcher = Client::connect(&endpoint).await.unwrap();
    watcher.send(Request::Watch).await.unwrap();
    assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if !s.paused));
    // "paused" is the engine's confirmed state, not only "sent".
    assert_eq!(
        Client::ask(&endpoint, Request::Pause).await.unwrap(),
        Reply::Ok("paused".into())
    );
    assert!(status.borrow().paused);
    assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if s.paused));
    let Reply::Error(e) = Client::ask(&endpoint, Request::Reload).await.unwrap() else {
        panic!("a reload of a broken config is refused")
    };
    assert!(e.contains("the file is gone"), "{e}");
    assert_eq!(
        Client::ask(&endpoint, Request::Resume).await.unwrap(),
        Reply::Ok("resumed".into())
    );
    assert!(matches!(watcher.next().await.unwrap(), Some(Reply::Status(s)) if !s.paused));

    // A second daemon on the same endpoint is refused; the first keeps serving.
    let (other, _, _) = super::tests::control();
    let err = serve(&endpoint, other, CancellationToken::new()).unwrap_err();
    assert!(
        err.to_string().contains("another ddns-tray daemon"),
        "{err}"
    );

    stop.cancel();
    task.await.unwrap();
    engine.abort();
    assert!(
        watcher.next().await.unwrap().is_none(),
        "watchers are let go"
    );
    assert!(
        !dir.path().join("control.sock").exists(),
        "the socket is removed"
    );
    assert!(matches!(
        Client::ask(&endpoint, Request::Status).await,
        Err(ClientError::NotRunning(_))
    ));
}

#[tokio::test]
async fn hostile_clients_are_bounded() {
    use tokio::io::AsyncReadExt as _;
    let dir = tempfile::tempdir().unwrap();
    let endpoint = Endpoint::user(dir.path());
    let (control, _commands, _status) = control();
    let stop = CancellationToken::new();
    serve(&endpoint, control, stop.clone()).unwrap();
    let path = dir.path().join("control.sock");

    // An endless line is cut at the limit (a whole config and some) and answered with an error.
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    let _ = s
        .write_all(&vec![b'x'; usize::try_from(MAX_REQUEST).unwrap() + 4096])
        .await;
    let mut answer = Vec::new();
    // The server closes with our extra bytes unread, so the read may end in a reset after the reply.
    let _ = s.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.contains("at most 1088 KiB"), "{answer}");

    // Garbage gets an error, not a panic.
    let mut s = tokio::net::UnixStream::connect(&path).await.unwrap();
    s.write_all(b"{\"request\":\"format-disk\"}\n")
        .await
        .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).await.unwrap();
    assert!(answer.contains("not a request"), "{answer}");

    // A stale socket file from a daemon that died is replaced; a regular file in its place is not.
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let stale = std::os::unix::net::UnixListener::bind(&path).unwrap();
    drop(stale);
    let (control, _c, _s) = super::tests::control();
    let again = CancellationToken::new();
    serve(&endpoint, control, again.clone()).unwrap();
    again.cancel();
    tokio::time::sleep(Duration::from_millis(100)).await;
    std::fs::write(&path, "not a socket").unwrap();
    let (control, _c, _s) = super::tests::control();
    assert!(serve(&endpoint, control, CancellationToken::new()).is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a socket");
}
