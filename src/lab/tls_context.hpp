// The TLS server context of the lab's STARTTLS hosts: a fresh P-256 key and a
// self-signed certificate made in memory with OpenSSL at start (nothing on
// disk). Clients cannot verify it; the survey only records that TLS works.
#pragma once

#include <asio/ssl.hpp>
#include <memory>
#include <string>

#include "common/expected.hpp"

namespace relayscope::lab {

Expected<std::unique_ptr<asio::ssl::context>> make_self_signed_context(const std::string& cn);

}  // namespace relayscope::lab
