// The little of a raw DNS answer that c-ares' parsers do not give us: where
// the answer's CNAME chain ends (c-ares' MX and TXT parsers ignore CNAMEs,
// and a server may answer with the CNAME alone). Bounded: malformed input
// yields the query name, never a read out of bounds.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace relayscope::dns {

// Follows CNAME records of the answer section from `qname` (at most 16
// links, loops stop); returns the normalized end of the chain, or the
// normalized qname when the answer holds no CNAME for it.
std::string cname_chain_end(const unsigned char* answer, std::size_t length,
                            std::string_view qname);

// How many records of `type` the answer section holds (0 on malformed input).
std::size_t count_answer_records(const unsigned char* answer, std::size_t length, int type);

}  // namespace relayscope::dns
