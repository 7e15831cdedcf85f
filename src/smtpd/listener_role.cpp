// See listener_role.hpp.
#include "smtpd/listener_role.hpp"

namespace relayscope::smtpd {

const char* to_string(ListenerRole role) {
  switch (role) {
    case ListenerRole::mx:
      return "mx";
    case ListenerRole::submission:
      return "submission";
    case ListenerRole::submissions:
      return "submissions";
  }
  return "mx";
}

}  // namespace relayscope::smtpd
