// Which addresses a DNSBL of relayscope's findings lists: the open relays of
// the runs, the latest word winning. A host is listed when a run found it
// relaying (the IMC test or any trick variant went through DATA); a later
// run that reached it and found it closed delists it. A later run that could
// not connect says nothing either way, so the listing stands.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace relayscope::dnsbl {

struct Listing {
  std::string ip;
  std::string date;     // of the run that found it open (YYYY-MM-DD)
  std::string variant;  // which test relayed ("imc", "percent-hack", ...)
  std::int64_t run_id = 0;
};

// Folds runs in the order given (oldest first) into the current listings,
// sorted by address.
class ListingBuilder {
 public:
  void add_run(const store::Run& run, const std::vector<store::HostRow>& rows);
  std::vector<Listing> listings() const;

 private:
  std::map<std::string, Listing> listed_;
};

bool relays(const store::HostRow& row, std::string* variant = nullptr);

}  // namespace relayscope::dnsbl
