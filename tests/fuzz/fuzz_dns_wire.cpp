// Fuzzes the raw DNS answer walker (dns_wire.cpp: CNAME chain ends, record
// counts) on whatever a DNS server may send. Invariants: no read out of
// bounds (ASan), the chain's end is a normalized name (lower case, no
// trailing dot), and counting never finds more records than the bytes hold.
#include <arpa/nameser.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "dns/dns_wire.hpp"
#include "fuzz_check.hpp"

using namespace relayscope::dns;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The query name the chain starts from is the input's own question name
  // when it has one, else a fixed name, so both paths are reached.
  const std::string qname = size % 2 ? "example.test" : "Example.TEST.";
  auto end = cname_chain_end(data, size, qname);
  FUZZ_CHECK(!end.empty());
  for (char c : end) FUZZ_CHECK(!(c >= 'A' && c <= 'Z'));
  FUZZ_CHECK(end.back() != '.');
  // Each answer record takes at least 11 bytes (a 1-byte name, 10 fixed).
  for (int type : {ns_t_a, ns_t_mx, ns_t_cname, ns_t_txt, ns_t_aaaa}) {
    FUZZ_CHECK(count_answer_records(data, size, type) <= size / 11);
  }
  return 0;
}
