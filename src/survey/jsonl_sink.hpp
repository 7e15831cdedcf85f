// `survey --jsonl FILE|-`: one JSON object a line per probe, zgrab2's habit,
// written as each batch of finished probes is stored (on the store writer's
// thread, so the probes never wait for the output). Each line carries the
// fields of `report --hosts --format json` for that host; delivered and
// bounced are null there, since only the collector learns them, later.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "common/expected.hpp"
#include "store/store.hpp"
#include "survey/observer.hpp"

namespace relayscope::survey {

// The row `report --hosts` would show for `probe` before any arrival.
store::HostRow host_row_of(const store::Probe& probe, std::int64_t run_id);

// One line (with its newline) for `probe`: report --hosts json's object.
std::string jsonl_line(const store::Probe& probe, std::int64_t run_id);

class JsonlSink : public ProbeObserver {
 public:
  // "-" is standard output; a file is created or truncated.
  static Expected<std::unique_ptr<JsonlSink>> open(const std::string& path);
  ~JsonlSink() override;
  JsonlSink(const JsonlSink&) = delete;
  JsonlSink& operator=(const JsonlSink&) = delete;

  void stored(std::int64_t run_id, const std::vector<store::Probe>& probes) override;
  // Flushes and closes; the first write error, if any.
  Status close();
  std::int64_t lines() const;

 private:
  JsonlSink(std::FILE* file, bool owned, std::string path);
  mutable std::mutex mu_;
  std::FILE* file_;
  bool owned_;
  std::string path_;
  std::string error_;
  std::int64_t lines_ = 0;
};

}  // namespace relayscope::survey
