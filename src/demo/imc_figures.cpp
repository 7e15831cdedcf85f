#include "demo/imc_figures.hpp"

#include <nlohmann/json.hpp>

extern const char relayscope_imc_surveys_json[];

namespace relayscope::demo {

const char* imc_surveys_json() {
  return relayscope_imc_surveys_json;
}

Expected<std::vector<ImcRun>> imc_runs() {
  auto j = nlohmann::json::parse(relayscope_imc_surveys_json, nullptr, false);
  if (j.is_discarded() || !j.contains("runs")) return make_error("embedded IMC figures unreadable");
  std::vector<ImcRun> runs;
  try {
    for (const auto& r : j["runs"]) {
      ImcRun x;
      x.label = r.at("label").get<std::string>();
      x.date = r.at("date").get<std::string>();
      x.names = r.at("names").get<std::int64_t>();
      x.unique_hosts = r.at("unique_hosts").get<std::int64_t>();
      x.resolved_hosts = r.at("resolved_hosts").get<std::int64_t>();
      x.sampled = r.at("sampled").get<std::int64_t>();
      for (auto& [k, v] : r.at("outcomes").items()) x.outcomes[k] = v.get<std::int64_t>();
      for (auto& [k, v] : r.at("percent").items()) x.percent[k] = v.get<double>();
      x.quit_errors = r.value("quit_errors", std::int64_t{0});
      x.delivered = r.value("delivered", std::int64_t{0});
      x.bounced = r.value("bounced", std::int64_t{0});
      runs.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("embedded IMC figures unreadable: ") + e.what());
  }
  return runs;
}

Expected<ImcRun> imc_run(const std::string& key) {
  auto runs = imc_runs();
  if (!runs) return runs.error();
  for (auto& r : *runs) {
    if (r.label == key || r.date == key) return r;
  }
  return make_error("no IMC run '" + key + "'");
}

}  // namespace relayscope::demo
