// What a listener is for (RFC 6409 submission, RFC 8314 implicit TLS): the
// session requires AUTH before MAIL on the submission roles, and the relay's
// policy lets local networks and POP-before-SMTP windows relay on mx only.
// Its own header so that the relay's configuration names the same type
// without the session's.
#pragma once

namespace relayscope::smtpd {

enum class ListenerRole { mx, submission, submissions };
const char* to_string(ListenerRole role);

}  // namespace relayscope::smtpd
