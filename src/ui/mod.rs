//! The user interface: the only code that touches winit and tray-icon (and, later, egui). `model` holds the
//! plain functions from engine status to what the tray shows; `tray` is the tray app itself (feature `tray`).

#[cfg(feature = "tray")]
pub mod autostart;
#[cfg(feature = "tray")]
mod instance;
pub mod model;
#[cfg(feature = "tray")]
pub mod settings;
#[cfg(feature = "tray")]
pub mod tray;
#[cfg(feature = "tray")]
mod window;
