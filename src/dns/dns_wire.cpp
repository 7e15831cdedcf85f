// See dns_wire.hpp. Names are decoded with c-ares' own ares_expand_name,
// which checks bounds and compression loops.
#include "dns/dns_wire.hpp"

#include <ares.h>
#include <arpa/nameser.h>

#include <map>

#include "dns/mx_select.hpp"

namespace relayscope::dns {

namespace {

constexpr std::size_t kHeader = 12;

unsigned read16(const unsigned char* p) {
  return (unsigned{p[0]} << 8) | p[1];
}

// Decodes the name at `p`; advances `p` past it. False on malformed input.
bool read_name(const unsigned char*& p, const unsigned char* buf, int len, std::string* out) {
  char* name = nullptr;
  long consumed = 0;
  if (ares_expand_name(p, buf, len, &name, &consumed) != ARES_SUCCESS) return false;
  if (out) *out = normalize_name(name);
  ares_free_string(name);
  p += consumed;
  return true;
}

// Calls visit(owner, type, rdata, whole buffer, its length) for each answer record
// until the end or the first malformed one.
template <class Visit>
void for_each_answer(const unsigned char* answer, std::size_t length, Visit visit) {
  if (answer == nullptr || length < kHeader || length > 65535) return;
  const int len = static_cast<int>(length);
  const unsigned char* end = answer + length;
  const unsigned qdcount = read16(answer + 4);
  const unsigned ancount = read16(answer + 6);
  const unsigned char* p = answer + kHeader;
  for (unsigned i = 0; i < qdcount; ++i) {
    if (!read_name(p, answer, len, nullptr) || end - p < 4) return;
    p += 4;
  }
  for (unsigned i = 0; i < ancount; ++i) {
    std::string owner;
    if (!read_name(p, answer, len, &owner) || end - p < 10) return;
    const unsigned type = read16(p);
    const unsigned rdlength = read16(p + 8);
    p += 10;
    if (end - p < static_cast<std::ptrdiff_t>(rdlength)) return;
    visit(owner, type, p, answer, len);
    p += rdlength;
  }
}

}  // namespace

std::string cname_chain_end(const unsigned char* answer, std::size_t length,
                            std::string_view qname) {
  std::string current = normalize_name(qname);
  std::map<std::string, std::string> cnames;
  for_each_answer(answer, length,
                  [&](const std::string& owner, unsigned type, const unsigned char* rdata,
                      const unsigned char* buf, int len) {
                    if (type != ns_t_cname) return;
                    std::string target;
                    // A CNAME to the root names no host: ignored, so the
                    // chain never ends at an empty name (found by fuzzing).
                    if (read_name(rdata, buf, len, &target) && !target.empty()) {
                      cnames.emplace(owner, target);
                    }
                  });
  for (int hops = 0; hops < 16; ++hops) {
    auto it = cnames.find(current);
    if (it == cnames.end()) break;
    current = it->second;
    cnames.erase(it);  // a loop ends here
  }
  return current;
}

std::size_t count_answer_records(const unsigned char* answer, std::size_t length, int type) {
  std::size_t count = 0;
  for_each_answer(
      answer, length,
      [&](const std::string&, unsigned t, const unsigned char*, const unsigned char*, int) {
        if (t == static_cast<unsigned>(type)) ++count;
      });
  return count;
}

}  // namespace relayscope::dns
