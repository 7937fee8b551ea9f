#include "grub/env.h"

#include <algorithm>

namespace imgroot::grub {

std::optional<std::string> Env::get(std::string_view name) const {
  for (const auto& [n, v] : vars_)
    if (n == name) return v;
  return std::nullopt;
}

void Env::set(std::string_view name, std::string value) {
  for (auto& [n, v] : vars_) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(value));
}

void Env::erase(std::string_view name) {
  std::erase_if(vars_, [&](const auto& var) { return var.first == name; });
}

bool valid_env_name(std::string_view name) {
  return !name.empty() && name.front() != '#' && name.find('=') == std::string_view::npos &&
         name.find('\n') == std::string_view::npos;
}

Result<Env> parse_env(std::string_view block) {
  if (!block.starts_with(kEnvSignature))
    return fail("parse GRUB environment block: no '" +
                std::string(kEnvSignature.substr(0, kEnvSignature.size() - 1)) + "' signature");
  Env env;
  std::size_t p = kEnvSignature.size();
  const std::size_t end = block.size();
  while (p < end) {
    if (block[p] == '#') {  // a comment, or the padding
      std::size_t nl = block.find('\n', p);
      if (nl == std::string_view::npos) break;
      p = nl + 1;
      continue;
    }
    if (block[p] == '\n') {
      ++p;
      continue;
    }
    std::size_t eq = block.find_first_of("=\n", p);
    if (eq == std::string_view::npos || block[eq] != '=')
      return fail("parse GRUB environment block: a line without '=' at byte " +
                  std::to_string(p));
    std::string name(block.substr(p, eq - p));
    std::string value;
    std::size_t q = eq + 1;
    bool complete = false;
    while (q < end) {
      char c = block[q];
      if (c == '\\') {
        if (q + 1 >= end) break;
        value.push_back(block[q + 1]);
        q += 2;
      } else if (c == '\n') {
        complete = true;
        ++q;
        break;
      } else {
        value.push_back(c);
        ++q;
      }
    }
    if (!complete)
      return fail("parse GRUB environment block: the value of '" + name + "' is cut off");
    env.set(name, std::move(value));
    p = q;
  }
  return env;
}

Result<std::string> format_env(const Env& env, std::size_t size) {
  std::string out(kEnvSignature);
  for (const auto& [name, value] : env.vars()) {
    if (!valid_env_name(name)) return fail("write GRUB environment block: bad name '" + name + "'");
    out += name;
    out += '=';
    for (char c : value) {
      if (c == '\\' || c == '\n') out += '\\';
      out += c;
    }
    out += '\n';
  }
  if (out.size() > size)
    return fail("write GRUB environment block: the variables take " + std::to_string(out.size()) +
                " bytes, more than the block's " + std::to_string(size));
  out.append(size - out.size(), '#');
  return out;
}

}  // namespace imgroot::grub
