// imgroot try IMAGE [-- CMD ARGS...]: run an image in private namespaces on
// a throwaway overlay.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "try/try.h"
#include "verbs.h"

namespace imgroot::cli {

namespace {

const char* kUsage =
    "try [--net host|none] [--bind SRC:DST]... [--hostname NAME] IMAGE "
    "[-- CMD ARGS...]\n       imgroot try [OPTIONS] --boot [--init PATH] IMAGE";

const char* kDescription =
    "Run CMD (default: /bin/sh) inside IMAGE, which stays byte-for-byte unchanged: the\n"
    "image is mounted read-only (loop device, no journal replay) under an overlay\n"
    "whose writable layer is a tmpfs, in new mount, PID, UTS and IPC namespaces, with\n"
    "fresh /proc, a read-only /sys, a minimal /dev, and tmpfs /tmp and /run. CMD runs\n"
    "as the child of a minimal init (PID 1) that forwards SIGINT, SIGTERM, SIGHUP,\n"
    "SIGQUIT, SIGUSR1 and SIGUSR2 and reaps orphans. When CMD exits, or imgroot is\n"
    "killed, everything in the namespaces ends and nothing stays mounted or attached.\n"
    "The exit status is CMD's (128+N when signal N killed it).\n\n"
    "--boot runs the image's own init as PID 1 instead (SIGINT, SIGTERM or SIGHUP ask\n"
    "it to halt with SIGRTMIN+3, a second one kills it; exit 0 when it halts, powers\n"
    "off or reboots). No cgroup hierarchy is set up: systemd is not supported yet.\n\n"
    "Not a security boundary: CMD runs as root with the host's capabilities.\n"
    "Needs root and loop devices. docs/try.md has the details.";

// "SRC:DST", or "SRC" for the same path inside.
std::optional<try_::Bind> parse_bind(const std::string& spec) {
  const auto colon = spec.find(':');
  try_::Bind b;
  b.source = spec.substr(0, colon);
  b.target = colon == std::string::npos ? b.source : spec.substr(colon + 1);
  if (b.source.empty() || b.target.empty() || b.target.front() != '/') return std::nullopt;
  return b;
}

std::vector<std::string> environment() {
  std::vector<std::string> env = {
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
      "container=imgroot"};
  if (const char* term = std::getenv("TERM")) env.push_back(std::string("TERM=") + term);
  return env;
}

std::string hostname_for(const std::string& image) {
  std::string stem = std::filesystem::path(image).stem().string();
  if (stem.empty() || stem.size() > 63) stem = "imgroot-try";
  return stem;
}

}  // namespace

int run_try(const std::vector<std::string>& all_args) {
  // Everything after "--" is the command, options included.
  auto dashes = std::find(all_args.begin(), all_args.end(), "--");
  std::vector<std::string> args(all_args.begin(), dashes);
  std::vector<std::string> command;
  if (dashes != all_args.end()) command.assign(dashes + 1, all_args.end());

  po::options_description options;
  options.add_options()("image", po::value<std::string>()->required()->value_name("IMAGE"),
                        "the image to run (first positional argument)")(
      "command", po::value<std::vector<std::string>>()->value_name("CMD"),
      "the command and its arguments (the positional arguments after IMAGE, or after --)")(
      "net", po::value<std::string>()->default_value("host")->value_name("host|none"),
      "the host's network, or a network namespace with only lo")(
      "bind", po::value<std::vector<std::string>>()->composing()->value_name("SRC:DST"),
      "bind the host's SRC on DST in the image (created when missing); repeatable")(
      "hostname", po::value<std::string>()->value_name("NAME"),
      "the hostname inside (default: the image's file name without extension)")(
      "boot", po::bool_switch(),
      "run the image's own init as PID 1 instead of CMD (SIGINT/SIGTERM: halt it)")(
      "init", po::value<std::string>()->default_value("/sbin/init")->value_name("PATH"),
      "the init --boot runs");
  auto parsed = parse("try", args, options, {{"image"}, {"command", -1}}, kUsage, kDescription);
  if (parsed.exit_now) return *parsed.exit_now;
  const auto& vars = parsed.vars;

  try_::Request request;
  request.image = vars["image"].as<std::string>();
  const std::string net = vars["net"].as<std::string>();
  if (net == "none") {
    request.network = try_::Network::kNone;
  } else if (net != "host") {
    return usage_error("try", "--net " + net + ": not 'host' or 'none'");
  }
  if (vars.count("bind")) {
    for (const auto& spec : vars["bind"].as<std::vector<std::string>>()) {
      auto b = parse_bind(spec);
      if (!b) return usage_error("try", "--bind " + spec + ": not SRC:DST with an absolute DST");
      request.binds.push_back(std::move(*b));
    }
  }
  if (vars.count("command")) request.command = vars["command"].as<std::vector<std::string>>();
  request.command.insert(request.command.end(), command.begin(), command.end());
  request.boot = vars["boot"].as<bool>();
  request.init = vars["init"].as<std::string>();
  if (request.boot && !request.command.empty())
    return usage_error("try", "--boot runs the image's init; it takes no command");
  request.environment = environment();
  request.hostname =
      vars.count("hostname") ? vars["hostname"].as<std::string>() : hostname_for(request.image);
  if (::isatty(STDIN_FILENO))
    if (const char* tty = ::ttyname(STDIN_FILENO)) request.console = tty;

  auto status = try_::run(request);
  if (!status) return report(std::move(status.error()).context("try " + imgroot::quoted(request.image)));
  return *status;
}

}  // namespace imgroot::cli
