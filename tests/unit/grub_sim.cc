#include "grub_sim.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

namespace imgroot::test {

struct GrubSim::Node {
  enum class Kind { kCommand, kIf, kFunction, kMenuentry } kind = Kind::kCommand;
  std::string line;  // the command, the function's name, or the menuentry header
  std::vector<std::pair<std::string, Block>> branches;  // if/elif: condition, block
  Block otherwise;                                      // else
  Block body;                                           // function or menuentry
};

namespace {

using Node = GrubSim::Node;
using Block = std::vector<Node>;

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

[[noreturn]] void unsupported(const std::string& what, const std::string& line) {
  throw std::runtime_error("GrubSim: " + what + ": '" + line + "'");
}

class Parser {
 public:
  explicit Parser(const std::string& script) {
    std::istringstream in(script);
    for (std::string line; std::getline(in, line);) {
      line = trim(line);
      if (!line.empty() && line[0] != '#') lines_.push_back(line);
    }
  }

  Block program() {
    Block b = block();
    if (pos_ != lines_.size()) unsupported("unexpected", lines_[pos_]);
    return b;
  }

 private:
  static bool ends_with(const std::string& s, const std::string& tail) { return s.ends_with(tail); }

  // Statements up to a line that ends the block (}, fi, elif, else).
  Block block() {
    Block out;
    while (pos_ < lines_.size()) {
      const std::string& line = lines_[pos_];
      if (line == "}" || line == "fi" || line == "else" || line.starts_with("elif ")) break;
      ++pos_;
      if (line.starts_with("function ")) {
        if (!ends_with(line, " {")) unsupported("function header", line);
        Node n{Node::Kind::kFunction, trim(line.substr(9, line.size() - 11)), {}, {}, {}};
        n.body = block();
        expect("}");
        out.push_back(std::move(n));
      } else if (line.starts_with("menuentry ")) {
        if (!ends_with(line, " {")) unsupported("menuentry header", line);
        Node n{Node::Kind::kMenuentry, line.substr(0, line.size() - 2), {}, {}, {}};
        n.body = block();
        expect("}");
        out.push_back(std::move(n));
      } else if (line.starts_with("if ")) {
        Node n{Node::Kind::kIf, "", {}, {}, {}};
        n.branches.emplace_back(condition(line, 3), block());
        while (pos_ < lines_.size() && lines_[pos_].starts_with("elif ")) {
          const std::string cond = condition(lines_[pos_++], 5);
          n.branches.emplace_back(cond, block());
        }
        if (pos_ < lines_.size() && lines_[pos_] == "else") {
          ++pos_;
          n.otherwise = block();
        }
        expect("fi");
        out.push_back(std::move(n));
      } else {
        if (line.find(';') != std::string::npos || line.find('{') != std::string::npos ||
            line.find('}') != std::string::npos)
          unsupported("more than one command on a line", line);
        out.push_back(Node{Node::Kind::kCommand, line, {}, {}, {}});
      }
    }
    return out;
  }

  std::string condition(const std::string& line, std::size_t skip) {
    if (!ends_with(line, "; then")) unsupported("condition without '; then'", line);
    return trim(line.substr(skip, line.size() - skip - 6));
  }

  void expect(const std::string& what) {
    if (pos_ >= lines_.size() || lines_[pos_] != what)
      unsupported("expected '" + what + "'", pos_ < lines_.size() ? lines_[pos_] : "end of script");
    ++pos_;
  }

  std::vector<std::string> lines_;
  std::size_t pos_ = 0;
};

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

constexpr const char* kHostpart = "hp";
constexpr const char* kEsp = "esp";
constexpr const char* kEnvPath = "(esp)/grub/grubenv";

}  // namespace

GrubSim::GrubSim(const std::string& script)
    : program_(std::make_unique<Block>(Parser(script).program())) {}

GrubSim::~GrubSim() = default;

std::string GrubSim::Boot::cmdline() const {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

std::string GrubSim::var(const std::string& name) const { return lookup(name); }

std::string GrubSim::lookup(const std::string& name) const {
  if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0]))) {
    std::size_t i = std::stoul(name);
    if (positional_.empty() || i == 0 || i > positional_.back().size()) return "";
    return positional_.back()[i - 1];
  }
  auto it = vars_.find(name);
  return it == vars_.end() ? "" : it->second;
}

// GRUB's word rules for the subset: whitespace separates words; "..."
// expands $name without splitting; '...' is literal; an unquoted $name is
// split on whitespace and vanishes when empty.
std::vector<std::string> GrubSim::expand(const std::string& line) const {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  auto finish = [&] {
    if (in_word) words.push_back(word);
    word.clear();
    in_word = false;
  };
  auto read_name = [&](std::size_t& i) {
    std::string name;
    if (i < line.size() && line[i] == '{') {
      auto close = line.find('}', i);
      if (close == std::string::npos) unsupported("unterminated ${", line);
      name = line.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      while (i < line.size() && is_name_char(line[i])) name += line[i++];
    }
    if (name.empty()) unsupported("a lone $", line);
    return name;
  };
  std::size_t i = 0;
  while (i < line.size()) {
    char c = line[i];
    if (c == ' ' || c == '\t') {
      finish();
      ++i;
    } else if (c == '\'') {
      auto close = line.find('\'', i + 1);
      if (close == std::string::npos) unsupported("unterminated '", line);
      word += line.substr(i + 1, close - i - 1);
      in_word = true;
      i = close + 1;
    } else if (c == '"') {
      in_word = true;
      ++i;
      while (i < line.size() && line[i] != '"') {
        if (line[i] == '$') {
          ++i;
          word += lookup(read_name(i));
        } else if (line[i] == '\\') {
          unsupported("a backslash in double quotes", line);
        } else {
          word += line[i++];
        }
      }
      if (i >= line.size()) unsupported("unterminated \"", line);
      ++i;
    } else if (c == '$') {
      ++i;
      std::istringstream parts(lookup(read_name(i)));
      std::string part;
      bool first = true;
      while (parts >> part) {
        if (!first) finish();
        word += part;
        in_word = true;
        first = false;
      }
    } else if (c == '\\') {
      unsupported("a backslash", line);
    } else {
      word += c;
      in_word = true;
      ++i;
    }
  }
  finish();
  return words;
}

bool GrubSim::file_exists(const std::string& path) const {
  if (path == kEnvPath) return grubenv.has_value();
  const std::string prefix = std::string("(") + kHostpart + ")/";
  return path.starts_with(prefix) && files.count(path.substr(prefix.size()));
}

bool GrubSim::test(const std::vector<std::string>& a) const {
  if (a.size() < 2 || a.back() != "]") unsupported("test without ]", a.empty() ? "" : a[0]);
  std::vector<std::string> e(a.begin() + 1, a.end() - 1);
  if (e.size() == 2 && e[0] == "-f") return file_exists(e[1]);
  if (e.size() == 2 && e[0] == "-n") return !e[1].empty();
  if (e.size() == 2 && e[0] == "-z") return e[1].empty();
  if (e.size() == 3 && e[1] == "=") return e[0] == e[2];
  if (e.size() == 3 && e[1] == "!=") return e[0] != e[2];
  std::string all;
  for (const auto& w : a) all += w + " ";
  unsupported("test expression", all);
}

bool GrubSim::run_command(const std::string& line) {
  auto a = expand(line);
  if (a.empty()) return true;
  const std::string& cmd = a[0];
  if (cmd == "set") {
    if (a.size() != 2 || a[1].find('=') == std::string::npos) unsupported("set", line);
    auto eq = a[1].find('=');
    vars_[a[1].substr(0, eq)] = a[1].substr(eq + 1);
    return true;
  }
  if (cmd == "[") return test(a);
  if (cmd == "echo") {
    std::string text;
    for (std::size_t i = 1; i < a.size(); ++i) text += (i > 1 ? " " : "") + a[i];
    echoed_.push_back(text);
    return true;
  }
  if (cmd == "search") {
    // search --no-floppy --label LABEL --set=VAR
    if (a.size() != 5 || a[1] != "--no-floppy" || a[2] != "--label" || !a[4].starts_with("--set="))
      unsupported("search", line);
    std::string found = a[3] == "hostpart" ? kHostpart : a[3] == "EFI-BOOT" ? kEsp : "";
    if (found.empty()) return false;
    vars_[a[4].substr(6)] = found;
    return true;
  }
  if (cmd == "load_env" || cmd == "save_env") {
    if (a.size() < 3 || a[1] != "--file") unsupported(cmd, line);
    if (a[2] != kEnvPath || !grubenv) return false;
    if (cmd == "save_env" && !grubenv_writable) return false;
    for (std::size_t i = 3; i < a.size(); ++i) {
      if (cmd == "load_env") {
        if (auto v = grubenv->get(a[i])) vars_[a[i]] = *v;
      } else {
        grubenv->set(a[i], lookup(a[i]));
      }
    }
    return true;
  }
  if (cmd == "loopback") {
    if (a.size() != 3) unsupported("loopback", line);
    if (loops_.count(a[1]) || !file_exists(a[2])) return false;
    loops_[a[1]] = a[2].substr(a[2].find(')') + 2);
    return true;
  }
  if (cmd == "linux" || cmd == "initrd") {
    if (a.size() < 2 || a[1].front() != '(') unsupported(cmd, line);
    auto close = a[1].find(')');
    auto loop = loops_.find(a[1].substr(1, close - 1));
    const std::string want = cmd == "linux" ? "/boot/kernel" : "/boot/initramfs";
    if (loop == loops_.end() || a[1].substr(close + 1) != want) return false;
    if (cmd == "linux") {
      if (unloadable.count(loop->second)) return false;
      current_.image = loop->second;
      current_.args.assign(a.begin() + 2, a.end());
      kernel_loaded_ = true;
    }
    return kernel_loaded_;
  }
  if (auto f = functions_.find(cmd); f != functions_.end()) {
    positional_.emplace_back(a.begin() + 1, a.end());
    bool ok = run_block(*f->second);
    positional_.pop_back();
    return ok;
  }
  unsupported("unknown command", line);
}

bool GrubSim::run_node(const Node& n) {
  switch (n.kind) {
    case Node::Kind::kCommand: return run_command(n.line);
    case Node::Kind::kFunction: functions_[n.line] = &n.body; return true;
    case Node::Kind::kMenuentry: {
      auto a = expand(n.line);
      auto id = std::find(a.begin(), a.end(), "--id");
      if (a.size() != 4 || id == a.end() || id + 1 == a.end()) unsupported("menuentry", n.line);
      if (!menu_.count(*(id + 1))) entry_order_.push_back(*(id + 1));
      menu_[*(id + 1)] = &n.body;
      return true;
    }
    case Node::Kind::kIf:
      for (const auto& [cond, block] : n.branches)
        if (run_command(cond)) return run_block(block);
      return run_block(n.otherwise);
  }
  return false;
}

bool GrubSim::run_block(const Block& block) {
  bool ok = true;
  for (const auto& n : block) ok = run_node(n);
  return ok;
}

GrubSim::Boot GrubSim::boot(const std::optional<std::string>& entry) {
  vars_.clear();
  functions_.clear();
  menu_.clear();
  entry_order_.clear();
  loops_.clear();
  echoed_.clear();
  vars_["prefix"] = std::string("(") + kEsp + ")/grub";
  run_block(*program_);

  std::vector<std::string> tries = {entry.value_or(lookup("default"))};
  // GRUB 2.06 reads $fallback as an entry number only: an id (or anything
  // else) means no fallback.
  const std::string fallback = lookup("fallback");
  if (!entry && !fallback.empty() &&
      std::all_of(fallback.begin(), fallback.end(), [](char c) { return std::isdigit(c); })) {
    const std::size_t n = std::stoul(fallback);
    if (n < entry_order_.size()) tries.push_back(entry_order_[n]);
  }
  for (const auto& id : tries) {
    auto it = menu_.find(id);
    if (it == menu_.end()) continue;
    current_ = Boot{id, "", {}};
    kernel_loaded_ = false;
    run_block(*it->second);
    if (kernel_loaded_) return current_;
  }
  return Boot{};
}

}  // namespace imgroot::test
