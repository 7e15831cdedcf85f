// Fuzzes the DATA reader against a reference model and against itself:
// it must end exactly at the first CRLF.CRLF (counting the message start as a
// line start), accept exactly the messages without bare CR/LF or NUL within the
// limits, un-stuff them, and give the same result however the input is split.
// Also: dot_stuff(x) always reads back as x with normalised line endings.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "smtp/data_reader.hpp"
#include "smtp/dot_stuffing.hpp"

using namespace relayscope::smtp;
using State = DataReader::State;

namespace {

struct Run {
  State state;
  bool finished;
  std::size_t consumed;
  std::string message;
};

Run run(std::string_view in, const std::vector<std::size_t>& cuts, std::size_t max_size,
        std::size_t max_line) {
  DataReader r(max_size, max_line);
  std::string out;
  std::size_t pos = 0;
  std::size_t consumed = 0;
  auto feed = [&](std::size_t end) {
    if (r.finished() || end < pos) return;
    auto chunk = in.substr(pos, end - pos);
    std::size_t used = r.feed(chunk, out);
    FUZZ_CHECK(used <= chunk.size());
    if (!r.finished()) FUZZ_CHECK(used == chunk.size());
    consumed += used;
    pos = end;
  };
  for (std::size_t c : cuts) feed(c);
  feed(in.size());
  if (r.finished()) FUZZ_CHECK(r.feed("x", out) == 0);
  return {r.state(), r.finished(), consumed, out};
}

// What the reader must do, computed the slow and obvious way.
struct Expect {
  bool finished = false;
  std::size_t consumed = 0;
  bool clean = false;  // done, no violation
  std::string message;
};

Expect reference(std::string_view in, std::size_t max_size, std::size_t max_line) {
  Expect e;
  std::string virt = "\r\n" + std::string(in);
  auto end = virt.find("\r\n.\r\n");
  if (end == std::string::npos) {
    e.consumed = in.size();
    return e;
  }
  e.finished = true;
  e.consumed = end + 5 - 2;
  // The message is every line before the ".\r\n" line, each with its CRLF;
  // `end` is where that CRLF starts in `virt`, so end - 2 in `in`.
  bool ok = true;
  std::string msg;
  if (end >= 2) {
    std::string_view body(in.data(), end - 2);
    std::size_t pos = 0;
    for (;;) {
      auto crlf = body.find("\r\n", pos);
      auto line =
          body.substr(pos, crlf == std::string_view::npos ? std::string_view::npos : crlf - pos);
      if (line.find('\r') != std::string_view::npos || line.find('\n') != std::string_view::npos) {
        ok = false;
      }
      if (line.find('\0') != std::string_view::npos) ok = false;  // NUL: refused
      if (line.size() + 2 > max_line) ok = false;                 // the raw line with its CRLF
      if (!line.empty() && line[0] == '.') line.remove_prefix(1);
      msg.append(line);
      msg.append("\r\n");
      if (crlf == std::string_view::npos) break;
      pos = crlf + 2;
    }
  }
  if (3 > max_line) ok = false;  // the ".\r\n" line itself
  if (msg.size() > max_size) ok = false;
  e.clean = ok;
  if (ok) e.message = std::move(msg);
  return e;
}

std::string normalise(std::string_view m) {
  std::string out;
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\r' || m[i] == '\n') {
      out += "\r\n";
      if (m[i] == '\r' && i + 1 < m.size() && m[i + 1] == '\n') ++i;
    } else {
      out += m[i];
    }
  }
  if (!out.empty() && out.back() != '\n') out += "\r\n";
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // Small limits so that the fuzzer reaches them.
  std::size_t max_size = data[0] == 255 ? (1u << 20) : data[0];
  std::size_t max_line = data[1] == 255 ? 1002 : data[1];
  std::size_t split = data[2];
  std::string_view in(reinterpret_cast<const char*>(data + 3), size - 3);

  auto whole = run(in, {}, max_size, max_line);
  auto ref = reference(in, max_size, max_line);
  FUZZ_CHECK(whole.finished == ref.finished);
  FUZZ_CHECK(whole.consumed == ref.consumed);
  if (whole.finished) {
    FUZZ_CHECK((whole.state == State::done) == ref.clean);
    if (ref.clean) FUZZ_CHECK(whole.message == ref.message);
  } else {
    FUZZ_CHECK(whole.state != State::done);
  }
  if (whole.state == State::done || whole.state == State::reading) {
    FUZZ_CHECK(whole.message.size() <= max_size);
  }

  // Splitting never changes the outcome.
  auto two = run(in, {split % (in.size() + 1)}, max_size, max_line);
  FUZZ_CHECK(two.state == whole.state && two.finished == whole.finished &&
             two.consumed == whole.consumed);
  if (whole.state == State::done) FUZZ_CHECK(two.message == whole.message);
  if (in.size() <= 256) {
    std::vector<std::size_t> every;
    for (std::size_t i = 1; i < in.size(); ++i) every.push_back(i);
    auto bytes = run(in, every, max_size, max_line);
    FUZZ_CHECK(bytes.state == whole.state && bytes.finished == whole.finished &&
               bytes.consumed == whole.consumed);
    if (whole.state == State::done) FUZZ_CHECK(bytes.message == whole.message);
  }

  // The sending side's output is always read back whole and unchanged.
  std::string wire = dot_stuff(in);
  auto back = run(wire + "NEXT", {}, 1u << 30, 1u << 30);
  FUZZ_CHECK(back.consumed == wire.size());
  if (in.find('\0') != std::string_view::npos) {
    FUZZ_CHECK(back.state == State::nul_byte);  // read back whole, and refused
  } else {
    FUZZ_CHECK(back.state == State::done);
    FUZZ_CHECK(back.message == normalise(in));
  }
  return 0;
}
