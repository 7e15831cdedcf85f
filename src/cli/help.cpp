// See help.hpp. Per-subcommand texts live in a table keyed by the App, so
// the formatter (shared by all) finds them.
#include "cli/help.hpp"

#include <algorithm>
#include <map>
#include <sstream>

namespace relayscope::cli {

namespace {

struct Texts {
  std::string synopsis, examples, exit_codes;
};

std::map<const CLI::App*, Texts>& texts() {
  static std::map<const CLI::App*, Texts> t;
  return t;
}

// CLI11 calls every string TEXT; the option's name often says more.
std::string metavar_of_name(const std::string& name) {
  static const std::map<std::string, std::string> known{{"--db", "FILE"},
                                                        {"--config", "FILE"},
                                                        {"--out", "FILE"},
                                                        {"--users", "FILE"},
                                                        {"--targets", "FILE"},
                                                        {"--names-out", "FILE"},
                                                        {"--truth-out", "FILE"},
                                                        {"--exclude", "FILE"},
                                                        {"--spool", "DIR"},
                                                        {"--profiles-dir", "DIR"},
                                                        {"--listen", "ADDR:PORT"},
                                                        {"--dns", "ADDR:PORT"},
                                                        {"--domain", "DOMAIN"},
                                                        {"--helo", "NAME"},
                                                        {"--hostname", "NAME"},
                                                        {"--mail-from", "ADDR"},
                                                        {"--rcpt-to", "ADDR"},
                                                        {"--zone", "NAME"},
                                                        {"--ns", "NAME"},
                                                        {"--ns-address", "ADDR"},
                                                        {"--first-address", "ADDR"},
                                                        {"--runs", "all|ID,..."},
                                                        {"--profile", "NAME|FILE"},
                                                        {"--label", "TEXT"},
                                                        {"--zone-extra", "RECORD"},
                                                        {"FILE", "FILE"},
                                                        {"NAME", "NAME"},
                                                        {"ID", "ID"}};
  auto it = known.find(name);
  return it == known.end() ? std::string("TEXT") : it->second;
}

const char* default_exit_codes =
    "0 success; 2 a usage or configuration error (one line naming it); 1 any other failure";

class HelpFormatter : public CLI::Formatter {
 public:
  HelpFormatter() { column_width(34); }

  std::string make_usage(const CLI::App* app, std::string name) const override {
    auto it = texts().find(app);
    if (it == texts().end() || it->second.synopsis.empty()) {
      return CLI::Formatter::make_usage(app, std::move(name));
    }
    std::string out = "Synopsis:\n";
    std::istringstream lines(it->second.synopsis);
    for (std::string l; std::getline(lines, l);) out += "  " + l + "\n";
    return out;
  }

  std::string make_group(std::string group, bool is_positional,
                         std::vector<const CLI::Option*> opts) const override {
    // Required options first, in their declared order.
    std::stable_partition(opts.begin(), opts.end(),
                          [](const CLI::Option* o) { return o->get_required(); });
    return CLI::Formatter::make_group(std::move(group), is_positional, std::move(opts));
  }

  std::string make_option_opts(const CLI::Option* opt) const override {
    if (!opt->get_option_text().empty()) return " " + opt->get_option_text();
    std::string out;
    if (opt->get_type_size() != 0) {
      auto meta = plain_metavar(opt->get_type_name());
      if (meta == "TEXT") meta = metavar_of_name(opt->get_name());
      if (!meta.empty()) out += " " + meta;
      if (opt->get_expected_max() == CLI::detail::expected_max_vector_size) out += " ...";
      if (opt->get_required()) out += " (required)";
      if (!opt->get_default_str().empty()) out += " (default " + opt->get_default_str() + ")";
    }
    return out;
  }

  std::string make_footer(const CLI::App* app) const override {
    std::string out = CLI::Formatter::make_footer(app);
    auto it = texts().find(app);
    if (it != texts().end() && !it->second.examples.empty()) {
      out += "\nExamples:\n" + it->second.examples;
      if (out.back() != '\n') out += "\n";
    }
    {
      std::string codes = it != texts().end() && !it->second.exit_codes.empty()
                              ? it->second.exit_codes
                              : default_exit_codes;
      out += "\nExit status:\n";
      std::istringstream lines(codes);
      for (std::string l; std::getline(lines, l);) out += "  " + l + "\n";
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<CLI::Formatter> make_help_formatter() {
  return std::make_shared<HelpFormatter>();
}

void describe(CLI::App* app, const std::string& synopsis, const std::string& examples,
              const std::string& exit_codes) {
  texts()[app] = Texts{synopsis, examples, exit_codes};
}

std::string plain_metavar(const std::string& type_name) {
  if (type_name.empty()) return "";
  auto colon = type_name.find(':');
  std::string base = type_name.substr(0, colon);
  std::string detail = colon == std::string::npos ? "" : type_name.substr(colon + 1);
  if (!detail.empty() && detail.front() == '{') return detail.substr(0, detail.find('}') + 1);
  if (detail.rfind("FILE", 0) == 0 || detail.rfind("DIR", 0) == 0 || detail.rfind("PATH", 0) == 0) {
    return detail.substr(0, detail.find(' '));
  }
  if (base == "UINT" || base == "INT" || base == "POSITIVE" || base == "NONNEGATIVE") return "N";
  if (base == "FLOAT" || base == "NUMBER") return "N";
  if (base == "TEXT") return "TEXT";
  // A name the subcommand chose itself (->type_name("ADDR:PORT")).
  return type_name;
}

}  // namespace relayscope::cli
