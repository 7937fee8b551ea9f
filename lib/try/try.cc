#include "try/try.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image/mount.h"
#include "image/open.h"
#include "system/fd.h"
#include "try/init.h"
#include "try/rootfs.h"

namespace imgroot::try_ {

namespace {

constexpr int kSetupFailed = 125;

struct Pipe {
  Fd read, write;
};

Result<Pipe> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return fail_errno("pipe");
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

// What went wrong in the child travels as "ERRNO MESSAGE", so that the
// hints (root, loop devices) can be given here.
void write_error(int fd, const Error& e) {
  const std::string m = std::to_string(e.code) + " " + e.message;
  (void)!::write(fd, m.data(), m.size());  // the child exits right after
}

Error read_error(const std::string& said) {
  std::size_t space = said.find(' ');
  int code = 0;
  if (space != std::string::npos && space > 0 &&
      said.find_first_not_of("0123456789") == space)
    code = std::stoi(said.substr(0, space));
  else
    space = std::string::npos;
  return Error{code, space == std::string::npos ? said : said.substr(space + 1)};
}

// The child of clone(): PID 1 of the new PID namespace, alone in the new
// mount namespace.
[[noreturn]] void child_main(const Request& request, const Fd& image, const std::string& fs_type,
                             int report_fd, int lifeline_fd) {
  // Die with imgroot, even of SIGKILL: then the kernel kills the whole PID
  // namespace and drops the mount namespace. If imgroot is already gone,
  // its end of the lifeline is closed.
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);  // cannot fail for a valid signal
  struct pollfd lifeline {lifeline_fd, POLLIN, 0};
  if (::poll(&lifeline, 1, 0) != 0) ::_exit(kSetupFailed);
  ::close(lifeline_fd);
  auto fail_with = [&](const Error& e) {
    write_error(report_fd, e);
    ::_exit(kSetupFailed);
  };
  if (!request.hostname.empty() &&
      ::sethostname(request.hostname.data(), request.hostname.size()) < 0)
    fail_with(Error::from_errno("set the hostname"));
  if (request.network == Network::kNone) {
    if (auto st = bring_up_loopback(); !st) fail_with(st.error());
  }
  if (auto st = enter_root(request, image, fs_type); !st) fail_with(st.error());
  if (request.boot) exec_image_init(request, report_fd);
  run_init(request, report_fd);
}

// With boot, the image's init is PID 1: a stop signal asks it to halt
// (systemd's SIGRTMIN+3), and a second one kills it.
int boot_signal(int sig, int& stops) {
  if (sig != SIGINT && sig != SIGTERM && sig != SIGHUP) return sig;
  return stops++ == 0 ? SIGRTMIN + 3 : SIGKILL;
}

int status_of(int wait_status, bool boot) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (!WIFSIGNALED(wait_status)) return 1;
  // reboot(2) in a PID namespace kills its init with SIGHUP (restart) or
  // SIGINT (halt, power off): the way a booted image ends well.
  const int sig = WTERMSIG(wait_status);
  if (boot && (sig == SIGINT || sig == SIGHUP)) return 0;
  return 128 + sig;
}

// Signals are read from a signalfd while the container runs; the mask is
// put back when it ends.
class BlockedSignals {
 public:
  static Result<BlockedSignals> create() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kForwarded) sigaddset(&set, sig);
    sigaddset(&set, SIGCHLD);
    BlockedSignals b;
    if (::sigprocmask(SIG_BLOCK, &set, &b.old_) < 0) return fail_errno("block signals");
    b.restore_ = true;
    int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0) return fail_errno("signalfd");
    b.fd_ = Fd(fd);
    return b;
  }
  BlockedSignals(BlockedSignals&& o) noexcept
      : fd_(std::move(o.fd_)), old_(o.old_), restore_(std::exchange(o.restore_, false)) {}
  BlockedSignals& operator=(BlockedSignals&&) = delete;
  ~BlockedSignals() {
    if (restore_) (void)::sigprocmask(SIG_SETMASK, &old_, nullptr);  // cannot fail
  }
  int fd() const { return fd_.get(); }

 private:
  BlockedSignals() = default;
  Fd fd_;
  sigset_t old_{};
  bool restore_ = false;
};

}  // namespace

Result<int> run(const Request& request) {
  auto image = image::open_image(AT_FDCWD, request.image, O_RDONLY, image::Symlink::kFollow);
  if (!image) return std::unexpected(image.error());
  auto fs_type = image::probe_image(*image, request.image);
  if (!fs_type) return std::unexpected(fs_type.error());
  auto report = make_pipe();
  if (!report) return std::unexpected(report.error());
  auto lifeline = make_pipe();
  if (!lifeline) return std::unexpected(lifeline.error());
  auto signals = BlockedSignals::create();
  if (!signals) return std::unexpected(signals.error());

  struct clone_args args {};
  args.flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
               (request.network == Network::kNone ? CLONE_NEWNET : 0);
  args.exit_signal = SIGCHLD;
  const long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0)
    return std::unexpected(
        image::explain_mount_error(Error::from_errno("create the namespaces"), "imgroot try"));
  if (pid == 0) {
    report->read = Fd();
    lifeline->write = Fd();
    child_main(request, *image, *fs_type, report->write.release(), lifeline->read.release());
  }
  report->write = Fd();
  lifeline->read = Fd();

  // Until the child ends: forward signals, and collect what it says went
  // wrong (nothing, once the command is running: the pipe closes on exec).
  std::string said;
  int wait_status = 0;
  int stops = 0;
  bool pipe_open = true;
  for (;;) {
    struct pollfd fds[2] = {{signals->fd(), POLLIN, 0}, {pipe_open ? report->read.get() : -1, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return fail_errno("poll");
    if (fds[1].revents) {
      char buf[512];
      ssize_t n = ::read(report->read.get(), buf, sizeof buf);
      if (n > 0) said.append(buf, static_cast<std::size_t>(n));
      else if (n == 0 || errno != EINTR) pipe_open = false;
    }
    if (!(fds[0].revents & POLLIN)) continue;
    struct signalfd_siginfo info {};
    bool ended = false;
    while (::read(signals->fd(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      const int sig = static_cast<int>(info.ssi_signo);
      if (sig != SIGCHLD) {
        const int to_send = request.boot ? boot_signal(sig, stops) : sig;
        (void)::kill(static_cast<pid_t>(pid), to_send);  // ESRCH: it is ending anyway
      } else if (::waitpid(static_cast<pid_t>(pid), &wait_status, WNOHANG) == pid) {
        ended = true;
      }
    }
    if (ended) break;
  }
  // What the child wrote before it ended is in the pipe.
  (void)::fcntl(report->read.get(), F_SETFL, O_NONBLOCK);  // cannot fail on a pipe
  for (char buf[512]; pipe_open;) {
    ssize_t n = ::read(report->read.get(), buf, sizeof buf);
    if (n > 0) said.append(buf, static_cast<std::size_t>(n));
    else pipe_open = false;
  }
  if (!said.empty()) return std::unexpected(read_error(said));
  return status_of(wait_status, request.boot);
}

}  // namespace imgroot::try_
