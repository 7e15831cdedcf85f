// See jsonl_sink.hpp.
#include "survey/jsonl_sink.hpp"

#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "report/render.hpp"

namespace relayscope::survey {

store::HostRow host_row_of(const store::Probe& probe, std::int64_t run_id) {
  store::HostRow h;
  h.run_id = run_id;
  h.domain = probe.domain;
  h.ip = probe.ip;
  h.outcome = probe.outcome;
  h.code = probe.code;
  h.reason = probe.reason;
  h.token = probe.token;
  // As the store finds it: the last received line that begins with the code.
  if (probe.code > 0) {
    const auto code = std::to_string(probe.code);
    for (auto it = probe.transcript.rbegin(); it != probe.transcript.rend(); ++it) {
      if (it->direction == '<' && it->text.compare(0, code.size(), code) == 0) {
        h.reply = it->text;
        break;
      }
    }
  }
  for (const auto& v : probe.variants) {
    if (v.outcome == "OK") h.relaying_variants.push_back(v.name);
    if (v.outcome == store::variant_not_tried) h.untried_variants.push_back(v.name);
  }
  h.transcript = probe.transcript;
  h.greylisted = probe.greylisted;
  h.first_code = probe.first_code;
  h.first_reply = probe.first_reply;
  return h;
}

std::string jsonl_line(const store::Probe& probe, std::int64_t run_id) {
  // The report's own renderer makes the object, so the two cannot drift.
  auto doc = nlohmann::json::parse(
      report::render_hosts({host_row_of(probe, run_id)}, report::Format::json));
  auto obj = doc.at("hosts").at(0);
  obj["delivered"] = nullptr;
  obj["bounced"] = nullptr;
  return obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Expected<std::unique_ptr<JsonlSink>> JsonlSink::open(const std::string& path) {
  if (path == "-") return std::unique_ptr<JsonlSink>(new JsonlSink(stdout, false, "-"));
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return make_error("--jsonl: cannot open '" + path + "': " + std::strerror(errno));
  return std::unique_ptr<JsonlSink>(new JsonlSink(f, true, path));
}

JsonlSink::JsonlSink(std::FILE* file, bool owned, std::string path)
    : file_(file), owned_(owned), path_(std::move(path)) {}

JsonlSink::~JsonlSink() {
  (void)close();
}

void JsonlSink::stored(std::int64_t run_id, const std::vector<store::Probe>& probes) {
  std::string out;
  for (const auto& p : probes) out += jsonl_line(p, run_id);
  std::lock_guard lock(mu_);
  if (!file_ || !error_.empty() || out.empty()) return;
  // A reader following the file (tail -f, a pipe) sees each batch at once.
  if (std::fwrite(out.data(), 1, out.size(), file_) != out.size() || std::fflush(file_) != 0) {
    error_ = "--jsonl: cannot write '" + path_ + "': " + std::strerror(errno);
    return;
  }
  lines_ += static_cast<std::int64_t>(probes.size());
}

Status JsonlSink::close() {
  std::lock_guard lock(mu_);
  if (file_ && owned_ && std::fclose(file_) != 0 && error_.empty()) {
    error_ = "--jsonl: cannot write '" + path_ + "': " + std::strerror(errno);
  }
  if (file_ && !owned_) std::fflush(file_);
  file_ = nullptr;
  if (!error_.empty()) return make_error(error_);
  return Ok{};
}

std::int64_t JsonlSink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

}  // namespace relayscope::survey
