// See zone.hpp.
#include "lab/zone.hpp"

#include <arpa/inet.h>
#include <ldns/ldns.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <sstream>

namespace relayscope::lab {

std::string normalize_name(std::string_view name) {
  std::string s(name);
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

const char* type_name(std::uint16_t type) {
  switch (type) {
    case rrtype::A:
      return "A";
    case rrtype::NS:
      return "NS";
    case rrtype::CNAME:
      return "CNAME";
    case rrtype::SOA:
      return "SOA";
    case rrtype::MX:
      return "MX";
    case rrtype::TXT:
      return "TXT";
    case rrtype::AAAA:
      return "AAAA";
  }
  return nullptr;
}

Zone::Zone(std::string origin) : origin_(normalize_name(origin)) {}

void Zone::add(const std::string& name, std::uint16_t type, std::string rdata) {
  names_[name].records.push_back({type, std::move(rdata)});
}

void Zone::remove(const std::string& name, std::uint16_t type) {
  auto it = names_.find(name);
  if (it == names_.end()) return;
  auto& rs = it->second.records;
  rs.erase(std::remove_if(rs.begin(), rs.end(), [&](const Record& r) { return r.type == type; }),
           rs.end());
}

void Zone::set_fault(const std::string& name, Fault fault) {
  names_[name].fault = fault;
}

const NameEntry* Zone::find(std::string_view name) const {
  auto it = names_.find(std::string(name));
  return it == names_.end() ? nullptr : &it->second;
}

bool Zone::in_zone(std::string_view name) const {
  return name == origin_ || (name.size() > origin_.size() && name.ends_with(origin_) &&
                             name[name.size() - origin_.size() - 1] == '.');
}

namespace {

struct RrDeleter {
  void operator()(ldns_rr* rr) const { ldns_rr_free(rr); }
};
struct CharDeleter {
  void operator()(char* p) const { LDNS_FREE(p); }
};

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool is_ipv4(const std::string& s) {
  unsigned char buf[4];
  return inet_pton(AF_INET, s.c_str(), buf) == 1;
}

std::string absolute(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}

}  // namespace

Status Zone::add_text(std::string_view text) {
  auto w = words(text);
  if (w.size() < 3)
    return make_error("zone record '" + std::string(text) + "': want NAME TYPE DATA");
  std::string name = normalize_name(w[0]);
  if (!in_zone(name)) {
    return make_error("zone record '" + std::string(text) + "': " + name + " is not under ." +
                      origin_);
  }
  // Optional TTL and class between the name and the type.
  std::size_t t = 1;
  if (t < w.size() && std::all_of(w[t].begin(), w[t].end(), ::isdigit)) ++t;
  if (t < w.size() && (w[t] == "IN" || w[t] == "in")) ++t;
  if (t + 1 >= w.size()) return make_error("zone record '" + std::string(text) + "': no data");
  std::string type = w[t];
  std::transform(type.begin(), type.end(), type.begin(), ::toupper);
  std::vector<std::string> data(w.begin() + static_cast<std::ptrdiff_t>(t) + 1, w.end());

  if (type == "MX" && data.size() == 1 && is_ipv4(data[0])) {
    remove(name, rrtype::MX);
    remove("mx." + name, rrtype::A);
    if (auto ok = add_text(name + " MX 10 mx." + name); !ok) return ok;
    return add_text("mx." + name + " A " + data[0]);
  }
  // Names in the data of these types are made absolute.
  if (type == "MX" && data.size() == 2) data[1] = absolute(data[1]);
  if ((type == "CNAME" || type == "NS") && data.size() == 1) data[0] = absolute(data[0]);

  std::string line = absolute(name) + " " + std::to_string(ttl()) + " IN " + type;
  for (const auto& d : data) line += " " + d;
  ldns_rr* raw = nullptr;
  auto status = ldns_rr_new_frm_str(&raw, line.c_str(), ttl(), nullptr, nullptr);
  std::unique_ptr<ldns_rr, RrDeleter> rr(raw);
  if (status != LDNS_STATUS_OK || !rr) {
    return make_error("zone record '" + std::string(text) +
                      "': " + ldns_get_errorstr_by_id(status));
  }
  auto code = static_cast<std::uint16_t>(ldns_rr_get_type(rr.get()));
  if (!type_name(code)) {
    return make_error("zone record '" + std::string(text) + "': type " + type +
                      " is not served (A, AAAA, MX, CNAME, TXT, NS, SOA)");
  }
  std::string rdata;
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr.get()); ++i) {
    std::unique_ptr<char, CharDeleter> s(ldns_rdf2str(ldns_rr_rdf(rr.get(), i)));
    if (!s) return make_error("zone record '" + std::string(text) + "': bad data");
    rdata += (i ? " " : "") + std::string(s.get());
  }
  // An extra record replaces what the plan had at that name and type, so
  // that a test can point a generated domain's MX somewhere else.
  if (code != rrtype::TXT && code != rrtype::NS) remove(name, code);
  if (code == rrtype::CNAME) names_[name].records.clear();
  names_[name].fault = Fault::none;
  add(name, code, std::move(rdata));
  return Ok{};
}

Zone build_zone(const LabPlan& plan, const std::string& dns_ip) {
  Zone z("test");
  z.add("test", rrtype::SOA, "ns.test. hostmaster.test. 1 3600 600 86400 60");
  z.add("test", rrtype::NS, "ns.test.");
  z.add("ns.test", rrtype::A, dns_ip);
  for (std::size_t i = 0; i < plan.domains.size(); ++i) {
    const auto& d = plan.domains[i];
    const std::string& n = d.name;
    if (!d.resolved) {
      switch (d.failure) {
        case Unresolved::nxdomain:
          break;  // not in the zone at all
        case Unresolved::nodata:
          z.add(n, rrtype::TXT, "\"no mail here\"");
          break;
        case Unresolved::servfail:
          z.set_fault(n, Fault::servfail);
          break;
        case Unresolved::timeout:
          z.set_fault(n, Fault::drop);
          break;
        case Unresolved::null_mx:
          z.add(n, rrtype::MX, "0 .");
          break;
        case Unresolved::no_address:
          // The MX host exists but has no address.
          z.add(n, rrtype::MX, "10 mx." + n + ".");
          z.add("mx." + n, rrtype::TXT, "\"no address\"");
          break;
      }
      continue;
    }
    const auto& h = plan.hosts[static_cast<std::size_t>(d.host)];
    std::string ip = ipv4_to_string(h.ip);
    switch (h.resolution) {
      case Resolution::mx:
        z.add(n, rrtype::MX, "10 mx." + n + ".");
        z.add(n, rrtype::TXT, "\"v=spf1 mx -all\"");
        z.add("mx." + n, rrtype::A, ip);
        break;
      case Resolution::a_only:
        z.add(n, rrtype::A, ip);
        break;
      case Resolution::cname:
        z.add(n, rrtype::CNAME, "real." + n + ".");
        z.add("real." + n, rrtype::MX, "10 mx." + n + ".");
        z.add("mx." + n, rrtype::A, ip);
        break;
      case Resolution::multi_mx:
        z.add(n, rrtype::MX, "10 mx." + n + ".");
        z.add(n, rrtype::MX, "20 mx2." + n + ".");
        z.add("mx." + n, rrtype::A, ip);
        z.add("mx2." + n, rrtype::A, ipv4_to_string(h.backup_ip));
        break;
      case Resolution::equal_pref:
        z.add(n, rrtype::MX, "10 mx1." + n + ".");
        z.add(n, rrtype::MX, "10 mx2." + n + ".");
        z.add("mx1." + n, rrtype::A, ip);
        z.add("mx2." + n, rrtype::A, ip);
        break;
    }
  }
  return z;
}

}  // namespace relayscope::lab
