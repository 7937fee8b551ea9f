// The one error type of imgroot: an errno (0 when the failure is not a
// system call's) and a message of the form "verb object: reason".
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <utility>

namespace imgroot {

struct Error {
  int code = 0;         // errno captured at the failing call, or 0
  std::string message;  // complete, ready for the operator

  // "what: strerror(code)"; call right after the failing syscall, or pass
  // the saved errno explicitly.
  static Error from_errno(std::string what, int code = errno);
  // An error that is not a system call's: the message is the whole story.
  static Error plain(std::string message);

  // Prefix context: "stage 'x.img': " + message.
  Error context(const std::string& what) &&;
};

template <typename T>
using Result = std::expected<T, Error>;

// For functions whose success carries no value.
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail_errno(std::string what, int code = errno) {
  return std::unexpected(Error::from_errno(std::move(what), code));
}

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected(Error::plain(std::move(message)));
}

// Quote a path or name the way every message does: 'hn-root.img'.
std::string quoted(const std::string& s);

}  // namespace imgroot
