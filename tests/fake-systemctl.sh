#!/bin/sh
# A stand-in for `systemctl` (DDNS_TRAY_SERVICE_MANAGER, with `service … --root`), for the tests of running
# unattended (tests/it/service.rs, tests/tray_dbus.py): `enable --now` starts the real daemon ($FAKE_EXE) on
# the service's paths under $FAKE_ROOT with its control socket at $FAKE_SOCK, `disable --now` stops it, and
# every call is logged to $FAKE_ROOT/systemctl.log.
echo "$*" >> "$FAKE_ROOT/systemctl.log"
case "$*" in
  *"enable --now"*)
    "$FAKE_EXE" run --config "$FAKE_ROOT/etc/ddns-tray/config.toml" \
      --data-dir "$FAKE_ROOT/var/lib/ddns-tray" --control "$FAKE_SOCK" \
      </dev/null >>"$FAKE_ROOT/service.log" 2>&1 &
    echo $! > "$FAKE_ROOT/service.pid" ;;
  *"disable --now"*)
    pid=$(cat "$FAKE_ROOT/service.pid" 2>/dev/null) || exit 0
    kill "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
    exit 1 ;;
esac
