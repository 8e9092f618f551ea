//! The settings window's work, done off the UI thread: opening it on the loaded form, carrying out its requests (load, save, test, detect, history) and handing the answers back.

#[allow(clippy::wildcard_imports)] // the tray app's own types
use super::*;

impl App {
    /// Opens the settings window (or brings it forward), with the config's current contents: the tray's
    /// own file, or the config of the daemon it follows (asked over its endpoint, secrets masked). The
    /// config, the keyring and the font are read off this thread; the window opens when they arrive
    /// ([`Reply::Loaded`]).
    pub(super) fn open_settings(&mut self) {
        if let Some(w) = &self.settings {
            w.focus();
            return;
        }
        if std::mem::replace(&mut self.opening, true) {
            return;
        }
        let path = self.paths.config.clone();
        let problems = !self.status.config_problems.is_empty();
        let proxy = self.proxy.clone();
        let remote = self.remote.as_ref().map(|r| r.endpoint.clone());
        self.runtime.spawn(async move {
            let form = match remote {
                Some(endpoint) => remote_form(&endpoint).await,
                None => off_thread(move || load_form(&path, problems).map(|f| (f, None))).await,
            };
            let loaded = off_thread(move || {
                let (mut form, read_only) = form?;
                form.start_at_login =
                    crate::ui::autostart::state().is_ok_and(crate::ui::autostart::State::on);
                Ok(Box::new(Loaded {
                    form,
                    font: crate::ui::fonts::find(),
                    read_only,
                }))
            })
            .await;
            let _ = proxy.send_event(UserEvent::Reply(Reply::Loaded(loaded)));
        });
    }

    /// The form and font arrived: the window opens.
    pub(super) fn show_settings(
        &mut self,
        event_loop: &ActiveEventLoop,
        loaded: Result<Box<Loaded>, String>,
    ) {
        self.opening = false;
        let Loaded {
            form,
            font,
            read_only,
        } = match loaded {
            Ok(l) => *l,
            Err(e) => {
                self.toast(Level::Error, t!("toast.cannot_read_config"), e);
                return;
            }
        };
        let first_run = form.records.is_empty() && read_only.is_none();
        let mut view = View::new(form, self.status.clone());
        if first_run {
            view.start_welcome();
        }
        view.drivable = self.handle.is_some() || self.remote.as_ref().is_some_and(|r| !r.denied);
        view.read_only = read_only;
        view.runs_as = self.runs_as();
        if let Some(note) = self.unattended_note.take() {
            view.unattended = Load::Done(note);
            view.page = crate::ui::pages::Page::General;
        }
        view.font_note = font.is_none().then(crate::ui::fonts::missing_note);
        match SettingsWindow::open(
            event_loop,
            &self.runtime,
            view,
            font,
            self.proxy.clone(),
            UserEvent::Repaint,
        ) {
            Ok(w) => self.settings = Some(w),
            Err(e) => {
                tracing::error!("{e}");
                self.toast(Level::Error, t!("toast.cannot_open_window"), e);
            }
        }
    }

    pub(super) fn on_settings_event(&mut self, event: &WindowEvent) {
        let Some(window) = &mut self.settings else {
            return;
        };
        if let Some(request) = window.on_event(event) {
            self.on_request(request);
        }
    }

    /// Runs what the settings window asked for; anything slow goes off this thread and comes back as a
    /// [`Reply`].
    #[allow(clippy::too_many_lines)] // one arm per request
    pub(super) fn on_request(&mut self, request: Request) {
        let Some(window) = &mut self.settings else {
            return;
        };
        let view = &mut window.view;
        let proxy = self.proxy.clone();
        let reply = move |r: Reply| {
            let _ = proxy.send_event(UserEvent::Reply(r));
        };
        match request {
            Request::Close => self.settings = None,
            Request::RunUnattended => {
                view.unattended = Load::Running;
                let (config, data_dir) = (self.paths.config.clone(), self.paths.data_dir.clone());
                self.runtime.spawn_blocking(move || {
                    let result = crate::ui::unattended::run_unattended(
                        &config,
                        &data_dir,
                        &crate::config::secret::SystemLookup,
                    );
                    reply(Reply::Unattended {
                        to_service: true,
                        result,
                    });
                });
            }
            Request::StopUnattended => {
                view.unattended = Load::Running;
                let (config, data_dir) = (self.paths.config.clone(), self.paths.data_dir.clone());
                self.runtime.spawn_blocking(move || {
                    let result = crate::ui::unattended::stop_unattended(
                        &config,
                        &data_dir,
                        &settings::OsKeyring,
                        &crate::config::secret::SystemLookup,
                    )
                    .map(|written| {
                        let mut note =
                            t!("unattended.handed_back", path = config.display()).into_owned();
                        for (entry, why) in written.not_removed {
                            tracing::warn!("the secret {entry} stays in the keyring: {why}");
                        }
                        if config.with_extension("toml.bak").exists() {
                            note.push(' ');
                            note.push_str(&t!(
                                "unattended.backup_kept",
                                path = config.with_extension("toml.bak").display()
                            ));
                        }
                        note
                    });
                    reply(Reply::Unattended {
                        to_service: false,
                        result,
                    });
                });
            }
            Request::Save if self.remote.is_some() => {
                view.saving = true;
                let form = view.form.clone();
                let autostart_was = view.baseline.start_at_login;
                let endpoint = self.remote.as_ref().map(|r| r.endpoint.clone());
                self.runtime.spawn(async move {
                    if let Some(endpoint) = endpoint {
                        reply(save_remote(&endpoint, form, autostart_was).await);
                    }
                });
            }
            Request::Save => {
                view.saving = true;
                let mut form = view.form.clone();
                let autostart_was = view.baseline.start_at_login;
                let path = self.paths.config.clone();
                self.runtime.spawn_blocking(move || {
                    let saved = settings::save(
                        &mut form,
                        &path,
                        &crate::config::secret::SystemLookup,
                        &settings::OsKeyring,
                    );
                    if saved.is_some() {
                        apply_autostart(&mut form, autostart_was);
                    }
                    reply(Reply::Saved(Box::new(form), saved.map(Box::new)));
                });
            }
            Request::Test(i) => {
                view.tests.insert(i, Load::Running);
                let form = view.form.clone();
                self.runtime.spawn(async move {
                    let target = off_thread(move || {
                        form.test_target(i, &crate::config::secret::SystemLookup)
                    })
                    .await;
                    let result = match target {
                        Ok((provider, record, record_type)) => {
                            let provider = crate::provider::build(&provider);
                            crate::provider::test(provider.as_ref(), &record, record_type).await
                        }
                        Err(why) => Err(why),
                    };
                    reply(Reply::Tested(i, result));
                });
            }
            Request::DetectNow => {
                view.detect = Load::Running;
                let form = view.form.clone();
                self.runtime.spawn(async move {
                    let result = match form.detection() {
                        Err(e) => Err(e),
                        Ok((detect, families)) => {
                            let detector = crate::detect::Detector::from_settings(&detect);
                            let mut out = Vec::new();
                            for family in families {
                                let (sources, conclusion) = detector.report(family).await;
                                let conclusion = match conclusion {
                                    crate::detect::Detection::Known(ip) => Ok(ip),
                                    crate::detect::Detection::Unavailable(e) => Err(e),
                                };
                                // From the router's answer the probe got: not asked again.
                                let reach = (family == crate::config::Family::V4)
                                    .then(|| {
                                        crate::detect::reach::from_reports(
                                            &sources,
                                            conclusion.as_ref().ok().copied(),
                                        )
                                    })
                                    .flatten();
                                out.push(Detected {
                                    family,
                                    sources,
                                    conclusion,
                                    reach,
                                });
                            }
                            Ok(out)
                        }
                    };
                    reply(Reply::Detected(result));
                });
            }
            Request::WelcomeZones => {
                let form = view.form.clone();
                let row = view.welcome_row();
                self.runtime.spawn(async move {
                    let target = off_thread(move || {
                        let row = row.ok_or_else(|| "no welcome".to_owned())?;
                        form.provider_target(&row, &crate::config::secret::SystemLookup)
                    })
                    .await;
                    let result = match target {
                        Ok(settings) => crate::provider::build(&settings)
                            .zones()
                            .await
                            .map_err(|e| e.to_string()),
                        Err(why) => Err(why),
                    };
                    reply(Reply::WelcomeZones(result));
                });
            }
            Request::WelcomeImport => {
                let path = view.welcome_import_path().unwrap_or_default();
                self.runtime.spawn(async move {
                    let result =
                        off_thread(move || crate::ui::settings::import_file(Path::new(&path)))
                            .await
                            .map(Box::new);
                    reply(Reply::WelcomeImported(result));
                });
            }
            Request::LoadHistory => {
                view.history = Load::Running;
                if let Some(remote) = &self.remote {
                    // The followed daemon's history, which this user may not be able to read as a file.
                    let endpoint = remote.endpoint.clone();
                    self.runtime.spawn(async move {
                        let request = crate::control::Request::History {
                            limit: crate::history::MAX_ENTRIES,
                        };
                        reply(Reply::History(
                            match crate::control::Client::ask(&endpoint, request).await {
                                Ok(crate::control::Reply::History(entries)) => Ok(entries),
                                Ok(crate::control::Reply::Error(e)) => Err(e),
                                Ok(_) => Err(t!("toast.service_unexpected").into_owned()),
                                Err(e) => Err(e.to_string()),
                            },
                        ));
                    });
                } else {
                    let history = crate::history::History::in_dir(&self.paths.data_dir);
                    self.runtime.spawn_blocking(move || {
                        reply(Reply::History(history.read().map_err(|e| e.to_string())));
                    });
                }
            }
            Request::TestAlert(i) => {
                view.alert_tests.insert(i, Load::Running);
                let form = view.form.clone();
                let config = self.paths.config.clone();
                self.runtime.spawn(async move {
                    let target = off_thread(move || {
                        form.notifier_target(i, &crate::config::secret::SystemLookup)
                    })
                    .await;
                    let result = match target {
                        Ok(n) => crate::notify::alerts::test(std::slice::from_ref(&n), &config)
                            .await
                            .pop()
                            .map_or_else(|| Err(String::new()), |(_, _, r)| r),
                        Err(e) => Err(e),
                    };
                    reply(Reply::AlertTested(i, result));
                });
            }
            Request::UpdateNow => self.on_menu(&MenuId::new(id::UPDATE)),
            Request::TogglePause => self.on_menu(&MenuId::new(id::PAUSE)),
        }
        if let Some(w) = &self.settings {
            w.request_redraw();
        }
    }

    /// Off-thread work for the settings window is done.
    pub(super) fn on_reply(&mut self, event_loop: &ActiveEventLoop, reply: Reply) {
        let reply = match reply {
            Reply::Loaded(loaded) => return self.show_settings(event_loop, loaded),
            Reply::Unattended { to_service, result } => {
                return self.unattended_done(to_service, result);
            }
            other => other,
        };
        let Some(window) = &mut self.settings else {
            return;
        };
        let view = &mut window.view;
        match reply {
            Reply::Loaded(_) | Reply::Unattended { .. } => {}
            Reply::SavedRemote(form) => {
                view.saving = false;
                view.saved(*form);
                if std::mem::take(&mut view.close_after_save) {
                    self.settings = None;
                }
            }
            Reply::Saved(form, saved) => {
                view.saving = false;
                let Some(new) = saved else {
                    view.form = *form;
                    view.close_after_save = false;
                    window.request_redraw();
                    return;
                };
                view.saved(*form);
                let close = std::mem::take(&mut view.close_after_save);
                let before = crate::i18n::current();
                crate::i18n::set(new.language);
                self.ipv6 = new.ipv6;
                if self.handle.is_some() {
                    self.send(Command::Reload(new));
                } else if self.remote.is_none() {
                    self.start_engine(*new);
                }
                if close {
                    self.settings = None;
                } else if crate::i18n::current() != before
                    && let Some(w) = &self.settings
                {
                    w.set_title(&t!("window.title"));
                }
                self.relabel();
                self.refresh();
            }
            Reply::Tested(i, result) => {
                view.tests.insert(i, Load::Done(result));
            }
            Reply::Detected(result) => view.detect = Load::Done(result),
            Reply::History(result) => view.history = Load::Done(result),
            Reply::WelcomeZones(result) => view.welcome_zones(result),
            Reply::WelcomeImported(result) => view.welcome_imported(result.map(|b| *b)),
            Reply::AlertTested(i, result) => {
                view.alert_tests.insert(i, Load::Done(result));
            }
        }
        if let Some(w) = &self.settings {
            w.request_redraw();
        }
    }
}

impl App {
    /// Who runs the engine, for General's "Run unattended".
    pub(super) fn runs_as(&self) -> crate::ui::pages::RunsAs {
        use crate::ui::pages::RunsAs;
        match &self.remote {
            None => RunsAs::Tray,
            Some(r) if r.system && !r.denied => RunsAs::Service,
            Some(_) => RunsAs::Other,
        }
    }

    /// "Run unattended" or stopping it ended. On success the tray switches engines and the window opens
    /// again on the config now in force, with what was reported; on failure the window says why and
    /// nothing changed.
    fn unattended_done(&mut self, to_service: bool, result: Result<String, String>) {
        if let Err(e) = &result {
            tracing::warn!("{e}");
            if let Some(w) = &mut self.settings {
                w.view.unattended = Load::Done(result);
                w.request_redraw();
            }
            return;
        }
        if to_service {
            self.follow_service();
        } else {
            self.run_own();
        }
        self.unattended_note = Some(result);
        self.settings = None;
        self.open_settings();
    }
}

/// Runs `work` (validation that may read the keyring) on the blocking pool: neither on the UI thread nor on
/// the async workers.
pub(super) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(e.to_string()))
}

/// The settings form for the config file at `path` (run off the UI thread: it reads the file, and the
/// keyring when `problems` asks for the config's problems to be shown at their fields).
pub(super) fn load_form(path: &Path, problems: bool) -> Result<SettingsForm, String> {
    let text = match crate::fsutil::read_limited(path, crate::settings::MAX_CONFIG_BYTES) {
        Ok(None) => return Ok(SettingsForm::from_file(&config::file::ConfigFile::default())),
        Err(e) => return Err(format!("{}: {e}", path.display())),
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
    };
    let mut form = form_of(&text, &path.display());
    if problems {
        // Show the problems next to their fields (validation writes nothing).
        let _ = form.validate(&crate::config::secret::SystemLookup);
    }
    Ok(form)
}

/// The form for a config's text (`path` names it in messages): what could not be read is said.
fn form_of(text: &str, path: &dyn std::fmt::Display) -> SettingsForm {
    match config::file::parse(text) {
        Ok(parsed) => {
            let mut form = SettingsForm::from_file(&parsed.file);
            if !parsed.issues.is_empty() {
                // What could not be read is not in the form: say so before a Save drops it.
                let paths: Vec<&str> = parsed
                    .issues
                    .iter()
                    .take(3)
                    .map(|i| i.path.as_str())
                    .collect();
                form.message = Some(
                    t!(
                        "save.unreadable_parts",
                        n = parsed.issues.len(),
                        paths = paths.join(", ")
                    )
                    .into_owned(),
                );
            }
            form
        }
        Err(issues) => {
            let mut form = SettingsForm::from_file(&config::file::ConfigFile::default());
            form.message = Some(
                t!(
                    "save.not_toml",
                    path = path,
                    error = issues
                        .first()
                        .map(|i| i.message.lines().next().unwrap_or_default().to_owned())
                        .unwrap_or_default()
                )
                .into_owned(),
            );
            form
        }
    }
}

/// The followed daemon's config as a form, and why it cannot be saved from here (when it cannot).
async fn remote_form(
    endpoint: &crate::control::Endpoint,
) -> Result<(SettingsForm, Option<String>), String> {
    match crate::control::Client::ask(endpoint, crate::control::Request::Config).await {
        Ok(crate::control::Reply::Config(view)) => {
            let mut form = form_of(&view.text, &view.path);
            // Why not, in this tray's language (the service's words are its own).
            let why_not = (!view.writable).then(crate::control::read_only_reason);
            if !view.writable {
                form.message.clone_from(&why_not);
            }
            Ok((form, why_not))
        }
        Ok(crate::control::Reply::Error(e)) => Err(e),
        Ok(_) => Err(t!("toast.service_unexpected").into_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Sends the form to the followed daemon, which writes it (secrets typed in go to its own store) and
/// reloads; then the window shows its config as it reads now. Its problems are shown at their fields.
async fn save_remote(
    endpoint: &crate::control::Endpoint,
    mut form: SettingsForm,
    autostart_was: bool,
) -> Reply {
    let request = crate::control::Request::SetConfig {
        text: form.to_toml(),
    };
    let problem = match crate::control::Client::ask(endpoint, request).await {
        Ok(crate::control::Reply::Ok(_)) => match remote_form(endpoint).await {
            Ok((mut saved, _)) => {
                saved.start_at_login = form.start_at_login;
                apply_autostart(&mut saved, autostart_was);
                saved.message = Some(t!("save.saved_service").into_owned());
                return Reply::SavedRemote(Box::new(saved));
            }
            Err(e) => e,
        },
        Ok(crate::control::Reply::Problems(issues)) => {
            // In this tray's language, not the service's.
            form.show_problems(
                issues
                    .into_iter()
                    .map(crate::config::Issue::localized)
                    .collect(),
            );
            return Reply::Saved(Box::new(form), None);
        }
        Ok(crate::control::Reply::Error(e)) => e,
        Ok(_) => t!("toast.service_unexpected").into_owned(),
        Err(e) => e.to_string(),
    };
    form.message = Some(problem);
    Reply::Saved(Box::new(form), None)
}

/// Turns starting at login on or off as the form asks (the tray's own, also when it follows a service);
/// when the OS refuses, the form says so and shows it as it was.
fn apply_autostart(form: &mut SettingsForm, was: bool) {
    if form.start_at_login != was
        && let Err(e) = crate::ui::autostart::set(form.start_at_login)
    {
        form.message = Some(t!("toast.cannot_change_autostart_body", error = e).into_owned());
        form.start_at_login = was;
    }
}
