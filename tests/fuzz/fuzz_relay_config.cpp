// Fuzzes the relay's configuration reader (config.cpp, on toml++), and its
// value parsers (durations, ADDR:PORT). Invariants: no exception or
// undefined behaviour (UBSan) on any text, an error is one "FILE:LINE: what"
// line, and what loads is in range (durations not negative, ports set).
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_check.hpp"
#include "server/config.hpp"

using namespace relayscope::server;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  if (auto d = parse_duration(in)) FUZZ_CHECK(d->count() >= 0);
  if (auto a = parse_listen_address(in)) FUZZ_CHECK(a->port != 0 && !a->address.empty());
  auto c = parse_config(in, "/fuzz/relay.toml");
  if (!c) {
    const auto& m = c.error().message;
    FUZZ_CHECK(m.rfind("/fuzz/relay.toml:", 0) == 0);
    return 0;
  }
  for (const auto& l : c->listen) FUZZ_CHECK(l.port != 0);
  FUZZ_CHECK(c->timeouts.command.count() > 0 && c->timeouts.idle.count() > 0);
  FUZZ_CHECK(c->delivery.max_queue_time.count() > 0);
  for (const auto& r : c->delivery.retry) FUZZ_CHECK(r.count() >= 0);
  return 0;
}
