//! The settings window: created when "Settings…" is chosen, dropped when closed (the app keeps running in
//! the tray). egui draws the [`View`] through egui-winit (input, AccessKit for screen readers) and
//! egui-wgpu (rendering, falling back to GL when there is no Vulkan driver). A fresh `egui::Context` comes
//! with each window, with a CJK font when the system has one.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::ViewportId;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, EventLoopProxy};
use winit::window::{Window, WindowId};

use super::pages::{Request, View};
use crate::i18n::t;

pub struct SettingsWindow {
    window: Arc<Window>,
    ctx: egui::Context,
    state: egui_winit::State,
    painter: egui_wgpu::winit::Painter,
    pub view: View,
    schedule: RepaintSchedule,
}

/// When egui wants its next frame. A request "after 500 ms" (a blinking cursor, a tooltip) waits that long
/// instead of drawing at once: drawing at once made the window repaint continuously while a text field had
/// focus.
#[derive(Debug, Default)]
struct RepaintSchedule {
    at: Option<Instant>,
}

impl RepaintSchedule {
    /// Notes a request; true when the frame is wanted now.
    fn request(&mut self, delay: Duration, now: Instant) -> bool {
        if delay.is_zero() {
            return true;
        }
        // `Duration::MAX` and the like mean "no hurry at all".
        if let Some(at) = now.checked_add(delay) {
            self.at = Some(self.at.map_or(at, |earlier| earlier.min(at)));
        }
        false
    }

    /// True (and forgotten) when the scheduled frame is due.
    fn due(&mut self, now: Instant) -> bool {
        if self.at.is_some_and(|at| at <= now) {
            self.at = None;
            return true;
        }
        false
    }
}

impl SettingsWindow {
    /// Opens the window. `repaint` is called (from any thread) when egui wants another frame, with how long
    /// it may wait (a blinking text cursor asks for one in half a second, not now).
    /// `font` is a CJK font found by [`super::fonts::find`] (read off this thread).
    pub fn open<T: 'static + Send + From<egui_winit::accesskit_winit::Event>>(
        event_loop: &ActiveEventLoop,
        runtime: &tokio::runtime::Runtime,
        view: View,
        font: Option<super::fonts::Found>,
        proxy: EventLoopProxy<T>,
        repaint: impl Fn(Duration) -> T + Send + Sync + 'static,
    ) -> Result<Self, String> {
        // Hidden until AccessKit is attached (it must see the window before it is shown).
        let attrs = Window::default_attributes()
            .with_title(t!("window.title"))
            .with_visible(false)
            .with_inner_size(winit::dpi::LogicalSize::new(900.0, 640.0))
            .with_min_inner_size(winit::dpi::LogicalSize::new(640.0, 420.0));
        let window = Arc::new(
            event_loop
                .create_window(attrs)
                .map_err(|e| t!("window.cannot_open", error = e).into_owned())?,
        );
        let ctx = egui::Context::default();
        super::fonts::install(&ctx, font);
        let accesskit_proxy = proxy.clone();
        ctx.set_request_repaint_callback(move |info| {
            let _ = proxy.send_event(repaint(info.delay));
        });
        let config = egui_wgpu::WgpuConfiguration {
            wgpu_setup: egui_wgpu::WgpuSetup::from_display_handle(
                event_loop.owned_display_handle(),
            ),
            ..Default::default()
        };
        let mut painter = runtime.block_on(egui_wgpu::winit::Painter::new(
            ctx.clone(),
            config,
            false,
            egui_wgpu::RendererOptions::default(),
        ));
        runtime
            .block_on(painter.set_window(ViewportId::ROOT, Some(window.clone())))
            .map_err(|e| t!("window.cannot_draw", error = e).into_owned())?;
        let mut state = egui_winit::State::new(
            ctx.clone(),
            ViewportId::ROOT,
            &window,
            // Scale factors are small (1.0 to 4.0): no precision is lost.
            #[allow(clippy::cast_possible_truncation)]
            Some(window.scale_factor() as f32),
            None,
            painter.max_texture_side(),
        );
        state.init_accesskit(event_loop, &window, accesskit_proxy);
        window.set_visible(true);
        window.request_redraw();
        Ok(Self {
            window,
            ctx,
            state,
            painter,
            view,
            schedule: RepaintSchedule::default(),
        })
    }

    /// egui asked for a frame after `delay`: now, or when [`Self::next_frame`] comes due.
    pub fn repaint_after(&mut self, delay: Duration) {
        if self.schedule.request(delay, Instant::now()) {
            self.window.request_redraw();
        }
    }

    /// When the event loop must wake up for a frame egui asked for; a frame that is due is requested.
    pub fn next_frame(&mut self) -> Option<Instant> {
        let now = Instant::now();
        if self.schedule.due(now) {
            self.window.request_redraw();
        }
        self.schedule.at
    }

    #[must_use]
    pub fn id(&self) -> WindowId {
        self.window.id()
    }

    pub fn request_redraw(&self) {
        self.window.request_redraw();
    }

    pub fn set_title(&self, title: &str) {
        self.window.set_title(title);
    }

    pub fn focus(&self) {
        self.window.focus_window();
    }

    /// A screen reader's request (AccessKit): focus, click, …
    pub fn on_accesskit(&mut self, event: &egui_winit::accesskit_winit::WindowEvent) {
        match event {
            egui_winit::accesskit_winit::WindowEvent::ActionRequested(request) => {
                self.state.on_accesskit_action_request(request.clone());
                self.window.request_redraw();
            }
            egui_winit::accesskit_winit::WindowEvent::InitialTreeRequested => {
                self.ctx.enable_accesskit();
                self.window.request_redraw();
            }
            egui_winit::accesskit_winit::WindowEvent::AccessibilityDeactivated => {
                self.ctx.disable_accesskit();
            }
        }
    }

    /// Handles one window event; returns what the user asked for.
    pub fn on_event(&mut self, event: &WindowEvent) -> Option<Request> {
        match event {
            WindowEvent::CloseRequested => {
                let r = self.view.close_requested();
                self.window.request_redraw();
                return r;
            }
            WindowEvent::Resized(size) => {
                if let (Some(w), Some(h)) =
                    (NonZeroU32::new(size.width), NonZeroU32::new(size.height))
                {
                    self.painter.on_window_resized(ViewportId::ROOT, w, h);
                }
            }
            WindowEvent::RedrawRequested => return self.frame(),
            _ => {}
        }
        if self.state.on_window_event(&self.window, event).repaint {
            self.window.request_redraw();
        }
        None
    }

    fn frame(&mut self) -> Option<Request> {
        // This frame is the one that was scheduled; egui asks again while it still needs one.
        self.schedule.at = None;
        let input = self.state.take_egui_input(&self.window);
        let mut request = None;
        let view = &mut self.view;
        let mut output = self.ctx.run_ui(input, |ui| {
            request = view.ui(ui);
        });
        self.state
            .handle_platform_output(&self.window, std::mem::take(&mut output.platform_output));
        let clipped = self
            .ctx
            .tessellate(std::mem::take(&mut output.shapes), output.pixels_per_point);
        self.painter.paint_and_update_textures(
            ViewportId::ROOT,
            output.pixels_per_point,
            [0.1, 0.1, 0.1, 1.0],
            &clipped,
            &mut output.textures_delta,
            Vec::new(),
            &self.window,
        );
        request
    }
}

impl Drop for SettingsWindow {
    fn drop(&mut self) {
        self.painter.destroy();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delayed_request_waits_and_an_immediate_one_does_not() {
        let t0 = Instant::now();
        let mut s = RepaintSchedule::default();
        assert!(!s.request(Duration::from_millis(500), t0));
        assert!(
            !s.request(Duration::from_millis(800), t0),
            "the earlier one stays"
        );
        assert!(!s.due(t0 + Duration::from_millis(499)));
        assert!(s.due(t0 + Duration::from_millis(500)));
        assert!(!s.due(t0 + Duration::from_secs(5)), "due once");
        assert!(s.request(Duration::ZERO, t0));
        assert!(!s.request(Duration::MAX, t0));
        assert_eq!(s.at, None, "no hurry at all schedules nothing");
    }

    /// Regression: a focused text field made egui ask for a frame every half second (the cursor blink), and
    /// the window drew at once each time: continuous repainting. egui says how long it may wait.
    #[test]
    fn a_focused_text_field_asks_for_a_frame_later_not_now() {
        let ctx = egui::Context::default();
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = asked.clone();
        ctx.set_request_repaint_callback(move |info| seen.lock().unwrap().push(info.delay));
        let mut text = String::from("5m");
        let id = egui::Id::unique("interval");
        let mut frame = |focus: bool| {
            let mut out = ctx.run_ui(egui::RawInput::default(), |ui| {
                let r = ui.add(egui::TextEdit::singleline(&mut text).id(id));
                if focus {
                    r.request_focus();
                }
            });
            out.textures_delta.clear();
        };
        for _ in 0..4 {
            frame(true);
        }
        asked.lock().unwrap().clear();
        frame(false);
        let delays = asked.lock().unwrap().clone();
        let mut s = RepaintSchedule::default();
        let now = Instant::now();
        let immediate = delays.iter().filter(|d| s.request(**d, now)).count();
        assert_eq!(immediate, 0, "no frame wanted at once: {delays:?}");
        assert!(
            s.at.is_some_and(|at| at > now),
            "a later frame for the cursor: {delays:?}"
        );
    }
}
