// See comparison.hpp.
#include "demo/comparison.hpp"

#include <fmt/format.h>

#include <vector>

#include "report/model.hpp"
#include "report/wilson.hpp"

namespace relayscope::demo {

namespace {

double percent(std::int64_t n, std::int64_t of) {
  return of > 0 ? 100.0 * static_cast<double>(n) / static_cast<double>(of) : 0.0;
}

double share(std::int64_t n, std::int64_t of) {
  return of > 0 ? static_cast<double>(n) / static_cast<double>(of) : 0.0;
}

std::int64_t imc_count(const ImcRun& imc, const std::string& o) {
  if (o == "QUIT") return imc.quit_errors;
  auto it = imc.outcomes.find(o);
  return it == imc.outcomes.end() ? 0 : it->second;
}

}  // namespace

std::string outcome_meaning(const std::string& outcome) {
  if (outcome == "CONNECT") return "no SMTP greeting on port 25: refused, timed out or closed";
  if (outcome == "EHLO") return "the host refused our EHLO and HELO";
  if (outcome == "MAIL") return "the host refused our sender (MAIL FROM)";
  if (outcome == "TO") {
    return "the host refused a recipient at a domain it does not serve: it does not relay";
  }
  if (outcome == "DATA") return "the recipient was taken, the message itself refused";
  if (outcome == "QUIT") return "the message was taken, then QUIT got an error";
  if (outcome == "OK") return "the host took a message for a stranger's domain: an open relay";
  return "";
}

std::string noise_verdict(std::int64_t ours, std::int64_t our_base, std::int64_t imc,
                          std::int64_t imc_base) {
  auto interval = report::wilson(ours, our_base);
  return report::within(interval, share(imc, imc_base)) ? "within sampling noise"
                                                        : "outside: a real difference";
}

std::string comparison_table(const RunFigures& ours, const ImcRun& imc) {
  std::string t;
  t += fmt::format("{:<20}{:>8}{:>16}\n", "", "This run", "IMC " + imc.label);
  auto row = [&t](const char* name, std::int64_t a, std::int64_t b) {
    t += fmt::format("{:<20}{:>8}{:>16}\n", name, a, b);
  };
  // The report's names for the same figures (report/model.cpp).
  row("Names", ours.funnel.names, imc.names);
  row("Unique mail hosts", ours.funnel.unique_domains, imc.unique_hosts);
  row("Resolved hosts", ours.funnel.resolved_hosts, imc.resolved_hosts);
  row("Sampled", ours.funnel.sampled, imc.sampled);
  t += "\n";
  t += fmt::format("{:<13}{:<11}{:<12}{:<11}{:<9}{:<15}{}\n", "Response", "Number", "Percent",
                   "IMC", "IMC %", "95% interval", "IMC's figure");
  std::vector<std::string> shown;
  for (const auto& o : report::outcome_order()) {
    auto it = ours.outcomes.find(o);
    std::int64_t n = it == ours.outcomes.end() ? 0 : it->second;
    std::int64_t m = imc_count(imc, o);
    if (n == 0 && m == 0) continue;  // zero in both: left out, as the IMC did
    shown.push_back(o);
    t += fmt::format("{:<13}{:<11}{:<12.1f}{:<11}{:<9.1f}{:<15}{}\n", o, n,
                     percent(n, ours.funnel.sampled), m, percent(m, imc.sampled),
                     report::format_interval(report::wilson(n, ours.funnel.sampled)),
                     noise_verdict(n, ours.funnel.sampled, m, imc.sampled));
  }
  t += "\nThe 95% interval is where this run's share could lie by the luck of the sample\n"
       "alone (Wilson); an IMC figure inside it is no evidence of a difference.\n";
  t += "\nEach response is the first step of the dialogue that failed:\n";
  for (const auto& o : shown) t += fmt::format("  {:<9}{}\n", o, outcome_meaning(o));
  if (ours.delivered || ours.bounced) {
    auto ok_it = ours.outcomes.find("OK");
    std::int64_t ok = ok_it == ours.outcomes.end() ? 0 : ok_it->second;
    std::int64_t d = ours.delivered.value_or(0), b = ours.bounced.value_or(0);
    t += "\n";
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Of OK hosts", "Number", "", "IMC");
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Delivered", d, "", imc.delivered);
    t += fmt::format("{:<13}{:<11}{:<12}{:<11}\n", "Bounced", b, "", imc.bounced);
    t += fmt::format(
        "\nDelivered + bounced ({} + {}) is less than OK ({}): OK means the host said 250\n"
        "to the message, all a probe can see. Delivered counts the messages it then passed\n"
        "on to our collector, bounced the hosts that sent a bounce instead; the others\n"
        "dropped the message, or still hold it in a queue (the IMC: {} + {} of {}).\n",
        d, b, ok, imc.delivered, imc.bounced, imc_count(imc, "OK"));
  }
  return t;
}

}  // namespace relayscope::demo
