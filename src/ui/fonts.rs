//! CJK glyphs for the settings window. egui's built-in fonts have none, so Chinese text would show as
//! boxes: a system font is found at run time (`Microsoft YaHei` on Windows, `PingFang` on macOS, `Noto Sans
//! CJK` or `WenQuanYi` through fontconfig on Linux) and added after egui's own fonts, which keep Latin text and
//! icons. Finding and reading it is file I/O, done off the UI thread before the window opens; without one
//! the window still opens, and says on its General page which package to install.

use std::path::PathBuf;

/// A font file's bytes and the face to use in it (collections hold several).
pub struct Found {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub index: u32,
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (face {}, {} bytes)",
            self.path.display(),
            self.index,
            self.bytes.len()
        )
    }
}

/// The largest font file read (Noto Sans CJK collections are about 20 MB).
const MAX_FONT: u64 = 64 * 1024 * 1024;

/// Candidate files, best first, each with its face index.
fn candidates() -> Vec<(PathBuf, u32)> {
    let mut out = Vec::new();
    if cfg!(windows) {
        let fonts = std::env::var_os("WINDIR")
            .map_or_else(|| PathBuf::from(r"C:\Windows"), PathBuf::from)
            .join("Fonts");
        for f in ["msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc"] {
            out.push((fonts.join(f), 0));
        }
    } else if cfg!(target_os = "macos") {
        for f in [
            "/System/Library/Fonts/PingFang.ttc",
            "/System/Library/Fonts/STHeiti Medium.ttc",
            "/System/Library/Fonts/Hiragino Sans GB.ttc",
            "/Library/Fonts/Arial Unicode.ttf",
        ] {
            out.push((PathBuf::from(f), 0));
        }
    } else {
        out.extend(fontconfig());
        // Where Debian, Fedora and Arch put them, for systems without fc-list.
        for (f, i) in [
            ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
            ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
            ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
            (
                "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
                0,
            ),
            ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
            (
                "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
                0,
            ),
        ] {
            out.push((PathBuf::from(f), i));
        }
    }
    out
}

/// The fonts fontconfig says cover Simplified Chinese, the usual sans-serif ones first.
fn fontconfig() -> Vec<(PathBuf, u32)> {
    let Ok(out) = std::process::Command::new("fc-list")
        .args([":lang=zh-cn", "-f", "%{file}|%{index}|%{family}|%{style}\n"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    let mut found: Vec<(i32, PathBuf, u32)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split('|');
            let (file, index, family, style) =
                (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
            let mut score = 0;
            for (word, points) in [
                ("CJK SC", 8),
                ("Source Han Sans SC", 8),
                ("Micro Hei", 6),
                ("Noto Sans CJK", 4),
                ("Zen Hei", 3),
                ("Regular", 2),
            ] {
                if family.contains(word) || style.contains(word) {
                    score += points;
                }
            }
            if family.contains("Mono") || family.contains("Serif") || style.contains("Bold") {
                score -= 5;
            }
            Some((score, PathBuf::from(file), index.parse().ok()?))
        })
        .filter(|(_, f, _)| {
            f.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                ["ttf", "ttc", "otf", "otc"].contains(&e.to_ascii_lowercase().as_str())
            })
        })
        .collect();
    found.sort_by_key(|(score, _, _)| -score);
    found.into_iter().map(|(_, f, i)| (f, i)).collect()
}

/// The first CJK font that can be read.
#[must_use]
pub fn find() -> Option<Found> {
    candidates().into_iter().find_map(|(path, index)| {
        let bytes = crate::fsutil::read_limited(&path, MAX_FONT).ok()??;
        Some(Found { path, bytes, index })
    })
}

/// Adds `font` after egui's own fonts, so CJK characters have glyphs; without one, egui's defaults.
pub fn install(ctx: &egui::Context, font: Option<Found>) {
    let Some(font) = font else {
        tracing::info!(
            "no CJK font found; Chinese text shows as boxes (install fonts-noto-cjk or fonts-wqy-microhei)"
        );
        return;
    };
    tracing::debug!("CJK font: {} (face {})", font.path.display(), font.index);
    let mut fonts = egui::FontDefinitions::default();
    let mut data = egui::FontData::from_owned(font.bytes);
    data.index = font.index;
    fonts
        .font_data
        .insert("cjk".into(), std::sync::Arc::new(data));
    for family in [egui::FontFamily::Proportional, egui::FontFamily::Monospace] {
        fonts.families.entry(family).or_default().push("cjk".into());
    }
    ctx.set_fonts(fonts);
}

/// The General page's line when no CJK font was found.
#[must_use]
pub fn missing_note() -> String {
    crate::i18n::t!("general.no_cjk_font").into_owned()
}
