//! The settings window: created when "Settings…" is chosen, dropped when closed (the app keeps running in
//! the tray). egui draws [`settings_ui`] through egui-winit (input) and egui-wgpu (rendering, falling back
//! to GL when there is no Vulkan driver). A fresh `egui::Context` comes with each window.

use std::num::NonZeroU32;
use std::sync::Arc;

use egui::ViewportId;
use winit::event::WindowEvent;
use winit::event_loop::{ActiveEventLoop, EventLoopProxy};
use winit::window::{Window, WindowId};

use super::settings::{FormAction, SettingsForm, settings_ui};

/// What the window asks of the app after an event.
pub enum WindowOutcome {
    /// Keep it open.
    Open,
    /// Close it (Cancel, or the window's close button).
    Close,
    /// Save was pressed: the app validates, writes and reloads.
    Save,
    /// "Test" on provider `n`.
    Test(usize),
}

pub struct SettingsWindow {
    window: Arc<Window>,
    ctx: egui::Context,
    state: egui_winit::State,
    painter: egui_wgpu::winit::Painter,
    pub form: SettingsForm,
}

impl SettingsWindow {
    /// Opens the window. `repaint` is called (from any thread) when egui wants another frame.
    pub fn open<T: 'static + Send>(
        event_loop: &ActiveEventLoop,
        runtime: &tokio::runtime::Runtime,
        form: SettingsForm,
        proxy: EventLoopProxy<T>,
        repaint: impl Fn() -> T + Send + Sync + 'static,
    ) -> Result<Self, String> {
        let attrs = Window::default_attributes()
            .with_title("ddns-tray settings")
            .with_inner_size(winit::dpi::LogicalSize::new(760.0, 820.0))
            .with_min_inner_size(winit::dpi::LogicalSize::new(480.0, 360.0));
        let window = Arc::new(
            event_loop
                .create_window(attrs)
                .map_err(|e| format!("cannot open a window: {e}"))?,
        );
        let ctx = egui::Context::default();
        ctx.set_request_repaint_callback(move |_| {
            let _ = proxy.send_event(repaint());
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
            .map_err(|e| format!("cannot draw the window: {e}"))?;
        let state = egui_winit::State::new(
            ctx.clone(),
            ViewportId::ROOT,
            &window,
            // Scale factors are small (1.0 to 4.0): no precision is lost.
            #[allow(clippy::cast_possible_truncation)]
            Some(window.scale_factor() as f32),
            None,
            painter.max_texture_side(),
        );
        window.request_redraw();
        Ok(Self {
            window,
            ctx,
            state,
            painter,
            form,
        })
    }

    #[must_use]
    pub fn id(&self) -> WindowId {
        self.window.id()
    }

    pub fn request_redraw(&self) {
        self.window.request_redraw();
    }

    pub fn focus(&self) {
        self.window.focus_window();
    }

    /// Handles one window event.
    pub fn on_event(&mut self, event: &WindowEvent) -> WindowOutcome {
        match event {
            WindowEvent::CloseRequested => return WindowOutcome::Close,
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
        WindowOutcome::Open
    }

    fn frame(&mut self) -> WindowOutcome {
        let input = self.state.take_egui_input(&self.window);
        let mut action = FormAction::None;
        let form = &mut self.form;
        let mut output = self.ctx.run_ui(input, |ui| {
            action = settings_ui(ui, form);
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
        match action {
            FormAction::Save => WindowOutcome::Save,
            FormAction::Test(i) => WindowOutcome::Test(i),
            FormAction::Cancel => WindowOutcome::Close,
            FormAction::None => WindowOutcome::Open,
        }
    }
}

impl Drop for SettingsWindow {
    fn drop(&mut self) {
        self.painter.destroy();
    }
}
