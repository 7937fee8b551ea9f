#include "base/error.h"

#include <cstring>

namespace imgroot {

Error Error::from_errno(std::string what, int code) {
  return Error{code, std::move(what) + ": " + std::strerror(code)};
}

Error Error::plain(std::string message) { return Error{0, std::move(message)}; }

Error Error::context(const std::string& what) && {
  message = what + ": " + message;
  return std::move(*this);
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace imgroot
