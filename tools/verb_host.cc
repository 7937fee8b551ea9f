// imgroot host show | capture PATH... | forget PATH...: the per-host identity
// kept in imgroot/host/ and copied into the root at every boot.
#include <fcntl.h>

#include <iostream>

#include "host_lock.h"
#include "hostpart_option.h"
#include "identity/identity.h"
#include "state/status.h"
#include "system/fd.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage = "host show [--hostpart DIR] [--root DIR] [--json]\n"
                     "       imgroot host capture [--hostpart DIR] [--root DIR] PATH...\n"
                     "       imgroot host forget [--hostpart DIR] PATH...";

const char* kDescription =
    "The files that make this host itself (hostname, machine-id, SSH host keys,\n"
    "network configuration) are kept on the host partition in imgroot/host/,\n"
    "mirroring their absolute paths (imgroot/host/etc/hostname is /etc/hostname).\n"
    "At every boot, before switching root, imgroot-init copies each one over the\n"
    "image's file, with its owner, mode and mtime, so one image boots many hosts.\n"
    "docs/host-identity.md has the details.\n\n"
    "show     list the set: path, type, mode, owner, size, mtime; and whether each\n"
    "         is the same in the running system (or in --root DIR), differs, or is\n"
    "         missing there. --json prints the form in docs/host-identity.md.\n"
    "capture  copy PATHs (absolute; files, symlinks as symlinks, directories with\n"
    "         all they hold) from / (or --root DIR) into the set, fsynced, each\n"
    "         replacing its older copy in one rename. A missing path, or a FIFO,\n"
    "         socket or device anywhere, captures nothing.\n"
    "forget   remove PATHs (files or whole directories) from the set; the host\n"
    "         boots with the image's files there again.";

int host_usage_error(const std::string& message) { return usage_error("host", message); }

struct HostArgs {
  po::variables_map vars;
  std::optional<int> exit_now;
};

// The options of the actions: --root for show and capture, --json for show.
po::options_description host_options(bool with_root, bool with_json) {
  po::options_description options;
  add_hostpart_option(options);
  if (with_root)
    options.add_options()("root", po::value<std::string>()->value_name("DIR"),
                          "the root filesystem the paths are in (default: /)");
  if (with_json)
    options.add_options()("json", po::bool_switch(), "print JSON (docs/host-identity.md)");
  return options;
}

HostArgs parse_host(const std::string& what, const std::vector<std::string>& args,
                    bool with_root, bool with_json, bool with_paths) {
  po::options_description options = host_options(with_root, with_json);
  std::vector<Positional> positional;
  if (with_paths) {
    options.add_options()("path", po::value<std::vector<std::string>>()->required()->value_name("PATH"),
                          "absolute paths (positional arguments)");
    positional.push_back({"path", -1});
  }
  auto parsed = parse("host " + what, args, options, positional, kUsage, kDescription);
  return {std::move(parsed.vars), parsed.exit_now};
}

// What capture and forget start with: their arguments and the host
// partition, locked; or the exit code to return when that fails.
struct LockedHost {
  po::variables_map vars;
  state::Hostpart hostpart;
  state::HostLock lock;
};

std::expected<LockedHost, int> parse_and_lock(const std::string& what,
                                              const std::vector<std::string>& args, bool with_root) {
  auto parsed = parse_host(what, args, with_root, false, true);
  if (parsed.exit_now) return std::unexpected(*parsed.exit_now);
  auto hostpart = open_hostpart(parsed.vars);
  if (!hostpart) return std::unexpected(report(std::move(hostpart.error()).context("host " + what)));
  auto lock = lock_hostpart(*hostpart);
  if (!lock) return std::unexpected(report(std::move(lock.error()).context("host " + what)));
  return LockedHost{std::move(parsed.vars), std::move(*hostpart), std::move(*lock)};
}

Result<Fd> open_root(const po::variables_map& vars, std::string& name) {
  name = vars.count("root") ? vars["root"].as<std::string>() : "/";
  auto fd = Fd::open_dir(name);
  if (!fd) return std::unexpected(std::move(fd.error()).context("root"));
  return fd;
}

int run_show(const std::vector<std::string>& args) {
  auto parsed = parse_host("show", args, true, true, false);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;
  auto hostpart = open_hostpart(vars);
  if (!hostpart) return report(std::move(hostpart.error()).context("host show"));

  // Compared with --root, or with / when this host partition is the running
  // system's: another host's identity says nothing about this system.
  std::string root_name;
  Fd root;
  if (vars.count("root") || state::serves_running_system(*hostpart, state::SystemPaths{})) {
    auto fd = open_root(vars, root_name);
    if (!fd) return report(std::move(fd.error()).context("host show"));
    root = std::move(*fd);
  }
  auto shown = identity::show(hostpart->dir.get(),
                              root.valid() ? std::optional<int>(root.get()) : std::nullopt);
  if (!shown) return report(std::move(shown.error()).context("host show"));
  shown->hostpart = hostpart->path;
  if (root.valid()) shown->compared_with = root_name;
  std::cout << (vars["json"].as<bool>() ? identity::shown_to_json(*shown)
                                        : identity::shown_to_text(*shown));
  return kExitOk;
}

int run_capture(const std::vector<std::string>& args) {
  auto host = parse_and_lock("capture", args, /*with_root=*/true);
  if (!host) return host.error();
  std::string root_name;
  auto root = open_root(host->vars, root_name);
  if (!root) return report(std::move(root.error()).context("host capture"));
  auto captured = identity::capture(host->hostpart.dir.get(), root->get(), root_name,
                                    host->vars["path"].as<std::vector<std::string>>());
  if (!captured) return report(std::move(captured.error()).context("host capture"));
  for (const auto& note : captured->notes) std::cerr << "imgroot: note: " << note << "\n";
  for (const auto& p : captured->paths) std::cout << "captured " << p << "\n";
  std::cout << captured->files << (captured->files == 1 ? " file" : " files")
            << " copied; the next boot applies them\n";
  return kExitOk;
}

int run_forget(const std::vector<std::string>& args) {
  auto host = parse_and_lock("forget", args, /*with_root=*/false);
  if (!host) return host.error();
  const auto paths = host->vars["path"].as<std::vector<std::string>>();
  if (auto st = identity::forget(host->hostpart.dir.get(), paths); !st)
    return report(std::move(st.error()).context("host forget"));
  for (const auto& p : paths) std::cout << "forgot " << p << "\n";
  std::cout << "the next boot uses the image's files there\n";
  return kExitOk;
}

}  // namespace

int run_host(const std::vector<std::string>& args) {
  if (args.empty()) return host_usage_error("say what to do: show, capture or forget");
  const std::string what = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (what == "show") return run_show(rest);
  if (what == "capture") return run_capture(rest);
  if (what == "forget") return run_forget(rest);
  if (what == "--help" || what == "-h") {
    // Every option of every action, so that one help page (and the man page
    // and completion made from it) has them all.
    po::options_description all("Options");
    all.add_options()("help,h", "show this help and exit");
    all.add(host_options(true, true));
    std::cout << "Usage: imgroot " << kUsage << "\n\n" << kDescription
              << "\n\n--root: show and capture; --json: show. 'imgroot host ACTION --help' "
                 "has each action's own.\n\n"
              << all;
    return kExitOk;
  }
  return host_usage_error("unknown action " + quoted(what) + "; use show, capture or forget");
}

}  // namespace imgroot::cli
