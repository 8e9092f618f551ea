# Template: scripts/release-manifests.sh fills @VERSION@ and the @SHA256_…@ of the real archives.
# macOS: the full build (tray app and daemon); Linux: the static headless build (no tray).
class DdnsTray < Formula
  desc "Dynamic-DNS client: keeps DNS records pointing at this machine's public IP"
  homepage "https://github.com/ddns-tray/ddns-tray"
  version "@VERSION@"
  license any_of: ["MIT", "Apache-2.0"]

  on_macos do
    on_arm do
      url "https://github.com/ddns-tray/ddns-tray/releases/download/v@VERSION@/ddns-tray-v@VERSION@-aarch64-apple-darwin.tar.gz"
      sha256 "@SHA256_AARCH64_APPLE_DARWIN@"
    end
    on_intel do
      url "https://github.com/ddns-tray/ddns-tray/releases/download/v@VERSION@/ddns-tray-v@VERSION@-x86_64-apple-darwin.tar.gz"
      sha256 "@SHA256_X86_64_APPLE_DARWIN@"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/ddns-tray/ddns-tray/releases/download/v@VERSION@/ddns-tray-v@VERSION@-aarch64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_AARCH64_UNKNOWN_LINUX_MUSL@"
    end
    on_intel do
      url "https://github.com/ddns-tray/ddns-tray/releases/download/v@VERSION@/ddns-tray-v@VERSION@-x86_64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_X86_64_UNKNOWN_LINUX_MUSL@"
    end
  end

  def install
    bin.install "ddns-tray"
  end

  # brew services start ddns-tray: the daemon with the config in ~/Library/Application Support/rs.ddns-tray
  # (macOS) or ~/.config/ddns-tray (Linux), as `ddns-tray run` finds it.
  service do
    run [opt_bin/"ddns-tray", "run"]
    keep_alive successful_exit: false
    log_path var/"log/ddns-tray.log"
    error_log_path var/"log/ddns-tray.log"
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/ddns-tray --version")
  end
end
