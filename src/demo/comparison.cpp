#include "demo/comparison.hpp"

#include <fmt/format.h>

#include <vector>

namespace relayscope::demo {

namespace {
double percent(std::int64_t n, std::int64_t of) {
  return of > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0;
}
}  // namespace

std::string comparison_table(const RunFigures& ours, const ImcRun& imc) {
  std::string t;
  t += fmt::format("{:<16}{:>12}{:>16}\n", "", "This run", "IMC " + imc.label);
  auto row = [&t](const char* name, std::int64_t a, std::int64_t b) {
    t += fmt::format("{:<16}{:>12}{:>16}\n", name, a, b);
  };
  row("Names", ours.funnel.names, imc.names);
  row("Unique hosts", ours.funnel.unique_domains, imc.unique_hosts);
  row("Resolved hosts", ours.funnel.resolved_hosts, imc.resolved_hosts);
  row("Sampled", ours.funnel.sampled, imc.sampled);
  t += "\n";
  t += fmt::format("{:<13}{:<11}{:<12}{:<11}{}\n", "Response", "Number", "Percent", "IMC", "IMC %");
  const std::vector<std::string> order{"CONNECT", "EHLO", "MAIL", "TO", "DATA", "QUIT", "OK"};
  for (const auto& o : order) {
    auto it = ours.outcomes.find(o);
    std::int64_t n = it == ours.outcomes.end() ? 0 : it->second;
    std::int64_t m = 0;
    if (auto jt = imc.outcomes.find(o); jt != imc.outcomes.end()) m = jt->second;
    if (o == "QUIT") m = imc.quit_errors;
    if (n == 0 && m == 0) continue;  // zero in both: left out, as the IMC did
    t += fmt::format("{:<13}{:<11}{:<12.1f}{:<11}{:.1f}\n", o, n, percent(n, ours.funnel.sampled),
                     m, percent(m, imc.sampled));
  }
  if (ours.delivered || ours.bounced) {
    t += "\n";
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Of OK hosts", "Number", "", "IMC");
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Delivered", ours.delivered.value_or(0), "",
                     imc.delivered);
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Bounced", ours.bounced.value_or(0), "",
                     imc.bounced);
  }
  return t;
}

}  // namespace relayscope::demo
