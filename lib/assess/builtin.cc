#include "assess/builtin.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "base/lines.h"
#include "system/fd.h"
#include "system/run.h"

namespace imgroot::assess {

namespace {

constexpr const char* kPrefix = "builtin/";
constexpr const char* kFailedUnits = "builtin/failed-units";
constexpr const char* kDefaultTarget = "builtin/default-target";
constexpr const char* kTcpPort = "builtin/tcp-port";
constexpr int kConnectTimeoutMs = 5000;

bool ignored(std::string_view unit, const std::vector<std::string>& ignore) {
  const std::string name(unit);
  for (const auto& pattern : ignore)
    if (::fnmatch(pattern.c_str(), name.c_str(), 0) == 0) return true;
  return false;
}

Try check_failed_units(const Config& config) {
  auto out = run_program({"systemctl", "list-units", "--state=failed", "--plain", "--no-legend",
                          "--no-pager"});
  if (!out) return {false, out.error().message};
  auto failed = failed_units(*out, config.ignore_units);
  if (failed.empty()) return {true, ""};
  std::string list;
  for (const auto& u : failed) list += (list.empty() ? "" : " ") + u;
  return {false, "failed units: " + list};
}

Try check_default_target() {
  // is-active exits non-zero unless active; run_program's message then has its answer.
  auto out = run_program({"systemctl", "is-active", "default.target"});
  if (!out) return {false, "default.target is not active: " + out.error().message};
  return {true, ""};
}

// connect() to 'addr' with a time limit; errno-style message on failure.
std::string try_connect(const sockaddr* addr, socklen_t len, int family) {
  Fd sock(::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) return std::string("socket: ") + std::strerror(errno);
  if (::connect(sock.get(), addr, len) == 0) return "";
  if (errno != EINPROGRESS) return std::strerror(errno);
  pollfd p{sock.get(), POLLOUT, 0};
  int n = ::poll(&p, 1, kConnectTimeoutMs);
  if (n == 0) return "no answer within 5s";
  if (n < 0) return std::string("poll: ") + std::strerror(errno);
  int err = 0;
  socklen_t err_len = sizeof err;
  if (::getsockopt(sock.get(), SOL_SOCKET, SO_ERROR, &err, &err_len) < 0) err = errno;
  return err == 0 ? "" : std::strerror(err);
}

}  // namespace

std::vector<Check> builtin_checks(const Config& config) {
  std::vector<Check> out;
  if (config.failed_units) out.push_back({kFailedUnits, "", Kind::kRequired});
  if (config.default_target) out.push_back({kDefaultTarget, "", Kind::kRequired});
  if (config.tcp_check) out.push_back({kTcpPort, "", Kind::kRequired});
  return out;
}

bool is_builtin(const Check& check) { return check.name.starts_with(kPrefix) && check.path.empty(); }

Try run_builtin(const Check& check, const Config& config) {
  if (check.name == kFailedUnits) return check_failed_units(config);
  if (check.name == kDefaultTarget) return check_default_target();
  if (check.name == kTcpPort) return tcp_port_answers(config.tcp_port);
  return {false, "no such built-in check"};
}

std::vector<std::string> failed_units(std::string_view output, const std::vector<std::string>& ignore) {
  std::vector<std::string> out;
  for (auto line : lines_of(output)) {
    auto words = words_of(line);
    if (words.empty()) continue;
    auto unit = words[0];
    if (unit == "●" && words.size() > 1) unit = words[1];  // without --plain
    if (!ignored(unit, ignore)) out.emplace_back(unit);
  }
  return out;
}

Try tcp_port_answers(int port) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(static_cast<std::uint16_t>(port));
  v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string why4 = try_connect(reinterpret_cast<sockaddr*>(&v4), sizeof v4, AF_INET);
  if (why4.empty()) return {true, ""};
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(static_cast<std::uint16_t>(port));
  v6.sin6_addr = in6addr_loopback;
  std::string why6 = try_connect(reinterpret_cast<sockaddr*>(&v6), sizeof v6, AF_INET6);
  if (why6.empty()) return {true, ""};
  return {false, "port " + std::to_string(port) + " on 127.0.0.1: " + why4 + "; on ::1: " + why6};
}

}  // namespace imgroot::assess
