// Dates as mail writes them, always in UTC: RFC 5322 date-time for headers
// ("Sat, 03 Jul 1999 12:00:00 +0000", day and month names in English
// whatever the locale) and ISO 8601 for records ("1999-07-03T12:00:00Z").
#pragma once

#include <ctime>
#include <string>

namespace relayscope::mail {

std::string rfc5322_date(std::time_t t);
std::string iso8601_date(std::time_t t);

}  // namespace relayscope::mail
