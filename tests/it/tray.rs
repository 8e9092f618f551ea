//! The real tray app on a private D-Bus session under Xvfb, driven by `tests/tray_dbus.py`: it registers
//! with a `StatusNotifierWatcher`, shows the address, the last error and the actions in its menu, toasts a
//! refused credential, reacts to Pause/Resume/Update now, and quits cleanly; with a notification service
//! that never answers, the menu keeps working and no thread is spent per toast. "Settings…" opens the real
//! settings window (egui on wgpu, software-rendered under Xvfb); its screenshot is saved in
//! `target/tmp/settings-window.png`.

use std::process::Command;

fn tools() -> bool {
    let have = |t: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {t}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let python_dbus = Command::new("/usr/bin/python3")
        .args(["-c", "import dbus, gi"])
        .output()
        .is_ok_and(|o| o.status.success());
    let ok = have("dbus-run-session") && have("xvfb-run") && python_dbus;
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must install dbus, xvfb, python3-dbus and python3-gi"
        );
        eprintln!("skipping: dbus-run-session, xvfb-run or python3-dbus/gi is missing");
    }
    ok
}

fn xdotool() -> bool {
    let ok = Command::new("xdotool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI must install xdotool"
        );
        eprintln!("skipping: xdotool is missing");
    }
    ok
}

async fn drive(mode: &str) {
    if !tools()
        || ((mode.starts_with("pages") || mode.starts_with("welcome") || mode == "unattended")
            && !xdotool())
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tray_dbus.py");
    let mut cmd = Command::new("timeout");
    cmd.args([
        "120",
        "dbus-run-session",
        "--",
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1280x1024x24",
        "/usr/bin/python3",
        script,
        env!("CARGO_BIN_EXE_ddns-tray"),
    ]);
    cmd.arg(work.path());
    // The settings window's screenshot is kept with the test output.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "settings-window{}.png",
        if mode.is_empty() {
            String::new()
        } else {
            format!("-{mode}")
        }
    ));
    cmd.env("SCREENSHOT", &shot);
    if !mode.is_empty() {
        cmd.arg(mode);
    }
    // The pages modes save a screenshot of every page of the settings window, in their language.
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("settings-pages");
    std::fs::create_dir_all(&shots).unwrap();
    cmd.env("SCREENSHOT_DIR", &shots);
    if mode.ends_with("-zh") {
        cmd.env("LANG", "zh_CN.UTF-8").env("LC_ALL", "zh_CN.UTF-8");
    } else {
        cmd.env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_MESSAGES");
    }
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("tray checks passed"),
        "{text}"
    );
}

#[tokio::test]
async fn tray_menu_tooltip_toasts_and_quit_over_dbus() {
    drive("").await;
}

#[tokio::test]
async fn with_the_system_service_running_the_tray_shows_its_status() {
    drive("service").await;
}

#[tokio::test]
async fn a_hung_notification_service_blocks_nothing() {
    drive("silent").await;
}

/// Every page of the settings window in English, screenshotted under `target/tmp/settings-pages/`.
#[tokio::test]
async fn the_settings_window_in_english_page_by_page() {
    drive("pages-en").await;
}

/// With `LANG=zh_CN.UTF-8`: the tray menu read over D-Bus is Chinese, and every page of the window is
/// screenshotted in Chinese (a CJK font is installed by the test command).
#[tokio::test]
async fn in_a_chinese_locale_the_menu_and_window_are_chinese() {
    drive("pages-zh").await;
}

/// First run: with no records the window opens by itself on the welcome; its first two steps are
/// screenshotted under `target/tmp/settings-pages/welcome-*.png`, in English and in Chinese.
#[tokio::test]
async fn with_no_records_the_window_opens_on_the_welcome() {
    drive("welcome-en").await;
}

#[tokio::test]
async fn the_welcome_in_chinese() {
    drive("welcome-zh").await;
}

/// "Run unattended" from the General page of the real window: the tray hands its settings to the system
/// service (a stand-in systemctl runs the real daemon on the service's paths under a root; `env` stands in
/// for pkexec), follows it, and opens the window on the service's settings; "Stop running unattended" brings
/// them back to the tray's own file and engine. Screenshots under `target/tmp/settings-pages/unattended-*`.
#[tokio::test]
async fn run_unattended_from_the_window_and_back() {
    drive("unattended").await;
}
