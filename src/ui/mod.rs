//! The user interface: the only code that touches winit, tray-icon and egui. `tray` is the tray app itself (feature `tray`); the settings
//! window is `window` (winit/wgpu/AccessKit), `pages` (what it draws), `settings` (its model and Save) and
//! `fonts` (a system CJK font); `unattended` moves the user's setup into the system service and back.

#[cfg(feature = "tray")]
pub mod autostart;
#[cfg(feature = "tray")]
pub mod fonts;
#[cfg(feature = "tray")]
mod instance;
#[cfg(feature = "tray")]
pub mod pages;
#[cfg(feature = "tray")]
pub mod settings;
#[cfg(feature = "tray")]
pub mod tray;
#[cfg(feature = "tray")]
pub mod unattended;
#[cfg(feature = "tray")]
mod window;
