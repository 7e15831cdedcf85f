// See dns_answer.hpp. Every ldns object is owned by a unique_ptr; the
// response is built with ldns and turned to wire by ldns_pkt2wire.
#include "lab/dns_answer.hpp"

#include <ldns/ldns.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace relayscope::lab {

namespace {

struct PktDeleter {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct CharDeleter {
  void operator()(char* p) const { std::free(p); }
};
struct ByteDeleter {
  void operator()(std::uint8_t* p) const { std::free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktDeleter>;

constexpr int max_chain = 8;
constexpr std::uint16_t qtype_any = 255;
constexpr std::size_t edns_max = 1232;

void soa_authority(const Zone& zone, Lookup& out) {
  if (const auto* apex = zone.find(zone.origin())) {
    for (const auto& r : apex->records) {
      if (r.type == rrtype::SOA) out.authority.push_back({zone.origin(), r.type, r.rdata});
    }
  }
}

ldns_rr* make_rr(const RrText& r, std::uint32_t ttl) {
  const char* type = type_name(r.type);
  if (!type) return nullptr;
  std::string line = r.owner + ". " + std::to_string(ttl) + " IN " + type + " " + r.rdata;
  ldns_rr* rr = nullptr;
  if (ldns_rr_new_frm_str(&rr, line.c_str(), ttl, nullptr, nullptr) != LDNS_STATUS_OK) {
    if (rr) ldns_rr_free(rr);
    return nullptr;
  }
  return rr;
}

std::optional<std::vector<std::uint8_t>> to_wire(const ldns_pkt* p) {
  std::uint8_t* buf = nullptr;
  std::size_t size = 0;
  if (ldns_pkt2wire(&buf, p, &size) != LDNS_STATUS_OK || !buf) return std::nullopt;
  std::unique_ptr<std::uint8_t, ByteDeleter> owned(buf);
  return std::vector<std::uint8_t>(buf, buf + size);
}

PktPtr bare_response(std::uint16_t id, int code) {
  PktPtr r(ldns_pkt_new());
  if (!r) return r;
  ldns_pkt_set_id(r.get(), id);
  ldns_pkt_set_qr(r.get(), true);
  ldns_pkt_set_rcode(r.get(), static_cast<std::uint8_t>(code));
  return r;
}

}  // namespace

Lookup lookup(const Zone& zone, const std::string& name, std::uint16_t qtype) {
  Lookup out;
  if (!zone.in_zone(name)) {
    out.authoritative = false;
    out.rcode = rcode::refused;
    return out;
  }
  std::string current = name;
  for (int link = 0; link <= max_chain; ++link) {
    const NameEntry* e = zone.find(current);
    if (!e) {
      out.rcode = rcode::nxdomain;
      soa_authority(zone, out);
      return out;
    }
    if (e->fault == Fault::drop) {
      out.drop = true;
      return out;
    }
    if (e->fault == Fault::servfail) {
      out.rcode = rcode::servfail;
      out.answers.clear();
      return out;
    }
    bool found = false;
    for (const auto& r : e->records) {
      if (r.type == qtype || qtype == qtype_any) {
        out.answers.push_back({current, r.type, r.rdata});
        found = true;
      }
    }
    if (found) return out;
    const Record* cname = nullptr;
    for (const auto& r : e->records) {
      if (r.type == rrtype::CNAME) cname = &r;
    }
    if (!cname) {
      soa_authority(zone, out);  // NODATA
      return out;
    }
    out.answers.push_back({current, rrtype::CNAME, cname->rdata});
    current = normalize_name(cname->rdata);
    if (!zone.in_zone(current)) return out;  // the resolver follows it elsewhere
  }
  // A chain longer than max_chain: what we have, as SERVFAIL.
  out.rcode = rcode::servfail;
  out.answers.clear();
  return out;
}

std::optional<std::vector<std::uint8_t>> answer_query(const Zone& zone,
                                                      std::span<const std::uint8_t> query,
                                                      bool tcp) {
  if (query.size() < 12 || query.size() > 65535) return std::nullopt;
  const bool is_response = (query[2] & 0x80) != 0;  // never answer an answer: no loops
  if (is_response) return std::nullopt;
  ldns_pkt* raw = nullptr;
  if (ldns_wire2pkt(&raw, query.data(), query.size()) != LDNS_STATUS_OK || !raw) {
    if (raw) ldns_pkt_free(raw);
    auto id = static_cast<std::uint16_t>((query[0] << 8) | query[1]);
    auto r = bare_response(id, rcode::formerr);
    return r ? to_wire(r.get()) : std::nullopt;
  }
  PktPtr q(raw);
  auto resp = bare_response(ldns_pkt_id(q.get()), rcode::noerror);
  if (!resp) return std::nullopt;
  ldns_pkt_set_opcode(resp.get(), ldns_pkt_get_opcode(q.get()));
  ldns_pkt_set_rd(resp.get(), ldns_pkt_rd(q.get()));
  const bool edns = ldns_pkt_edns(q.get());
  std::size_t max_size = 512;
  if (edns) {
    ldns_pkt_set_edns_udp_size(resp.get(), static_cast<std::uint16_t>(edns_max));
    max_size = std::clamp<std::size_t>(ldns_pkt_edns_udp_size(q.get()), 512, edns_max);
  }
  if (tcp) max_size = 65535;

  if (ldns_pkt_get_opcode(q.get()) != LDNS_PACKET_QUERY) {
    ldns_pkt_set_rcode(resp.get(), rcode::notimpl);
    return to_wire(resp.get());
  }
  ldns_rr_list* questions = ldns_pkt_question(q.get());
  if (ldns_pkt_qdcount(q.get()) != 1 || !questions || ldns_rr_list_rr_count(questions) != 1) {
    ldns_pkt_set_rcode(resp.get(), rcode::formerr);
    return to_wire(resp.get());
  }
  const ldns_rr* question = ldns_rr_list_rr(questions, 0);
  ldns_pkt_push_rr(resp.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  if (ldns_rr_get_class(question) != LDNS_RR_CLASS_IN) {
    ldns_pkt_set_rcode(resp.get(), rcode::refused);
    return to_wire(resp.get());
  }
  std::unique_ptr<char, CharDeleter> owner(ldns_rdf2str(ldns_rr_owner(question)));
  if (!owner) return std::nullopt;
  auto result = lookup(zone, normalize_name(owner.get()),
                       static_cast<std::uint16_t>(ldns_rr_get_type(question)));
  if (result.drop) return std::nullopt;
  ldns_pkt_set_aa(resp.get(), result.authoritative);
  ldns_pkt_set_rcode(resp.get(), static_cast<std::uint8_t>(result.rcode));
  for (const auto& r : result.answers) {
    if (auto* rr = make_rr(r, zone.ttl())) ldns_pkt_push_rr(resp.get(), LDNS_SECTION_ANSWER, rr);
  }
  for (const auto& r : result.authority) {
    if (auto* rr = make_rr(r, zone.ttl())) ldns_pkt_push_rr(resp.get(), LDNS_SECTION_AUTHORITY, rr);
  }
  auto wire = to_wire(resp.get());
  if (!wire || wire->size() <= max_size) return wire;
  // Too big for this transport: a truncated answer without records.
  auto tc = bare_response(ldns_pkt_id(q.get()), result.rcode);
  if (!tc) return std::nullopt;
  ldns_pkt_set_opcode(tc.get(), LDNS_PACKET_QUERY);
  ldns_pkt_set_rd(tc.get(), ldns_pkt_rd(q.get()));
  ldns_pkt_set_aa(tc.get(), result.authoritative);
  ldns_pkt_set_tc(tc.get(), true);
  ldns_pkt_push_rr(tc.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  if (edns) ldns_pkt_set_edns_udp_size(tc.get(), static_cast<std::uint16_t>(edns_max));
  return to_wire(tc.get());
}

}  // namespace relayscope::lab
