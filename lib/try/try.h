// imgroot try: run a command in an image, in private namespaces, on a
// throwaway overlay. The image is attached read-only to a loop device
// (autoclear) and mounted read-only without journal replay, under an
// overlay whose upper layer is a tmpfs; every mount exists only in a new
// mount namespace. When the last process in it ends (the command, its
// init, or imgroot itself killed with SIGKILL), the kernel unmounts
// everything and the loop device detaches: nothing stays mounted or
// attached, and the image is unchanged.
//
// Not a security boundary: the command runs as root with the host's
// capabilities (it could mknod a disk and write it); /sys is read-only and
// /dev holds only a minimal set of devices.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace imgroot::try_ {

enum class Network {
  kHost,  // the host's network namespace
  kNone,  // a new network namespace with only lo, up
};

struct Bind {
  std::string source;  // a host path, resolved before anything is mounted
  std::string target;  // an absolute path in the image, created when missing
};

struct Request {
  std::string image;
  Network network = Network::kHost;
  std::vector<Bind> binds;
  std::vector<std::string> command;      // empty: /bin/sh
  std::vector<std::string> environment;  // NAME=VALUE, the command's whole environment
  std::string hostname;                  // of the new UTS namespace
  std::string console;                   // a terminal to show as /dev/console, or empty
  // Boot: the image's own init ('init') is PID 1 instead of the minimal
  // init, and 'command' is not used. SIGINT, SIGTERM and SIGHUP ask it to
  // halt (SIGRTMIN+3, as systemd expects in a container); a second one
  // kills it. No cgroup hierarchy is set up for it (see docs/try.md).
  bool boot = false;
  std::string init = "/sbin/init";
};

// Where the parts are mounted inside the new mount namespace, before the
// command's root replaces the host's: a tmpfs on /tmp holding lower/ (the
// image), upper/ and work/ (the overlay's writable layer) and root/.
inline constexpr const char* kScratch = "/tmp";

// Run the request: new mount, PID, UTS and IPC namespaces (and network
// with Network::kNone); PID 1 is a minimal init that starts the command,
// forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 to it,
// reaps orphans, and exits with the command's status. While it runs those
// signals are blocked in the calling thread and forwarded the same way.
// Returns the command's exit status (128 + N when signal N killed it; with
// boot, 0 when the init halted, powered off or rebooted), or why the
// container could not be set up or the command not started.
// Needs root and loop devices.
Result<int> run(const Request& request);

}  // namespace imgroot::try_
