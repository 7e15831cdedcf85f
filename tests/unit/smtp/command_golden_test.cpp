// Golden-file test of the command tokenizer (as Postfix's smtpd_token): each
// line of golden/commands.in is parsed and described; the result must equal
// golden/commands.ref. Set RELAYSCOPE_UPDATE_GOLDEN=1 to rewrite the .ref
// (then review the diff).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "smtp/command.hpp"

namespace relayscope::smtp {
namespace {

const std::string dir = std::string(RELAYSCOPE_SOURCE_DIR) + "/tests/unit/smtp/golden/";

// "\xHH" and "\\" in the .in file stand for bytes a text file cannot hold.
std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 2, 2)), nullptr, 16));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string describe(const std::string& line, bool lenient) {
  auto c = parse_command(line, lenient);
  if (!c) return "  error: " + c.error().message + "\n";
  std::ostringstream o;
  o << "  verb=" << c->verb_text;
  if (c->verb == Verb::mail || c->verb == Verb::rcpt) {
    o << " path=" << c->path.wire();
    if (!c->path.null) {
      o << " local=[" << c->path.mailbox.local_part << "]"
        << (c->path.mailbox.local_part_was_quoted ? " quoted" : "") << " host=["
        << c->path.mailbox.host.text << "]";
    }
    for (const auto& [k, v] : c->params) o << " param=" << k << (v.empty() ? "" : "=" + v);
  } else if (!c->argument.empty()) {
    o << " argument=[" << c->argument << "]";
  }
  o << "\n";
  return o.str();
}

TEST(CommandGolden, MatchesReference) {
  std::ifstream in(dir + "commands.in");
  ASSERT_TRUE(in) << "missing " << dir << "commands.in";
  std::string actual;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      actual += line + "\n";
      continue;
    }
    bool lenient = line.rfind("lenient: ", 0) == 0;
    std::string text = lenient ? line.substr(9) : line;
    actual += line + "\n" + describe(unescape(text), lenient);
  }
  const std::string ref_path = dir + "commands.ref";
  if (std::getenv("RELAYSCOPE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(ref_path) << actual;
    GTEST_SKIP() << "rewrote " << ref_path;
  }
  std::ifstream ref(ref_path);
  ASSERT_TRUE(ref) << "missing " << ref_path;
  std::stringstream expected;
  expected << ref.rdbuf();
  EXPECT_EQ(actual, expected.str());
}

}  // namespace
}  // namespace relayscope::smtp
