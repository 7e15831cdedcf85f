// Which addresses a DNSBL of relayscope's findings lists: the open relays of
// the runs, the latest word winning. A host is listed when a run found it
// relaying: by default when it accepted a relay test through DATA (the IMC
// test or any trick variant), or, with Evidence::delivered, only when the
// test message really arrived at the collector (accept-and-drop and
// accept-and-bounce hosts relay nothing). A later run delists a host only on
// proof that it is closed: a permanent (5xx) refusal, and, for a host listed
// for a trick spelling, a run that tried that trick and none relayed. A later
// run that could not connect, or met a temporary refusal (greylisting, a
// rate limit), says nothing either way, so the listing stands.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace relayscope::dnsbl {

enum class Evidence { accepted, delivered };

struct Listing {
  std::string ip;
  std::string date;     // of the run that found it open (YYYY-MM-DD)
  std::string variant;  // which test relayed ("imc", "percent-hack", ...)
  std::int64_t run_id = 0;
  Evidence evidence = Evidence::accepted;
};

// Folds runs in the order given (oldest first) into the current listings,
// sorted by address.
class ListingBuilder {
 public:
  explicit ListingBuilder(Evidence evidence = Evidence::accepted) : evidence_(evidence) {}

  void add_run(const store::Run& run, const std::vector<store::HostRow>& rows);
  std::vector<Listing> listings() const;

 private:
  Evidence evidence_;
  std::map<std::string, Listing> listed_;
};

// Whether `row` shows the host relaying under `evidence`; the test that
// relayed goes to `variant`.
bool relays(const store::HostRow& row, Evidence evidence, std::string* variant = nullptr);

}  // namespace relayscope::dnsbl
