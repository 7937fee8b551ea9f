// imgroot grub: write grub.cfg (or print the grub.d snippet's entries).
#include <fcntl.h>
#include <sys/stat.h>

#include <iostream>

#include "esp_option.h"
#include "grub/config.h"
#include "grub/esp.h"
#include "grub_settings.h"
#include "system/fd.h"
#include "system/file.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kDescription =
    "Write the GRUB configuration that boots the image file the imgroot rules\n"
    "choose with the kernel and initramfs inside that image, offers the current,\n"
    "old and staged images as menu entries, and counts the boots of an image on\n"
    "trial in grubenv (docs/grub.md). By default it is written, atomically, to\n"
    "grub/grub.cfg on the EFI-BOOT partition (--esp, default /boot/loader), and\n"
    "grub/grubenv is created there when missing, since GRUB cannot create it.\n\n"
    "Settings come from /etc/imgroot/grub.conf ('timeout = 5', 'cmdline = ...';\n"
    "--config names another file); --timeout and --cmdline override them.\n"
    "--stdout --snippet prints what /etc/grub.d/09_imgroot adds to grub-mkconfig's\n"
    "output (the same entries, without the timeout).";

// Write 'text' to 'path' atomically; the folder must exist.
Status write_atomically(const std::string& path, const std::string& text) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  auto dir_fd = Fd::open_dir(dir);
  if (!dir_fd) return std::unexpected(dir_fd.error());
  return write_file_atomic_at(dir_fd->get(), name, text);
}

}  // namespace

int run_grub(const std::vector<std::string>& args) {
  po::options_description options;
  options.add_options()("output,o", po::value<std::string>()->value_name("FILE"),
                        "write grub.cfg here instead (grubenv is then left alone)")(
      "stdout", po::bool_switch(), "print the configuration instead of writing it")(
      "snippet", po::bool_switch(), "the form for /etc/grub.d (no timeout)");
  add_grub_settings_options(options);
  add_esp_option(options);
  auto parsed = parse("grub", args, options, {},
                      "grub [--esp DIR] [--output FILE | --stdout] [--snippet] "
                      "[--timeout SECONDS] [--cmdline ARGS] [--config FILE]",
                      kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  if (vars["stdout"].as<bool>() && vars.count("output"))
    return usage_error("grub", "--stdout and --output exclude each other");

  auto config = load_grub_settings(vars);
  if (!config) return report(std::move(config.error()).context("grub: settings"));
  config->snippet = vars["snippet"].as<bool>();
  auto text = grub::generate_config(*config, IMGROOT_VERSION);
  if (!text) return report(std::move(text.error()).context("grub"));

  if (vars["stdout"].as<bool>()) {
    std::cout << *text;
    return std::cout.flush() ? kExitOk : report(Error::plain("grub: write standard output"));
  }
  if (vars.count("output")) {
    const std::string path = vars["output"].as<std::string>();
    if (auto st = write_atomically(path, *text); !st)
      return report(std::move(st.error()).context("grub: write " + quoted(path)));
    std::cout << "wrote " << path << "\n";
    return kExitOk;
  }

  const std::string esp_path = esp_given(vars) ? vars["esp"].as<std::string>() : grub::kDefaultEsp;
  const std::string grub_dir = esp_path + "/" + grub::kGrubDir;
  if (auto made = make_dir_at(AT_FDCWD, grub_dir, 0755); !made)
    return report(std::move(made.error()).context("grub"));
  auto esp = grub::open_esp(esp_path);
  if (!esp) return report(std::move(esp.error()).context("grub"));
  if (auto st = write_file_atomic_at(esp->grub_dir.get(), grub::kConfigFile, *text); !st)
    return report(std::move(st.error()).context("grub: write " + quoted(grub_dir + "/" + grub::kConfigFile)));
  std::cout << "wrote " << grub_dir << "/" << grub::kConfigFile << "\n";
  auto created = grub::ensure_grubenv(*esp);
  if (!created) return report(std::move(created.error()).context("grub: create grubenv"));
  if (*created) std::cout << "created " << grub_dir << "/" << grub::kEnvFile << "\n";
  return kExitOk;
}

}  // namespace imgroot::cli
