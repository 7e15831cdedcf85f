// See synchronized.hpp: every call forwarded under one lock.
#include "store/synchronized.hpp"

namespace relayscope::store {

namespace {

class Synchronized final : public Store {
 public:
  explicit Synchronized(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  Expected<std::int64_t> create_run(const Run& run) override {
    std::lock_guard lock(mu_);
    return inner_->create_run(run);
  }

  Status finish_run(std::int64_t run_id, const std::string& status,
                    const std::string& finished_at) override {
    std::lock_guard lock(mu_);
    return inner_->finish_run(run_id, status, finished_at);
  }

  Status mark_prepared(std::int64_t run_id, const Funnel& funnel) override {
    std::lock_guard lock(mu_);
    return inner_->mark_prepared(run_id, funnel);
  }

  Status discard_preparation(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->discard_preparation(run_id);
  }

  Expected<Run> get_run(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->get_run(run_id);
  }

  Expected<std::vector<Run>> list_runs() override {
    std::lock_guard lock(mu_);
    return inner_->list_runs();
  }

  Status add_domains(std::int64_t run_id, const std::vector<Domain>& domains) override {
    std::lock_guard lock(mu_);
    return inner_->add_domains(run_id, domains);
  }

  Status add_resolutions(std::int64_t run_id, const std::vector<Resolution>& rs) override {
    std::lock_guard lock(mu_);
    return inner_->add_resolutions(run_id, rs);
  }

  Status add_hosts(std::int64_t run_id, std::vector<Host>& hosts) override {
    std::lock_guard lock(mu_);
    return inner_->add_hosts(run_id, hosts);
  }

  Expected<std::vector<Host>> get_hosts(std::int64_t run_id, bool sampled_only) override {
    std::lock_guard lock(mu_);
    return inner_->get_hosts(run_id, sampled_only);
  }

  Expected<std::vector<Resolution>> get_resolutions(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->get_resolutions(run_id);
  }

  Status add_probes(std::int64_t run_id, const std::vector<Probe>& probes) override {
    std::lock_guard lock(mu_);
    return inner_->add_probes(run_id, probes);
  }

  Expected<std::vector<std::int64_t>> probed_host_ids(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->probed_host_ids(run_id);
  }

  Expected<std::vector<Probe>> get_probes(std::int64_t run_id, bool with_transcripts) override {
    std::lock_guard lock(mu_);
    return inner_->get_probes(run_id, with_transcripts);
  }

  Status add_arrival(const Arrival& arrival) override {
    std::lock_guard lock(mu_);
    return inner_->add_arrival(arrival);
  }

  Expected<bool> token_known(const std::string& token) override {
    std::lock_guard lock(mu_);
    return inner_->token_known(token);
  }

  Expected<std::optional<TokenOwner>> token_owner(const std::string& token) override {
    std::lock_guard lock(mu_);
    return inner_->token_owner(token);
  }

  Expected<std::vector<Arrival>> get_arrivals() override {
    std::lock_guard lock(mu_);
    return inner_->get_arrivals();
  }

  Expected<std::vector<HostRow>> host_rows(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->host_rows(run_id);
  }

  Expected<std::vector<Host>> claim_hosts(std::int64_t run_id, const std::string& owner,
                                          std::size_t n, std::int64_t lease_ms) override {
    std::lock_guard lock(mu_);
    return inner_->claim_hosts(run_id, owner, n, lease_ms);
  }

  Status renew_leases(std::int64_t run_id, const std::string& owner,
                      std::int64_t lease_ms) override {
    std::lock_guard lock(mu_);
    return inner_->renew_leases(run_id, owner, lease_ms);
  }

  Expected<std::vector<std::int64_t>> add_leased_probes(std::int64_t run_id,
                                                        const std::string& owner,
                                                        const std::vector<Probe>& probes) override {
    std::lock_guard lock(mu_);
    return inner_->add_leased_probes(run_id, owner, probes);
  }

  Expected<bool> claim_address(std::int64_t run_id, const std::string& ip, const std::string& owner,
                               std::int64_t lease_ms) override {
    std::lock_guard lock(mu_);
    return inner_->claim_address(run_id, ip, owner, lease_ms);
  }

  Status release_address(std::int64_t run_id, const std::string& ip,
                         const std::string& owner) override {
    std::lock_guard lock(mu_);
    return inner_->release_address(run_id, ip, owner);
  }

  Expected<std::int64_t> unprobed_count(std::int64_t run_id) override {
    std::lock_guard lock(mu_);
    return inner_->unprobed_count(run_id);
  }

  bool connection_lost() const override {
    std::lock_guard lock(mu_);
    return inner_->connection_lost();
  }

  Status reconnect() override {
    std::lock_guard lock(mu_);
    return inner_->reconnect();
  }

  std::string backend() const override {
    std::lock_guard lock(mu_);
    return inner_->backend();
  }

 private:
  std::unique_ptr<Store> inner_;
  mutable std::recursive_mutex mu_;
};

}  // namespace

std::unique_ptr<Store> synchronized(std::unique_ptr<Store> inner) {
  return std::unique_ptr<Store>(new Synchronized(std::move(inner)));
}

}  // namespace relayscope::store
